"""Fuzz fixtures for mlphys.grid1d."""
import numpy as np

from mlphys import grid1d


def _hamiltonian(rng):
    n = int(rng.integers(9, 16))
    H = -grid1d.second_derivative(n, 0.3, periodic=bool(rng.integers(2))) + np.diag(rng.uniform(-1, 1, n))
    return {"H": H, "k": int(rng.integers(1, 3))}


CALLS = {"grid1d.lowest_eigenpairs": _hamiltonian}
