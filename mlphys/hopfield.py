"""Hopfield networks: associative memory as an Ising system (Chapter 4).

N spins ``s_i = +-1`` with symmetric couplings ``w_ij`` (``w_ii = 0``) and optional
fields ``h_i`` have the energy (Hopfield 1982)

    E(s) = -1/2 sum_{i != j} w_ij s_i s_j - sum_i h_i s_i .

Hebbian storage of P patterns ``xi^mu`` sets ``w_ij = (1/N) sum_mu xi_i^mu xi_j^mu``.
An asynchronous update aligns one spin with its local field,
``s_i <- sign(sum_j w_ij s_j + h_i)``, which can only lower E (or leave it): the
stored patterns become attractors of this zero-temperature dynamics as long as
the load ``alpha = P/N`` stays below ``alpha_c ~ 0.138`` (Amit, Gutfreund and
Sompolinsky 1985).

States are float arrays of +-1; functions accept a batch of states ``(B, N)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import make_rng, progress_bar
from .validate import as_array, integer, number, positive


def check_spins(s, name: str = "s") -> np.ndarray:
    """Return ``s`` as a float array, raising ValueError unless every entry is +1 or -1."""
    s = as_array(s, name, ndim=(1, 2))
    if not np.all(np.abs(s) == 1.0):
        raise ValueError(f"{name} must contain only +1 and -1 (map 0/1 bits with 2 * b - 1)")
    return s


def _check_weights(W, N=None, states="s"):
    W = as_array(W, "W", ndim=2)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square, got shape {W.shape}")
    if N is not None and W.shape[0] != N:
        raise ValueError(f"W is {W.shape[0]}x{W.shape[0]} but {states} has {N} spins; they must match")
    return W


def hebbian_weights(patterns) -> np.ndarray:
    """Hebb's rule ``w_ij = (1/N) sum_mu xi_i^mu xi_j^mu`` with ``w_ii = 0``; ``patterns`` has shape (P, N)."""
    xi = check_spins(np.atleast_2d(patterns), "patterns")
    N = xi.shape[1]
    W = xi.T @ xi / N
    np.fill_diagonal(W, 0.0)
    return W


def random_patterns(P: int, N: int, *, rng=None) -> np.ndarray:
    """P independent random patterns of N spins, each +-1 with probability 1/2."""
    P, N = integer(P, "P", minimum=1), integer(N, "N", minimum=2)
    return make_rng(rng).choice([-1.0, 1.0], size=(P, N))


def energy(W, s, fields=None) -> np.ndarray:
    """Energy ``-1/2 s.W.s - h.s`` of a state or of each row of a batch of states."""
    s = check_spins(s)
    W = _check_weights(W, s.shape[-1])
    e = -0.5 * np.einsum("...i,ij,...j->...", s, W, s)
    if fields is not None:
        e = e - s @ as_array(fields, "fields", ndim=1)
    return e


def overlap(s, patterns) -> np.ndarray:
    """Overlap ``m = (1/N) sum_i s_i xi_i`` (1: identical, -1: inverted, ~0: unrelated).

    ``patterns`` may be one pattern or a matrix of patterns (one per row).
    """
    s, xi = np.asarray(s, dtype=float), np.asarray(patterns, dtype=float)
    if s.shape[-1] != xi.shape[-1]:
        raise ValueError(f"s has {s.shape[-1]} spins but the patterns have {xi.shape[-1]}: they must match")
    return (s @ xi.T if xi.ndim == 2 else s @ xi) / s.shape[-1]


def flip(pattern, fraction_flipped: float, *, rng=None) -> np.ndarray:
    """Copy of ``pattern`` with a random ``fraction_flipped`` of its spins reversed (exact count)."""
    s = check_spins(pattern, "pattern").copy()
    fraction_flipped = positive(fraction_flipped, "fraction_flipped", allow_zero=True)
    if fraction_flipped > 1:
        raise ValueError(f"fraction_flipped must be in [0, 1], got {fraction_flipped}")
    n = int(round(fraction_flipped * s.shape[-1]))
    rng = make_rng(rng)
    if s.ndim == 1:
        s[rng.choice(s.size, n, replace=False)] *= -1
    else:
        for row in s:
            row[rng.choice(row.size, n, replace=False)] *= -1
    return s


#: A local field smaller than this fraction of the sum of its terms' sizes is a tie (a zero field): the round-off
#: of the sum (~N eps of it) then cannot decide a spin, so the dynamics does not depend on the order in which the
#: CPU adds the terms. Hebbian fields are multiples of 1/N, far above it unless exactly zero.
TIE = 1e-10


def _field_sizes(W, h):
    """Every local field's terms in magnitude, ``sum_j |w_ij| + |h_i|`` (spins are +-1): the scale of its round-off."""
    return np.abs(W).sum(axis=0) + np.abs(h)


def _sign(x, previous, size):
    """sign of the local field ``x`` (``size``: the sum of its terms' magnitudes), a tie keeping the previous spin."""
    tie = TIE * size
    return np.where(x > tie, 1.0, np.where(x < -tie, -1.0, previous))


@dataclass
class Recall:
    """Result of asynchronous dynamics: final states, sweeps used, and (optionally) the energy after each spin update."""

    states: np.ndarray
    sweeps: int
    converged: np.ndarray
    energies: np.ndarray | None = None


