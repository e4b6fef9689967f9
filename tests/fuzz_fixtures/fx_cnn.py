"""Fuzzer fixtures for mlphys.cnn: one small network shape (16 inputs, one block of 2 channels, kernel 3), so that
parameters and saved states built here fit the instance the fuzzer builds separately."""
import numpy as np

from mlphys import cnn

N_GRID = 16                                     # = fx_speckle.GRID_N: a LearnedFunctional pairs the two
SHAPES = [(3, 1, 2), (2,), (16,), ()]           # W, bias, dense weights (8 pooled points x 2 channels), dense bias


def network(rng, activation=None):
    return cnn.CNN(N_GRID, channels=2, pools=(2,), kernel=3,
                   activation=activation or str(rng.choice(cnn.ACTIVATIONS)),
                   padding=str(rng.choice(cnn.PADDINGS)), rng=int(rng.integers(1000)))


def _params(rng):
    return [rng.uniform(-0.5, 0.5, s) for s in SHAPES]


INSTANCES = {cnn.CNN: network}

CALLS = {
    "cnn.CNN": lambda rng: {"n_grid": int(rng.choice([16, 32])), "pools": [2], "kernel": 3, "channels": 2},
    "cnn.CNN.from_architecture": lambda rng: {"n_grid": 64},
    "cnn.CNN.predict_from_params": lambda rng: {"params": _params(rng), "X": rng.random((2, N_GRID)), "xp": np},
    "cnn.CNN.load_state": lambda rng: {"arrays": {f"p{i}": p for i, p in enumerate(_params(rng))}
                                       | {"scaling": np.array([2.0, 0.1, 0.5])}},
}
