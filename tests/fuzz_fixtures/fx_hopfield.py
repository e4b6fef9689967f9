"""Fuzzer fixtures for mlphys.hopfield: a Recall, and a curve that crosses its level."""
from __future__ import annotations

import numpy as np

from mlphys import hopfield


def _crossing(rng):
    x = np.cumsum(rng.uniform(0.1, 1.0, 6))
    y = np.sort(rng.uniform(0.0, 1.0, 6))[::-1].copy()
    return {"x": x, "y": y, "level": float(rng.uniform(y[-1] + 1e-3, y[0]))}


INSTANCES = {hopfield.Recall: lambda rng: hopfield.run_async(hopfield.hebbian_weights(hopfield.random_patterns(
    2, 8, rng=rng)), hopfield.random_patterns(3, 8, rng=rng), rng=rng, record_energy=True)}

CALLS = {
    "hopfield.crossing": _crossing,                       # a curve that falls below its level (else NaN, by design)
    "hopfield.Recall": lambda rng: {"states": hopfield.random_patterns(3, 5, rng=rng), "sweeps": 2,
                                    "converged": np.array([True, False, True]), "energies": rng.normal(size=(4, 3))},
}
