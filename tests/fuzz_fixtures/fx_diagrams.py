"""Fixtures of mlphys.diagrams for the fuzzer: axes of a figure pyplot does not track (nothing accumulates)."""
from __future__ import annotations


def _ax(rng):
    from matplotlib.figure import Figure

    return dict(ax=Figure().add_subplot())


CALLS = {f"diagrams.{name}": _ax for name in ("perceptron", "feed_forward", "rbm", "residual_block")}
