"""Fuzzer fixtures for mlphys.speckle: small grids (16 points, so that arrays built for one fixture fit another),
data sets and ground states of random potentials."""
import numpy as np

from mlphys import speckle

#: The number of points of every fixture grid (and of the fixture networks' input, see fx_cnn).
GRID_N = 16


def grid(rng, *, n=GRID_N, periodic=None):
    periodic = bool(rng.integers(2)) if periodic is None else periodic
    return speckle.Grid(length=float(rng.uniform(2.0, 8.0)), n=n, periodic=periodic,
                        kinetic_prefactor=float(rng.choice([0.5, 1.0])))


def potentials_and_ground_states(rng, g, rows=3):
    V = rng.uniform(-1.0, 1.0, (rows, g.n))
    return V, speckle.exact_ground_states(V, g)


def dataset(rng, g=None, rows=8):
    g = grid(rng) if g is None else g
    V, gs = potentials_and_ground_states(rng, g, rows)
    return speckle.Dataset("speckle" if g.periodic else "gaussian_wells", g, V, gs.densities, gs.energies, gs.kinetic)


def _speckle_grid(rng):
    grains = int(rng.integers(2, 6))
    return speckle.Grid(length=float(grains), n=int(rng.integers(4 * grains, 4 * grains + 9)), periodic=True,
                        kinetic_prefactor=1.0)


def _densities(rng):
    g = grid(rng)
    return {"grid": g, "densities": rng.random((2, g.n)) if rng.integers(2) else rng.random(g.n)}


INSTANCES = {
    speckle.Grid: grid,
    speckle.Dataset: dataset,
    speckle.GroundStates: lambda rng: potentials_and_ground_states(rng, grid(rng))[1],
}

CALLS = {
    "speckle.speckle_potential": lambda rng: {"grid": _speckle_grid(rng)},
    "speckle.von_weizsaecker": _densities,
    "speckle.dataset": lambda rng: {"cache": False, "progress": False},        # never writes the user's cache
    "speckle.Grid.integrate": lambda rng: {"f": rng.random((2, GRID_N)), "axis": -1} if rng.integers(2)
    else {"f": rng.random((GRID_N, 3)), "axis": 0},
    "speckle.Dataset.subset": lambda rng: {"index": slice(1, 5) if rng.integers(2) else np.array([0, 2, 3])},
    "speckle.Dataset.split": lambda rng: {"fractions": [0.5, 0.25, 0.25]},
}

EXAMPLES = {"speckle.dataset": 2}
