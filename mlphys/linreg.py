"""Ordinary least squares, ridge regression and the design matrix (Chapter 1).

Model (lecture, "Setting up the equations"): ``y = X theta + eps`` with the
design matrix ``X`` whose columns are the basis functions evaluated at the
inputs. The least-squares cost ``C(theta) = |y - X theta|^2 / n`` is minimised
where the gradient vanishes, which gives the normal equations
``X^T X theta = X^T y`` (lecture, "Training solution").

We never form ``(X^T X)^{-1}`` to solve them: its condition number is the
square of that of ``X``, so the explicit inverse loses twice as many digits.
QR and SVD work with ``X`` itself.
"""
from __future__ import annotations

import numpy as np

from .config import make_rng
from .validate import Array, Choice, Flag, Integer, Real, Rule, Seed, Sequence, finite, params

METHODS = ("qr", "svd", "lstsq", "inverse")

# the data of a fit: X has one row per entry of y, and at least one column
DATA = dict(X=Array(shape=("n", "p")), y=Array(shape=("n",)))


@params(Rule("degree", lambda degree, intercept: intercept or degree >= 1, "must be >= 1 without an intercept"),
        x=Array(shape=(None,)), degree=Integer(ge=0, typical=(0, 5)), intercept=Flag())
def design_matrix(x, degree: int, *, intercept: bool = True) -> np.ndarray:
    """Polynomial design matrix with columns ``x**0 (if intercept), x**1, ..., x**degree``."""
    first = 0 if intercept else 1
    with np.errstate(over="ignore"):
        X = x[:, None] ** np.arange(first, degree + 1)[None, :]
    return finite(X, f"design_matrix(x, degree={degree}): x**degree", "rescale x (e.g. to [-1, 1]) or lower degree")


@params(**DATA, method=Choice(*METHODS))
def ols_fit(X, y, *, method: str = "qr") -> np.ndarray:
    """Least-squares parameters ``theta`` minimising ``|y - X theta|^2``.

    ``method``: ``"qr"`` (default; ``X = QR``, solve ``R theta = Q^T y``),
    ``"svd"`` (``theta = V S^+ U^T y``, also works when ``X`` is rank deficient),
    ``"lstsq"`` (``numpy.linalg.lstsq``) or ``"inverse"`` (the textbook
    ``(X^T X)^{-1} X^T y``, kept only to show why it is a bad idea).
    """
    n, p = X.shape
    if method == "qr":
        if n < p:
            raise ValueError(f"X has fewer rows ({n}) than columns ({p}); use method='svd' or 'lstsq', or more data")
        Q, R = np.linalg.qr(X)
        return _back_substitute(R, Q.T @ y)
    if method == "svd":
        U, s, Vt = np.linalg.svd(X, full_matrices=False)
        cutoff = s.max() * max(n, p) * np.finfo(float).eps
        s_inv = np.where(s > cutoff, 1.0 / np.where(s > cutoff, s, 1.0), 0.0)
        return Vt.T @ (s_inv * (U.T @ y))
    if method == "lstsq":
        return np.linalg.lstsq(X, y, rcond=None)[0]
    try:
        return np.linalg.inv(X.T @ X) @ X.T @ y
    except np.linalg.LinAlgError:
        raise ValueError("X: X^T X is singular, so method='inverse' cannot invert it; use method='svd' "
                         "(or 'lstsq')") from None


def _back_substitute(R, b):
    """Solve the upper-triangular system ``R theta = b``."""
    from scipy.linalg import solve_triangular

    if np.any(np.abs(np.diag(R)) < np.finfo(float).eps * np.abs(R).max() * R.shape[0]):
        raise ValueError("X is rank deficient (collinear columns); use method='svd' or ridge_fit")
    return solve_triangular(R, b)


