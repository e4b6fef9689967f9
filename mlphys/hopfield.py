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
from .validate import AnyOf, Array, Flag, Integer, Optional, Real, Rule, Seed, params

#: states of +-1 spins: one state (N,) or a batch (B, N)
SPINS = Array(ndim=(2, 1), values=(-1, 1), hint="spins are +1 or -1 (map 0/1 bits with 2 * b - 1)")
#: square couplings, one row and column per spin
WEIGHTS = Array(shape=("n", "n"), hint="square couplings w_ij, one row and one column per spin")
#: optional external fields, one per spin (a row of W each): a Rule, so that W (not fields) fixes the spin count
FIELDS = Optional(Array(shape=(None,), hint="one field per spin"))
ONE_FIELD_PER_SPIN = Rule("fields", lambda W, fields: fields is None or fields.shape == W.shape[:1],
                          "must have one entry per spin (a row of W each)")


ONE_SPIN_PER_ROW = "must have one spin per row of W (its last axis has W's size)"


@params(s=SPINS)
def check_spins(s) -> np.ndarray:
    """Return ``s`` as a float array, raising ValueError unless every entry is +1 or -1."""
    return s


def _hebbian(xi):
    N = xi.shape[1]
    W = xi.T @ xi / N
    np.fill_diagonal(W, 0.0)
    return W


@params(patterns=Array(shape=("P", "N"), values=(-1, 1), promote=True,
                       hint="one pattern of +-1 spins per row (map 0/1 bits with 2 * b - 1)"))
def hebbian_weights(patterns) -> np.ndarray:
    """Hebb's rule ``w_ij = (1/N) sum_mu xi_i^mu xi_j^mu`` with ``w_ii = 0``; ``patterns`` has shape (P, N)."""
    return _hebbian(patterns)


@params(P=Integer(ge=1, typical=(1, 5)), N=Integer(ge=2, typical=(2, 20)), rng=Seed())
def random_patterns(P: int, N: int, *, rng=None) -> np.ndarray:
    """P independent random patterns of N spins, each +-1 with probability 1/2."""
    return make_rng(rng).choice([-1.0, 1.0], size=(P, N))


def _energy(W, s, h=None):
    e = -0.5 * np.einsum("...i,ij,...j->...", s, W, s)
    if h is not None:
        e = e - s @ h
    return e


@params(Rule("s", lambda W, s: s.shape[-1] == W.shape[0], ONE_SPIN_PER_ROW), ONE_FIELD_PER_SPIN,
        W=WEIGHTS, s=SPINS, fields=FIELDS)
def energy(W, s, fields=None) -> np.ndarray:
    """Energy ``-1/2 s.W.s - h.s`` of a state or of each row of a batch of states."""
    return _energy(W, s, fields)


@params(Rule("patterns", lambda s, patterns: s.shape[-1] == patterns.shape[-1],
             "must have as many spins (last axis) as s"),
        s=Array(ndim=(2, 1)), patterns=Array(ndim=(2, 1), hint="one pattern or one pattern per row"))
def overlap(s, patterns) -> np.ndarray:
    """Overlap ``m = (1/N) sum_i s_i xi_i`` (1: identical, -1: inverted, ~0: unrelated).

    ``patterns`` may be one pattern or a matrix of patterns (one per row).
    """
    return (s @ patterns.T if patterns.ndim == 2 else s @ patterns) / s.shape[-1]


def _flip(s, fraction_flipped, rng):
    n = int(round(fraction_flipped * s.shape[-1]))
    if s.ndim == 1:
        s[rng.choice(s.size, n, replace=False)] *= -1
    else:
        for row in s:
            row[rng.choice(row.size, n, replace=False)] *= -1
    return s


@params(pattern=SPINS, fraction_flipped=Real(ge=0, le=1), rng=Seed())
def flip(pattern, fraction_flipped: float, *, rng=None) -> np.ndarray:
    """Copy of ``pattern`` with a random ``fraction_flipped`` of its spins reversed (exact count)."""
    return _flip(pattern, fraction_flipped, make_rng(rng))          # pattern is the decorator's copy


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


