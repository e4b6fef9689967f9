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

from dataclasses import dataclass

import numpy as np

from .config import make_rng
from .nn import TrainingLoop
from .validate import Array, Flag, Integer, Real, Rule, Seed, params

#: data of the one-input perceptron: one target per input (a single number is one point)
POINTS = dict(x=Array(shape=("n",), promote=True), y=Array(shape=("n",), promote=True))
#: Rosenblatt's data: rows of X, labels +-1 (0/1 labels map to +-1 by 2 y - 1)
CLASSIFIED = dict(X=Array(shape=("n", "d")),
                  labels=Array(shape=("n",), values=(-1, 1), hint="map 0/1 labels with 2 * y - 1"))
#: more steps or epochs than any run needs: a bound, so that no argument makes a call run for hours
MAX_STEPS = 10_000_000


def lecture_initial_weights() -> tuple[float, float]:
    """The lecture's starting ``(w, b)``: ``np.random.seed(0)`` followed by two ``np.random.randn()`` calls.

    Reproduced with a local legacy ``RandomState(0)`` (no global seeding), so
    the lecture's experiment can be rerun number for number: (1.7641, 0.4002).
    """
    w, b = np.random.RandomState(0).randn(2)
    return float(w), float(b)


@params(Rule("b", lambda w, b: _broadcast(w, b), "must have the shape of w (or broadcast with it): a grid of (w, b)"),
        w=Array(ndim=(2, 1, 0), hint="a number, or a grid of weights (at most 2-D)"),
        b=Array(ndim=(2, 1, 0), hint="a number, or a grid of biases (at most 2-D)"), **POINTS)
def cost(w, b, x, y):
    """Mean of ``(w x + b - y)^2 / 2`` over the data points (for one point: the lecture's cost).

    ``w`` and ``b`` may be arrays of equal shape (a grid, for plotting the cost surface).
    """
    return _cost(w, b, x, y)


def _broadcast(w, b) -> bool:
    try:
        np.broadcast_shapes(w.shape, b.shape)
        return True
    except ValueError:
        return False


def _cost(w, b, x, y):
    w, b = np.asarray(w, dtype=float), np.asarray(b, dtype=float)
    r = w[..., None] * x + b[..., None] - y
    return np.mean(0.5 * r**2, axis=-1)


@params(w=Real(), b=Real(), **POINTS)
def gradients(w: float, b: float, x, y) -> tuple[float, float]:
    """Chain-rule gradients ``(dC/dw, dC/db) = (mean((a - y) x), mean(a - y))`` of the mean cost (integer and
    uint8 data are widened to float first, so that nothing wraps around)."""
    return _gradients(w, b, x, y)


def _gradients(w, b, x, y):
    a = w * x + b
    delta = a - y  # dC/da * da/dz, the lecture's delta_1 (identity activation: sigma' = 1)
    return float(np.mean(delta * x)), float(np.mean(delta))


@dataclass(init=False)
class DescentHistory:
    """Path of gradient descent: parameters and cost after each step (index 0 = start)."""

    w: np.ndarray
    b: np.ndarray
    cost: np.ndarray

    @params(w=Array(shape=("k",)), b=Array(shape=("k",)), cost=Array(shape=("k",), ge=0))
    def __init__(self, w, b, cost):
        self.w, self.b, self.cost = w, b, cost

    @property
    def final(self) -> tuple[float, float]:
        return float(self.w[-1]), float(self.b[-1])


@params(**POINTS, w0=Real(), b0=Real(), eta=Real(gt=0, typical=(0.01, 0.5)),
        steps=Integer(ge=0, le=MAX_STEPS, typical=(0, 5), hint="more steps than any run of the book needs"))
def gradient_descent(x, y, *, w0: float, b0: float, eta: float, steps: int) -> DescentHistory:
    """Full-batch gradient descent on the mean cost of the one-input linear perceptron.

    A cost that diverges (``eta`` above :func:`max_stable_learning_rate`) stops the descent with a warning
    (``TrainingLoop.diverging``): the history ends at the first cost beyond 1e30.
    """
    w, b = w0, b0
    ws, bs, cs = [w], [b], [float(_cost(w, b, x, y))]
    with TrainingLoop(steps, desc="gradient descent") as loop:        # Ctrl-C keeps the steps so far
        for _ in loop:
            dw, db = _gradients(w, b, x, y)
            w, b = w - eta * dw, b - eta * db
            ws.append(w)
            bs.append(b)
            cs.append(float(_cost(w, b, x, y)))
            if not abs(cs[-1]) <= 1e30 and loop.diverging(
                    cs[-1], hint=f"lower eta={eta:g} below max_stable_learning_rate(x) = "
                                 f"{_max_stable_learning_rate(x):.4g}"):
                break
    return DescentHistory(np.array(ws), np.array(bs), np.array(cs))


@params(x=Array(shape=(None,), promote=True))
def max_stable_learning_rate(x) -> float:
    """Largest ``eta`` for which gradient descent on the mean cost converges: ``2 / lambda_max``.

    The cost is quadratic with Hessian ``H = [[<x^2>, <x>], [<x>, 1]]``; each
    eigen-direction contracts by ``|1 - eta lambda|`` per step, so descent
    converges iff ``eta < 2 / lambda_max``.
    """
    return _max_stable_learning_rate(x)


def _max_stable_learning_rate(x):
    H = np.array([[np.mean(x**2), np.mean(x)], [np.mean(x), 1.0]])
    return float(2.0 / np.linalg.eigvalsh(H).max())


