"""Residual blocks as PDE steps and as sums over paths; path-integral Monte Carlo (Chapter 12, Imchitr Chs. II-III).

**The residual block as a PDE step** (thesis Eqs. 21-25). Explicit Euler for

    d psi/dt = alpha^2/2 psi_xx + beta psi_x + gamma psi

with central differences on a lattice of spacing ``dx`` and time step ``dt`` is
``psi <- psi + f * psi`` with the 3-tap kernel acting on ``[psi(x+1), psi(x), psi(x-1)]``:

    f = dt [alpha^2/(2 dx^2) + beta/(2 dx),  gamma - alpha^2/dx^2,  alpha^2/(2 dx^2) - beta/(2 dx)],

at ``dt = dx = 1`` the thesis' ``[(alpha^2 + beta)/2, gamma - alpha^2, (alpha^2 - beta)/2]``. A residual
block with this convolution *is* one Euler step; N blocks are N steps.

**Sum over paths** (Eqs. 26-38). Unrolling N blocks, ``psi_N(x)`` is a sum over all
lattice paths ``x_0 -> x_1 -> ... -> x_N = x`` with steps ``dx_t in {-1, 0, +1}`` of the product of
the step weights ``w(-1) = f[0]``, ``w(0) = 1 + f[1]``, ``w(+1) = f[2]`` times ``psi_0(x_0)``. In the
continuum the momentum integral turns each step into a Gaussian transition kernel
``e^gamma N(dx; -beta, alpha^2)``, i.e. ``psi_N = sum_paths e^{-S} psi_0`` with the Euclidean action

    S = sum_t [(xdot_t + beta)^2 / (2 alpha^2) - (gamma - log(alpha sqrt(2 pi)))].

**Feynman's path integral** (Ch. II, Eqs. 10-20) in imaginary time: :func:`pimc_harmonic`
samples discretised paths of a particle in ``V = x^2/2`` by Metropolis and estimates the
energy; the Trotter error (even in ``tau``) is removed by extrapolation.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np

from .config import make_rng, progress_bar
from .validate import AnyOf, Array, Choice, Flag, Integer, Optional, Real, Rule, Seed, finite, params

BOUNDARIES = ("zero", "periodic")
MAX_PATH_TERMS = 20_000_000
#: :func:`pimc_harmonic` warns when it accepts fewer bead moves than this: the path then barely moves.
MIN_ACCEPTANCE = 0.05

KERNEL = Array(shape=(3,), hint="3 taps [on psi(x+1), psi(x), psi(x-1)]")
# a lattice wave function: at least 3 sites (the kernel's reach)
LATTICE = Array(shape=(None,), min_size=3, hint="psi0 needs at least 3 lattice sites")
BLOCKS = dict(kernel=KERNEL, psi0=LATTICE, n_layers=Integer(ge=0, typical=(0, 5)), boundary=Choice(*BOUNDARIES))


@params(alpha=Real(), beta=Real(), gamma=Real(), dt=Real(gt=0), dx=Real(gt=0))
def pde_kernel(alpha: float, beta: float, gamma: float, dt: float = 1.0, dx: float = 1.0) -> np.ndarray:
    """The 3-tap kernel ``f`` of one explicit-Euler step (thesis Eq. 24 at ``dt = dx = 1``)."""
    a2 = float(alpha) ** 2
    return dt * np.array([a2 / (2 * dx**2) + beta / (2 * dx), gamma - a2 / dx**2, a2 / (2 * dx**2) - beta / (2 * dx)])


@params(kernel=KERNEL, psi=Array(shape=(None,)), boundary=Choice(*BOUNDARIES))
def residual_block(kernel, psi, boundary: str = "zero"):
    """One block ``psi + f * psi`` (``f`` on ``[psi(x+1), psi(x), psi(x-1)]``); zero or periodic boundary."""
    return _block(kernel, psi, boundary)


def _block(kernel, psi, boundary):
    if boundary == "periodic":
        up, down = np.roll(psi, -1), np.roll(psi, 1)
    else:
        up = np.concatenate([psi[1:], [0.0]])
        down = np.concatenate([[0.0], psi[:-1]])
    return psi + kernel[0] * up + kernel[1] * psi + kernel[2] * down


@params(**BLOCKS, return_all=Flag())
def propagate(kernel, psi0, n_layers, boundary: str = "zero", *, return_all: bool = False):
    """``n_layers`` residual blocks applied layer by layer; with ``return_all`` every layer ``(n_layers + 1, M)``."""
    psi = psi0
    layers = [psi]
    for _ in range(n_layers):
        psi = _block(kernel, psi, boundary)
        layers.append(psi)
    return np.array(layers) if return_all else psi


def _step_weights(kernel):
    return np.array([kernel[0], 1.0 + kernel[1], kernel[2]])


@params(kernel=KERNEL)
def step_weights(kernel) -> np.ndarray:
    """Weights of the steps ``dx = -1, 0, +1`` of a path: ``[f[0], 1 + f[1], f[2]]``."""
    return _step_weights(kernel)


@params(Rule("n_layers", lambda n_layers, psi0: 3**n_layers * psi0.size <= MAX_PATH_TERMS,
             f"3^n_layers paths per site times the sites are too many to enumerate (more than {MAX_PATH_TERMS:.0e} "
             "terms); use propagate(), or fewer layers"),
        **{**BLOCKS, "n_layers": Integer(ge=0, le=14, typical=(0, 5), hint="3^n_layers paths per site are too "
                                         "many to enumerate beyond that; use propagate()")})
def sum_over_paths(kernel, psi0, n_layers, boundary: str = "zero"):
    """``psi_N(x)`` as an explicit sum over all ``3^N`` lattice paths ending at each ``x`` (small N only).

    Each path contributes the product of its step weights times ``psi0`` at its
    start. With a zero boundary, paths that leave the lattice at any layer
    contribute nothing (exactly what zero padding does layer by layer).
    """
    M = psi0.size
    if n_layers == 0:
        return psi0.copy()
    w = _step_weights(kernel)
    steps = np.array(list(itertools.product((-1, 0, 1), repeat=n_layers)), dtype=int)
    weight = np.prod(w[steps + 1], axis=1)
    # offsets of x_t from the end point x_N, for t = N-1, ..., 0 (x_{t-1} = x_t - dx_t)
    offsets = -np.cumsum(steps[:, ::-1], axis=1)
    start = offsets[:, -1]
    lo, hi = np.minimum(offsets.min(axis=1), 0), np.maximum(offsets.max(axis=1), 0)
    out = np.zeros(M)
    for x in range(M):
        if boundary == "periodic":
            out[x] = weight @ psi0[(x + start) % M]
        else:
            ok = (x + lo >= 0) & (x + hi <= M - 1)
            out[x] = weight[ok] @ psi0[x + start[ok]]
    return out


@params(Rule("kernel", lambda kernel: bool(np.all(_step_weights(kernel) >= 0)),
             "its step weights [f[0], 1 + f[1], f[2]] must be >= 0 to be sampled as probabilities (take alpha^2 <= 1)"),
        Rule("x", lambda x, psi0: x < psi0.size, "must be a lattice site 0..len(psi0) - 1"),
        **{**BLOCKS, "n_layers": Integer(ge=0, typical=(0, 10))}, x=Integer(ge=0, typical=(0, 2)),
        n_paths=Integer(ge=2, typical=(2, 200)), rng=Seed())
def sample_paths(kernel, psi0, n_layers, x, n_paths: int, *, rng=None, boundary: str = "zero"):
    """Monte Carlo over paths: estimate ``psi_N(x)`` from ``n_paths`` random paths ending at ``x``.

    Steps are drawn from the normalised weights ``p = w / sum(w)`` (all weights must
    be >= 0), so ``psi_N(x) = (sum w)^N E[psi0(x_0)]``. Returns ``(estimate, standard error)``.
    """
    w = _step_weights(kernel)
    rng = make_rng(rng)
    M = psi0.size
    steps = rng.choice(np.array([-1, 0, 1]), size=(n_paths, n_layers), p=w / w.sum())
    positions = np.concatenate([np.full((n_paths, 1), x), x - np.cumsum(steps[:, ::-1], axis=1)], axis=1)
    if boundary == "periodic":
        values = psi0[positions[:, -1] % M]
    else:
        inside = np.all((positions >= 0) & (positions <= M - 1), axis=1)
        values = np.where(inside, psi0[np.clip(positions[:, -1], 0, M - 1)], 0.0)
    scale = w.sum() ** n_layers
    return scale * values.mean(), scale * values.std(ddof=1) / np.sqrt(n_paths)


@params(x=Array(shape=(None,)), t=Real(ge=0), alpha=Real(), beta=Real(), gamma=Real(),
        width=Real(gt=0, hint="the initial Gaussian's width"))
def exact_gaussian(x, t, alpha, beta, gamma, width: float = 1.0):
    """Solution of ``psi_t = alpha^2/2 psi_xx + beta psi_x + gamma psi`` from ``psi(x, 0) = exp(-x^2 / (2 width^2))``."""
    s2 = width**2 + alpha**2 * t
    return np.exp(gamma * t) * width / np.sqrt(s2) * np.exp(-(x + beta * t) ** 2 / (2 * s2))


@params(Rule("path", lambda path: path.shape[-1] >= 2, "needs at least two points x_0, x_1 along its last axis"),
        path=Array(ndim=(2, 1), hint="points x_0..x_N along the last axis"), alpha=Real(gt=0), beta=Real(),
        gamma=Real())
def action(path, alpha, beta, gamma):
    """Continuum Euclidean action of a path ``x_0..x_N`` with unit time steps (see the module docstring)."""
    v = np.diff(path, axis=-1)
    per_step = (v + beta) ** 2 / (2 * alpha**2) - (gamma - np.log(alpha * np.sqrt(2 * np.pi)))
    return per_step.sum(axis=-1)


@params(kernel=KERNEL, k=AnyOf(Real(), Array(shape=(None,))))
def amplification(kernel, k):
    """Growth factor of the Fourier mode ``e^{ikx}`` per block: ``1 + f1 + f0 e^{ik} + f2 e^{-ik}``."""
    f = kernel
    return 1 + f[1] + f[0] * np.exp(1j * k) + f[2] * np.exp(-1j * k)


# ----------------------------------------------------------------------------- PIMC for the harmonic oscillator

@params(inverse_temperature=Real(gt=0), n_slices=Integer(ge=1, le=10**7, typical=(1, 64),
                                                         hint="one normal mode per slice"))
def discretised_x2(inverse_temperature: float, n_slices: int) -> float:
    """Exact ``<x^2>`` of the primitive-action path integral of ``V = x^2/2`` (a Gaussian: normal modes)."""
    tau = inverse_temperature / n_slices
    j = np.arange(n_slices)
    eig = (2 - 2 * np.cos(2 * np.pi * j / n_slices)) / tau + tau
    return float(np.mean(1.0 / eig))


@params(Rule("n_slices", lambda n_slices: n_slices % 2 == 0, "must be even (checkerboard updates)"),
        inverse_temperature=Real(gt=0, typical=(0.5, 20.0)), n_slices=Integer(ge=2, typical=(2, 16)),
        n_chains=Integer(ge=2, typical=(2, 10), hint="the error comes from the spread of independent chains"),
        n_sweeps=Integer(ge=2, typical=(2, 30)), burn_in=Integer(ge=0, typical=(0, 10)),
        step=Optional(Real(gt=0, le=10.0, typical=(0.05, 0.5),
                           hint="the path's extent is ~1: larger steps accept almost nothing; None takes sqrt(tau)")),
        rng=Seed(), progress=Flag())
def pimc_harmonic(inverse_temperature: float = 10.0, n_slices: int = 16, *, n_chains: int = 200, n_sweeps: int = 2000,
                  burn_in: int = 200, step: float | None = None, rng=None, progress: bool = False):
    """Path-integral Monte Carlo for ``H = p^2/2 + x^2/2`` at inverse temperature ``inverse_temperature`` (the thesis' beta; named apart from
    the drift coefficient ``beta`` of the PDE blocks).

    Primitive (Trotter) action ``S = sum_k [(x_{k+1} - x_k)^2 / (2 tau) + tau x_k^2 / 2]``,
    ``tau = inverse_temperature / n_slices``, periodic in imaginary time. Each sweep moves all even,
    then all odd beads of ``n_chains`` independent chains (checkerboard Metropolis), then
    shifts each whole path. The energy uses the virial estimator, ``E = <V + x V'/2> = <x^2>``.
    Returns ``(energy, error)``: the mean over chains and sweeps, with the error from the independent chains
    (:func:`mlphys.stats.chain_mean_error`; blocking the chain-averaged series leaves too few blocks at class scale).
    Warns (``RuntimeWarning``) when fewer than :data:`MIN_ACCEPTANCE` of the bead moves are accepted: the paths
    then barely move and the energy is that of the starting paths.
    """
    from . import stats

    tau = inverse_temperature / n_slices
    step = np.sqrt(tau) if step is None else step
    rng = make_rng(rng)
    X = rng.normal(0.0, 0.7, (n_chains, n_slices))
    chain_sums = np.zeros(n_chains)            # per-chain sums of <x^2>: the chain means are all the error needs
    n_accepted = 0
    k = np.arange(n_slices)
    for sweep in progress_bar(range(burn_in + n_sweeps), progress, "PIMC"):
        for parity in (0, 1):
            idx = k[parity::2]
            left, right = X[:, (idx - 1) % n_slices], X[:, (idx + 1) % n_slices]
            old = X[:, idx]
            new = old + step * rng.standard_normal(old.shape)
            dS = ((new - left) ** 2 + (right - new) ** 2 - (old - left) ** 2 - (right - old) ** 2) / (2 * tau) \
                + tau * (new**2 - old**2) / 2
            accept = np.log(rng.random(old.shape)) < -dS
            n_accepted += int(np.count_nonzero(accept))
            X[:, idx] = np.where(accept, new, old)
        shift = 0.5 * rng.standard_normal((n_chains, 1))
        dS = tau * np.sum((X + shift) ** 2 - X**2, axis=1) / 2
        X = np.where((np.log(rng.random(n_chains)) < -dS)[:, None], X + shift, X)
        if sweep >= burn_in:
            chain_sums += np.mean(X**2, axis=1)
    acceptance = n_accepted / ((burn_in + n_sweeps) * n_chains * n_slices)
    if acceptance < MIN_ACCEPTANCE:
        warnings.warn(f"pimc_harmonic accepted {acceptance:.1%} of its bead moves (below {MIN_ACCEPTANCE:.0%}) with "
                      f"step={step:.3g}: the paths barely moved and the energy is not sampled; lower step (the "
                      f"default, sqrt(tau) = {np.sqrt(tau):.3g}, accepts about half)", RuntimeWarning, stacklevel=2)
    finite(chain_sums, "pimc_harmonic's <x^2>", "lower step or inverse_temperature")
    return stats.chain_mean_error(chain_sums[None, :] / n_sweeps)


@params(Rule("slices", lambda slices: np.unique(slices).size == slices.size,
             "must be distinct Trotter numbers (a repeated P adds no new tau to fit; average its energies first)"),
        inverse_temperature=Real(gt=0),
        slices=Array(shape=("n",), dtype=int, ge=1, min_size=3,
                     hint="Trotter numbers P >= 1, at least three (E0, c2 and c4 are fitted)"),
        energies=Array(shape=("n",)),
        errors=Array(shape=("n",), gt=0, hint="errors must be > 0 (they weight the fit); a zero error bar means the "
                                              "energy was not sampled"))
def trotter_extrapolation(inverse_temperature: float, slices, energies, errors):
    """Weighted fit ``E(tau) = E0 + c2 tau^2 + c4 tau^4`` (``tau = inverse_temperature / P``); returns ``(E0, error of E0, [c2, c4])``.

    The primitive action's error is even in ``tau``; for ``tau`` up to ~0.75 the ``tau^4`` term
    matters at the 1e-4 level, so a pure ``tau^2`` fit would be biased. Needs at least three distinct Trotter numbers.
    """
    tau = inverse_temperature / slices
    E, err = energies, errors
    A = np.column_stack([np.ones_like(tau), tau**2, tau**4]) / err[:, None]
    coef, *_ = np.linalg.lstsq(A, E / err, rcond=None)
    cov = np.linalg.inv(A.T @ A)
    return float(coef[0]), float(np.sqrt(cov[0, 0])), coef[1:]
