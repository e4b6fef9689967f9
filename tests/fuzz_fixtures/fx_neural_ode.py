"""Fuzzer fixtures for mlphys.neural_ode."""
from __future__ import annotations

import numpy as np

from mlphys import neural_ode


def _f(rng):
    return neural_ode.ODEFunc(int(rng.integers(1, 4)), int(rng.integers(1, 6)), rng=int(rng.integers(1000)))


def _states(rng, f):
    return rng.normal(size=(int(rng.integers(1, 4)), f.dim))


def _adjoint(rng):
    f = _f(rng)
    psi1 = _states(rng, f)
    return {"f": f, "psi1": psi1, "dL_dpsi1": rng.normal(size=psi1.shape)}


INSTANCES = {
    neural_ode.ODEFunc: _f,
    neural_ode.RingClassifier: lambda rng: neural_ode.RingClassifier(hidden=int(rng.integers(1, 5)), n_steps=2,
                                                                     augment=int(rng.integers(0, 2)),
                                                                     rng=int(rng.integers(1000))),
}

CALLS = {
    # f(psi, params, xp) and states of its dimension
    "neural_ode.rk4_step": lambda rng: (lambda f: {"f": f, "psi": _states(rng, f)})(_f(rng)),
    "neural_ode.integrate": lambda rng: (lambda f: {"f": f, "psi0": _states(rng, f)})(_f(rng)),
    "neural_ode.euler_resnet": lambda rng: (lambda f: {"f": f, "psi0": _states(rng, f)})(_f(rng)),
    "neural_ode.adjoint_gradients": _adjoint,
    "neural_ode.autograd_gradients": lambda rng: (lambda f: {"f": f, "psi0": _states(rng, f),
                                                             "loss": lambda p, xp: xp.sum(p ** 2)})(_f(rng)),
    "neural_ode.peak_memory": lambda rng: {"fn": lambda: np.zeros(10).sum()},
    "neural_ode.rings": lambda rng: {"inner": 1.0, "gap": (1.5, 2.5)},
    # labels 0/1 of as many points as X has
    "neural_ode.RingClassifier.accuracy": lambda rng: {"X": rng.normal(size=(4, 2)), "labels": rng.integers(0, 2, 4)},
    "neural_ode.RingClassifier.loss_and_gradients": lambda rng: {"X": rng.normal(size=(4, 2)),
                                                                 "labels": rng.integers(0, 2, 4)},
    "neural_ode.RingClassifier.fit": lambda rng: {"X": rng.normal(size=(4, 2)), "labels": rng.integers(0, 2, 4)},
}
