"""Fuzzer fixtures for mlphys.resnet_pde."""
from __future__ import annotations

from mlphys import resnet_pde


def _net(rng):
    """A "pde" network on 3x3 images with 3 classes (the calls below are built for it; the constructor's own
    fuzzing covers the other kinds)."""
    return resnet_pde.PDENet("pde", 2, side=3, hidden=4, n_classes=3, rng=int(rng.integers(1000)))


INSTANCES = {resnet_pde.PDENet: _net}

CALLS = {
    # a matching layer's parameters, the images and labels of the fixture's 3x3 network with 3 classes
    "resnet_pde.PDENet.kernel": lambda rng: {"p": rng.normal(0, 0.3, 5)},
    "resnet_pde.PDENet.operator": lambda rng: {"p": rng.normal(0, 0.3, 5)},
    "resnet_pde.PDENet.accuracy": lambda rng: {"X": rng.random((4, 9)), "labels": rng.integers(0, 3, 4)},
    "resnet_pde.PDENet.backward": lambda rng: {"X": rng.random((4, 9)),
                                               "Y": resnet_pde.nn.one_hot(rng.integers(0, 3, 4), 3)},
    "resnet_pde.PDENet.loss_from_params": lambda rng: {"params": _net(rng).params, "X": rng.random((4, 9)),
                                                       "Y": resnet_pde.nn.one_hot(rng.integers(0, 3, 4), 3)},
    "resnet_pde.train": lambda rng: {"labels": rng.integers(0, 3, 3), "labels_test": rng.integers(0, 3, 3)},
}
