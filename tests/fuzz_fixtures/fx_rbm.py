"""Fuzzer fixtures for mlphys.rbm: a small RBM (3 visible, 2 hidden units) and hidden states that fit it."""
from __future__ import annotations

from mlphys import rbm


def _machine(rng):
    machine = rbm.BinaryRBM(3, 2, rng=int(rng.integers(1000)), weight_scale=1.0)
    machine.a, machine.b = rng.normal(size=3), rng.normal(size=2)
    return machine


def _bits(rng, *shape):
    return rng.integers(0, 2, shape).astype(float)


INSTANCES = {rbm.BinaryRBM: _machine}

CALLS = {
    "rbm.BinaryRBM.energy": lambda rng: {"v": _bits(rng, 4, 3), "h": _bits(rng, 4, 2)},
    "rbm.BinaryRBM.p_v_given_h": lambda rng: {"h": _bits(rng, 4, 2)},
    "rbm.BinaryRBM.sample_v": lambda rng: {"h": _bits(rng, 4, 2)},
}