# ----------------------------------------------------------------------------- Rosenblatt


@dataclass(init=False)
class RosenblattResult:
    """Outcome of the perceptron learning rule (``mistakes_per_epoch`` and ``boundaries`` start empty and are
    filled by :func:`rosenblatt`)."""

    w: np.ndarray
    b: float
    converged: bool
    mistakes: int
    mistakes_per_epoch: list
    boundaries: list  # (w, b) after every update, for plotting

    @params(w=Array(shape=(None,)), b=Real(), converged=Flag(), mistakes=Integer(ge=0))
    def __init__(self, w, b, converged, mistakes):
        self.w, self.b, self.converged, self.mistakes = w, b, converged, mistakes
        self.mistakes_per_epoch, self.boundaries = [], []


@params(**CLASSIFIED, max_epochs=Integer(ge=1, le=MAX_STEPS, typical=(1, 5), hint="more epochs than any run needs"),
        rng=Seed())
def rosenblatt(X, labels, *, max_epochs: int = 100, rng=None) -> RosenblattResult:
    """Train Rosenblatt's perceptron: on each mistake ``w += y x``, ``b += y``.

    Points are visited in a fresh random order each epoch (``rng``). Stops when
    an epoch makes no mistake (``converged=True``) or after ``max_epochs``.
    """
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


@params(X=Array(shape=("n", "d")), w=Array(shape=("d",)), b=Real())
def predict_sign(X, w, b) -> np.ndarray:
    """Perceptron output ``sign(X w + b)`` with ``sign(0) = +1``."""
    return np.where(X @ w + b >= 0, 1.0, -1.0)


@params(Rule("w_sep", lambda w_sep, b_sep: np.any(w_sep != 0) or b_sep != 0, "(w_sep, b_sep) must not be all zero"),
        **CLASSIFIED, w_sep=Array(shape=("d",)), b_sep=Real())
def mistake_bound(X, labels, w_sep, b_sep) -> float:
    """Novikoff's bound ``(R / gamma)^2`` for a separating hyperplane ``(w_sep, b_sep)``.

    Uses augmented vectors ``(x, 1)`` and ``(w, b)`` normalised to unit length, so
    the bias is learned like a weight. Raises ValueError if ``(w_sep, b_sep)``
    does not separate the data.
    """
    Xa = np.hstack([X, np.ones((len(X), 1))])
    u = np.append(w_sep, b_sep)
    u = u / np.linalg.norm(u)
    gamma = np.min(labels * (Xa @ u))
    if gamma <= 0:
        raise ValueError("(w_sep, b_sep) does not separate the data: every label * (w.x + b) must be > 0")
    R = np.max(np.linalg.norm(Xa, axis=1))
    return float((R / gamma) ** 2)


#: the farthest a point of [-1, 1]^2 lies from the line x2 = 0.5 x1 + 0.1 (at a corner): 1.6 / sqrt(1.25)
_FARTHEST = 1.6 / np.sqrt(1.25)


@params(n=Integer(ge=2, le=10_000_000, typical=(2, 20)),
        margin=Real(ge=0, lt=1.6 * _FARTHEST,
                    hint=f"points of [-1, 1]^2 lie at most {_FARTHEST:.2f} from the line, so the gap must leave room"),
        rng=Seed())
def separable_data(n: int, *, margin: float = 0.3, rng=None):
    """``n`` points in [-1, 1]^2 labelled by the line ``x2 = 0.5 x1 + 0.1``, with a gap of ``margin`` around it.

    Returns ``(X, labels, (w_true, b_true))``.
    """
    rng = make_rng(rng)
    w_true, b_true = np.array([-0.5, 1.0]), -0.1
    scale = np.linalg.norm(w_true)
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


@params(x=Real(), y=Real(), w0=Real(), b0=Real(), eta=Real(gt=0, typical=(0.001, 0.5)),
        steps=Integer(ge=0, le=MAX_STEPS, typical=(0, 50)))
def one_point_descent_exact(x: float, y: float, *, w0: float, b0: float, eta: float, steps: int):
    """Closed form of gradient descent on a single point, an independent check of :func:`gradient_descent`.

    With one point the residual ``r = w x + b - y`` obeys ``r_{k+1} = q r_k``,
    ``q = 1 - eta (x^2 + 1)``, and every step moves ``(w, b)`` along ``(x, 1)``:

        (w_k, b_k) = (w_0, b_0) - eta r_0 (1 - q^k) / (1 - q) (x, 1),     C_k = q^{2k} r_0^2 / 2.

    As ``k -> infinity`` (for ``|q| < 1``) this is the orthogonal projection of
    the start onto the line of minima ``w x + b = y``. Returns ``(w_k, b_k, C_k)``.
    """
    r0 = w0 * x + b0 - y
    q = 1.0 - eta * (x * x + 1.0)
    try:
        shift = eta * r0 * steps if q == 1.0 else eta * r0 * (1.0 - q**steps) / (1.0 - q)   # q = 1: eta tiny
        result = w0 - shift * x, b0 - shift, 0.5 * q ** (2 * steps) * r0**2
    except OverflowError:
        result = (np.inf,)
    if not np.all(np.isfinite(result)):
        raise ValueError(f"eta={eta:g}: descent diverges (|q| = |1 - eta (x^2 + 1)| = {abs(q):.3g} > 1) and the "
                         f"closed form overflows after steps={steps}; use eta < {2 / (x * x + 1):.4g} or fewer steps")
    return result