# the dataclass writes __init__; its parameters are declared here (the dynamics build their Recall unchecked)
_unchecked_init = Recall.__init__
Recall.__init__ = params(
    Rule("converged", lambda states, converged: np.shape(converged) == states.shape[:-1],
         "needs one flag per state (True/False for one state, an array for a batch)"),
    states=SPINS, sweeps=Integer(ge=0), converged=AnyOf(Flag(), Array(ndim=1, dtype=bool)),
    energies=Optional(Array(ndim=2, hint="the energy of every state (columns) after every update (rows)")),
)(_unchecked_init)


def _run_async(W, s, rng, max_sweeps, h, record_energy):
    single = s.ndim == 1
    s = np.atleast_2d(s)
    N = s.shape[1]
    h = np.zeros(N) if h is None else h
    converged = np.zeros(len(s), dtype=bool)
    energies = [_energy(W, s, h)] if record_energy else None
    sweeps = 0
    size = _field_sizes(W, h)
    for sweeps in range(1, max_sweeps + 1):
        changed = np.zeros(len(s), dtype=bool)
        for i in rng.permutation(N):
            new = _sign(s @ W[:, i] + h[i], s[:, i], size[i])
            changed |= new != s[:, i]
            s[:, i] = new
            if record_energy:
                energies.append(_energy(W, s, h))
        converged = ~changed
        if converged.all():
            break
    recall = object.__new__(Recall)
    _unchecked_init(recall, states=s[0] if single else s, sweeps=sweeps,
                    converged=converged[0] if single else converged,
                    energies=np.array(energies) if record_energy else None)
    return recall


@params(Rule("s0", lambda W, s0: s0.shape[-1] == W.shape[0], ONE_SPIN_PER_ROW), ONE_FIELD_PER_SPIN,
        W=WEIGHTS, s0=SPINS, rng=Seed(), max_sweeps=Integer(ge=1, typical=(1, 10)), fields=FIELDS, record_energy=Flag())
def run_async(W, s0, *, rng=None, max_sweeps: int = 50, fields=None, record_energy: bool = False) -> Recall:
    """Asynchronous (one spin at a time, random order) zero-temperature dynamics until no spin changes.

    Works on a batch of states ``(B, N)`` at once (all visit the spins in the
    same random order). With ``record_energy`` the energy of every state is
    recorded after every single-spin update (shape ``(updates + 1, B)``).
    """
    return _run_async(W, s0, make_rng(rng), max_sweeps, fields, record_energy)    # s0 is the decorator's copy


@params(Rule("s0", lambda W, s0: s0.shape[-1] == W.shape[0], ONE_SPIN_PER_ROW), ONE_FIELD_PER_SPIN,
        W=WEIGHTS, s0=SPINS, steps=Integer(ge=1, typical=(1, 10)), fields=FIELDS)
def run_sync(W, s0, *, steps: int = 20, fields=None) -> np.ndarray:
    """Synchronous dynamics ``s <- sign(W s + h)`` for ``steps`` steps; returns all states ``(steps + 1, ..., N)``.

    Unlike the asynchronous rule it need not lower the energy and can end in a
    two-cycle. ``fields`` has one entry per spin.
    """
    s = s0
    h = 0.0 if fields is None else fields
    size = _field_sizes(W, h)
    states = [s]
    for _ in range(steps):
        s = _sign(s @ W + h, s, size)
        states.append(s)
    return np.array(states)


@params(N=Integer(ge=2, typical=(2, 30)),
        alphas=Array(shape=(None,), gt=0, le=1, hint="loads P/N in (0, 1]: P = round(alpha N) patterns are stored "
                     "(recall is long gone past alpha_c ~ 0.138)"),
        n_seeds=Integer(ge=2, typical=(2, 4), hint="the standard error over the seeds needs at least two"),
        n_probe=Integer(ge=1, typical=(1, 5)), flip_fraction=Real(ge=0, le=1),
        max_sweeps=Integer(ge=1, typical=(1, 10)),
        rng=Seed(), progress=Flag())
