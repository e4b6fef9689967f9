"""Data sets used by the book: generated, or shipped inside a pip package (no downloads)."""
from __future__ import annotations


from .config import make_rng
from .validate import fraction


def load_digits_split(*, test_fraction: float = 0.25, rng=None):
    """scikit-learn's bundled 8x8 hand-written digits (1797 images), scaled to [0, 1] and split.

    Returns ``(X_train, X_test, y_train, y_test)`` with ``X`` of shape ``(n, 64)``
    and integer labels 0-9. The data ship with scikit-learn: nothing is downloaded.
    """
    from sklearn.datasets import load_digits

    test_fraction = fraction(test_fraction, "test_fraction")
    digits = load_digits()
    X = digits.data / 16.0
    y = digits.target.astype(int)
    perm = make_rng(rng).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    test, train = perm[:n_test], perm[n_test:]
    return X[train], X[test], y[train], y[test]
