"""Fixtures of mlphys.perceptron for the fuzzer: separable data with a separating line (for Novikoff's bound)."""
from __future__ import annotations

from mlphys import perceptron


def _separated(rng):
    X, labels, (w, b) = perceptron.separable_data(int(rng.integers(2, 30)), margin=0.2, rng=int(rng.integers(1000)))
    return dict(X=X, labels=labels, w_sep=w, b_sep=b)


CALLS = {"perceptron.mistake_bound": _separated}