def capacity_curve(N: int, alphas, *, n_seeds: int = 5, n_probe: int = 20, flip_fraction: float = 0.0,
                   max_sweeps: int = 30, rng=None, progress: bool = False):
    """Mean final overlap with a stored pattern as a function of the load ``alpha = P/N``.

    For each alpha and each of ``n_seeds`` networks, stores ``P = round(alpha N)``
    random patterns, starts the dynamics at up to ``n_probe`` of them (with
    ``flip_fraction`` of the spins flipped), and records the final overlap with
    the pattern it started from. Returns ``(P_values, mean, standard_error)``
    where the error is over the seeds.
    """
    rng = make_rng(rng)
    Ps = np.maximum(1, np.round(alphas * N)).astype(int)
    means, errors = [], []
    iterator = progress_bar(list(Ps), progress, f"capacity, N = {N}")
    for P in iterator:
        per_seed = []
        for _ in range(n_seeds):
            xi = rng.choice([-1.0, 1.0], size=(P, N))
            W = _hebbian(xi)
            probe = xi[: min(n_probe, P)]
            start = _flip(probe.copy(), flip_fraction, rng) if flip_fraction > 0 else probe.copy()
            final = _run_async(W, start, rng, max_sweeps, None, False).states
            per_seed.append(np.mean(np.sum(final * probe, axis=1) / N))
        per_seed = np.array(per_seed)
        means.append(per_seed.mean())
        errors.append(per_seed.std(ddof=1) / np.sqrt(n_seeds))
    return Ps, np.array(means), np.array(errors)


@params(Rule("y", lambda x, y: x.shape == y.shape, "must have the same length as x (one value per x)"),
        Rule("x", lambda x: np.all(np.diff(x) > 0), "must increase strictly (the abscissae of the curve y(x))"),
        x=Array(shape=(None,)), y=Array(shape=(None,)), level=Real())
def crossing(x, y, level: float) -> float:
    """First ``x`` where the piecewise-linear curve ``y(x)`` falls below ``level`` (NaN if it never does)."""
    below = np.flatnonzero(y < level)
    if below.size == 0 or below[0] == 0:
        return float("nan") if below.size == 0 else float(x[0])
    k = below[0]
    return float(x[k - 1] + (level - y[k - 1]) * (x[k] - x[k - 1]) / (y[k] - y[k - 1]))


@params(patterns=Array(shape=(3, "N"), values=(-1, 1), hint="a symmetric mixture needs exactly 3 patterns of +-1 "
                       "spins, one per row"))
def mixture_state(patterns) -> np.ndarray:
    """The symmetric mixture ``sign(xi^1 + xi^2 + xi^3)`` of three patterns, a classic spurious attractor."""
    return np.sign(patterns.sum(axis=0))


@params(patterns=Array(shape=("P", "N"), values=(-1, 1), promote=True,
                       hint="one pattern of +-1 spins per row (map 0/1 bits with 2 * b - 1)"),
        threshold=Real(gt=0, le=1, hint="an overlap: 1 is perfect recall"), rng=Seed())
def max_stored(patterns, *, threshold: float = 0.95, rng=None) -> int:
    """Largest P such that each of the first P patterns, stored together, is recalled from itself.

    "Recalled" means the asynchronous dynamics started at the pattern end with an
    overlap of at least ``threshold`` with it.
    """
    xi = patterns
    rng = make_rng(rng)
    for P in range(1, len(xi) + 1):
        final = _run_async(_hebbian(xi[:P]), xi[:P].copy(), rng, 50, None, False).states
        if np.any(np.sum(final * xi[:P], axis=1) / xi.shape[1] < threshold):
            return P - 1
    return len(xi)


@params(images=Array(ndim=(2, 1)), threshold=Real())
def binarize_digits(images, threshold: float = 8.0) -> np.ndarray:
    """Map scikit-learn's 0-16 grey-level digits to spins: +1 where the pixel exceeds ``threshold``."""
    return np.where(images > threshold, 1.0, -1.0)
