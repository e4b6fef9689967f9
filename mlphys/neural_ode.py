"""Neural ODEs and the adjoint method (Chapter 14, Imchitr Ch. V; Chen et al. 2018).

A residual block ``psi <- psi + h f(psi)`` is an Euler step of ``dpsi/dt = f(psi, theta)`` (thesis
Eq. 41); letting the number of blocks grow with ``h = 1/N`` gives the ODE. Here ``f`` is a
one-hidden-layer network ``f(psi) = tanh(psi W1 + b1) W2 + b2`` on a batch of states
``psi`` of shape ``(B, d)``, solved with fixed-step RK4 (Eq. 42).

Gradients of a loss ``L(psi(t1))`` by the **adjoint method** (Eqs. 43-44): integrate
backwards in time, from ``t1`` to ``t0``, the augmented system

    dpsi/dt = f(psi),    da/dt = -a df/dpsi,    dg/dt = -a df/dtheta,

from ``psi(t1)``, ``a(t1) = dL/dpsi(t1)``, ``g(t1) = 0``; then ``dL/dtheta = g(t0)`` and
``dL/dpsi(t0) = a(t0)``. Nothing from the forward solve is stored, so memory does not grow
with the number of steps; the price is a second integration, and ``psi`` is recomputed
backwards (accurate to the solver's error, ``O(h^4)`` for RK4). The vector-Jacobian
products ``a df/dpsi`` and ``a df/dtheta`` are written out for this ``f``.
"""
from __future__ import annotations

import numpy as np

from . import nn
from .config import make_rng
from .validate import Anything, Array, Flag, Function, Instance, Integer, Real, Rule, Seed, Sequence, finite, params, returned

TIMES = dict(t0=Real(), t1=Real(hint="t0 and t1 must be finite and different"))
DIFFERENT_TIMES = Rule("t1", lambda t0, t1: t0 != t1, "t0 and t1 must be different (the time interval is empty)")
# a batch of states, one row of f.dim components each (f: an ODEFunc or any callable; without a dim any width)
STATES = Array(shape=("B", "f.dim"), hint="a batch of states, shape (B, d)")
XP = Anything("an array module: numpy, or autograd.numpy for the oracle")


class ODEFunc:
    """``f(psi) = tanh(psi W1 + b1) W2 + b2`` with ``params = [W1, b1, W2, b2]`` (time-independent)."""

    @params(dim=Integer(ge=1, typical=(1, 4)), hidden=Integer(ge=1, typical=(1, 8)), rng=Seed(),
            init_scale=Real(ge=0))
    def __init__(self, dim: int, hidden: int = 16, *, rng=None, init_scale: float = 1.0):
        rng = make_rng(rng)
        self.params = [rng.normal(0, init_scale / np.sqrt(dim), (dim, hidden)), np.zeros(hidden),
                       rng.normal(0, init_scale / np.sqrt(hidden), (hidden, dim)), np.zeros(dim)]
        self.dim = dim

    def __call__(self, psi, params=None, xp=np):
        W1, b1, W2, b2 = self.params if params is None else params
        if np.ndim(psi) not in (1, 2) or np.shape(psi)[-1] != self.dim:   # cheap: this runs in the RK4 loop
            raise ValueError(f"psi must be an array of shape (B, {self.dim}) (columns = the ODEFunc's dim), "
                             f"got shape {np.shape(psi)}")
        return xp.dot(xp.tanh(xp.dot(psi, W1) + b1), W2) + b2

    @params(psi=Array(shape=("B", "self.dim")), a=Array(shape=("B", "self.dim")))
    def vjp(self, psi, a):
        """``(a df/dpsi, [a df/dW1, a df/db1, a df/dW2, a df/db2])`` summed over the batch."""
        return self._vjp(psi, a)

    def _vjp(self, psi, a):
        W1, b1, W2, _ = self.params
        h = np.tanh(psi @ W1 + b1)
        dz = (a @ W2.T) * (1.0 - h * h)
        return dz @ W1.T, [psi.T @ dz, dz.sum(axis=0), h.T @ a, a.sum(axis=0)]


@params(f=Function("f(psi, params, xp), e.g. an ODEFunc"), psi=Array(ndim=(2, 1)), h=Real(),
        params=Anything("passed on to f (None: f's own)"), xp=XP)
def rk4_step(f, psi, h, params=None, xp=np):
    """One classical Runge-Kutta step of ``dpsi/dt = f(psi)`` of size ``h``."""
    return _rk4_step(f, psi, h, params, xp)


def _rk4_step(f, psi, h, params=None, xp=np):
    k1 = f(psi, params, xp)
    k2 = f(psi + 0.5 * h * k1, params, xp)
    k3 = f(psi + 0.5 * h * k2, params, xp)
    k4 = f(psi + h * k3, params, xp)
    return psi + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


@params(DIFFERENT_TIMES, f=Function("f(psi, params, xp), e.g. an ODEFunc"), psi0=STATES, **TIMES,
        n_steps=Integer(ge=1, typical=(1, 20)), params=Anything("passed on to f (None: f's own)"), xp=XP,
        return_path=Flag())
