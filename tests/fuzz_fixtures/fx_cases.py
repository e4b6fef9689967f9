"""Fuzzer fixtures for mlphys.cases: cases of a tiny module-level function, run in this process (one job)."""
from __future__ import annotations

from mlphys import cases


def square(x: float) -> dict:
    """A case function: a dict of JSON numbers."""
    return {"y": x * x}


def _case(rng, key="a"):
    return cases.Case(key, square, {"x": float(rng.normal())}, probe={"x": 0.5}, probe_factor=2.0)


INSTANCES = {
    cases.Case: _case,
    cases.Runner: lambda rng: cases.Runner(jobs=1, progress=False),
}
CALLS = {
    "cases.Case": lambda rng: {"function": square},
    "cases.Runner.run": lambda rng: {"cases": [_case(rng, "a"), _case(rng, "b")]},
    "cases.Runner.estimate": lambda rng: {"cases": [_case(rng)]},
    "cases.Runner.map": lambda rng: {"function": square, "arguments": [{"x": 1.0}, {"x": float(rng.normal())}]},
}