def run_async(W, s0, *, rng=None, max_sweeps: int = 50, fields=None, record_energy: bool = False) -> Recall:
    """Asynchronous (one spin at a time, random order) zero-temperature dynamics until no spin changes.

    Works on a batch of states ``(B, N)`` at once (all visit the spins in the
    same random order). With ``record_energy`` the energy of every state is
    recorded after every single-spin update (shape ``(updates + 1, B)``).
    """
    s = check_spins(s0, "s0").copy()
    single = s.ndim == 1
    s = np.atleast_2d(s)
    N = s.shape[1]
    W = _check_weights(W, N, "s0")
    h = np.zeros(N) if fields is None else as_array(fields, "fields", ndim=1)
    max_sweeps = integer(max_sweeps, "max_sweeps", minimum=1)
    rng = make_rng(rng)
    converged = np.zeros(len(s), dtype=bool)
    energies = [energy(W, s, h)] if record_energy else None
    sweeps = 0
    size = _field_sizes(W, h)
    for sweeps in range(1, max_sweeps + 1):
        changed = np.zeros(len(s), dtype=bool)
        for i in rng.permutation(N):
            new = _sign(s @ W[:, i] + h[i], s[:, i], size[i])
            changed |= new != s[:, i]
            s[:, i] = new
            if record_energy:
                energies.append(energy(W, s, h))
        converged = ~changed
        if converged.all():
            break
    return Recall(states=s[0] if single else s, sweeps=sweeps, converged=converged[0] if single else converged,
                  energies=np.array(energies) if record_energy else None)


def run_sync(W, s0, *, steps: int = 20, fields=None) -> np.ndarray:
    """Synchronous dynamics ``s <- sign(W s + h)`` for ``steps`` steps; returns all states ``(steps + 1, ..., N)``.

    Unlike the asynchronous rule it need not lower the energy and can end in a
    two-cycle.
    """
    s = check_spins(s0, "s0").copy()
    W = _check_weights(W, s.shape[-1], "s0")
    h = 0.0 if fields is None else as_array(fields, "fields", ndim=1)
    steps = integer(steps, "steps", minimum=1)
    size = _field_sizes(W, h)
    states = [s]
    for _ in range(steps):
        s = _sign(s @ W + h, s, size)
        states.append(s)
    return np.array(states)


def capacity_curve(N: int, alphas, *, n_seeds: int = 5, n_probe: int = 20, flip_fraction: float = 0.0,
                   max_sweeps: int = 30, rng=None, progress: bool = False):
    """Mean final overlap with a stored pattern as a function of the load ``alpha = P/N``.

    For each alpha and each of ``n_seeds`` networks, stores ``P = round(alpha N)``
    random patterns, starts the dynamics at up to ``n_probe`` of them (with
    ``flip_fraction`` of the spins flipped), and records the final overlap with
    the pattern it started from. Returns ``(P_values, mean, standard_error)``
    where the error is over the seeds.
    """
    N = integer(N, "N", minimum=2)
    n_seeds = integer(n_seeds, "n_seeds", minimum=1)
    rng = make_rng(rng)
    alphas = np.asarray(alphas, dtype=float)
    if np.any(alphas <= 0):
        raise ValueError("alphas must be positive loads P/N")
    Ps = np.maximum(1, np.round(alphas * N)).astype(int)
    means, errors = [], []
    iterator = progress_bar(list(Ps), progress, f"capacity, N = {N}")
    for P in iterator:
        per_seed = []
        for _ in range(n_seeds):
            xi = random_patterns(P, N, rng=rng)
            W = hebbian_weights(xi)
            probe = xi[: min(n_probe, P)]
            start = flip(probe, flip_fraction, rng=rng) if flip_fraction > 0 else probe
            final = run_async(W, start, rng=rng, max_sweeps=max_sweeps).states
            per_seed.append(np.mean(np.sum(final * probe, axis=1) / N))
        per_seed = np.array(per_seed)
        means.append(per_seed.mean())
        errors.append(per_seed.std(ddof=1) / np.sqrt(n_seeds) if n_seeds > 1 else np.nan)
    return Ps, np.array(means), np.array(errors)


def crossing(x, y, level: float) -> float:
    """First ``x`` where the piecewise-linear curve ``y(x)`` falls below ``level`` (NaN if it never does)."""
    x, y = as_array(x, "x", ndim=1), as_array(y, "y", ndim=1)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.size} and {y.size}")
    below = np.flatnonzero(y < level)
    if below.size == 0 or below[0] == 0:
        return float("nan") if below.size == 0 else float(x[0])
    k = below[0]
    return float(x[k - 1] + (level - y[k - 1]) * (x[k] - x[k - 1]) / (y[k] - y[k - 1]))


def mixture_state(patterns) -> np.ndarray:
    """The symmetric mixture ``sign(xi^1 + xi^2 + xi^3)`` of three patterns, a classic spurious attractor."""
    xi = check_spins(patterns, "patterns")
    if xi.shape[0] != 3:
        raise ValueError(f"a symmetric mixture needs exactly 3 patterns, got {xi.shape[0]}")
    return np.sign(xi.sum(axis=0))


def max_stored(patterns, *, threshold: float = 0.95, rng=None) -> int:
    """Largest P such that each of the first P patterns, stored together, is recalled from itself.

    "Recalled" means the asynchronous dynamics started at the pattern end with an
    overlap of at least ``threshold`` with it.
    """
    xi = check_spins(np.atleast_2d(patterns), "patterns")
    rng = make_rng(rng)
    for P in range(1, len(xi) + 1):
        final = run_async(hebbian_weights(xi[:P]), xi[:P], rng=rng).states
        if np.any(np.sum(final * xi[:P], axis=1) / xi.shape[1] < threshold):
            return P - 1
    return len(xi)


def binarize_digits(images, threshold: float = 8.0) -> np.ndarray:
    """Map scikit-learn's 0-16 grey-level digits to spins: +1 where the pixel exceeds ``threshold``."""
    images = as_array(images, "images", ndim=(1, 2))
    return np.where(images > number(threshold, "threshold"), 1.0, -1.0)
