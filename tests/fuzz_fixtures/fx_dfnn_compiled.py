"""Fuzzer fixtures for mlphys.dfnn_compiled (the module imports only with numba)."""
from __future__ import annotations

import importlib.util

import numpy as np

INSTANCES: dict = {}
CALLS: dict = {}

if importlib.util.find_spec("numba") is not None:
    from mlphys import dfnn, dfnn_compiled

    def _network(rng):
        return dfnn.DFNN((1, int(rng.integers(1, 4)), 1), rng=int(rng.integers(1000)))

    INSTANCES = {dfnn_compiled.Workspace: lambda rng: dfnn_compiled.Workspace((1, 3, 1), int(rng.integers(1, 100)))}
    CALLS = {
        # a one-input, one-output network's parameters and a cotangent (3, B) for its outputs
        "dfnn_compiled.vjp": lambda rng: {"params": _network(rng).params, "cotangent": np.ones_like},
        "dfnn_compiled.Workspace": lambda rng: {"sizes": (1, 3, 1), "max_bytes": 2**20},
    }
