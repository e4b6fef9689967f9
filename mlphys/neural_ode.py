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
from .validate import as_array, integer, positive


class ODEFunc:
    """``f(psi) = tanh(psi W1 + b1) W2 + b2`` with ``params = [W1, b1, W2, b2]`` (time-independent)."""

    def __init__(self, dim: int, hidden: int = 16, *, rng=None, init_scale: float = 1.0):
        dim, hidden = integer(dim, "dim", minimum=1), integer(hidden, "hidden", minimum=1)
        init_scale = positive(init_scale, "init_scale", allow_zero=True)
        rng = make_rng(rng)
        self.params = [rng.normal(0, init_scale / np.sqrt(dim), (dim, hidden)), np.zeros(hidden),
                       rng.normal(0, init_scale / np.sqrt(hidden), (hidden, dim)), np.zeros(dim)]
        self.dim = dim

    def __call__(self, psi, params=None, xp=np):
        W1, b1, W2, b2 = self.params if params is None else params
        return xp.dot(xp.tanh(xp.dot(psi, W1) + b1), W2) + b2

    def vjp(self, psi, a):
        """``(a df/dpsi, [a df/dW1, a df/db1, a df/dW2, a df/db2])`` summed over the batch."""
        W1, b1, W2, _ = self.params
        h = np.tanh(psi @ W1 + b1)
        dz = (a @ W2.T) * (1.0 - h * h)
        return dz @ W1.T, [psi.T @ dz, dz.sum(axis=0), h.T @ a, a.sum(axis=0)]


def rk4_step(f, psi, h, params=None, xp=np):
    k1 = f(psi, params, xp)
    k2 = f(psi + 0.5 * h * k1, params, xp)
    k3 = f(psi + 0.5 * h * k2, params, xp)
    k4 = f(psi + h * k3, params, xp)
    return psi + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def _check_times(t0, t1):
    t0, t1 = float(t0), float(t1)
    if not (np.isfinite(t0) and np.isfinite(t1)) or t0 == t1:
        raise ValueError(f"t0 and t1 must be finite and different, got {t0} and {t1}")
    return t0, t1


def integrate(f, psi0, t0: float = 0.0, t1: float = 1.0, n_steps: int = 20, *, params=None, xp=np,
              return_path: bool = False):
    """Fixed-step RK4 from ``t0`` to ``t1``; ``return_path`` keeps every step (``(n_steps + 1, B, d)``).

    (Named ``integrate`` rather than ``odeint``: SciPy's ``odeint`` has another signature.)
    """
    n_steps = integer(n_steps, "n_steps", minimum=1)
    t0, t1 = _check_times(t0, t1)
    if hasattr(f, "dim") and np.shape(psi0)[-1:] != (f.dim,):
        raise ValueError(f"psi0 must have {f.dim} components in its last axis (the ODE's dim), got shape "
                         f"{np.shape(psi0)}")
    h = (t1 - t0) / n_steps
    psi, path = psi0, [psi0]
    for _ in range(n_steps):
        psi = rk4_step(f, psi, h, params, xp)
        if return_path:
            path.append(psi)
    return np.array(path) if return_path else psi


def euler_resnet(f, psi0, n_blocks: int, t1: float = 1.0):
    """``n_blocks`` residual blocks ``psi + (t1/N) f(psi)``: the ResNet whose limit is the ODE."""
    n_blocks = integer(n_blocks, "n_blocks", minimum=1)
    psi = psi0
    for _ in range(n_blocks):
        psi = psi + (t1 / n_blocks) * f(psi)
    return psi


def adjoint_gradients(f: ODEFunc, psi1, dL_dpsi1, t0: float = 0.0, t1: float = 1.0, n_steps: int = 20):
    """``(dL/dpsi(t0), dL/dparams)`` by integrating the adjoint system backwards with RK4 (Eqs. 43-44)."""
    psi1 = as_array(psi1, "psi1", ndim=2)
    a1 = as_array(dL_dpsi1, "dL_dpsi1", ndim=2)
    if a1.shape != psi1.shape:
        raise ValueError(f"dL_dpsi1 must have the shape of psi1 {psi1.shape}, got {a1.shape}")
    n_steps = integer(n_steps, "n_steps", minimum=1)
    t0, t1 = _check_times(t0, t1)
    h = -(t1 - t0) / n_steps
    shapes = [p.shape for p in f.params]
    # the augmented state [psi, a, dL/dtheta] as one flat vector, so that the same RK4 step integrates it
    sizes = [psi1.size, a1.size] + [int(np.prod(s)) for s in shapes]

    def unpack(v):
        parts = np.split(v, np.cumsum(sizes)[:-1])
        return [p.reshape(s) for p, s in zip(parts, [psi1.shape, a1.shape, *shapes])]

    def rhs(v, params=None, xp=np):
        psi, a = unpack(v)[:2]
        a_dpsi, a_dtheta = f.vjp(psi, a)
        return np.concatenate([f(psi).ravel(), -a_dpsi.ravel()] + [-g.ravel() for g in a_dtheta])

    state = np.concatenate([psi1.ravel(), a1.ravel(), np.zeros(sum(sizes[2:]))])
    for _ in range(n_steps):
        state = rk4_step(rhs, state, h)
    _, a0, *grads = unpack(state)
    return a0, grads


