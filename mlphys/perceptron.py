"""The perceptron: the lecture's one-input linear neuron, and Rosenblatt's classifier (Chapter 2).

One-input linear perceptron (lecture, "Our network example, simple perceptron
with one input"): ``z = w x + b``, output ``a = z`` (identity activation), cost
``C = (a - y)^2 / 2``. The chain rule gives

    dC/dw = (dC/da)(da/dz)(dz/dw) = (a - y) x,       dC/db = (a - y),

and gradient descent updates ``w <- w - eta dC/dw``, ``b <- b - eta dC/db``.

Rosenblatt's perceptron (1958) classifies ``x`` by ``sign(w . x + b)`` and, on
each mistake, adds ``y x`` to ``w`` and ``y`` to ``b`` (labels ``y = +-1``).
On linearly separable data it stops after at most ``(R / gamma)^2`` mistakes
(Novikoff 1962), with ``R`` the largest ``|(x, 1)|`` and ``gamma`` the margin of
any separating unit vector ``(w, b)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .config import make_rng
from .nn import TrainingLoop
from .validate import as_array, integer, number, positive


def lecture_initial_weights() -> tuple[float, float]:
    """The lecture's starting ``(w, b)``: ``np.random.seed(0)`` followed by two ``np.random.randn()`` calls.

    Reproduced with a local legacy ``RandomState(0)`` (no global seeding), so
    the lecture's experiment can be rerun number for number: (1.7641, 0.4002).
    """
    w, b = np.random.RandomState(0).randn(2)
    return float(w), float(b)


def cost(w, b, x, y):
    """Mean of ``(w x + b - y)^2 / 2`` over the data points (for one point: the lecture's cost).

    ``w`` and ``b`` may be arrays of equal shape (a grid, for plotting the cost surface).
    """
    w, b = np.asarray(w, dtype=float), np.asarray(b, dtype=float)
    x, y = np.atleast_1d(np.asarray(x, dtype=float)), np.atleast_1d(np.asarray(y, dtype=float))
    r = w[..., None] * x + b[..., None] - y
    return np.mean(0.5 * r**2, axis=-1)


def gradients(w: float, b: float, x, y) -> tuple[float, float]:
    """Chain-rule gradients ``(dC/dw, dC/db) = (mean((a - y) x), mean(a - y))`` of the mean cost."""
    a = w * x + b
    delta = a - y  # dC/da * da/dz, the lecture's delta_1 (identity activation: sigma' = 1)
    return float(np.mean(delta * x)), float(np.mean(delta))


@dataclass
class DescentHistory:
    """Path of gradient descent: parameters and cost after each step (index 0 = start)."""

    w: np.ndarray
    b: np.ndarray
    cost: np.ndarray

    @property
    def final(self) -> tuple[float, float]:
        return float(self.w[-1]), float(self.b[-1])


def gradient_descent(x, y, *, w0: float, b0: float, eta: float, steps: int) -> DescentHistory:
    """Full-batch gradient descent on the mean cost of the one-input linear perceptron."""
    x = as_array(x, "x", ndim=(0, 1)).reshape(-1)
    y = as_array(y, "y", ndim=(0, 1)).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"x has {x.size} points but y has {y.size}; give one target per input")
    eta = positive(eta, "eta")
    steps = integer(steps, "steps", minimum=0)
    w, b = number(w0, "w0"), number(b0, "b0")
    ws, bs, cs = [w], [b], [float(cost(w, b, x, y))]
    with TrainingLoop(steps, desc="gradient descent") as loop:        # Ctrl-C keeps the steps so far
        for _ in loop:
            dw, db = gradients(w, b, x, y)
            w, b = w - eta * dw, b - eta * db
            ws.append(w)
            bs.append(b)
            cs.append(float(cost(w, b, x, y)))
    return DescentHistory(np.array(ws), np.array(bs), np.array(cs))


def max_stable_learning_rate(x) -> float:
    """Largest ``eta`` for which gradient descent on the mean cost converges: ``2 / lambda_max``.

    The cost is quadratic with Hessian ``H = [[<x^2>, <x>], [<x>, 1]]``; each
    eigen-direction contracts by ``|1 - eta lambda|`` per step, so descent
    converges iff ``eta < 2 / lambda_max``.
    """
    x = as_array(x, "x", ndim=(0, 1)).reshape(-1)
    H = np.array([[np.mean(x**2), np.mean(x)], [np.mean(x), 1.0]])
    return float(2.0 / np.linalg.eigvalsh(H).max())


# ----------------------------------------------------------------------------- Rosenblatt


@dataclass
class RosenblattResult:
    """Outcome of the perceptron learning rule."""

    w: np.ndarray
    b: float
    converged: bool
    mistakes: int
    mistakes_per_epoch: list = field(default_factory=list)
    boundaries: list = field(default_factory=list)  # (w, b) after every update, for plotting


def _check_classification(X, labels):
    X = as_array(X, "X", ndim=2)
    labels = as_array(labels, "labels", ndim=1)
    if X.shape[0] != labels.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but labels has {labels.shape[0]} entries")
    if not np.all(np.isin(labels, (-1.0, 1.0))):
        raise ValueError("labels must be -1 or +1 (map 0/1 labels with 2 * y - 1)")
    return X, labels


def rosenblatt(X, labels, *, max_epochs: int = 100, rng=None) -> RosenblattResult:
    """Train Rosenblatt's perceptron: on each mistake ``w += y x``, ``b += y``.

    Points are visited in a fresh random order each epoch (``rng``). Stops when
    an epoch makes no mistake (``converged=True``) or after ``max_epochs``.
    """
    X, labels = _check_classification(X, labels)
    max_epochs = integer(max_epochs, "max_epochs", minimum=1)
    rng = make_rng(rng)
    w, b = np.zeros(X.shape[1]), 0.0
    result = RosenblattResult(w=w, b=b, converged=False, mistakes=0)
    with TrainingLoop(max_epochs, desc="perceptron rule") as loop:    # Ctrl-C keeps the epochs so far
        for _ in loop:
            errors = 0
            for i in rng.permutation(len(labels)):
                if labels[i] * (X[i] @ w + b) <= 0:
                    w = w + labels[i] * X[i]
                    b = b + labels[i]
                    errors += 1
                    result.boundaries.append((w.copy(), b))
            result.mistakes += errors
            result.mistakes_per_epoch.append(errors)
            if errors == 0:
                result.converged = True
                break
    result.w, result.b = w, b
    return result


def predict_sign(X, w, b) -> np.ndarray:
    """Perceptron output ``sign(X w + b)`` with ``sign(0) = +1``."""
    X = as_array(X, "X", ndim=2)
    return np.where(X @ np.asarray(w, dtype=float) + b >= 0, 1.0, -1.0)


def mistake_bound(X, labels, w_sep, b_sep) -> float:
    """Novikoff's bound ``(R / gamma)^2`` for a separating hyperplane ``(w_sep, b_sep)``.

    Uses augmented vectors ``(x, 1)`` and ``(w, b)`` normalised to unit length, so
    the bias is learned like a weight. Raises ValueError if ``(w_sep, b_sep)``
    does not separate the data.
    """
    X, labels = _check_classification(X, labels)
    Xa = np.hstack([X, np.ones((len(X), 1))])
    u = np.append(np.asarray(w_sep, dtype=float), b_sep)
    u = u / np.linalg.norm(u)
    gamma = np.min(labels * (Xa @ u))
    if gamma <= 0:
        raise ValueError("(w_sep, b_sep) does not separate the data: every label * (w.x + b) must be > 0")
    R = np.max(np.linalg.norm(Xa, axis=1))
    return float((R / gamma) ** 2)


def separable_data(n: int, *, margin: float = 0.3, rng=None):
    """``n`` points in [-1, 1]^2 labelled by the line ``x2 = 0.5 x1 + 0.1``, with a gap of ``margin`` around it.

    Returns ``(X, labels, (w_true, b_true))``.
    """
    n = integer(n, "n", minimum=2)
    margin = positive(margin, "margin", allow_zero=True)
    rng = make_rng(rng)
    w_true, b_true = np.array([-0.5, 1.0]), -0.1
    scale = np.linalg.norm(w_true)
    # the farthest a point of the square can be from the line (at a corner); keep a usable acceptance rate
    farthest = (np.abs(w_true).sum() + abs(b_true)) / scale
    if margin / 2 >= 0.8 * farthest:
        raise ValueError(f"margin={margin} leaves (almost) no room in [-1, 1]^2: points lie at most {farthest:.2f} "
                         f"from the line, so use margin < {1.6 * farthest:.2f}")
    kept = np.empty((0, 2))
    for _ in range(10_000):
        p = rng.uniform(-1, 1, (4 * n, 2))
        kept = np.vstack([kept, p[np.abs(p @ w_true + b_true) / scale >= margin / 2]])
        if len(kept) >= n:
            break
    else:
        raise ValueError(f"margin={margin}: too few points of [-1, 1]^2 lie outside the gap; use a smaller margin")
    X = kept[:n]
    return X, np.where(X @ w_true + b_true > 0, 1.0, -1.0), (w_true, b_true)


def xor_data():
    """The four XOR points with labels +-1: no line separates them."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array([-1.0, 1.0, 1.0, -1.0])


def one_point_descent_exact(x: float, y: float, *, w0: float, b0: float, eta: float, steps: int):
    """Closed form of gradient descent on a single point, an independent check of :func:`gradient_descent`.

    With one point the residual ``r = w x + b - y`` obeys ``r_{k+1} = q r_k``,
    ``q = 1 - eta (x^2 + 1)``, and every step moves ``(w, b)`` along ``(x, 1)``:

        (w_k, b_k) = (w_0, b_0) - eta r_0 (1 - q^k) / (1 - q) (x, 1),     C_k = q^{2k} r_0^2 / 2.

    As ``k -> infinity`` (for ``|q| < 1``) this is the orthogonal projection of
    the start onto the line of minima ``w x + b = y``. Returns ``(w_k, b_k, C_k)``.
    """
    eta = positive(eta, "eta")
    steps = integer(steps, "steps", minimum=0)
    r0 = w0 * x + b0 - y
    q = 1.0 - eta * (x * x + 1.0)
    shift = eta * r0 * (1.0 - q**steps) / (1.0 - q)
    return w0 - shift * x, b0 - shift, 0.5 * q ** (2 * steps) * r0**2
