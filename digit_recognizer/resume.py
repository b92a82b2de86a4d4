"""Interrupted training runs: a backup is continued only on request, and only with its settings.

    from digit_recognizer import resume
    backup_dir = resume.backup_dir_of("models")          # models/.backup
    resume.check_backup_state(backup_dir, args.resume)   # before minutes of imports and loading
    ...
    resume.start_or_resume(backup_dir, settings, command, args.resume)   # writes/checks run.json

Training (digit_recognizer.train) keeps its state in the backup folder as it goes; this module
keeps beside it ``run.json``, the settings the run was started with and its command line, so
that ``--resume`` cannot mix two configurations in one model. Without ``--resume`` an existing
backup is an error, and so is ``--resume`` without one: runs are never silently mixed nor
silently restarted. Standard library only: the command line checks before importing TensorFlow.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from digit_recognizer.model_folder import BACKUP_DIRNAME, RUN_FILENAME


class RunError(RuntimeError):
    """A problem with the output directory's state; the message says what to do."""


def backup_dir_of(output_dir: str | os.PathLike) -> Path:
    """Where a run writing into ``output_dir`` keeps its backup (hidden: Hub uploads skip it)."""
    return Path(output_dir) / BACKUP_DIRNAME


def check_backup_state(backup_dir: Path, resume: bool) -> None:
    """A backup is continued only on request, and --resume without one is a mistake too.

        check_backup_state(Path("models/.backup"), resume=False)   # RunError if one is there
    """
    if backup_dir.exists() and not resume:
        raise RunError(f"{backup_dir} holds the backup of an interrupted run: pass --resume to "
                       f"continue it, or delete that folder to start afresh")
    if resume and not (backup_dir / RUN_FILENAME).is_file():
        if backup_dir.exists():  # made by something other than scripts/train.py
            raise RunError(f"--resume: {backup_dir} has no {RUN_FILENAME}, so the settings it "
                           f"was made with are unknown; delete it to start afresh")
        raise RunError(f"--resume: no interrupted run to continue in {backup_dir.parent}")


def start_or_resume(backup_dir: Path, settings: Mapping[str, Any], command: str,
                    resume: bool) -> None:
    """A new run records its ``settings`` (``{"config", "limit", "strategy",
    "calibration_from"}``) and ``command`` in a new ``backup_dir/run.json``; a resumed one
    must have the recorded settings.

        start_or_resume(backup_dir, {"config": {...}, "limit": None, "strategy": "default"},
                        "python scripts/train.py", resume=False)
    """
    if resume:
        check_same_settings(backup_dir, settings)
    else:
        backup_dir.mkdir(parents=True)  # not exist_ok: check_backup_state said there was none
        (backup_dir / RUN_FILENAME).write_text(
            json.dumps({**settings, "command": command}, indent=2))


def check_same_settings(backup_dir: Path, settings: Mapping[str, Any]) -> None:
    """Resuming with another configuration would mix two runs in one model: refuse (RunError,
    naming the settings that differ and the command that made the backup)."""
    recorded = json.loads((backup_dir / RUN_FILENAME).read_text())
    differing = differing_settings(recorded, settings)
    if differing:
        raise RunError(f"--resume: the backup in {backup_dir} was made with different settings "
                       f"({', '.join(differing)}): resume with the flags of its command "
                       f"({recorded['command']}), or, if the presets changed since, delete "
                       f"{backup_dir} to start afresh")


def differing_settings(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """The settings of ``current`` (``{"config": {...}, "limit": ..., ...}``) that ``recorded``
    (as stored in JSON) does not share, sorted: the configuration's fields by name (dotted
    inside nested ones), the other settings by key. One missing from the record (a setting
    newer than it) compares as None, as a run without it."""
    # through JSON, so that tuples compare equal to the lists they were stored as
    current = json.loads(json.dumps(current))
    return sorted(_differing_keys(recorded["config"], current["config"])
                  + [key for key in current
                     if key != "config" and recorded.get(key) != current[key]])


def _differing_keys(recorded: dict, current: dict, prefix: str = "") -> list[str]:
    keys = []
    for key in sorted(recorded.keys() | current.keys()):
        old, new = recorded.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            keys += _differing_keys(old, new, f"{prefix}{key}.")
        elif old != new:
            keys.append(f"{prefix}{key}")
    return keys
