"""digit_recognizer.hub against stand-ins for the Hub: no network, no token needed."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub.errors import HTTPError

from digit_recognizer import hub
from digit_recognizer.model_folder import (BACKUP_DIRNAME, METRICS_FILENAME, MODEL_FILENAME,
                                           RUN_FILENAME)

SECRET = "hf_NotARealTokenButTreatedAsOne123"


class RecordingApi:
    """Stands in for HfApi: records each call as (method name, args, kwargs)."""

    def __init__(self, fail_with: Exception | None = None):
        self.calls: list[tuple[str, tuple, dict]] = []
        self.fail_with = fail_with
        self.token = SECRET

    def create_repo(self, *args, **kwargs):
        self.calls.append(("create_repo", args, kwargs))
        if self.fail_with:
            raise self.fail_with
        return "https://huggingface.co/user/digits"

    def upload_folder(self, *args, **kwargs):
        self.calls.append(("upload_folder", args, kwargs))


@pytest.fixture
def model_folder(tmp_path: Path) -> Path:
    (tmp_path / MODEL_FILENAME).write_bytes(b"model")
    (tmp_path / ".backup").mkdir()
    return tmp_path


def test_push_creates_repo_then_uploads_folder_without_hidden_files(model_folder):
    api = RecordingApi()
    url = hub.push_to_hub(model_folder, "user/digits", private=True, api=api,
                          commit_message="first model")

    assert url == "https://huggingface.co/user/digits"
    (create, create_args, create_kwargs), (upload, _, upload_kwargs) = api.calls
    assert create == "create_repo" and upload == "upload_folder"
    assert (create_args, create_kwargs) == (
        ("user/digits",), {"repo_type": "model", "private": True, "exist_ok": True})
    assert Path(upload_kwargs["folder_path"]) == model_folder
    assert upload_kwargs["repo_id"] == "user/digits"
    assert upload_kwargs["repo_type"] == "model"
    assert upload_kwargs["commit_message"] == "first model"
    assert upload_kwargs["ignore_patterns"] == hub.IGNORE_PATTERNS


def test_ignore_patterns_skip_backup_and_temp_files_only():
    from huggingface_hub.utils import filter_repo_objects

    paths = [MODEL_FILENAME, "README.md", METRICS_FILENAME, "samples/3.png",
             f"{BACKUP_DIRNAME}/latest.weights.h5", f"{BACKUP_DIRNAME}/{RUN_FILENAME}",
             ".saving-x1/digit_cnn.keras", "samples/.DS_Store"]
    kept = list(filter_repo_objects(paths, ignore_patterns=hub.IGNORE_PATTERNS))
    assert kept == [MODEL_FILENAME, "README.md", METRICS_FILENAME, "samples/3.png"]


def test_push_failure_raises_hub_error_naming_repo_without_any_token(model_folder, monkeypatch):
    env_secret = "hf_AnotherTokenFromTheEnvironment456"
    monkeypatch.setenv("HF_TOKEN", env_secret)
    api = RecordingApi(fail_with=HTTPError(f"401 Unauthorized\nfor {SECRET} or {env_secret}"))
    with pytest.raises(hub.HubError) as caught:
        hub.push_to_hub(model_folder, "user/digits", token=SECRET, api=api)

    message = str(caught.value)
    assert "user/digits" in message and "HF_TOKEN" in message and "\n" not in message
    assert SECRET not in message and env_secret not in message
    # not chained either: a traceback would print the original exception's text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_push_of_missing_folder_fails_before_contacting_hub(tmp_path):
    api = RecordingApi()
    with pytest.raises(hub.HubError, match="not a directory"):
        hub.push_to_hub(tmp_path / "nothing", "user/digits", api=api)
    assert api.calls == []


def test_check_ready_to_push(monkeypatch):
    with pytest.raises(hub.HubError, match="not a valid Hub repo id"):
        hub.check_ready_to_push("a/b/c", api=RecordingApi())
    monkeypatch.setattr(hub, "get_token", lambda: None)
    with pytest.raises(hub.HubError, match="no Hugging Face token"):
        hub.check_ready_to_push("user/digits")
    hub.check_ready_to_push("user/digits", api=RecordingApi())  # the client brings its token


def test_download_file_fetches_one_file_of_a_model_repo(monkeypatch, tmp_path):
    calls = []

    def fake_download(repo_id, filename, **kwargs):
        calls.append((repo_id, filename, kwargs))
        return str(tmp_path / filename)

    monkeypatch.setattr(hub, "hf_hub_download", fake_download)
    path = hub.download_file("user/digits", "samples/samples.json", revision="v1")

    assert path == tmp_path / "samples" / "samples.json"
    assert calls == [("user/digits", "samples/samples.json",
                      {"repo_type": "model", "revision": "v1"})]


def test_download_failure_raises_hub_error(monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("cannot reach huggingface.co")

    monkeypatch.setattr(hub, "hf_hub_download", offline)
    with pytest.raises(hub.HubError, match="digit_cnn.keras from the Hub model repo user/digits"):
        hub.download_file("user/digits", MODEL_FILENAME)
