"""Fuzz fixtures for mlphys.mpnn: small eigenstates, networks and training problems."""
import numpy as np

from mlphys import dfnn, mpnn, nn


def _state(rng):
    return mpnn.harmonic_state(int(rng.integers(0, 3)))


def _points(rng, n=None, dim=1):
    return rng.normal(size=(n or int(rng.integers(3, 12)), dim))


def _result(rng):
    state = _state(rng)
    points = _points(rng)
    return mpnn.PotentialResult(state, "mpnn", dfnn.DFNN((1, 3, 1), rng=int(rng.integers(100))), 0.5,
                                nn.History(loss=[1.0, 0.5]), 0.1, 0.1, points, 0.5, {})


def _problem(rng):
    state = _state(rng)
    points = _points(rng)
    method = str(rng.choice(mpnn.METHODS))
    return mpnn.Problem(method, points, state.local_kinetic(points), np.exp(2 * state.log_psi(points)),
                        state.kinetic_gradient(points), np.array([1.0]), 0.5, 1.0)


def _eigenstate(rng):
    w = float(rng.uniform(0.5, 2))
    return {"dim": 1, "log_psi": lambda r: -0.5 * w * r[:, 0] ** 2,
            "local_kinetic": lambda r: 0.5 * w - 0.5 * w**2 * r[:, 0] ** 2, "potential": lambda r: 0.5 * w**2 * r[:, 0] ** 2}


def _grid_state(rng):
    x = np.linspace(-5, 5, int(rng.integers(20, 60)))
    return {"x": x, "psi": np.exp(-x**2 / 2) * (1 + 0.01 * rng.normal(size=x.size))}


INSTANCES = {
    mpnn.Eigenstate: _state,
    mpnn.PotentialResult: _result,
    mpnn.Problem: _problem,
}
CALLS = {
    "mpnn.Eigenstate": _eigenstate,
    "mpnn.Eigenstate.closed_form_potential": lambda rng: {"energy": float(rng.uniform(-1, 1))},
    "mpnn.state_from_grid": _grid_state,
    "mpnn.potential_errors": lambda rng: {"U": lambda r: 0.5 * r[:, 0] ** 2},
    "mpnn.PotentialResult": lambda rng: {"net": dfnn.DFNN((1, 3, 1), rng=0), "history": nn.History(loss=[1.0])},
    "mpnn.Problem.evaluate": lambda rng: {"net": dfnn.DFNN((1, 3, 1), rng=int(rng.integers(100))), "batch": None},
    "mpnn.learn_potential": lambda rng: {"r0": [1.0], "v_r0": 0.5, "hidden": (3,), "n_samples": 20,
                                         "steps": int(rng.integers(1, 5))},
}
KEEP_DEFAULT = {"mpnn.learn_potential": ("checkpoint",)}
EXAMPLES = {"mpnn.learn_potential": 2}
