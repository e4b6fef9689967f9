"""Fuzzer fixtures for mlphys.config."""
from __future__ import annotations

import tempfile
from pathlib import Path

from mlphys import config

_FOLDER = Path(tempfile.mkdtemp(prefix="fx_config_"))


def _checkpoint(rng):
    path = _FOLDER / f"state-{int(rng.integers(10**9))}.npz"
    path.write_text("a damaged checkpoint")
    return path


CALLS = {
    "config.by_scale": lambda rng: {"class_value": 1, "paper_value": 2},
    "config.progress_bar": lambda rng: {"iterable": range(3)},
    "config.NotebookContext": lambda rng: {"rng": config.make_rng(int(rng.integers(1000)))},
    "config.reject_checkpoint": lambda rng: {"path": _checkpoint(rng)},
}
NOT_FUZZED = {
    "config.reject_checkpoint": "its purpose is a RuntimeWarning (which the fuzzer raises as an error); "
                                "test_cases.test_damaged_case_records_are_moved_aside_and_rerun calls it",
}
