"""scripts/train.py: argument and data errors in a subprocess (as users run it); tiny training
runs in-process, where a stand-in for the Hub client can be passed to main().

The training runs read MNIST through the loader, so they need the MNIST_DIR environment
variable (CI: MNIST_DIR=../shared/mnist); without it they are skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "train.py"
MNIST_DIR = os.environ.get("MNIST_DIR")
needs_mnist = pytest.mark.skipif(not MNIST_DIR, reason="set MNIST_DIR to the MNIST files")


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def cli():
    """scripts/train.py as a module, for in-process runs with a stand-in Hub client."""
    spec = importlib.util.spec_from_file_location("train_cli", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeHubApi:
    """Stands in for huggingface_hub.HfApi: records the calls, uploads nothing."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs))


def test_help_lists_every_flag():
    result = run_script("--help")
    assert result.returncode == 0
    for flag in ("--data-dir", "--output-dir", "--preset", "--epochs", "--batch-size",
                 "--learning-rate", "--seed", "--pen-share", "--continental-pen-share",
                 "--resume", "--strategy", "--push-to-hub", "--private", "--calibration-from",
                 "--limit", "--verbose"):
        assert flag in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "'0' is not positive"),
    (["--batch-size", "-1"], "'-1' is not positive"),
    (["--learning-rate", "abc"], "'abc' is not a number"),
    (["--learning-rate", "nan"], "'nan' is not positive"),
    (["--limit", "2.5"], "'2.5' is not an integer"),
    (["--seed", "-1"], "'-1' is not between 0 and 4294967295"),
    (["--pen-share", "1.5"], "'1.5' is not between 0 and 1"),
    (["--continental-pen-share", "x"], "'x' is not a number"),
    (["--preset", "huge"], "invalid choice: 'huge'"),
    (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (["--private"], "--private needs --push-to-hub"),
    (["--calibration-from", "models"], "is also the --output-dir"),  # (models/: the default)
])
def test_bad_arguments_exit_2_with_a_message(args, message):
    result = run_script(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_data_dir_is_one_line_naming_it(tmp_path):
    missing = tmp_path / "no-mnist-here"
    result = run_script("--data-dir", str(missing), "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and str(missing) in line


def test_preset_names_match_the_presets(cli):
    from digit_recognizer.train import PRESETS

    assert set(cli.PRESET_NAMES) == set(PRESETS)


@pytest.fixture(scope="module")
def quick_run(cli, tmp_path_factory):
    """One smoke run, in-process so that a stand-in receives the Hub calls: (output dir, argv,
    the stand-in). Shared by the tests below: training is the slow part of this file."""
    if not MNIST_DIR:
        pytest.skip("set MNIST_DIR to the MNIST files")
    output_dir = tmp_path_factory.mktemp("quick")
    argv = ["--preset", "quick", "--epochs", "1", "--pen-share", "0.05", "--limit", "2000",
            "--output-dir", str(output_dir), "--data-dir", MNIST_DIR,
            "--push-to-hub", "user/digits", "--private"]
    api = FakeHubApi()
    assert cli.main(argv, hf_api=api) == 0
    return output_dir, argv, api


def test_smoke_run_writes_a_model_that_loads_in_safe_mode(quick_run):
    import keras

    output_dir, _, _ = quick_run
    model = keras.saving.load_model(output_dir / "digit_cnn.keras", safe_mode=True)
    assert model.output_shape == (None, 11)
    assert getattr(model, "optimizer", None) is None  # the inference copy: no optimizer state
    # neither the backup (removed once training completes) nor temporary files are left
    assert [p.name for p in output_dir.iterdir() if p.name.startswith(".")] == []


def test_smoke_run_records_the_run_in_metrics_json(quick_run):
    output_dir, argv, _ = quick_run
    metrics = json.loads((output_dir / "metrics.json").read_text())
    assert metrics["command"] == "python scripts/train.py " + " ".join(argv)
    assert metrics["epochs"] == metrics["config"]["epochs"] == 1 and metrics["preset"] == "quick"
    assert metrics["seed"] == metrics["config"]["seed"]
    assert metrics["config"]["pen_share"] == 0.05  # overridden; the quick preset has none
    assert metrics["config"]["continental_pen_share"] is None  # not overridden: as pen_share
    assert metrics["training_images"] == 2000 and metrics["num_test_images"] == 10000
    assert 0 <= metrics["test_accuracy"] <= 1 and len(metrics["confusion_matrix"]) == 11
    assert 0 <= metrics["test_ece"] <= 1 and metrics["test_refused"] == 0  # quick: never refuses
    assert metrics["calibration"]["temperature"] > 0
    assert metrics["calibration"]["not_a_digit_threshold"] is None
    assert metrics["num_parameters"] > 0 and metrics["training_wall_time_s"] > 0
    assert {"tensorflow", "keras", "numpy"} <= metrics["versions"].keys()
    assert metrics["data_sha256"]["train-images-idx3-ubyte"].startswith("ba891046")
    assert "user/digits" in (output_dir / "README.md").read_text()  # the card's loading example


def test_smoke_run_pushes_the_output_dir(quick_run):
    output_dir, _, api = quick_run
    (create, create_kwargs), (upload, upload_kwargs) = api.calls
    assert create == "create_repo" and create_kwargs["repo_id"] == "user/digits"
    assert create_kwargs["private"] is True and create_kwargs["exist_ok"] is True
    assert upload == "upload_folder" and Path(upload_kwargs["folder_path"]) == output_dir
    assert upload_kwargs["repo_id"] == "user/digits"


def test_a_run_on_all_the_training_images_applies_the_calibration_of_its_validation_run(
        cli, quick_run, tmp_path):
    import keras

    source, _, _ = quick_run  # the same settings and limit, with a validation split
    theirs = json.loads((source / "metrics.json").read_text())
    output_dir = tmp_path / "all"
    assert cli.main(["--preset", "quick", "--epochs", "1", "--pen-share", "0.05", "--limit",
                     "2000", "--calibration-from", str(source), "--output-dir", str(output_dir),
                     "--data-dir", MNIST_DIR]) == 0
    metrics = json.loads((output_dir / "metrics.json").read_text())
    assert metrics["config"]["validation_size"] == 0 and metrics["training_images"] == 2000
    assert not any(key.startswith("val_") for key in metrics["history"])  # nothing held out
    temperature = theirs["calibration"]["temperature"]
    assert metrics["calibration"] == {**theirs["calibration"],
                                      "from": {"run": str(source), "command": theirs["command"]}}
    model = keras.saving.load_model(output_dir / "digit_cnn.keras", safe_mode=True)
    assert model.get_layer("temperature").scale == pytest.approx(1 / temperature)
    assert theirs["command"] in (output_dir / "README.md").read_text()  # the card says whose


def full_settings(**changes) -> dict:
    """The full preset's settings as metrics.json records them, with ``changes``."""
    import dataclasses

    from digit_recognizer.train import PRESETS

    return json.loads(json.dumps({**dataclasses.asdict(PRESETS["full"]), **changes}))


@pytest.mark.parametrize("recorded, message", [
    (None, "no run in"),
    ({"config": full_settings(validation_size=0),
      "calibration": {"temperature": 0.7, "not_a_digit_threshold": 0.9}},
     "held no validation split out"),
    ({"config": full_settings(),  # a run on all the digits, as a source
      "calibration": {"temperature": 0.7, "not_a_digit_threshold": 0.9, "from": {"run": "r"}}},
     "held no validation split out"),
    ({"config": full_settings(), "training_images": 55000}, "recorded no calibration"),
    ({"config": full_settings(epochs=3), "training_images": 55000,
      "calibration": {"temperature": 0.7, "not_a_digit_threshold": 0.9}},
     "other settings (epochs)"),
    ({"config": full_settings(model={**full_settings()["model"], "widths": [8, 16, 32]}),
      "training_images": 55000,
      "calibration": {"temperature": 0.7, "not_a_digit_threshold": 0.9}},
     "other settings (model.widths)"),
    ({"config": full_settings(), "training_images": 2000,  # a smoke run, before "limit"
      "calibration": {"temperature": 0.7, "not_a_digit_threshold": 0.9}},
     "other settings (limit)"),
])
def test_calibration_comes_only_from_a_run_of_the_same_settings_with_a_validation_split(
        cli, tmp_path, recorded, message):
    if recorded is not None:
        (tmp_path / "metrics.json").write_text(json.dumps(recorded))
    with pytest.raises(cli.RunError, match=re.escape(message)):
        cli.calibration_of_run(tmp_path, full_settings(validation_size=0), None, 60000)


def test_calibration_from_a_run_of_the_same_settings_is_taken_with_where_it_came_from(
        cli, tmp_path):
    calibration = {"temperature": 0.7, "not_a_digit_threshold": 0.9, "validation": {"ece": 0.01}}
    # recorded before continental_pen_share existed: missing, as None (the recipe before it)
    config = {key: value for key, value in full_settings().items()
              if key != "continental_pen_share"}
    (tmp_path / "metrics.json").write_text(json.dumps(
        {"config": config, "training_images": 55000, "calibration": calibration,
         "command": "python scripts/train.py"}))
    assert cli.calibration_of_run(tmp_path, full_settings(validation_size=0), None, 60000) == {
        **calibration, "from": {"run": str(tmp_path), "command": "python scripts/train.py"}}


def test_a_resumed_run_must_take_its_calibration_from_the_same_run(tmp_path):
    from digit_recognizer import resume

    settings = {"config": {"epochs": 1}, "limit": None, "strategy": "default",
                "calibration_from": "runs/full"}
    resume.start_or_resume(tmp_path / ".backup", settings, "python scripts/train.py", False)
    resume.check_same_settings(tmp_path / ".backup", settings)
    with pytest.raises(resume.RunError, match="calibration_from"):
        resume.check_same_settings(tmp_path / ".backup",
                                   {**settings, "calibration_from": "runs/other"})


def test_push_with_a_malformed_repo_id_fails_before_training(cli, tmp_path, capsys):
    status = cli.main(["--output-dir", str(tmp_path), "--push-to-hub", "a/b/c"],
                      hf_api=FakeHubApi())
    assert status == 1
    assert "not a valid Hub repo id" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


@needs_mnist
def test_interrupted_run_resumes_only_on_request_and_with_the_same_settings(
        cli, tmp_path, monkeypatch, capsys):
    import digit_recognizer.train as training

    class InterruptInSecondEpoch(training.ProgressLog):
        """Ctrl-C at batch 110 of epoch 2 (callbacks see every 10th batch, as training runs 10
        steps per call): after the backup train() writes every 100 batches of an epoch."""

        def on_epoch_begin(self, epoch, logs=None):
            super().on_epoch_begin(epoch, logs)
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1 and batch >= 100:
                raise KeyboardInterrupt

    # 256 images in batches of 2: 128 small batches an epoch, so backups happen within seconds
    args = ["--preset", "quick", "--epochs", "2", "--limit", "256", "--batch-size", "2",
            "--output-dir", str(tmp_path)]
    with monkeypatch.context() as patch:
        patch.setattr(training, "ProgressLog", InterruptInSecondEpoch)
        assert cli.main(args) == 130
    assert "pass --resume" in capsys.readouterr().err
    backup = json.loads((tmp_path / ".backup" / "progress.json").read_text())
    assert backup["epoch"] == 1 and backup["batch"] == 100  # inside epoch 2, after 100 batches
    assert len(backup["history"]["loss"]) == 1  # one epoch completed

    assert cli.main(args) == 1  # a fresh run would silently discard the backup
    assert "pass --resume" in capsys.readouterr().err
    assert cli.main([*args, "--epochs", "3", "--resume"]) == 1  # would mix two configurations
    assert "different settings (epochs)" in capsys.readouterr().err

    assert cli.main([*args, "--resume"]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and metrics["resumed"] is True
    assert len(metrics["history"]["loss"]) == 2  # the whole run: epoch 1 came from the backup
    assert not (tmp_path / ".backup").exists()

    assert cli.main([*args, "--resume"]) == 1  # nothing left to resume
    assert "no interrupted run" in capsys.readouterr().err


def read_backup_metadata(backup_dir: Path) -> dict | None:
    """The backup's progress.json, or None while it is missing (it is written atomically)."""
    try:
        return json.loads((backup_dir / "progress.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


@needs_mnist
def test_run_killed_mid_epoch_resumes_from_its_last_backup(tmp_path):
    """SIGKILL, which no handler sees, in epoch 2 after its batch-level backup: nothing is
    half-written, and --resume (only on request) completes the run from the backup."""
    # 512 images in batches of 4: 128 batches an epoch. Backups every 100 batches of an epoch
    # and at each epoch end: the one inside epoch 2 falls after its 100th batch
    args = ["--preset", "quick", "--epochs", "2", "--limit", "512", "--batch-size", "4",
            "--output-dir", str(tmp_path), "--data-dir", MNIST_DIR]
    backup_dir = tmp_path / ".backup"
    log_path = tmp_path.parent / f"{tmp_path.name}-killed-run.log"  # outside the output dir
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, str(SCRIPT), *args], cwd=REPO,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        metadata = None
        while time.monotonic() < deadline and process.poll() is None:
            metadata = read_backup_metadata(backup_dir)
            if metadata is not None and metadata["epoch"] == 1 and metadata["batch"] > 0:
                break
            time.sleep(0.01)
        else:
            pytest.fail(f"no mid-epoch-2 backup (exit status {process.poll()}, last metadata "
                        f"{metadata}):\n{log_path.read_text()[-3000:]}")
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    # nothing half-written: no model, no metrics, no temporary files, only the backup
    assert [p.name for p in tmp_path.iterdir()] == [".backup"]
    assert {p.name for p in backup_dir.iterdir()} == {"checkpoint.weights.h5", "progress.json",
                                                        "run.json"}
    progress = json.loads((backup_dir / "progress.json").read_text())
    assert len(progress["history"]["loss"]) == 1  # epoch 1 completed, epoch 2 did not

    rerun = run_script(*args)  # a fresh run would silently discard the backup
    assert rerun.returncode == 1 and "pass --resume" in rerun.stderr

    resumed = run_script(*args, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and metrics["resumed"] is True
    assert len(metrics["history"]["loss"]) == 2  # the whole run: epoch 1 came from the backup
    assert not backup_dir.exists()

    import keras

    model = keras.saving.load_model(tmp_path / "digit_cnn.keras", safe_mode=True)
    assert model.output_shape == (None, 11)
