"""Fixtures and helpers of the benchmarks (scripts/) and the tests, kept out of the product.

    drawings    MNIST *test* digits redrawn as brush strokes and photos (needs scikit-image)
    reference   keras-io's reference CNN, the yardstick of the training benchmark
    client      what a gradio_client caller sends to each endpoint
    serving     `python app.py` as a subprocess on a free port, started and stopped
    inputs      the benchmarks' shared start: the model and MNIST, or one line saying why not

digit_recognizer never imports this package; it comes with `pip install -e .[dev]`.
"""
