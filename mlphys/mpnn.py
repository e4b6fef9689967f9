"""Learning a potential from an eigenstate: QPNN, QPNN+MS and MPNN (Chapter 9, Hong et al. 2021).

The inverse problem (paper Eq. 1): given a state ``Psi``, find ``U(r)`` such that
``[-nabla^2/2 + U] Psi = E Psi``. With the *local kinetic term*
``T(r) = -nabla^2 Psi / (2 Psi)`` the local energy of a trial potential is

    E(r) = T(r) + U_theta(r)                                                  (paper Eq. 2)

and ``Psi`` is an eigenstate of ``H_theta`` exactly when ``E(r)`` is constant. ``U`` is
fixed only up to a constant (``U + C`` works as well), which a pinning term
``lam [U(r0) - V(r0)]^2`` removes. Three losses:

* **QPNN** (Sehanobish et al.; paper Eq. 4): ``mean_n |grad E(r_n)|^2 + lam [U(r0) - V(r0)]^2``
  on points uniform in ``[-box, box]^dim``; energy = mean of ``E(r_n)`` (Eq. 10).
* **QPNN+MS**: the same loss on points drawn from ``|Psi|^2`` by Metropolis sampling.
* **MPNN** (Eq. 7): ``sqrt(mean_n |(H_theta Psi)(r_n) - Ebar Psi(r_n)|^2) + lam [U(r0) - V(r0)]^2``
  with ``Ebar = mean_n E(r_n)`` over points from ``|Psi|^2`` (Eq. 8). Since
  ``H_theta Psi - Ebar Psi = Psi (E - Ebar)``, the first term is ``sqrt(mean Psi^2 (E - Ebar)^2)``.

The network ``U_theta`` is a :class:`mlphys.dfnn.DFNN` (the Chapter 7 engine): QPNN needs
``grad_r U`` and its parameter gradients, which its ``vjp_general`` contracts in one sweep.
Samples of ``|Psi|^2`` come from :class:`mlphys.vmc.Metropolis` (burn-in; a rejected move
repeats the current point); the optimiser is :class:`mlphys.nn.Adam`.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from . import autodiff, dfnn, nn, validate, vmc
from .config import make_rng
from .validate import Anything, Array, Choice, Flag, Function, Instance, Integer, Optional, PathLike, Real, Rule, Seed, \
    Sequence, Text, params

METHODS = ("mpnn", "qpnn", "qpnn+ms")

#: points r of a state in dim dimensions, (n, dim); a 1-D array is n points of a 1D state, or one point
POINTS = Array(shape=(None, "self.dim"), ndim=(2, 1), min_size=0, hint="points of shape (n, dim)")
ONE_POINT_EACH = Rule("r", lambda self, r: r.ndim == 2 or self.dim == 1 or r.shape[0] == self.dim,
                      "must be points of shape (n, dim) (a 1-D r is n points of a 1D state, or one point)")


# ============================================================================ eigenstates

class Eigenstate:
    """A state ``Psi`` in ``dim`` dimensions, known through ``log|Psi|`` and ``T = -nabla^2 Psi / (2 Psi)``.

    ``log_psi`` and ``local_kinetic`` take an array ``(n, dim)`` and return ``(n,)``;
    ``log_psi`` should include the normalisation (the MPNN loss weights points by ``Psi^2``).
    ``potential`` and ``energy``, when known, are the truth the learned potential is compared with.
    """

    @params(dim=Integer(ge=1, le=4, typical=(1, 3), hint="its learned potential is checked on 20^dim grid points"),
            log_psi=Function("log|Psi| of an (n, dim) array of points, shape (n,)"),
            local_kinetic=Function("T of an (n, dim) array of points, shape (n,)"), name=Text(allow_empty=True),
            potential=Optional(Function("V of an (n, dim) array of points, shape (n,)")), energy=Optional(Real()))
    def __init__(self, dim, log_psi, local_kinetic, name: str = "", *, potential=None, energy=None):
        self.dim = dim
        self._log_psi, self._local_kinetic, self._potential = log_psi, local_kinetic, potential
        self.name = name
        self.energy = energy

    def _call(self, f, arg, r, allow_inf=False):
        """``f(r)`` for points ``r`` of shape (n, dim), checked: n finite values (``log_psi`` may be -inf on a
        node)."""
        what = f"{arg} of {self.name or 'the state'}"
        if not allow_inf:
            return validate.returned(f(r), what, (r.shape[0],))
        out = np.asarray(f(r), dtype=float)
        validate.returned(np.where(np.isneginf(out), 0.0, out), what, (r.shape[0],))
        return out

    def _points(self, r):
        return r if r.ndim == 2 else (r[:, None] if self.dim == 1 else r[None, :])

    @params(ONE_POINT_EACH, r=POINTS)
    def check_points(self, r):
        """``r`` as a float array (n, dim) (a copy)."""
        return self._points(r)

    @params(ONE_POINT_EACH, r=POINTS)
    def log_psi(self, r):
        """``log|Psi(r)|`` (``-inf`` on a node)."""
        return self._call(self._log_psi, "log_psi", self._points(r), allow_inf=True)

    @params(ONE_POINT_EACH, r=POINTS)
    def local_kinetic(self, r):
        """``T(r) = -nabla^2 Psi / (2 Psi)``."""
        return self._call(self._local_kinetic, "local_kinetic", self._points(r))

    @params(ONE_POINT_EACH, r=POINTS, h=Real(gt=0, lt=1, typical=(1e-6, 1e-3)))
    def kinetic_gradient(self, r, h: float = 1e-5):
        """``grad T`` by central differences (error ``O(h^2)``; QPNN's loss needs it)."""
        return autodiff.central_differences(lambda p: self._call(self._local_kinetic, "local_kinetic", p),
                                            self._points(r), h, batched=True)

    @params(ONE_POINT_EACH, r=POINTS)
    def potential(self, r):
        """The true potential ``V(r)`` (ValueError if the state does not know it)."""
        if self._potential is None:
            raise ValueError(f"{self.name or 'this state'} has no known potential: pass potential= to Eigenstate")
        return self._call(self._potential, "potential", self._points(r))

    @property
    def knows_potential(self) -> bool:
        return self._potential is not None

    @params(ONE_POINT_EACH, Rule("energy", lambda self, energy: energy is not None or self.energy is not None,
                                 "is needed: the potential is fixed only up to a constant"),
            r=POINTS, energy=Optional(Real()))
    def closed_form_potential(self, r, energy=None):
        """``V = E - T = E + nabla^2 Psi / (2 Psi)``: the answer when ``Psi`` is known analytically."""
        energy = self.energy if energy is None else energy
        return energy - self._call(self._local_kinetic, "local_kinetic", self._points(r))


def hydrogen_ground_state() -> Eigenstate:
    """``Psi = e^{-r} / sqrt(pi)`` in 3D Cartesian coordinates (atomic units): ``T = -1/2 + 1/r``, ``V = -1/r``, ``E = -1/2``.

    ``nabla^2 e^{-r} = (1 - 2/r) e^{-r}`` (radial Laplacian ``f'' + 2 f'/r``), so ``T = -(1 - 2/r)/2``.
    """
    def radius(r):
        return np.sqrt(np.sum(r**2, axis=1))

    return Eigenstate(3, lambda r: -radius(r) - 0.5 * np.log(np.pi), lambda r: -0.5 + 1.0 / radius(r),
                      "hydrogen ground state", potential=lambda r: -1.0 / radius(r), energy=-0.5)


@params(n=Integer(ge=0, le=100, typical=(0, 6), hint="H_n and n! overflow for large n"))
def harmonic_state(n: int) -> Eigenstate:
    """State ``n`` of the 1D oscillator ``V = x^2/2``: ``Psi_n = H_n(x) e^{-x^2/2} / sqrt(2^n n! sqrt(pi))``.

    Hermite's equation ``H_n'' - 2x H_n' + 2n H_n = 0`` gives ``Psi_n'' = (x^2 - 2n - 1) Psi_n``, so
    ``T = n + 1/2 - x^2/2`` - smooth through the ``n`` nodes, where ``Psi`` and ``Psi''`` vanish together.
    """
    coef = np.zeros(n + 1)
    coef[n] = 1.0
    log_norm = -0.5 * (n * np.log(2.0) + math.lgamma(n + 1) + 0.5 * np.log(np.pi))

    def log_psi(r):
        x = r[:, 0]
        with np.errstate(divide="ignore"):
            return np.log(np.abs(np.polynomial.hermite.hermval(x, coef))) - 0.5 * x**2 + log_norm

    return Eigenstate(1, log_psi, lambda r: n + 0.5 - 0.5 * r[:, 0] ** 2, f"harmonic oscillator n = {n}",
                      potential=lambda r: 0.5 * r[:, 0] ** 2, energy=n + 0.5)


@params(Rule("x", lambda x: np.all(np.diff(x) > 0), "must be strictly increasing"),
        Rule("psi", lambda psi: np.any(psi != 0), "is zero everywhere"),
        x=Array(shape=("n",), min_size=8, hint="at least 8 grid points"), psi=Array(shape=("n",), min_size=8),
        smoothing=Optional(Real(ge=0)), name=Text(allow_empty=True))
def state_from_grid(x, psi, *, smoothing: float | None = None, name: str = "state from a grid") -> Eigenstate:
    """A 1D state known only on a grid (e.g. measured, with noise): a quintic smoothing spline of ``Psi``.

    ``T = -Psi''/(2 Psi)`` is taken from the spline; where the spline's ``Psi`` is tiny (nodes, tails)
    this ratio is large and unreliable - the realistic difficulty of the inverse problem.
    ``smoothing`` is scipy's ``s`` (default: number of points times the noise variance estimated from
    second differences). Outside the grid ``log|Psi| = -inf`` (no samples) and ``T`` is that of the edge.
    """
    from scipy.interpolate import UnivariateSpline

    norm = np.sqrt(np.trapezoid(psi**2, x))
    psi = psi / norm
    if smoothing is None:
        noise_var = np.var(np.diff(psi, 2)) / 6.0       # second differences of white noise have variance 6 sigma^2
        smoothing = x.size * noise_var
    spline = UnivariateSpline(x, psi, k=5, s=smoothing)
    lo, hi = x[0], x[-1]

    def log_psi(r):
        xx = r[:, 0]
        with np.errstate(divide="ignore"):
            out = np.log(np.abs(spline(np.clip(xx, lo, hi))))
        return np.where((xx < lo) | (xx > hi), -np.inf, out)

    def local_kinetic(r):
        xx = np.clip(r[:, 0], lo, hi)
        p = spline(xx)
        p = np.where(np.abs(p) < 1e-12, 1e-12, p)
        return -0.5 * spline.derivative(2)(xx) / p

    return Eigenstate(1, log_psi, local_kinetic, name)


# ============================================================================ sampling |Psi|^2

class _StateFactor:
    """Adapter: an :class:`Eigenstate` as a one-particle wave function for the :mod:`mlphys.vmc` samplers."""

    def __init__(self, state):
        self.state = state

    def evaluate(self, X, derivatives=False):
        return self.state._call(self.state._log_psi, "log_psi", X[:, 0, :], allow_inf=True), None, None, None


STATE = dict(state=Instance(Eigenstate, hint="e.g. mpnn.hydrogen_ground_state()"))


@params(**STATE, n_samples=Integer(ge=1, typical=(1, 50)), step=Real(gt=0, typical=(0.2, 1.5)),
        n_chains=Integer(ge=1, typical=(1, 20)), burn_in=Integer(ge=0, typical=(0, 20)),
        thin=Integer(ge=1, typical=(1, 3)), rng=Seed())
def sample_density(state: Eigenstate, n_samples: int, *, step: float = 1.0, n_chains: int = 200, burn_in: int = 200,
                   thin: int = 5, rng=None):
    """``n_samples`` points from ``|Psi|^2`` by Metropolis (:class:`mlphys.vmc.Metropolis`): ``n_chains`` chains,
    ``burn_in`` sweeps discarded, then every ``thin``-th sweep kept. Returns ``(points (n, dim), acceptance)``."""
    rng = make_rng(rng)
    wf, sampler = _StateFactor(state), vmc.Metropolis(step)
    X = rng.normal(0.0, 1.0, (n_chains, 1, state.dim))
    walkers = sampler.init(wf, X)
    if not np.all(np.isfinite(walkers.log_psi)):            # a start on a node: move it off
        walkers.X[~np.isfinite(walkers.log_psi)] += 0.1
        walkers = sampler.init(wf, walkers.X)
    for _ in range(burn_in):
        sampler.sweep(wf, walkers, rng=rng)
    kept, acc, sweeps = [], 0.0, 0
    while sum(len(k) for k in kept) < n_samples:
        for _ in range(thin):
            acc += sampler.sweep(wf, walkers, rng=rng)
            sweeps += 1
        kept.append(walkers.X[:, 0, :].copy())
    acceptance = acc / sweeps
    if acceptance < 0.02 and sweeps * n_chains >= 100:
        warnings.warn(f"sample_density: the Metropolis acceptance is {acceptance:.3g} (step={step:g}): the chains "
                      f"barely move and the points are not samples of |Psi|^2; lower step", RuntimeWarning,
                      stacklevel=2)
    return np.concatenate(kept)[:n_samples], acceptance


# ============================================================================ learning the potential

@dataclass
class PotentialResult(nn.Trained):
    """What :func:`learn_potential` returns. ``potential(r)`` evaluates the learned ``U_theta``."""

    state: Eigenstate
    method: str
    net: dfnn.DFNN
    energy: float                  # Ebar, Eq. 8 (MPNN, QPNN+MS) or Eq. 10 (QPNN)
    history: nn.History            # the loss per step; seconds, interrupted, diverged
    epsilon: float | None          # Eq. 9: mean |U - V| at 1000 points uniform in [-box, box]^dim
    epsilon_grid: float | None     # the authors' test scripts: 20 points per axis in [-1, 1]^dim
    points: np.ndarray             # the training points
    acceptance: float | None = None
    settings: dict = field(default_factory=dict)

    @property
    def loss(self) -> list:
        return self.history.loss

    @property
    def dim(self) -> int:
        return self.state.dim

    @params(ONE_POINT_EACH, r=POINTS)
    def potential(self, r):
        """The learned potential ``U_theta(r)`` (an empty array for no points)."""
        r = self.state._points(r)
        return self.net(r)[:, 0] if len(r) else np.zeros(0)

    @params(ONE_POINT_EACH, r=POINTS)
    def local_energy(self, r):
        """``E(r) = T(r) + U(r)`` (Eq. 2): constant for an exact solution."""
        r = self.state._points(r)
        return self.state._call(self.state._local_kinetic, "local_kinetic", r) + self.potential(r)


NET = Instance(dfnn.DFNN, hint="a DFNN with one input per coordinate and one output, U(r)")
PotentialResult.__init__ = params(
    Rule("net", lambda state, net: net.sizes[0] == state.dim and net.sizes[-1] == 1,
         "must have one input per coordinate of the state and one output"),
    **STATE, method=Choice(*METHODS), net=NET, energy=Real(), history=Instance(nn.History),
    epsilon=Optional(Real(ge=0)), epsilon_grid=Optional(Real(ge=0)), points=Array(shape=(None, "state.dim")),
    acceptance=Optional(Real(ge=0, le=1)),
    settings=Anything("the run's settings, a dict; its default is the dataclass's factory of an empty one"),
)(PotentialResult.__init__)


@params(dim=Integer(ge=1))
def default_settings(dim: int = 1) -> dict:
    """The sizes :func:`learn_potential` uses when not given: a class-sized run (chapter 9 passes its own, and the
    authors' - 128-wide, 16,000 samples, 2,000 full-batch steps - at paper scale)."""
    return dict(hidden=(32, 32, 32) if dim > 1 else (24, 24), n_samples=2000, steps=1500)


@params(Rule("state", lambda state: state.knows_potential, "has no known potential: pass potential= to Eigenstate"),
        **STATE, U=Function("the learned potential U(r) of an (n, dim) array, shape (n,)"), box=Real(gt=0),
        n_points=Integer(ge=1, typical=(1, 100)), rng=Seed())
def potential_errors(state: Eigenstate, U, *, box: float = 5.0, n_points: int = 1000, rng=None):
    """Eq. 9 ``mean |U - V|`` at ``n_points`` uniform in ``[-box, box]^dim``, and the same on the authors' grid
    (20 points per axis in ``[-1, 1]^dim``). ``U`` is a callable on ``(n, dim)`` returning shape ``(n,)``."""
    rng = make_rng(rng)
    r = rng.uniform(-box, box, (n_points, state.dim))
    axis = np.linspace(-1.0, 1.0, 20)
    grid = np.stack(np.meshgrid(*[axis] * state.dim, indexing="ij"), -1).reshape(-1, state.dim)

    def error(points):
        u = validate.returned(U(points), "U", (len(points),))
        return float(np.mean(np.abs(u - state._call(state._potential, "potential", points))))

    return error(r), error(grid)


PINNING = dict(v_r0=Real(), lam=Real(ge=0))


@params(U=Array(shape=("n",)), U0=Real(), T=Array(shape=("n",)), psi2=Array(shape=("n",), ge=0), **PINNING)
def mpnn_loss(U, U0, T, psi2, v_r0, lam):
    """MPNN loss (Eq. 7) and energy (Eq. 8) from the potential ``U`` at the samples and ``U0`` at ``r0``.

    ``T``: local kinetic term at the samples, ``psi2 = |Psi|^2`` there. Returns
    ``(loss, Ebar, dloss/dU, dloss/dU0)``; with ``M = mean psi2 (E - Ebar)^2``,
    ``dsqrt(M)/dU_n = [psi2_n (E_n - Ebar) - mean psi2 (E - Ebar)] / (N sqrt(M))``.
    """
    return _mpnn_loss(U, U0, T, psi2, v_r0, lam)


def _mpnn_loss(U, U0, T, psi2, v_r0, lam):
    """:func:`mpnn_loss` without the checks (the training step)."""
    E = T + U
    Ebar = float(E.mean())
    w = psi2 * (E - Ebar)
    R = float(np.sqrt(np.mean(w * (E - Ebar))))
    dU = (w - w.mean()) / (len(T) * max(R, 1e-300))
    return R + lam * (U0 - v_r0) ** 2, Ebar, dU, 2.0 * lam * (U0 - v_r0)


@params(grad_U=Array(shape=("n", "dim")), U0=Real(), grad_T=Array(shape=("n", "dim")), **PINNING)
def qpnn_loss(grad_U, U0, grad_T, v_r0, lam):
    """QPNN loss (Eq. 4, as a mean over the points): ``mean |grad T + grad U|^2 + lam (U0 - v_r0)^2``.

    Returns ``(loss, dloss/dgrad_U, dloss/dU0)``.
    """
    return _qpnn_loss(grad_U, U0, grad_T, v_r0, lam)


def _qpnn_loss(grad_U, U0, grad_T, v_r0, lam):
    """:func:`qpnn_loss` without the checks (the training step)."""
    gE = grad_T + grad_U
    return (float(np.mean(np.sum(gE**2, axis=1))) + lam * (U0 - v_r0) ** 2, 2.0 * gE / len(gE),
            2.0 * lam * (U0 - v_r0))


@dataclass
class Problem:
    """The training data of one run: points, ``T``, ``|Psi|^2`` and ``grad T`` there, and the pinning term."""

    method: str
    points: np.ndarray
    T: np.ndarray
    psi2: np.ndarray
    grad_T: np.ndarray | None
    r0: np.ndarray
    v_r0: float
    lam: float

    @params(Rule("net", lambda self, net: net.sizes[0] == self.points.shape[1] and net.sizes[-1] == 1,
                 "must have one input per coordinate of the points and one output"),
            Rule("batch", lambda self, batch: batch is None or batch.max() < len(self.points),
                 "must be indices of the points (each < the number of points)"),
            net=NET, batch=Optional(Array(shape=(None,), dtype=int, ge=0)))
    def evaluate(self, net: dfnn.DFNN, batch=None):
        """``(loss, energy, parameter gradients)`` of ``net`` on all points, or on the indices ``batch``
        (one sweep of :meth:`mlphys.dfnn.DFNN.vjp_first`)."""
        return self._evaluate(net, batch)

    def _evaluate(self, net, batch=None):
        """:meth:`evaluate` without the checks (the training step)."""
        sel = slice(None) if batch is None else batch
        T, psi2 = self.T[sel], self.psi2[sel]
        grad_T = None if self.grad_T is None else self.grad_T[sel]
        X = np.vstack([self.points[sel], self.r0[None, :]])
        out = {}

        def cotangent(U, grad_U):
            c0 = np.zeros(len(U))
            out["energy"] = float(np.mean(T + U[:-1]))                # Eq. 8 (Metropolis) or Eq. 10 (uniform)
            if self.method == "mpnn":
                out["loss"], _, c0[:-1], c0[-1] = _mpnn_loss(U[:-1], U[-1], T, psi2, self.v_r0, self.lam)
                return c0, None
            c1 = np.zeros_like(grad_U)
            out["loss"], c1[:-1], c0[-1] = _qpnn_loss(grad_U[:-1], U[-1], grad_T, self.v_r0, self.lam)
            return c0, c1

        _, _, grads = net._vjp_first(X, cotangent, input_gradient=self.method != "mpnn")
        return out["loss"], out["energy"], grads


Problem.__init__ = params(
    Rule("grad_T", lambda method, grad_T: method == "mpnn" or grad_T is not None, "QPNN's losses need grad T"),
    method=Choice(*METHODS), points=Array(shape=("n", "dim")), T=Array(shape=("n",)),
    psi2=Array(shape=("n",), ge=0), grad_T=Optional(Array(shape=("n", "dim"))), r0=Array(shape=("dim",)),
    **PINNING)(Problem.__init__)


DIVERGED = "lower lr or init_scale"


@params(**STATE, method=Choice(*METHODS), r0=Array(shape=("state.dim",), promote=True), **PINNING,
        hidden=Optional(Sequence(Integer(ge=1, typical=(1, 8)))), n_samples=Optional(Integer(ge=2, typical=(2, 60))),
        steps=Optional(Integer(ge=1, typical=(1, 10))), batch_size=Optional(Integer(ge=2, typical=(2, 20))),
        init_scale=Real(gt=0), box=Real(gt=0), lr=Real(gt=0, typical=(1e-4, 1e-2)),
        step_size=Real(gt=0, typical=(0.2, 1.5)), activation=Choice(*dfnn.ACTIVATIONS), rng=Seed(),
        progress=Flag(), checkpoint=Optional(PathLike()), checkpoint_seconds=Real(ge=0))
def learn_potential(state: Eigenstate, method: str = "mpnn", *, r0, v_r0, lam: float = 1.0, hidden=None,
                    n_samples=None, steps=None, batch_size=None, init_scale: float = 0.01, box: float = 5.0,
                    lr: float = 1e-3,
                    step_size: float = 1.0, activation: str = "tanh", rng=None,
                    progress: bool = True, checkpoint=None, checkpoint_seconds: float = 300.0) -> PotentialResult:
    """Train ``U_theta`` so that ``state`` is its eigenstate, by ``method`` = "mpnn", "qpnn" or "qpnn+ms".

    ``r0``, ``v_r0``: the point where the potential is known and its value (the pinning term, weight ``lam``).
    ``hidden`` (widths), ``n_samples`` and ``steps`` (full-batch Adam steps, rate ``lr``) default to
    :func:`default_settings`; ``batch_size`` (default: all points) draws a random mini-batch of the
    training points for each step, as the authors' oscillator runs do. All initial weights are multiplied by ``init_scale`` (the paper's delta),
    so that training starts from ``U ~ 0``. Training points: ``n_samples`` uniform in ``[-box, box]^dim``
    (QPNN) or from ``|Psi|^2`` by Metropolis with step ``step_size`` (QPNN+MS, MPNN). Training stops
    early, with ``diverged=True``, if the loss becomes non-finite; Ctrl-C stops it with ``interrupted=True``.
    ``checkpoint``: an ``.npz`` path where the weights, Adam's and the generator's states and the losses are
    saved every ``checkpoint_seconds``; a later call with the same path and arguments resumes
    from it and ends with the same weights as an uninterrupted run.
    """
    defaults = default_settings(state.dim)
    hidden = tuple(defaults["hidden"] if hidden is None else hidden)
    n_samples = defaults["n_samples"] if n_samples is None else n_samples
    steps = defaults["steps"] if steps is None else steps
    rng = make_rng(rng)

    acceptance = None
    if method == "qpnn":
        points = rng.uniform(-box, box, (n_samples, state.dim))
    else:
        points, acceptance = sample_density(state, n_samples, step=step_size, rng=rng)
    problem = Problem(method, points, state.local_kinetic(points), np.exp(2.0 * state.log_psi(points)),
                      state.kinetic_gradient(points) if method != "mpnn" else None, r0, v_r0, lam)

    net = dfnn.DFNN((state.dim, *hidden, 1), activation=activation, rng=rng)
    net.params = [p * init_scale for p in net.params]
    optimizer = nn.Adam(lr=lr)
    losses, seconds = [], 0.0
    path = None if checkpoint is None else Path(checkpoint)
    # what the run is computed from (not ``steps``: a longer run may continue a shorter one)
    run_id = nn.fingerprint(method, lam, hidden, init_scale, box, lr, batch_size, activation, r0, v_r0, points,
                            problem.T, net.params)
    saved = nn.resume_training_state(path, net.params, optimizer, rng=rng, fingerprint=run_id,
                                     required=("losses", "seconds"))
    if saved is not None:
        losses, seconds = saved["losses"].tolist(), float(saved["seconds"])

    def save(done):
        nn.save_training_state(path, net.params, optimizer, rng=rng, fingerprint=run_id, losses=np.array(losses),
                               seconds=seconds + loop.elapsed)

    # the matrices are small: one BLAS thread is faster, gives the same numbers, and does not slow to a
    # crawl when other processes share the cores
    loop = nn.TrainingLoop(steps, done=len(losses), progress=progress, desc=f"{method} on {state.name or 'state'}",
                           save=None if path is None else save, save_seconds=checkpoint_seconds)
    with threadpool_limits(limits=1, user_api="blas"), loop:
        for _ in loop:
            batch = None if batch_size is None else rng.choice(n_samples, min(batch_size, n_samples), replace=False)
            loss, _, grads = problem._evaluate(net, batch)
            if loop.diverging(loss if all(np.all(np.isfinite(g)) for g in grads) else np.nan, hint=DIVERGED):
                break
            losses.append(loss)
            optimizer.step(net.params, grads)
    history = nn.History(loss=losses).end(loop, seconds=seconds)

    energy = float(np.mean(problem.T + net(points)[:, 0]))       # Eq. 8 / Eq. 10 with the final network
    validate.finite(energy, "the energy of the learned potential (mean of T + U)",
                    DIVERGED + ", and check that the state's local_kinetic stays well inside the float range")
    eps = eps_grid = None
    if state.knows_potential:
        eps, eps_grid = potential_errors(state, lambda r: net(r)[:, 0], box=box, rng=rng)
    return PotentialResult(state, method, net, energy, history, eps, eps_grid, points, acceptance,
                           dict(lam=lam, hidden=hidden, n_samples=n_samples, steps=steps, init_scale=init_scale,
                                box=box, lr=lr, batch_size=batch_size, r0=r0.tolist(), v_r0=v_r0))