def autograd_gradients(f: ODEFunc, psi0, loss, t0=0.0, t1=1.0, n_steps=20):
    """``dL/dparams`` by autograd back-propagating through the unrolled RK4 solver (the oracle)."""
    import autograd.numpy as anp
    from autograd import grad

    return grad(lambda ps: loss(integrate(f, psi0, t0, t1, n_steps, params=ps, xp=anp), anp))(list(f.params))


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

def rings(n: int, *, rng=None, inner: float = 1.0, gap: tuple = (1.5, 2.5)):
    """``n`` points in 2D: label 0 inside radius ``inner``, label 1 in the annulus ``gap`` (uniform in area)."""
    n = integer(n, "n", minimum=2)
    rng = make_rng(rng)
    labels = rng.integers(0, 2, n)
    lo = np.where(labels == 0, 0.0, gap[0] ** 2)
    hi = np.where(labels == 0, inner**2, gap[1] ** 2)
    r = np.sqrt(lo + (hi - lo) * rng.random(n))
    phi = rng.uniform(0, 2 * np.pi, n)
    return np.column_stack([r * np.cos(phi), r * np.sin(phi)]), labels


class RingClassifier:
    """Augmented neural ODE classifier: ``[x, y, 0] -> psi(1)`` by the ODE, then logistic regression on ``psi(1)``.

    In the plane a flow cannot pull the inner disk out through the ring (flows are
    homeomorphisms); one extra dimension lets it lift one class over the other
    (Dupont et al.'s augmented neural ODEs).
    """

    def __init__(self, hidden: int = 16, n_steps: int = 10, augment: int = 1, *, rng=None):
        rng = make_rng(rng)
        self.augment = integer(augment, "augment", minimum=0)
        self.f = ODEFunc(2 + self.augment, hidden, rng=rng)
        self.w, self.c = rng.normal(0, 0.5, 2 + self.augment), 0.0
        self.n_steps = integer(n_steps, "n_steps", minimum=1)

    def lift(self, X):
        return np.column_stack([X, np.zeros((len(X), self.augment))])

    def flow(self, X):
        return integrate(self.f, self.lift(X), 0.0, 1.0, self.n_steps)

    def predict_proba(self, X):
        return nn.activation("sigmoid", self.flow(X) @ self.w + self.c)

    def accuracy(self, X, labels) -> float:
        return float(np.mean((self.predict_proba(X) > 0.5) == np.asarray(labels)))

    def loss_and_gradients(self, X, labels):
        """Binary cross-entropy and its gradients ``[W1, b1, W2, b2, w, c]`` (ODE part by the adjoint method)."""
        y = as_array(labels, "labels", ndim=1)
        if not np.all((y == 0) | (y == 1)):
            raise ValueError(f"labels must be 0 or 1 (two classes), got values {np.unique(y)[:5]}")
        psi1 = self.flow(X)
        if len(y) != len(psi1):
            raise ValueError(f"labels has {len(y)} entries for {len(psi1)} points")
        p = nn.activation("sigmoid", psi1 @ self.w + self.c)
        n = len(y)
        loss = -np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))
        dz = (p - y) / n
        _, g = adjoint_gradients(self.f, psi1, np.outer(dz, self.w), 0.0, 1.0, self.n_steps)
        return float(loss), g + [psi1.T @ dz, np.array(dz.sum())]

    def fit(self, X, labels, *, iterations: int = 300, lr: float = 0.02, progress: bool = False):
        """Full-batch Adam in :class:`mlphys.nn.TrainingLoop` (progress, Ctrl-C, divergence); returns the
        :class:`mlphys.nn.History` of the loss."""
        from .nn import Adam, History, TrainingLoop

        opt, history = Adam(positive(lr, "lr")), History("loss")
        params = self.f.params + [self.w, np.array(self.c)]
        with TrainingLoop(integer(iterations, "iterations", minimum=1), progress=progress, desc="ring ODE") as loop:
            for _ in loop:
                loss, grads = self.loss_and_gradients(X, labels)
                if loop.diverging(loss):
                    break
                history.append(loss=loss)
                opt.step(params, grads)
                self.f.params, self.w, self.c = params[:4], params[4], float(params[5])
        return history.end(loop)
