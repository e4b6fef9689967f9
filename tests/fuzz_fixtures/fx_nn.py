"""Fixtures of mlphys.nn for the fuzzer: small networks, optimisers, training loops, saved states."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from mlphys import nn

_DIR = Path(tempfile.mkdtemp(prefix="fx_nn_"))
SIZES = [2, 3, 2]          # the fixture network: its parameter shapes are (3, 2), (3,), (2, 3), (2,)


def _network(rng, *, output="identity"):
    loss = "mse" if output == "identity" else "cross_entropy"
    return nn.Network(SIZES, activation=str(rng.choice(nn.HIDDEN_ACTIVATIONS)), output=output, loss=loss,
                      l2=float(rng.choice([0.0, 0.1])), rng=int(rng.integers(1000)))


def _params(rng):
    return [rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=(2, 3)), rng.normal(size=2)]


def _state(rng):
    """A saved training state of a network of SIZES (with Adam's moments and a generator), and its run's fingerprint."""
    params, opt, gen = _params(rng), nn.Adam(1e-3), np.random.default_rng(int(rng.integers(1000)))
    opt.step(params, [np.ones_like(p) for p in params])
    path = Path(tempfile.mkdtemp(dir=_DIR)) / "state.npz"
    nn.save_training_state(path, params, opt, rng=gen, fingerprint="fx", losses=np.arange(3.0))
    return dict(path=path, params=_params(rng), optimizer=nn.Adam(1e-3), rng=np.random.default_rng(0),
                fingerprint="fx", required=("losses",))


def _adam_state(rng):
    """What Adam.state() returns after a step of parameters of SIZES, and parameters of those shapes."""
    opt, params = nn.Adam(), _params(rng)
    opt.step(params, _params(rng))
    return dict(arrays=opt.state(), params=_params(rng))


def _classified(rng, n=5):
    """A softmax network of SIZES, its inputs and one-hot targets (integer labels for the accuracy)."""
    net = _network(rng, output="softmax")
    labels = rng.integers(0, SIZES[-1], n)
    return net, rng.normal(size=(n, SIZES[0])), labels


def _train(rng):
    net, X, labels = _classified(rng)
    Y = labels if rng.integers(2) else nn.one_hot(labels, SIZES[-1])
    return dict(net=net, X=X, Y=Y, optimizer=nn.Adam(1e-2) if rng.integers(2) else nn.SGD(0.05, momentum=0.5),
                X_val=X[:3], labels_val=labels[:3] if rng.integers(2) else nn.one_hot(labels[:3], SIZES[-1]))


def _accuracy(rng):
    net, X, labels = _classified(rng)
    return dict(net=net, X=X, labels=labels if rng.integers(2) else nn.one_hot(labels, SIZES[-1]))


INSTANCES = {
    nn.Network: _network,
    nn.SGD: lambda rng: nn.SGD(float(rng.uniform(0.01, 0.2)), momentum=float(rng.uniform(0, 0.9))),
    nn.Adam: lambda rng: nn.Adam(float(rng.uniform(1e-4, 1e-2))),
    nn.TrainingLoop: lambda rng: nn.TrainingLoop(int(rng.integers(0, 4))),
    nn.History: lambda rng: nn.History("loss", loss=list(rng.uniform(0, 1, 3))),
}

CALLS = {
    "nn.set_flat_parameters": lambda rng: dict(params=_params(rng), theta=rng.normal(size=17)),
    "nn.Network.loss_from_params": lambda rng: dict(params=_params(rng)),
    "nn.SGD.step": lambda rng: dict(params=_params(rng), grads=_params(rng)),
    "nn.Adam.step": lambda rng: dict(params=_params(rng), grads=_params(rng)),
    "nn.Adam.load_state": lambda rng: _adam_state(rng),
    "nn.save_training_state": lambda rng: dict(path=Path(tempfile.mkdtemp(dir=_DIR)) / "saved.npz",
                                               rng=np.random.default_rng(1)),
    "nn.load_training_state": _state,
    "nn.resume_training_state": _state,
    "nn.accuracy": _accuracy,
    "nn.train": _train,
}
