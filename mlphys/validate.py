"""Input checks shared by the public functions: each raises ValueError naming the argument."""
from __future__ import annotations

import numpy as np


def as_array(value, name: str, *, ndim=None, finite: bool = True) -> np.ndarray:
    """Convert ``value`` to a float array; check its number of dimensions and finiteness."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric array-like ({exc})") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimension(s), got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; remove or impute them first")
    return arr


def rows(value, name: str, n_columns: int, what: str) -> np.ndarray:
    """A finite (batch, n_columns) array, ``what`` being one row (e.g. "one density per row"); a single row
    of shape (n_columns,) becomes (1, n_columns)."""
    arr = as_array(value, name)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_columns:
        raise ValueError(f"{name} must have shape (batch, {n_columns}) ({what}), got {np.shape(value)}")
    return arr


def number(value, name: str) -> float:
    """Check that ``value`` is a finite real number (not a string or a bool) and return it as float."""
    if isinstance(value, (str, bytes, bool, np.bool_)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def positive(value, name: str, *, allow_zero: bool = False) -> float:
    """Check that a scalar is (strictly) positive and return it as float."""
    v = number(value, name)
    if v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return v


def integer(value, name: str, *, minimum: int = 0) -> int:
    """Check that ``value`` is an integer >= ``minimum`` and return it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def fraction(value, name: str) -> float:
    """Check that a scalar lies strictly between 0 and 1."""
    v = positive(value, name)
    if v >= 1:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value!r}")
    return v
