"""Fuzz fixtures for mlphys.variational: 1D networks on small grids, ordered domains, potentials."""
import numpy as np

from mlphys import dfnn, nn, variational as va


def _domain(rng):
    a = float(rng.uniform(-4, 0))
    return (a, a + float(rng.uniform(1, 6)))


def _potential(rng):
    c = float(rng.uniform(0.1, 2))
    return lambda x: 0.5 * c * x**2


def _on_grid(rng):
    net = dfnn.DFNN((1, int(rng.integers(2, 5)), 1), rng=int(rng.integers(100)))
    x, h = va.grid(_domain(rng), int(rng.integers(10, 30)))
    return {"net": net, "x": x, "v": 0.5 * x**2, "h": h}


def _ground_state(rng):
    return {"V": _potential(rng), "domain": _domain(rng), "hidden": (3,), "n_points": 20,
            "schedule": ((int(rng.integers(1, 6)), 1e-3), (2, 1e-4))}


def _result(rng):
    n = 12
    net = dfnn.DFNN((1, 3, 1), rng=int(rng.integers(100)))
    x = np.linspace(-2, 2, n)
    return {"energy": 0.5, "norm_error": 0.01, "goodness": 0.1, "x": x, "phi": np.exp(-x**2 / 2),
            "history": nn.History(energy=[1.0, 0.6]), "network": net}


def _benchmark(rng):
    return {"name": "x", "label": "x^2/2", "V": va.harmonic, "domain": _domain(rng), "hidden": (3, 3),
            "paper": "E = 0.5", "paper_energy": 0.5, "paper_bound": 1e-6, "exact": 0.5, "psi0": va.gaussian_psi0}


def _walkers(dim):
    return lambda rng: {"X": rng.normal(size=(int(rng.integers(1, 6)), 1, dim))}


INSTANCES = {
    va.Trap: lambda rng: va.Trap((1.0, 2.0)),
    va.NetworkState: lambda rng: va.NetworkState(2, (4, 3), rng=int(rng.integers(100))),
}
CALLS = {
    "variational.check_domain": lambda rng: {"domain": _domain(rng)},
    "variational.grid": lambda rng: {"domain": _domain(rng)},
    "variational.evaluate_potential": lambda rng: {"V": _potential(rng)},
    "variational.reference_energies": lambda rng: {"V": _potential(rng), "domain": _domain(rng)},
    "variational.energy_and_gradient": lambda rng: {**_on_grid(rng), "engine": "numpy"},
    "variational.energy_and_gradient_autograd": _on_grid,
    "variational.step_times": _on_grid,
    "variational.goodness": lambda rng: {"net": _on_grid(rng)["net"], "V": _potential(rng), "domain": _domain(rng)},
    "variational.GroundState": _result,
    "variational.ground_state": _ground_state,
    "variational.Benchmark": _benchmark,
    "variational.Trap.potential": _walkers(2),
    "variational.NetworkState.log_psi": _walkers(2),
    "variational.NetworkState.evaluate": _walkers(2),
    "variational.monte_carlo_ground_state": lambda rng: {"omegas": (1.0, float(rng.uniform(0.5, 2))),
                                                         "hidden": (3,)},
}
KEEP_DEFAULT = {"variational.ground_state": ("checkpoint",)}
EXAMPLES = {"variational.step_times": 1, "variational.ground_state": 2, "variational.monte_carlo_ground_state": 2}
