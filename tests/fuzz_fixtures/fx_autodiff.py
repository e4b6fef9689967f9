"""Fuzzer fixtures for mlphys.autodiff: nodes inside every operation's domain, scalar functions of node lists,
and small networks with data that fit them."""
from __future__ import annotations

import numpy as np

from mlphys import autodiff, nn


def _scalar(v):
    """A smooth function of any number of nodes (Value or Dual)."""
    total = v[0].exp() * 0.5
    for a, b in zip(v[1:], v[:-1]):
        total = total + (a * b).tanh() - (a * a + 1).log() + a.sigmoid() / 2
    return total


def _network(rng):
    net = nn.Network([2, 3, 2], activation="tanh", output="softmax", loss="cross_entropy", l2=0.01,
                     rng=int(rng.integers(1000)))
    X = rng.normal(size=(4, 2))
    Y = np.eye(2)[rng.integers(0, 2, 4)]
    return {"net": net, "X": X, "Y": Y}


def _values(rng):
    sizes = (2, 3, 1)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params.append([[autodiff.Value(w) for w in row] for row in rng.normal(size=(n_out, n_in))])
        params.append([autodiff.Value(b) for b in rng.normal(size=n_out)])
    return {"params": params, "X": rng.normal(size=(4, 2)), "Y": rng.uniform(0.1, 0.9, (4, 1)),
            "activation": "tanh", "output": "sigmoid"}


INSTANCES = {
    autodiff.Value: lambda rng: autodiff.Value(rng.uniform(0.2, 2.0)),       # log needs a positive value
    autodiff.Dual: lambda rng: autodiff.Dual(rng.uniform(0.2, 2.0), rng.normal()),
}

CALLS = {
    "autodiff.reverse_gradient": lambda rng: {"f": _scalar},
    "autodiff.forward_gradient": lambda rng: {"f": _scalar},
    "autodiff.central_differences": lambda rng: {"f": lambda x: np.sum(np.tanh(x), axis=-1),   # batched: (n,) values
                                                 "x": rng.normal(size=(3, 2)), "batched": True},
    "autodiff.network_loss_scalar": _values,
    "autodiff.network_gradients_by_value": _network,
    "autodiff.gradient_agreement": _network,
}
