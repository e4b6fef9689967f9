"""Fuzzer fixtures for mlphys.dft: functionals on the 16-point fixture grids, with the ground states of random
potentials (so that descents start normalised and metrics compare like with like), and a tiny training set."""
import numpy as np

from mlphys import dft, nn, speckle

from .fx_cnn import network
from .fx_speckle import dataset, grid, potentials_and_ground_states


def exact(rng):
    return dft.ExactFunctional(grid(rng))


def learned(rng, activation=None):
    return dft.LearnedFunctional(network(rng, activation), grid(rng), "fixture", chunk=int(rng.integers(1, 4)))


def functional(rng):
    return exact(rng) if rng.integers(2) else learned(rng)


def _problem(rng):
    """A functional, potentials and their exact ground states."""
    f = functional(rng)
    V, gs = potentials_and_ground_states(rng, f.grid)
    return f, V, gs


def _descend(rng):
    f, V, gs = _problem(rng)
    chi0 = np.sqrt(gs.densities) if rng.integers(2) else None
    return {"functional": f, "potentials": V, "exact": gs, "chi0": chi0}


def _force(rng):
    f, V, gs = _problem(rng)
    return {"functional": f, "potentials": V, "exact": gs}


def _second_variation(rng):
    f, V, gs = _problem(rng)
    D = rng.normal(size=(3, f.grid.n))
    return {"functional": f, "density": gs.densities[0], "directions": D / np.linalg.norm(D, axis=1)[:, None]}


def _curvature(rng):
    f, V, gs = _problem(rng)
    return {"functional": f, "potential": V[0], "density": gs.densities[0]}


def _train(rng):
    g = speckle.Grid(length=14.0, n=64, periodic=True, kinetic_prefactor=1.0)
    architecture = str(rng.choice(list(dft.cnn.ARCHITECTURES)))
    relu = dft.cnn.ARCHITECTURES[architecture]["activation"] == "relu"
    return {"data": dataset(rng, g, rows=6), "validation": dataset(rng, g, rows=3), "architecture": architecture,
            "derivative_weight": 0.05 if relu and rng.integers(2) else 0.0}


INSTANCES = {dft.ExactFunctional: exact, dft.LearnedFunctional: learned}

CALLS = {
    "dft.ExactFunctional.value_and_derivative": lambda rng: {"densities": rng.random((2, 16))},
    "dft.TrainedFunctional": lambda rng: {"functional": learned(rng), "history": nn.History("loss", "val_loss")},
    "dft.descend": _descend,
    "dft.descent_force": _force,
    "dft.second_variation": _second_variation,
    "dft.curvature_ratios": _curvature,
    "dft.relu_activity": lambda rng: {"net": network(rng, "relu")},
    "dft.variation_ratio": lambda rng: {"densities": rng.random((3, 16))},      # the ground states' shape
    "dft.train_functional": _train,
}

EXAMPLES = {"dft.train_functional": 2}
