"""Independent cases of a reproduction: run through joblib, each checkpointed as it finishes, resumable.

A paper-scale reproduction is a list of independent :class:`Case` s (Section 4's six potentials, Table I's
methods and seeds, the trap frequencies, the network depths). :class:`Runner` runs them

* in parallel through joblib (``jobs`` processes, one BLAS thread each, so the numbers do not depend on
  the number of jobs). joblib's backend switch runs the same code on a cluster: ``--backend dask`` (or,
  in Python, ``with joblib.parallel_config("dask"): ...`` after ``distributed.Client(address)``);
* resumably: each finished case is written to ``folder/<key>.json`` the moment it finishes, and a rerun
  skips cases whose file matches the case and the package source (a changed code or size reruns it). A
  case function with a ``checkpoint`` parameter also receives ``folder/<key>.<fingerprint>.state.npz`` to
  save its own state every few minutes (e.g. :func:`mlphys.variational.ground_state`);
* with one overall bar (cases done / total, elapsed, remaining) and, when serial, each case's own bar;
* or only estimated (``estimate=True``): each case's short probe is timed and scaled to the full case.

Case functions are module-level (picklable) and return a dict of JSON numbers, strings and lists.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .config import progress_bar, reject_checkpoint
from .nn import interrupts_propagate
from .validate import Choice, Flag, Function, Instance, Integer, Optional, PathLike, Real, Rule, Sequence, Text, \
    params

#: joblib backends the command line offers (``dask`` and ``ray`` need their packages and a running cluster).
BACKENDS = ("loky", "threading", "multiprocessing", "dask", "ray")
#: What a case function may take from the runner.
RUNNER_ARGS = ("progress", "checkpoint")
#: The characters of a case key (it names the case's checkpoint file).
KEY_CHARACTERS = "-_.=+"


@dataclass(frozen=True)
class Case:
    """One independent unit of work: ``function(**kwargs)``, named ``key`` (a file name: letters, digits, -_.).

    ``probe`` (kwargs replacing some of ``kwargs``) and ``probe_factor``: a short version of the case whose time
    times ``probe_factor`` estimates the full case (:meth:`Runner.estimate`), e.g. 100 of 12,000 steps and 120.
    ``runner_args``: which of the runner's arguments the function takes - ``"progress"`` (show a progress bar)
    and ``"checkpoint"`` (a path where it saves its own training state, so that an interrupted case resumes).
    """

    key: str
    function: Callable
    kwargs: dict | None = None
    probe: dict | None = None
    probe_factor: float = 1.0
    runner_args: tuple = ()

    def __post_init__(self):
        if self.kwargs is None:
            object.__setattr__(self, "kwargs", {})

    def _call(self, kwargs, progress: bool, state: Path | None):
        extra = {"progress": progress} if "progress" in self.runner_args else {}
        if state is not None and "checkpoint" in self.runner_args:
            extra["checkpoint"] = state
        return self.function(**{**extra, **kwargs})        # the case's own arguments win


Case.__init__ = params(
    Rule("key", lambda key: all(ch.isalnum() or ch in KEY_CHARACTERS for ch in key),
         f"must be a file name (letters, digits, {' '.join(KEY_CHARACTERS)})"),
    key=Text(), function=Function("a module-level function (the cases run in other processes)"),
    kwargs=Optional(Instance(dict, hint="the case's keyword arguments")),
    probe=Optional(Instance(dict, hint="keyword arguments replacing some of kwargs")), probe_factor=Real(gt=0),
    runner_args=Sequence(Choice(*RUNNER_ARGS), min_length=0))(Case.__init__)


def source_hash() -> str:
    """A hash of the package's source: checkpoints written by other code are not reused."""
    digest = hashlib.sha1()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@params(case=Instance(Case), source=Text(allow_empty=True))
def fingerprint(case: Case, source: str) -> str:
    """What a checkpoint must match: the function, its arguments and the package source."""
    what = [f"{case.function.__module__}:{case.function.__qualname__}", case.kwargs, source]
    return hashlib.sha1(json.dumps(what, sort_keys=True, default=repr).encode()).hexdigest()[:16]


def _one_thread(case: Case, kwargs, progress: bool, state):
    """Run ``case`` with one BLAS thread (the same numbers on any number of jobs); return (key, result, seconds)."""
    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    with threadpool_limits(1), interrupts_propagate():
        result = case._call(kwargs, progress, state)
    return case.key, result, time.perf_counter() - start


