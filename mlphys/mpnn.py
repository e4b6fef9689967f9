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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from . import autodiff, dfnn, nn, vmc
from .config import make_rng
from .validate import as_array, integer, number, positive

METHODS = ("mpnn", "qpnn", "qpnn+ms")


# ============================================================================ eigenstates

class Eigenstate:
    """A state ``Psi`` in ``dim`` dimensions, known through ``log|Psi|`` and ``T = -nabla^2 Psi / (2 Psi)``.

    ``log_psi`` and ``local_kinetic`` take an array ``(n, dim)`` and return ``(n,)``;
    ``log_psi`` should include the normalisation (the MPNN loss weights points by ``Psi^2``).
    ``potential`` and ``energy``, when known, are the truth the learned potential is compared with.
    """

    def __init__(self, dim, log_psi, local_kinetic, name: str = "", *, potential=None, energy=None):
        self.dim = integer(dim, "dim", minimum=1)
        for arg, f in (("log_psi", log_psi), ("local_kinetic", local_kinetic), ("potential", potential)):
            if f is not None and not callable(f):
                raise ValueError(f"{arg} must be a callable taking an (n, dim) array, got {type(f).__name__}")
        self._log_psi, self._local_kinetic, self._potential = log_psi, local_kinetic, potential
        self.name = str(name)
        self.energy = None if energy is None else float(energy)

    def _call(self, f, arg, r, allow_inf=False):
        r = self.check_points(r)
        out = np.asarray(f(r), dtype=float)
        if out.shape != (r.shape[0],):
            raise ValueError(f"{self.name or 'state'}: {arg} must return shape ({r.shape[0]},) for points of shape "
                             f"{r.shape}, got {out.shape}")
        bad = np.isnan(out) if allow_inf else ~np.isfinite(out)
        if np.any(bad):
            raise ValueError(f"{self.name or 'state'}: {arg} returned NaN{'' if allow_inf else ' or inf'} at "
                             f"{int(bad.sum())} of {r.shape[0]} points, e.g. r = {r[np.argmax(bad)]}")
        return out

    def check_points(self, r):
        r = as_array(r, "r", ndim=(1, 2))
        if r.ndim == 1:
            r = r[:, None] if self.dim == 1 else r[None, :]
        if r.shape[1] != self.dim:
            raise ValueError(f"r must have {self.dim} column(s) for a {self.dim}D state, got shape {r.shape}")
        return r

    def log_psi(self, r):
        """``log|Psi(r)|`` (``-inf`` on a node)."""
        return self._call(self._log_psi, "log_psi", r, allow_inf=True)

    def local_kinetic(self, r):
        """``T(r) = -nabla^2 Psi / (2 Psi)``."""
        return self._call(self._local_kinetic, "local_kinetic", r)

    def kinetic_gradient(self, r, h: float = 1e-5):
        """``grad T`` by central differences (error ``O(h^2)``; QPNN's loss needs it)."""
        return autodiff.central_differences(self.local_kinetic, self.check_points(r), h, batched=True)

    def potential(self, r):
        """The true potential ``V(r)`` (ValueError if the state does not know it)."""
        if self._potential is None:
            raise ValueError(f"{self.name or 'this state'} has no known potential: pass potential= to Eigenstate")
        return self._call(self._potential, "potential", r)

    @property
    def knows_potential(self) -> bool:
        return self._potential is not None

    def closed_form_potential(self, r, energy=None):
        """``V = E - T = E + nabla^2 Psi / (2 Psi)``: the answer when ``Psi`` is known analytically."""
        energy = self.energy if energy is None else float(energy)
        if energy is None:
            raise ValueError("energy is needed: the potential is fixed only up to a constant")
        return energy - self.local_kinetic(r)


def hydrogen_ground_state() -> Eigenstate:
    """``Psi = e^{-r} / sqrt(pi)`` in 3D Cartesian coordinates (atomic units): ``T = -1/2 + 1/r``, ``V = -1/r``, ``E = -1/2``.

    ``nabla^2 e^{-r} = (1 - 2/r) e^{-r}`` (radial Laplacian ``f'' + 2 f'/r``), so ``T = -(1 - 2/r)/2``.
    """
    def radius(r):
        return np.sqrt(np.sum(r**2, axis=1))

    return Eigenstate(3, lambda r: -radius(r) - 0.5 * np.log(np.pi), lambda r: -0.5 + 1.0 / radius(r),
                      "hydrogen ground state", potential=lambda r: -1.0 / radius(r), energy=-0.5)


