"""Upload a trained model folder to the Hugging Face Hub, and fetch its files back.

    from digit_recognizer.hub import push_to_hub, download_file
    url = push_to_hub("models", "user/digit-recognizer")   # after scripts/train.py
    path = download_file("user/digit-recognizer", "digit_cnn.keras")   # a local path
    model = keras.saving.load_model(path)                  # keep safe_mode: Hub files are untrusted

Only the Hub: what the folder holds is digit_recognizer.model_folder's business.

Authentication is huggingface_hub's own: the ``HF_TOKEN`` environment variable, else the token
cached by ``hf auth login``. This module never prints or logs a token, and strips it from the
errors it raises.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from huggingface_hub import HfApi, get_token, hf_hub_download
from huggingface_hub.errors import HFValidationError, HTTPError
from huggingface_hub.utils import validate_repo_id

# Hidden files and folders at any depth: the training backup (.backup/), the temporary files of
# atomic writes, editor and OS litter. None of them belong in a published model repo.
IGNORE_PATTERNS = [".*", "*/.*"]
_LOGIN_HINT = "log in with `hf auth login` or set the HF_TOKEN environment variable"
# What huggingface_hub raises when the Hub cannot be reached or refuses a request: HTTP and
# network errors, local I/O and missing-token errors (OSError), and malformed repo ids.
_HUB_ERRORS = (HTTPError, OSError, HFValidationError)


class HubError(RuntimeError):
    """An upload to or download from the Hub failed. The message says what to do; no token in it."""


def check_ready_to_push(repo_id: str, api: HfApi | None = None) -> None:
    """Raise HubError now if an upload to ``repo_id`` is bound to fail: a malformed repo id, or
    no token (unless ``api`` is given, which brings its own). Offline and instant, so the command
    line calls it before a long training run rather than failing at the end."""
    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise HubError(f"{repo_id!r} is not a valid Hub repo id: {exc}") from None
    if api is None and get_token() is None:
        raise HubError(f"no Hugging Face token to upload to {repo_id}: {_LOGIN_HINT}")


def push_to_hub(folder: str | os.PathLike, repo_id: str, private: bool = False,
                token: str | None = None, api: HfApi | None = None,
                commit_message: str = "Upload digit recognizer model") -> str:
    """Create the model repo ``repo_id`` if needed, upload ``folder`` to it, return the repo URL.

    ``api`` replaces the ``HfApi`` client (tests pass a stand-in). Hidden files and folders,
    such as an interrupted run's ``.backup/``, are not uploaded.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise HubError(f"cannot upload {folder} to {repo_id}: not a directory")
    api = api or HfApi(token=token)
    try:
        repo_url = api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        api.upload_folder(folder_path=folder, repo_id=repo_id, repo_type="model",
                          commit_message=commit_message, ignore_patterns=IGNORE_PATTERNS)
    except _HUB_ERRORS as exc:
        raise HubError(_describe_failure(
            f"could not upload {folder} to the Hub model repo {repo_id}", exc,
            f"Check the repo id, the network connection, and that you can write to that repo "
            f"({_LOGIN_HINT}).", secrets=(token, getattr(api, "token", None)))) from None
    return str(repo_url)


def download_file(repo_id: str, filename: str, revision: str | None = None) -> Path:
    """Download (or reuse from the local Hub cache) one file of a model repo; return its path.

    ``filename`` is relative to the repo's root; ``revision`` is a branch, tag or commit hash.
    """
    try:
        return Path(hf_hub_download(repo_id, filename, repo_type="model", revision=revision))
    except _HUB_ERRORS as exc:
        raise HubError(_describe_failure(
            f"could not download {filename} from the Hub model repo {repo_id}", exc,
            f"Check the repo id, the file name and the network connection; for a private repo, "
            f"{_LOGIN_HINT}.")) from None


def _describe_failure(what: str, exc: BaseException, hint: str, secrets: Iterable[object] = ()
                      ) -> str:
    """Format "what: cause. hint" on one line, with every token this process could have used redacted.

    The original exception is not chained (``from None`` at the call sites): its text or
    request details might carry the token into a traceback.
    """
    # one line (Hub errors span several), without the cause's own full stop: one follows
    reason = f"{type(exc).__name__}: {' '.join(str(exc).split()).rstrip('.')}"
    for secret in {*secrets, get_token()}:
        if isinstance(secret, str) and secret:
            reason = reason.replace(secret, "***")
    return f"{what}: {reason}. {hint}"