@dataclass
class Runner:
    """How to run a chapter's cases: ``jobs`` joblib processes, a checkpoint ``folder`` (None: no checkpoints).

    ``fresh=True`` ignores (and overwrites) existing checkpoints. After :meth:`run`, ``seconds`` maps each key
    to its own run time (from the checkpoint for a resumed case) and ``resumed`` lists the keys not rerun.
    """

    jobs: int = 1
    folder: Path | None = None                # a str is accepted (and made a Path)
    progress: bool = True
    fresh: bool = False
    seconds: dict = field(default_factory=dict, init=False)
    resumed: list = field(default_factory=list, init=False)

    def _path(self, key: str) -> Path | None:
        return None if self.folder is None else self.folder / f"{key}.json"

    def _state(self, case: Case, source: str) -> Path | None:
        """Where the case saves its own training state: named by its fingerprint, so that a changed case never
        resumes another's state."""
        return None if self.folder is None else self.folder / f"{case.key}.{fingerprint(case, source)}.state.npz"

    def _load(self, case: Case, source: str):
        path = self._path(case.key)
        if self.fresh or path is None or not path.is_file():
            return None
        try:
            with open(path) as fh:
                saved = json.load(fh)
        except (OSError, ValueError) as exc:  # a truncated file from a killed run, or garbage: run the case again
            return reject_checkpoint(path, f"not readable JSON: {exc}")
        if not isinstance(saved, dict) or not {"fingerprint", "result", "seconds"} <= set(saved):
            return reject_checkpoint(path, "not a finished case's record (an object with fingerprint, result, "
                                           "seconds)")
        return saved if saved["fingerprint"] == fingerprint(case, source) else None

    def _save(self, case: Case, result, seconds: float, source: str) -> None:
        path = self._path(case.key)
        try:
            text = json.dumps({"key": case.key, "fingerprint": fingerprint(case, source), "seconds": seconds,
                               "result": result}, indent=1)
        except TypeError as exc:
            raise ValueError(f"case {case.key!r} returned a result JSON cannot store ({exc}); return numbers, "
                             f"strings and lists") from None
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text + "\n")
        os.replace(tmp, path)                # never a half-written checkpoint
        for state in self.folder.glob(f"{case.key}.*.state.npz"):
            state.unlink()                   # the finished case's (and any older) training state

    @params(Rule("cases", lambda cases: len({c.key for c in cases}) == len(cases), "case keys must be unique"),
            cases=Sequence(Instance(Case), min_length=0), desc=Text())
    def run(self, cases, desc: str = "cases") -> dict:
        """``{key: function(**kwargs)}`` for every case, in the order given (resumed ones from their checkpoints)."""
        keys = [c.key for c in cases]
        source = source_hash() if self.folder is not None else ""
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
        results, todo = {}, []
        for case in cases:
            saved = self._load(case, source)
            if saved is None:
                todo.append(case)
            else:
                results[case.key], self.seconds[case.key] = saved["result"], saved["seconds"]
                self.resumed.append(case.key)
        if self.resumed:
            print(f"{desc}: {len(self.resumed)} of {len(cases)} cases resumed from {self.folder}", file=sys.stderr,
                  flush=True)
        if todo:
            from joblib import Parallel, delayed

            inner = self.progress and (self.jobs == 1 or len(todo) == 1)     # per-case bars only when serial
            states = [self._state(c, source) for c in todo]
            for state in states if self.fresh else []:
                if state is not None and state.exists():
                    state.unlink()                                          # --fresh: no resumed training either
            jobs = [delayed(_one_thread)(c, c.kwargs, inner, state) for c, state in zip(todo, states)]
            by_key = {c.key: c for c in todo}
            bar = progress_bar(range(len(cases)), self.progress, desc)
            if hasattr(bar, "update"):
                bar.update(len(cases) - len(todo))
            try:
                for key, result, seconds in Parallel(n_jobs=min(self.jobs, len(todo)),
                                                     return_as="generator_unordered")(jobs):
                    if self.folder is not None:
                        self._save(by_key[key], result, seconds, source)
                    results[key], self.seconds[key] = result, seconds
                    if hasattr(bar, "update"):
                        bar.update(1)
            finally:
                if hasattr(bar, "close"):
                    bar.close()
        return {key: results[key] for key in keys}

    @params(function=Function("a module-level function (the cases run in other processes)"),
            arguments=Sequence(Instance(dict, hint="one dict of keyword arguments per call"), min_length=0),
            desc=Text())
    def map(self, function, arguments, desc: str = "cases") -> list:
        """``[function(**kwargs) for kwargs in arguments]`` as independent cases (:meth:`run`): the same numbers for
        any number of ``jobs``."""
        return list(self.run([Case(str(k), function, kwargs) for k, kwargs in enumerate(arguments)], desc).values())

    @params(cases=Sequence(Instance(Case), min_length=0))
    def estimate(self, cases) -> list[tuple[str, float | None]]:
        """``[(key, estimated seconds)]``: each case's probe timed here, times its factor (0 if checkpointed).

        A case without a probe is estimated as None. Probes run serially, one BLAS thread each, as the cases do.
        """
        source = source_hash() if self.folder is not None else ""
        out = []
        for case in cases:
            if self._load(case, source) is not None:
                out.append((case.key, 0.0))
            elif case.probe is None:
                out.append((case.key, None))
            else:
                seconds = _one_thread(case, {**case.kwargs, **case.probe}, False, None)[2]
                out.append((case.key, seconds * case.probe_factor))
        return out


Runner.__init__ = params(jobs=Integer(ge=1, typical=(1, 2)), folder=Optional(PathLike()), progress=Flag(),
                         fresh=Flag())(Runner.__init__)