def harmonic_state(n: int) -> Eigenstate:
    """State ``n`` of the 1D oscillator ``V = x^2/2``: ``Psi_n = H_n(x) e^{-x^2/2} / sqrt(2^n n! sqrt(pi))``.

    Hermite's equation ``H_n'' - 2x H_n' + 2n H_n = 0`` gives ``Psi_n'' = (x^2 - 2n - 1) Psi_n``, so
    ``T = n + 1/2 - x^2/2`` - smooth through the ``n`` nodes, where ``Psi`` and ``Psi''`` vanish together.
    """
    n = integer(n, "n", minimum=0)
    coef = np.zeros(n + 1)
    coef[n] = 1.0
    log_norm = -0.5 * (n * np.log(2.0) + math.lgamma(n + 1) + 0.5 * np.log(np.pi))

    def log_psi(r):
        x = r[:, 0]
        with np.errstate(divide="ignore"):
            return np.log(np.abs(np.polynomial.hermite.hermval(x, coef))) - 0.5 * x**2 + log_norm

    return Eigenstate(1, log_psi, lambda r: n + 0.5 - 0.5 * r[:, 0] ** 2, f"harmonic oscillator n = {n}",
                      potential=lambda r: 0.5 * r[:, 0] ** 2, energy=n + 0.5)


def state_from_grid(x, psi, *, smoothing: float | None = None, name: str = "state from a grid") -> Eigenstate:
    """A 1D state known only on a grid (e.g. measured, with noise): a quintic smoothing spline of ``Psi``.

    ``T = -Psi''/(2 Psi)`` is taken from the spline; where the spline's ``Psi`` is tiny (nodes, tails)
    this ratio is large and unreliable - the realistic difficulty of the inverse problem.
    ``smoothing`` is scipy's ``s`` (default: number of points times the noise variance estimated from
    second differences). Outside the grid ``log|Psi| = -inf`` (no samples) and ``T`` is that of the edge.
    """
    from scipy.interpolate import UnivariateSpline

    x = as_array(x, "x", ndim=1)
    psi = as_array(psi, "psi", ndim=1)
    if x.size != psi.size or x.size < 8:
        raise ValueError(f"x and psi must have the same length >= 8, got {x.size} and {psi.size}")
    if np.any(np.diff(x) <= 0):
        raise ValueError("x must be strictly increasing")
    norm = np.sqrt(np.trapezoid(psi**2, x))
    if norm == 0:
        raise ValueError("psi is zero everywhere")
    psi = psi / norm
    if smoothing is None:
        noise_var = np.var(np.diff(psi, 2)) / 6.0       # second differences of white noise have variance 6 sigma^2
        smoothing = x.size * noise_var
    spline = UnivariateSpline(x, psi, k=5, s=positive(smoothing, "smoothing", allow_zero=True))
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
        return self.state.log_psi(X[:, 0, :]), None, None, None


def sample_density(state: Eigenstate, n_samples: int, *, step: float = 1.0, n_chains: int = 200, burn_in: int = 200,
                   thin: int = 5, rng=None):
    """``n_samples`` points from ``|Psi|^2`` by Metropolis (:class:`mlphys.vmc.Metropolis`): ``n_chains`` chains,
    ``burn_in`` sweeps discarded, then every ``thin``-th sweep kept. Returns ``(points (n, dim), acceptance)``."""
    n_samples = integer(n_samples, "n_samples", minimum=1)
    n_chains = integer(n_chains, "n_chains", minimum=1)
    burn_in = integer(burn_in, "burn_in", minimum=0)
    thin = integer(thin, "thin", minimum=1)
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
    return np.concatenate(kept)[:n_samples], acc / sweeps


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

    def potential(self, r):
        return self.net(self.state.check_points(r))[:, 0]

    def local_energy(self, r):
        """``E(r) = T(r) + U(r)`` (Eq. 2): constant for an exact solution."""
        return self.state.local_kinetic(r) + self.potential(r)


def default_settings(dim: int = 1) -> dict:
    """The sizes :func:`learn_potential` uses when not given: a class-sized run (chapter 9 passes its own, and the
    authors' - 128-wide, 16,000 samples, 2,000 full-batch steps - at paper scale)."""
    return dict(hidden=(32, 32, 32) if dim > 1 else (24, 24), n_samples=2000, steps=1500)


def potential_errors(state: Eigenstate, U, *, box: float = 5.0, n_points: int = 1000, rng=None):
    """Eq. 9 ``mean |U - V|`` at ``n_points`` uniform in ``[-box, box]^dim``, and the same on the authors' grid
    (20 points per axis in ``[-1, 1]^dim``). ``U`` is a callable on ``(n, dim)``."""
    rng = make_rng(rng)
    r = rng.uniform(-box, box, (n_points, state.dim))
    axis = np.linspace(-1.0, 1.0, 20)
    grid = np.stack(np.meshgrid(*[axis] * state.dim, indexing="ij"), -1).reshape(-1, state.dim)
    return (float(np.mean(np.abs(U(r) - state.potential(r)))), float(np.mean(np.abs(U(grid) - state.potential(grid)))))


