"""Fuzzer fixtures for mlphys.dfnn."""
from __future__ import annotations

import numpy as np

from mlphys import dfnn


def _net(rng):
    """A small network with one output (vjp_first needs one) and one or two inputs."""
    n_in = int(rng.integers(1, 3))
    return dfnn.DFNN((n_in, int(rng.integers(1, 4)), 1), activation=dfnn.ACTIVATIONS[int(rng.integers(3))],
                     rng=int(rng.integers(1000)))


def _cotangent(d):
    """Weights of the right shapes for whatever Derivatives come in (values, gradients and the Hessian part)."""
    hess = d.hessian if d.hessian is not None else d.hessian_diag
    return np.ones_like(d.value), np.ones_like(d.gradient), None if hess is None else np.ones_like(hess)


def _points(rng):
    return rng.normal(size=(int(rng.integers(1, 4)), 1))


INSTANCES = {dfnn.DFNN: _net}

CALLS = {
    # points for a one-input network (the methods' X is checked against the instance's sizes[0]; 1-D works for
    # any network: B points of a one-input network, one point otherwise) and a cotangent of matching shapes
    "dfnn.DFNN.derivatives": lambda rng: {"X": rng.normal(size=1)},
    "dfnn.DFNN.jacobians": lambda rng: {"X": rng.normal(size=1)},
    "dfnn.DFNN.vjp": lambda rng: {"X": rng.normal(size=1), "cotangent": _cotangent},
    "dfnn.DFNN.vjp_general": lambda rng: {"X": rng.normal(size=1), "cotangent": _cotangent},
    "dfnn.DFNN.vjp_first": lambda rng: {"X": rng.normal(size=1), "input_gradient": False,
                                        "cotangent": lambda value, gradient: (np.ones_like(value), None)},
    "dfnn.DFNN.set_flat": lambda rng: {},
    "dfnn.Derivatives": lambda rng: {"value": rng.normal(size=(2, 1)), "gradient": rng.normal(size=(2, 1, 1)),
                                     "hessian": rng.normal(size=(2, 1, 1, 1)),
                                     "hessian_diag": rng.normal(size=(2, 1, 1))},
    "dfnn.output": lambda rng: {"params": dfnn.DFNN((2, 3, 1), rng=int(rng.integers(1000))).params,
                                "X": rng.normal(size=(3, 2))},
    "dfnn.autograd_reference": lambda rng: {"X": _points(rng)[:2]},
    "dfnn.evaluation_time": lambda rng: {"sizes": (1, 2, 1)},
    "dfnn.call_times": lambda rng: {"run": lambda: None},
}

KEEP_DEFAULT = {}
EXAMPLES = {"dfnn.autograd_reference": 1, "dfnn.evaluation_time": 2}
