"""scripts/costa_protocol.py: Costa et al.'s training protocol as a run that resumes across sessions and machines."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "costa_protocol.py"
spec = importlib.util.spec_from_file_location("costa_protocol", SCRIPT)
costa_protocol = importlib.util.module_from_spec(spec)
spec.loader.exec_module(costa_protocol)


def test_train_resumes_from_its_state_and_report_never_trains(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPHYS_CACHE", str(tmp_path / "cache"))
    small = ["--arch", "avg-60", "--n-data", "60", "--folder", str(tmp_path)]
    with pytest.raises(SystemExit, match="no training state"):
        costa_protocol.main(["report", "--descent", "2", *small])
    assert costa_protocol.main(["train", "--epochs", "2", *small]) == 0
    with np.load(tmp_path / "avg-60.npz", allow_pickle=False) as f:
        assert f["loss"].size == 2 and "best0" in f.files            # the best validation network travels with it
    assert costa_protocol.main(["train", "--epochs", "3", *small]) == 0   # a longer run continues the state
    assert costa_protocol.main(["report", "--descent", "2", "--epochs", "1200", *small]) == 0
    record = json.loads((tmp_path / "avg-60.json").read_text())
    assert record["epochs_done"] == 3 and record["epochs_requested"] == 1200 and not record["finished"]
    assert record["n_data"] == 60 and record["descent"]["instances"] == 2 and np.isfinite(record["r2_test"])
    with np.load(tmp_path / "avg-60.npz", allow_pickle=False) as f:
        assert f["loss"].size == 3                                   # the report trained nothing
    with pytest.raises(SystemExit):
        costa_protocol.main(["train", "--hours", "-1", *small])