@params(**DATA, lam=Real(ge=0), penalize_intercept=Flag())
def ridge_fit(X, y, lam: float, *, penalize_intercept: bool = False) -> np.ndarray:
    """Ridge parameters minimising ``|y - X theta|^2 + lam |theta|^2``.

    Solves ``(X^T X + lam I) theta = X^T y`` as the least-squares problem of the
    augmented matrix ``[X; sqrt(lam) I]``, so no normal-equation matrix is formed.
    If ``penalize_intercept`` is False the first column (assumed constant) is
    not shrunk.
    """
    p = X.shape[1]
    penalty = np.sqrt(lam) * np.eye(p)
    if not penalize_intercept:
        penalty[0, 0] = 0.0
    X_aug = np.vstack([X, penalty])
    y_aug = np.concatenate([y, np.zeros(p)])
    return np.linalg.lstsq(X_aug, y_aug, rcond=None)[0]


@params(Rule("y", lambda X: X.shape[0] > X.shape[1], "need more data points than parameters (columns of X) to "
             "estimate errors"), **DATA, theta=Array(shape=("p",)))
def ols_standard_errors(X, y, theta) -> np.ndarray:
    """Standard errors of the OLS parameters, ``sqrt(diag(s^2 (X^T X)^{-1}))``.

    ``s^2 = |y - X theta|^2 / (n - p)`` is the unbiased noise-variance estimate;
    ``(X^T X)^{-1}`` is taken from the SVD of ``X``.
    """
    n, p = X.shape
    resid = y - X @ theta
    s2 = resid @ resid / (n - p)
    _, s, Vt = np.linalg.svd(X, full_matrices=False)
    cov = (Vt.T / s**2) @ Vt
    return np.sqrt(s2 * np.diag(cov))


@params(Rule("y_pred", lambda y, y_pred: y.shape == y_pred.shape, "must have the same shape as y (a (n,) and an (n, 1) array would broadcast to (n, n))"),
        y=Array(shape=("n", "m"), ndim=(1, 2)), y_pred=Array(shape=("n", "m"), ndim=(1, 2)))
def mse(y, y_pred) -> float:
    """Mean squared error ``sum (y - y_pred)^2 / n``."""
    return float(np.mean((y - y_pred) ** 2))


@params(Rule("y", lambda y: np.ptp(y) > 0, "must not be constant (R^2 divides by its variance)"),
        Rule("y_pred", lambda y, y_pred: y.shape == y_pred.shape, "must have the same shape as y (a (n,) and an (n, 1) array would broadcast to (n, n))"),
        y=Array(shape=("n", "m"), ndim=(1, 2)), y_pred=Array(shape=("n", "m"), ndim=(1, 2)))
def r2_score(y, y_pred) -> float:
    """Coefficient of determination ``1 - sum (y - y_pred)^2 / sum (y - mean y)^2``."""
    return float(1.0 - np.sum((y - y_pred) ** 2) / np.sum((y - y.mean()) ** 2))


@params(Rule("x_range", lambda x_range: x_range[1] > x_range[0], "must be (low, high) with high > low"),
        n=Integer(ge=1, typical=(1, 50)), slope=Real(), intercept=Real(), noise_sd=Real(ge=0),
        x_range=Sequence(Real(), length=2), rng=Seed())
def make_linear_data(n: int, *, slope: float = 2.0, intercept: float = 1.0, noise_sd: float = 0.5,
                     x_range=(0.0, 1.0), rng=None):
    """Draw ``n`` points ``y = intercept + slope x + N(0, noise_sd^2)`` with ``x ~ U(x_range)``."""
    lo, hi = x_range
    rng = make_rng(rng)
    x = rng.uniform(lo, hi, n)
    y = intercept + slope * x + noise_sd * rng.standard_normal(n)
    return x, y


@params(Rule("test_fraction", lambda y, test_fraction: 0 < round(test_fraction * len(y)) < len(y),
             "leaves an empty train or test set for this many points"),
        x=Array(shape=("n", None), ndim=(1, 2), dtype=None), y=Array(shape=("n",), dtype=None),
        test_fraction=Real(gt=0, lt=1), rng=Seed())
def train_test_split(x, y, *, test_fraction: float = 0.2, rng=None):
    """Random split into ``(x_train, x_test, y_train, y_test)``; the arrays keep their dtype (integer labels stay
    integers). The one split of the package: regression data here, the digits in :mod:`mlphys.data`."""
    n_test = int(round(test_fraction * len(y)))
    perm = make_rng(rng).permutation(len(y))
    test, train = perm[:n_test], perm[n_test:]
    return x[train], x[test], y[train], y[test]


