"""Gradio demo: draw a digit or upload a picture of one, and see what the CNN reads.

    python app.py                          # serves models/*.keras on http://127.0.0.1:7860
    python app.py --model-repo user/repo   # or MODEL_REPO=user/repo: the model from the Hub
    python app.py --share                  # plus a public *.gradio.live link
    python app.py --host 0.0.0.0 --port 8080   # or GRADIO_SERVER_NAME / GRADIO_SERVER_PORT

Only the entry point: the app is digit_recognizer.ui (layout, serving, this command line).
Hugging Face Spaces starts it with `python app.py` from a checkout that installed
requirements.txt only, so it runs uninstalled too: Python puts this file's folder, which holds
the package, first on the import path.
"""

import time

STARTED = time.perf_counter()  # before the heavy imports: start-up time counts them

import sys  # noqa: E402

from digit_recognizer.ui import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(started=STARTED))