def integrate(f, psi0, t0: float = 0.0, t1: float = 1.0, n_steps: int = 20, *, params=None, xp=np,
              return_path: bool = False):
    """Fixed-step RK4 from ``t0`` to ``t1``; ``return_path`` keeps every step (``(n_steps + 1, B, d)``).

    (Named ``integrate`` rather than ``odeint``: SciPy's ``odeint`` has another signature.)
    """
    if xp is np:
        returned(f(psi0, params, xp), "f", psi0.shape)
    out = _integrate(f, psi0, t0, t1, n_steps, params=params, xp=xp, return_path=return_path)
    return finite(out, "integrate: the state psi", "the ODE blew up; use more n_steps, a shorter t1 - t0 "
                  "or a smaller f") if xp is np else out


def _integrate(f, psi0, t0, t1, n_steps, *, params=None, xp=np, return_path=False):
    h = (t1 - t0) / n_steps
    psi, path = psi0, [psi0]
    for _ in range(n_steps):
        psi = _rk4_step(f, psi, h, params, xp)
        if return_path:
            path.append(psi)
    return np.array(path) if return_path else psi


@params(f=Function("f(psi), e.g. an ODEFunc"), psi0=STATES, n_blocks=Integer(ge=1, typical=(1, 20)), t1=Real())
def euler_resnet(f, psi0, n_blocks: int, t1: float = 1.0):
    """``n_blocks`` residual blocks ``psi + (t1/N) f(psi)``: the ResNet whose limit is the ODE."""
    returned(f(psi0), "f", psi0.shape)
    psi = psi0
    for _ in range(n_blocks):
        psi = psi + (t1 / n_blocks) * f(psi)
    return finite(psi, "euler_resnet: the state psi", "the blocks blew up; use more n_blocks, a smaller t1 "
                  "or a smaller f")


@params(DIFFERENT_TIMES, f=Instance(ODEFunc), psi1=STATES, dL_dpsi1=STATES, **TIMES,
        n_steps=Integer(ge=1, typical=(1, 20)))
def adjoint_gradients(f: ODEFunc, psi1, dL_dpsi1, t0: float = 0.0, t1: float = 1.0, n_steps: int = 20):
    """``(dL/dpsi(t0), dL/dparams)`` by integrating the adjoint system backwards with RK4 (Eqs. 43-44)."""
    return _adjoint_gradients(f, psi1, dL_dpsi1, t0, t1, n_steps)


def _adjoint_gradients(f, psi1, a1, t0, t1, n_steps):
    h = -(t1 - t0) / n_steps
    shapes = [p.shape for p in f.params]
    # the augmented state [psi, a, dL/dtheta] as one flat vector, so that the same RK4 step integrates it
    sizes = [psi1.size, a1.size] + [int(np.prod(s)) for s in shapes]

    def unpack(v):
        parts = np.split(v, np.cumsum(sizes)[:-1])
        return [p.reshape(s) for p, s in zip(parts, [psi1.shape, a1.shape, *shapes])]

    def rhs(v, params=None, xp=np):
        psi, a = unpack(v)[:2]
        a_dpsi, a_dtheta = f._vjp(psi, a)
        return np.concatenate([f(psi).ravel(), -a_dpsi.ravel()] + [-g.ravel() for g in a_dtheta])

    state = np.concatenate([psi1.ravel(), a1.ravel(), np.zeros(sum(sizes[2:]))])
    for _ in range(n_steps):
        state = _rk4_step(rhs, state, h)
    _, a0, *grads = unpack(state)
    return a0, grads


@params(f=Instance(ODEFunc), psi0=STATES, loss=Function("loss(psi1, xp) -> a scalar, written over xp"), **TIMES,
        n_steps=Integer(ge=1, typical=(1, 10)))
def autograd_gradients(f: ODEFunc, psi0, loss, t0=0.0, t1=1.0, n_steps=20):
    """``dL/dparams`` by autograd back-propagating through the unrolled RK4 solver (the oracle)."""
    import autograd.numpy as anp
    from autograd import grad

    return grad(lambda ps: loss(_integrate(f, psi0, t0, t1, n_steps, params=ps, xp=anp), anp))(list(f.params))


@params(fn=Function("called with no arguments"))
def peak_memory(fn) -> int:
    """Peak bytes allocated (tracemalloc; NumPy reports its buffers) while running ``fn()``."""
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ----------------------------------------------------------------------------- a small task: concentric rings

@params(Rule("gap", lambda inner, gap: inner <= gap[0] < gap[1], "must be radii (low, high) with inner <= low < high"),
        n=Integer(ge=2, typical=(2, 50)), rng=Seed(), inner=Real(gt=0), gap=Sequence(Real(gt=0), length=2))
