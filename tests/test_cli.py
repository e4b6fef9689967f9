"""The command line ``python -m mlphys reproduce``: everything that can be checked is checked before any work, and
exit status 1 means only that a claim fell outside its tolerance (issue #30)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlphys import registry
from mlphys.__main__ import (EXIT_CRASH, EXIT_INTERRUPTED, EXIT_NOT_WRITTEN, EXIT_OUTSIDE_TOLERANCE, EXIT_USAGE,
                             _probe_file, main)
from mlphys.claims import Claim


def cli(*args, timeout=60, **kw):
    return subprocess.run([sys.executable, "-m", "mlphys", "reproduce", *args], capture_output=True, text=True,
                          timeout=timeout, **kw)


def test_exit_codes_are_distinct():
    assert len({0, EXIT_OUTSIDE_TOLERANCE, EXIT_USAGE, EXIT_CRASH, EXIT_NOT_WRITTEN, EXIT_INTERRUPTED}) == 6
    assert EXIT_OUTSIDE_TOLERANCE == 1 and EXIT_USAGE == 2


@pytest.mark.parametrize("size, message", [
    ("epochs=inf", "size epochs must be an integer >= 1, got inf"),     # was an OverflowError (exit 1)
    ("epochs=1e400", "size epochs"),
    ("n_data=-inf", "size n_data"),
    ("lr=inf", "size lr must be a finite real number > 0"),
    ("eta=nan", "size eta"),
    ("n_data=1", "size n_data must be an integer >= 20"),               # crashed after generating the data
    ("n_data=100", "size n_descent: must be at most the test part of n_data"),
    ("n_curvature=50", "size n_curvature"),
    ("batch_size=0", "size batch_size"),
    ("jobs=2.5", "size jobs"),
    ("protocol=7", "size protocol must be one of"),
])
def test_every_size_is_checked_before_any_work(size, message, tmp_path):
    proc = cli("10", "--size", size, "--checkpoint", str(tmp_path), env={**os.environ, "MLPHYS_CACHE": str(tmp_path)})
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert "usage:" in proc.stderr and not list(tmp_path.rglob("*.npz"))   # no data generated, nothing trained


def test_json_destination_is_probed_by_writing_before_any_work(tmp_path):
    """``--json /dev/full`` passed the old check (the folder is writable) and failed after the run, exit 1."""
    proc = cli("1", "--json", "/dev/full", "--checkpoint", str(tmp_path))
    assert proc.returncode == 2 and "--json" in proc.stderr and "/dev/full" in proc.stderr, proc.stderr
    assert "within tolerance?" not in proc.stdout                       # nothing ran
    proc = cli("1", "--record", str(tmp_path / "rec"), "--json", "/dev/full", "--checkpoint", str(tmp_path))
    assert proc.returncode == 2 and not list((tmp_path / "rec").glob("*.json"))   # the record probe left nothing


def test_probe_leaves_destinations_as_they_were(tmp_path):
    existing = tmp_path / "rows.json"
    existing.write_text("[1, 2]\n")
    _probe_file(existing, "--json")
    assert existing.read_text() == "[1, 2]\n"
    new = tmp_path / "sub" / "new.json"
    _probe_file(new, "--json")
    assert new.parent.is_dir() and not new.exists()
    _probe_file(Path(os.devnull), "--json")
    for bad in (Path("/dev/full"), tmp_path):
        with pytest.raises(ValueError, match="--json"):
            _probe_file(bad, "--json")
    if os.geteuid() != 0:                                              # root writes read-only files anyway
        existing.chmod(0o444)
        with pytest.raises(ValueError, match="--json"):
            _probe_file(existing, "--json")


def rows(ok=True):
    return [Claim("regression", "q", 1.0 if ok else 5.0, 1.0, 0.1)]


@pytest.mark.parametrize("claims_ok", [True, False])
def test_a_failure_after_the_work_never_exits_1(monkeypatch, tmp_path, claims_ok):
    monkeypatch.setattr(registry.Chapter, "claims", lambda self, **kw: rows(claims_ok))

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    base = ["reproduce", "1", "--no-progress", "--checkpoint", str(tmp_path / "ck")]
    assert main(base + ["--json", str(tmp_path / "rows.json")]) == (0 if claims_ok else EXIT_OUTSIDE_TOLERANCE)
    monkeypatch.setattr(registry, "write_json", full)
    assert main(base + ["--json", str(tmp_path / "rows.json")]) == EXIT_NOT_WRITTEN
    monkeypatch.setattr(registry, "write_record", full)
    assert main(base + ["--record", str(tmp_path / "rec")]) == EXIT_NOT_WRITTEN


def test_a_crash_is_3_and_estimate_crashes_are_3(monkeypatch, tmp_path, capsys):
    def crash(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(registry.Chapter, "claims", crash)
    assert main(["reproduce", "1", "--no-progress", "--checkpoint", str(tmp_path)]) == EXIT_CRASH
    monkeypatch.setattr(registry.Chapter, "case_list", crash)
    assert main(["reproduce", "8", "--estimate", "--checkpoint", str(tmp_path)]) == EXIT_CRASH
    assert "simulated failure" in capsys.readouterr().err
