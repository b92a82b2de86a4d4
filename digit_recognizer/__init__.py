"""digit_recognizer: a Keras CNN for handwritten digits, its training, evaluation and demo app."""