def rings(n: int, *, rng=None, inner: float = 1.0, gap: tuple = (1.5, 2.5)):
    """``n`` points in 2D: label 0 inside radius ``inner``, label 1 in the annulus ``gap`` (uniform in area)."""
    rng = make_rng(rng)
    labels = rng.integers(0, 2, n)
    lo = np.where(labels == 0, 0.0, gap[0] ** 2)
    hi = np.where(labels == 0, inner**2, gap[1] ** 2)
    r = np.sqrt(lo + (hi - lo) * rng.random(n))
    phi = rng.uniform(0, 2 * np.pi, n)
    return np.column_stack([r * np.cos(phi), r * np.sin(phi)]), labels


POINTS = Array(shape=("n", 2), hint="points in the plane, shape (n, 2)")
LABELS = Array(shape=("n",), values=(0, 1), hint="labels must be 0 or 1 (two classes)")


class RingClassifier:
    """Augmented neural ODE classifier: ``[x, y, 0] -> psi(1)`` by the ODE, then logistic regression on ``psi(1)``.

    In the plane a flow cannot pull the inner disk out through the ring (flows are
    homeomorphisms); one extra dimension lets it lift one class over the other
    (Dupont et al.'s augmented neural ODEs).
    """

    @params(hidden=Integer(ge=1, typical=(1, 8)), n_steps=Integer(ge=1, typical=(1, 5)),
            augment=Integer(ge=0, typical=(0, 2)), rng=Seed())
    def __init__(self, hidden: int = 16, n_steps: int = 10, augment: int = 1, *, rng=None):
        rng = make_rng(rng)
        self.augment = augment
        self.f = ODEFunc(2 + self.augment, hidden, rng=rng)
        self.w, self.c = rng.normal(0, 0.5, 2 + self.augment), 0.0
        self.n_steps = n_steps

    @params(X=POINTS)
    def lift(self, X):
        return self._lift(X)

    def _lift(self, X):
        return np.column_stack([X, np.zeros((len(X), self.augment))])

    @params(X=POINTS)
    def flow(self, X):
        return self._flow(X)

    def _flow(self, X):
        return _integrate(self.f, self._lift(X), 0.0, 1.0, self.n_steps)

    @params(X=POINTS)
    def predict_proba(self, X):
        return self._predict_proba(X)

    def _predict_proba(self, X):
        return nn.activation("sigmoid", self._flow(X) @ self.w + self.c)

    @params(X=POINTS, labels=LABELS)
    def accuracy(self, X, labels) -> float:
        return float(np.mean((self._predict_proba(X) > 0.5) == labels))

    @params(X=POINTS, labels=LABELS)
    def loss_and_gradients(self, X, labels):
        """Binary cross-entropy and its gradients ``[W1, b1, W2, b2, w, c]`` (ODE part by the adjoint method)."""
        loss, grads = self._loss_and_gradients(X, labels)
        finite(loss, "the ring classifier's loss", "its parameters diverged: fit again with a lower lr")
        return loss, grads

    def _loss_and_gradients(self, X, y):
        """``(loss, gradients)``; ``(nan, None)`` when the flow is no longer finite (diverged parameters)."""
        psi1 = self._flow(X)
        z = psi1 @ self.w + self.c
        if not np.all(np.isfinite(z)):
            return float("nan"), None
        p = nn.activation("sigmoid", z)
        n = len(y)
        loss = -np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))
        dz = (p - y) / n
        _, g = _adjoint_gradients(self.f, psi1, np.outer(dz, self.w), 0.0, 1.0, self.n_steps)
        return float(loss), g + [psi1.T @ dz, np.array(dz.sum())]

    @params(X=POINTS, labels=LABELS, iterations=Integer(ge=1, typical=(1, 3)), lr=Real(gt=0, typical=(1e-3, 0.1)),
            progress=Flag())
    def fit(self, X, labels, *, iterations: int = 300, lr: float = 0.02, progress: bool = False):
        """Full-batch Adam in :class:`mlphys.nn.TrainingLoop` (progress, Ctrl-C, divergence); returns the
        :class:`mlphys.nn.History` of the loss.

        A loss that is no longer finite (too large an ``lr``) stops training with a ``RuntimeWarning`` saying so,
        and the classifier keeps the last parameters with a finite loss."""
        from .nn import Adam, History, TrainingLoop

        opt, history = Adam(lr), History("loss")
        params = self.f.params + [self.w, np.array(self.c)]
        with TrainingLoop(iterations, progress=progress, desc="ring ODE") as loop:
            for _ in loop:
                loss, grads = self._loss_and_gradients(X, labels)
                if loop.diverging(loss, hint=f"lower lr (now {lr:g}); the classifier keeps its last finite "
                                             "parameters"):
                    break
                history.append(loss=loss)
                kept = [p.copy() for p in params]
                opt.step(params, grads)
                self.f.params, self.w, self.c = params[:4], params[4], float(params[5])
        if loop.diverged and history.loss:
            for p, k in zip(params, kept):
                p[...] = k
            self.f.params, self.w, self.c = params[:4], params[4], float(params[5])
        return history.end(loop)