def _unit_interval_map(x_train):
    """Affine map sending the training range to [-1, 1], so monomial columns stay well conditioned."""
    lo, hi = float(np.min(x_train)), float(np.max(x_train))
    return lambda x: 2 * (np.asarray(x, dtype=float) - lo) / (hi - lo) - 1


FIT = dict(x_train=Array(shape=("n",)), y_train=Array(shape=("n",)), degree=Integer(ge=0, typical=(0, 5)),
           lam=Real(ge=0))


@params(Rule("x_train", lambda x_train: np.ptp(x_train) > 0, "has a single distinct value; polynomial fits need "
             "several"), **FIT)
def polynomial_fit(x_train, y_train, degree: int, *, lam: float = 0.0):
    """Fit a polynomial of ``degree`` (OLS via SVD, or ridge if ``lam > 0``).

    The inputs are first mapped to [-1, 1] using the training range. Returns a
    function ``predict(x)`` evaluating the fitted polynomial.
    """
    scale = _unit_interval_map(x_train)
    X = design_matrix(scale(x_train), degree)
    theta = ridge_fit(X, y_train, lam) if lam > 0 else ols_fit(X, y_train, method="svd")
    return params(x=Array(shape=(None,)))(lambda x: design_matrix(scale(x), degree) @ theta)


@params(**FIT, x_new=Array(shape=(None,)))
def polynomial_predict(x_train, y_train, x_new, degree: int, *, lam: float = 0.0) -> np.ndarray:
    """Fit a polynomial to ``(x_train, y_train)`` (see :func:`polynomial_fit`) and evaluate it at ``x_new``."""
    return polynomial_fit(x_train, y_train, degree, lam=lam)(x_new)


@params(x_train=FIT["x_train"], y_train=FIT["y_train"], x_test=Array(shape=("m",)), y_test=Array(shape=("m",)),
        degrees=Sequence(FIT["degree"]), lam=Real(ge=0))
def polynomial_sweep(x_train, y_train, x_test, y_test, degrees, *, lam: float = 0.0):
    """Train and test MSE of polynomial fits (see :func:`polynomial_fit`) for each degree in ``degrees``."""
    train_err, test_err = [], []
    for d in degrees:
        predict = polynomial_fit(x_train, y_train, d, lam=lam)
        train_err.append(mse(y_train, predict(x_train)))
        test_err.append(mse(y_test, predict(x_test)))
    return np.array(train_err), np.array(test_err)


@params(degrees=Sequence(Integer(ge=0, le=30, typical=(0, 8))), n_points=Integer(ge=2, typical=(2, 60)),
        methods=Sequence(Choice(*METHODS)))
def conditioning_study(degrees, *, n_points: int = 50, methods=("qr", "svd", "inverse")):
    """Why not the explicit inverse: recover known parameters from exact polynomial data.

    For each degree, builds the monomial design matrix on ``n_points`` equally
    spaced points in [0, 1] (badly conditioned on purpose), sets ``y = X theta``
    with ``theta = (1, ..., 1)`` and no noise, and solves for theta with each
    method. Returns ``(cond, errors)``: the condition numbers of ``X`` and a dict
    of relative errors ``|theta_fit - theta| / |theta|`` per method.
    """
    x = np.linspace(0.0, 1.0, n_points)
    cond, errors = [], {m: [] for m in methods}
    for d in degrees:
        X = design_matrix(x, d)
        theta = np.ones(X.shape[1])
        y = X @ theta
        cond.append(np.linalg.cond(X))
        for m in methods:
            with np.errstate(all="ignore"):
                try:
                    fit = ols_fit(X, y, method=m)
                    err = np.linalg.norm(fit - theta) / np.linalg.norm(theta)
                except (np.linalg.LinAlgError, ValueError):
                    err = np.inf
            errors[m].append(err)
    return np.array(cond), {m: np.array(e) for m, e in errors.items()}
