"""Fuzzer fixtures for mlphys.pathint."""
from __future__ import annotations

from mlphys import pathint

CALLS = {
    # a kernel whose step weights are probabilities, and an end point on the lattice
    "pathint.sample_paths": lambda rng: {"kernel": pathint.pde_kernel(0.8, 0.2, 0.0), "x": int(rng.integers(0, 3))},
    # three distinct Trotter numbers with positive error bars
    "pathint.trotter_extrapolation": lambda rng: {"slices": [8, 16, 32], "energies": rng.uniform(0.4, 0.6, 3),
                                                 "errors": rng.uniform(0.001, 0.01, 3)},
}
