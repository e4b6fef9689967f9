"""mlphys.cases: independent cases in parallel (the same numbers as serial), checkpointed, resumable."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mlphys import cases, registry
from mlphys.claims import rodini

SHORT = ((60, 1e-2), (40, 1e-3))        # a short Adam schedule: the cases take a second


def short_cases(names=("harmonic", "morse", "linear")):
    return [cases.Case(n, rodini.case_summary, dict(name=n, scale="class", schedule=SHORT),
                       runner_args=("progress", "checkpoint")) for n in names]


def numbers(results):
    return {k: {q: v for q, v in r.items() if q != "seconds"} for k, r in results.items()}


def test_parallel_and_threading_backend_equal_serial():
    from joblib import parallel_config

    serial = cases.Runner(jobs=1, progress=False).run(short_cases())
    parallel = cases.Runner(jobs=2, progress=False).run(short_cases())
    with parallel_config(backend="threading"):
        threads = cases.Runner(jobs=2, progress=False).run(short_cases())
    assert list(parallel) == list(serial) == ["harmonic", "morse", "linear"]     # the order given
    assert numbers(parallel) == numbers(serial) == numbers(threads)              # bit for bit


def test_checkpoints_are_reused_only_for_the_same_case(tmp_path):
    first = cases.Runner(folder=tmp_path, progress=False)
    results = first.run(short_cases(("harmonic", "linear")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["harmonic.json", "linear.json"] and first.resumed == []
    again = cases.Runner(folder=tmp_path, progress=False)
    assert again.run(short_cases(("harmonic", "linear"))) == results and again.resumed == ["harmonic", "linear"]
    other = [cases.Case("harmonic", rodini.case_summary, dict(name="harmonic", scale="class", schedule=((30, 1e-2),)),
                        runner_args=("progress", "checkpoint"))]
    changed = cases.Runner(folder=tmp_path, progress=False)
    changed.run(other)                                    # other arguments: rerun, not the stale checkpoint
    assert changed.resumed == []
    (tmp_path / "linear.json").write_text('{"key": "lin')   # a file cut short by a kill: rerun
    cut = cases.Runner(folder=tmp_path, progress=False)
    assert numbers(cut.run(short_cases(("linear",)))) == numbers({"linear": results["linear"]}) and cut.resumed == []
    fresh = cases.Runner(folder=tmp_path, progress=False, fresh=True)
    fresh.run(short_cases(("linear",)))
    assert fresh.resumed == []


def test_bad_cases_and_runners_raise():
    with pytest.raises(ValueError, match="key"):
        cases.Case("a/b", rodini.case_summary)
    with pytest.raises(ValueError, match="jobs"):
        cases.Runner(jobs=0)
    with pytest.raises(ValueError, match="unique"):
        cases.Runner(progress=False).run(short_cases(("harmonic", "harmonic")))


def test_unstorable_result_is_named(tmp_path):
    bad = [cases.Case("x", np.zeros, dict(shape=2))]         # an array is not JSON
    with pytest.raises(ValueError, match="case 'x'.*JSON"):
        cases.Runner(folder=tmp_path, progress=False).run(bad)


def test_estimate_scales_the_probe():
    [(key, seconds)] = cases.Runner(progress=False).estimate(rodini.ground_state_cases("class")[:1])
    probe = rodini.ground_state_cases("class")[0]
    assert key == "harmonic" and probe.probe_factor == 1500 / rodini.PROBE_STEPS and 0 < seconds < 600


def _cli(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "mlphys", "reproduce", "8", "--no-progress", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kw)


def test_interrupted_run_is_never_recorded_and_resumes_with_the_same_rows(tmp_path):
    """Chapter 8 at class scale stopped by Ctrl-C (SIGINT) twice - after two of its six cases, then in the middle
    of the resumed run - and once killed outright: each stop exits 130 (the kill: -9), no case in progress is
    stored as finished, and the run that completes gives the rows of an uninterrupted run."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    folder = tmp_path / "ck"
    done = lambda: list((folder / "class" / "ground-states").glob("*.json")) if folder.exists() else []  # noqa: E731

    def stop_after(n_done, sig):
        run = _cli("--checkpoint", str(folder), env=env)
        deadline = time.time() + 300
        while len(done()) < n_done and run.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)                                 # into the next case's training
        run.send_signal(sig)
        return run.wait(timeout=120), run.stderr.read()

    code, err = stop_after(2, signal.SIGINT)
    assert code == 130 and "interrupted in chapter 8" in err, err
    assert 2 <= len(done()) < 6, "the run must be stopped half-way"
    code, err = stop_after(len(done()) + 1, signal.SIGINT)
    assert code == 130 and "resumed" in err
    code, _ = stop_after(len(done()) + 1, signal.SIGKILL)
    assert code == -signal.SIGKILL
    resumed = _cli("--checkpoint", str(folder), "--json", str(tmp_path / "resumed.json"), env=env)
    assert resumed.wait(timeout=300) == 0
    assert "of 6 cases resumed" in resumed.stderr.read()
    whole = _cli("--checkpoint", str(tmp_path / "other"), "--json", str(tmp_path / "whole.json"), env=env)
    assert whole.wait(timeout=300) == 0
    rows = [json.loads(Path(tmp_path / f"{name}.json").read_text()) for name in ("resumed", "whole")]
    assert rows[0] == rows[1] and len(rows[0]) == 14