def mpnn_loss(U, U0, T, psi2, v_r0, lam):
    """MPNN loss (Eq. 7) and energy (Eq. 8) from the potential ``U`` at the samples and ``U0`` at ``r0``.

    ``T``: local kinetic term at the samples, ``psi2 = |Psi|^2`` there. Returns
    ``(loss, Ebar, dloss/dU, dloss/dU0)``; with ``M = mean psi2 (E - Ebar)^2``,
    ``dsqrt(M)/dU_n = [psi2_n (E_n - Ebar) - mean psi2 (E - Ebar)] / (N sqrt(M))``.
    """
    E = T + U
    Ebar = float(E.mean())
    w = psi2 * (E - Ebar)
    R = float(np.sqrt(np.mean(w * (E - Ebar))))
    dU = (w - w.mean()) / (len(T) * max(R, 1e-300))
    return R + lam * (U0 - v_r0) ** 2, Ebar, dU, 2.0 * lam * (U0 - v_r0)


def qpnn_loss(grad_U, U0, grad_T, v_r0, lam):
    """QPNN loss (Eq. 4, as a mean over the points): ``mean |grad T + grad U|^2 + lam (U0 - v_r0)^2``.

    Returns ``(loss, dloss/dgrad_U, dloss/dU0)``.
    """
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

    def evaluate(self, net: dfnn.DFNN, batch=None):
        """``(loss, energy, parameter gradients)`` of ``net`` on all points, or on the indices ``batch``
        (one sweep of :meth:`mlphys.dfnn.DFNN.vjp_first`)."""
        sel = slice(None) if batch is None else batch
        T, psi2 = self.T[sel], self.psi2[sel]
        grad_T = None if self.grad_T is None else self.grad_T[sel]
        X = np.vstack([self.points[sel], self.r0[None, :]])
        out = {}

        def cotangent(U, grad_U):
            c0 = np.zeros(len(U))
            out["energy"] = float(np.mean(T + U[:-1]))                # Eq. 8 (Metropolis) or Eq. 10 (uniform)
            if self.method == "mpnn":
                out["loss"], _, c0[:-1], c0[-1] = mpnn_loss(U[:-1], U[-1], T, psi2, self.v_r0, self.lam)
                return c0, None
            c1 = np.zeros_like(grad_U)
            out["loss"], c1[:-1], c0[-1] = qpnn_loss(grad_U[:-1], U[-1], grad_T, self.v_r0, self.lam)
            return c0, c1

        _, _, grads = net.vjp_first(X, cotangent, input_gradient=self.method != "mpnn")
        return out["loss"], out["energy"], grads


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
    if not isinstance(state, Eigenstate):
        raise ValueError(f"state must be an mlphys.mpnn.Eigenstate, got {type(state).__name__}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    r0 = as_array(r0, "r0", ndim=(0, 1)).reshape(-1)
    if r0.size != state.dim:
        raise ValueError(f"r0 must have {state.dim} coordinate(s) for a {state.dim}D state, got {r0.size}")
    v_r0 = number(v_r0, "v_r0")
    lam = positive(lam, "lam", allow_zero=True)
    box = positive(box, "box")
    init_scale = positive(init_scale, "init_scale")
    checkpoint_seconds = positive(checkpoint_seconds, "checkpoint_seconds", allow_zero=True)
    defaults = default_settings(state.dim)
    hidden = tuple(defaults["hidden"] if hidden is None else hidden)
    for k, w in enumerate(hidden):
        integer(w, f"hidden[{k}]", minimum=1)
    n_samples = integer(defaults["n_samples"] if n_samples is None else n_samples, "n_samples", minimum=2)
    steps = integer(defaults["steps"] if steps is None else steps, "steps", minimum=1)
    if batch_size is not None:
        batch_size = integer(batch_size, "batch_size", minimum=2)
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
            loss, _, grads = problem.evaluate(net, batch)
            if loop.diverging(loss if all(np.all(np.isfinite(g)) for g in grads) else np.nan,
                              hint="lower lr or init_scale"):
                break
            losses.append(loss)
            optimizer.step(net.params, grads)
    history = nn.History(loss=losses).end(loop, seconds=seconds)

    energy = float(np.mean(problem.T + net(points)[:, 0]))       # Eq. 8 / Eq. 10 with the final network
    eps = eps_grid = None
    if state.knows_potential:
        eps, eps_grid = potential_errors(state, lambda r: net(r)[:, 0], box=box, rng=rng)
    return PotentialResult(state, method, net, energy, history, eps, eps_grid, points, acceptance,
                           dict(lam=lam, hidden=hidden, n_samples=n_samples, steps=steps, init_scale=init_scale,
                                box=box, lr=lr, batch_size=batch_size, r0=r0.tolist(), v_r0=v_r0))