def test_damaged_case_records_are_moved_aside_and_rerun(tmp_path):
    """A case record that is garbage, JSON but not an object ([] or null), or an object missing a key: a warning
    names the file, it is moved aside, and the case runs again - never a crash on every rerun."""
    todo = short_cases(("harmonic",))
    first = cases.Runner(folder=tmp_path, progress=False).run(todo)
    record = tmp_path / "harmonic.json"
    good = json.loads(record.read_text())
    for bad in ("{not json", "[]", "null", json.dumps({k: v for k, v in good.items() if k != "result"})):
        record.write_text(bad)
        with pytest.warns(RuntimeWarning, match="harmonic.json"):
            again = cases.Runner(folder=tmp_path, progress=False).run(todo)
        assert numbers(again) == numbers(first) and (tmp_path / "harmonic.json.rejected").read_text() == bad


def test_record_keeps_jobs_and_times(tmp_path, monkeypatch):
    from mlphys.__main__ import main

    calls = []
    monkeypatch.setattr(registry.Chapter, "claims", lambda self, **kw: calls.append(kw) or [])
    monkeypatch.setenv("MLPHYS_SCALE", "paper")
    assert main(["reproduce", "8", "--jobs", "2", "--record", str(tmp_path), "--checkpoint", str(tmp_path / "ck"),
                 "--no-progress"]) == 0
    assert calls[0]["runner"].jobs == 2 and calls[0]["runner"].folder == tmp_path / "ck" / "paper" / "ground-states"
    record = json.loads((tmp_path / "ground-states.json").read_text())
    assert record["timing"]["jobs"] == 2 and record["command"].endswith("--jobs 2")
    assert registry._timing(record).startswith(", 2 jobs, ") and registry._timing({}) == ""   # shown on the scorecard


def test_cli_backend_applies_to_every_chapter(monkeypatch, tmp_path):
    from joblib.parallel import get_active_backend

    from mlphys.__main__ import main

    seen = []
    monkeypatch.setattr(registry.Chapter, "claims",
                        lambda self, **kw: seen.append(type(get_active_backend()[0]).__name__) or [])
    assert main(["reproduce", "8", "9", "--backend", "threading", "--checkpoint", str(tmp_path), "--no-progress"]) == 0
    assert seen == ["ThreadingBackend", "ThreadingBackend"]
    assert type(get_active_backend()[0]).__name__ != "ThreadingBackend"        # restored afterwards


def test_training_state_belongs_to_one_version_of_a_case(tmp_path):
    runner = cases.Runner(folder=tmp_path, progress=False, fresh=True)
    [case] = short_cases(("harmonic",))
    state = runner._state(case, cases.source_hash())
    assert state.name.startswith("harmonic.") and state.name.endswith(".state.npz")
    state.write_text("a stale state from an interrupted run")      # --fresh must not resume it (it would not load)
    stale_other = tmp_path / "harmonic.0123456789abcdef.state.npz"  # another version of the case: never passed
    stale_other.write_text("old")
    runner.run([case])
    assert not list(tmp_path.glob("*.state.npz"))                   # the finished case leaves no state behind


def test_cases_and_runners_declare_their_parameters():
    """Issue #30: every argument is checked when the case or runner is made, naming it."""
    case = cases.Case("a", rodini.case_summary)
    assert case.kwargs == {} and case.runner_args == ()
    for kwargs, name in [(dict(key="", function=rodini.case_summary), "key"),
                         (dict(key="a", function="rodini.case_summary"), "function"),
                         (dict(key="a", function=rodini.case_summary, kwargs=[1]), "kwargs"),
                         (dict(key="a", function=rodini.case_summary, probe_factor=0), "probe_factor"),
                         (dict(key="a", function=rodini.case_summary, runner_args="progress"), "runner_args"),
                         (dict(key="a", function=rodini.case_summary, runner_args=("jobs",)), "runner_args")]:
        with pytest.raises(ValueError, match=name):
            cases.Case(**kwargs)
    for kwargs, name in [(dict(jobs=1.0), "jobs"), (dict(jobs=True), "jobs"), (dict(folder=3), "folder"),
                         (dict(progress="no"), "progress"), (dict(fresh=1), "fresh")]:
        with pytest.raises(ValueError, match=name):
            cases.Runner(**kwargs)
    runner = cases.Runner(folder="some/dir", progress=False)
    assert runner.folder == Path("some/dir")
    with pytest.raises(ValueError, match="cases"):
        runner.run("harmonic")                          # a string is not a list of cases
    with pytest.raises(ValueError, match="arguments"):
        runner.map(rodini.case_summary, [("harmonic",)])
    assert cases.Runner(progress=False).run([]) == {} and cases.Runner(progress=False).estimate([]) == []
