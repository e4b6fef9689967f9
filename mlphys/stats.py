"""Statistics for Monte Carlo: automated blocking error bars and one-body densities (Chapter 5).

Successive Monte Carlo samples are correlated, so the naive standard error
``sqrt(var / n)`` is too small. Blocking (Flyvbjerg and Petersen 1989) averages
neighbouring pairs repeatedly; once blocks are longer than the correlation
time, the variance of the block means stops growing. Jonsson's automated
version (Phys. Rev. E 98, 043304 (2018)) decides when with a chi-squared test
on the lag-one autocovariances of all blocking levels.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2

from .config import make_rng
from .validate import AnyOf, Array, Choice, Integer, Optional, Real, Rule, Seed, Sequence, Text, fields, params


#: Below this many blocks the test for remaining correlation has no power (error of the error ~ 1/sqrt(2 blocks)).
MIN_BLOCKS = 32


@fields(mean=Real(), error=Real(ge=0), variance=Real(ge=0), tau=Real(ge=0), blocks=Integer(ge=1),
                 warning=Text(allow_empty=True))
@dataclass(frozen=True)
class Estimate:
    """A mean with its standard error, from :func:`blocking` or :func:`chain_mean_error`.

    ``variance``: of the samples; ``tau``: the statistical inefficiency ``n error^2 / variance`` (1 for independent
    samples, ``1 + 2 sum_t rho_t`` for a correlated series: each ``tau`` samples are worth one); ``blocks``: the
    independent pieces the error comes from (blocks at the chosen level, or chains); ``warning``: why the error
    may be too small ("" if none). Unpacks as ``mean, error = estimate``.
    """

    mean: float
    error: float
    variance: float
    tau: float
    blocks: int
    warning: str = ""

    def __iter__(self):
        return iter((self.mean, self.error))

    def __len__(self):
        return 2

    def __getitem__(self, index):
        return (self.mean, self.error)[index]


def _estimate(mean, error, x, blocks, warning="") -> Estimate:
    variance = float(np.var(x))
    tau = x.size * error**2 / variance if variance > 0 else 1.0
    return Estimate(float(mean), float(error), variance, float(tau), int(blocks), warning)


#: A series of samples, in order.
SERIES = Array(shape=(None,), hint="one sample per step, in order")


@params(samples=Array(shape=(None,), min_size=16, hint="one sample per step, in order"))
def blocking(samples) -> Estimate:
    """Mean and standard error of a correlated series by automated blocking (Jonsson 2018).

    Uses the last ``2^d`` samples (``d = floor(log2 n)``); needs at least 16 samples.
    Returns an :class:`Estimate` (unpacks as ``mean, error``). Warns (RuntimeWarning, and says so in
    ``.warning``) when no blocking level passes the test or fewer than :data:`MIN_BLOCKS` blocks remain:
    the series is too short for its correlation time.
    """
    x = samples
    d = int(np.floor(np.log2(x.size)))
    x = x[-(2**d):].copy()
    used, mu = x.copy(), x.mean()
    s, gamma = np.zeros(d), np.zeros(d)
    for i in range(d):
        n = x.size
        gamma[i] = np.sum((x[:-1] - mu) * (x[1:] - mu)) / n
        s[i] = x.var()
        x = 0.5 * (x[0::2] + x[1::2])
    if np.all(s == 0):
        return _estimate(mu, 0.0, used, used.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(s > 0, gamma / s, 0.0)
    M = np.cumsum((ratio**2 * 2.0 ** np.arange(1, d + 1)[::-1])[::-1])[::-1]
    q = chi2.ppf(0.99, df=np.arange(1, d + 1))
    k = next((k for k in range(d) if M[k] < q[k]), None)
    warning = ""
    if k is None or 2 ** (d - k) < MIN_BLOCKS:
        reason = ("no blocking level passed the test" if k is None else
                  f"only {2 ** (d - k)} blocks remain at the chosen level (fewer than {MIN_BLOCKS})")
        warning = (f"blocking: {reason}; the series ({2**d} samples) is short compared with its correlation time "
                   "and the error is probably too small - run longer")
        warnings.warn(warning, RuntimeWarning, stacklevel=3)   # past the declaration wrapper
        k = d - 1 if k is None else k
    return _estimate(mu, np.sqrt(s[k] / 2 ** (d - k)), used, 2 ** (d - k), warning)


def _chains(samples, chain_axis):
    return samples.shape[0 if chain_axis == 0 else 1]


@params(Rule("samples", lambda samples, chain_axis: _chains(samples, chain_axis) >= 2,
             "needs at least 2 chains (columns of a (steps, chains) array, rows with chain_axis=0)"),
        Rule("samples", lambda samples, chain_axis: chain_axis is not None
             or not 2 <= samples.shape[0] < samples.shape[1],
             "has more columns than rows: read as (steps, chains) it has more chains than steps, which usually means "
             "it is (chains, steps). Say which: chain_axis=0 if the chains are the rows (chains, steps), "
             "chain_axis=1 if they are the columns (steps, chains)"),
        samples=Array(ndim=2, hint="(steps, chains): one column per independent chain"),
        chain_axis=Optional(Choice(0, 1)))
def chain_mean_error(samples, *, chain_axis=None) -> Estimate:
    """Mean and standard error from independent Markov chains: ``samples`` is ``(steps, chains)``.

    Each chain's mean is one independent draw, however correlated the steps inside a chain are, so the
    error is the spread of the chain means over ``sqrt(chains)`` - valid as long as every chain was burnt in.
    Returns an :class:`Estimate` (unpacks as ``mean, error``; ``blocks`` is the number of chains).

    ``chain_axis`` says which axis holds the chains: 1 (columns, ``(steps, chains)``) or 0 (rows,
    ``(chains, steps)``). Left at None, ``samples`` is read as ``(steps, chains)`` and refused when it has more
    columns than rows (at least 2 rows): a transposed array would silently give a wrong error.
    """
    x = samples.T if chain_axis == 0 else samples
    means = x.mean(axis=0)
    return _estimate(means.mean(), means.std(ddof=1) / np.sqrt(means.size), x.ravel(), means.size)


#: How a seed spread prints: "4.4 ± 0.3 (5 seeds)". The notebooks' regression check (nbval) recognises this form
#: and compares its text but not its digits (tests/nbval_sanitize.cfg): a chaotic run's digits are one sample.
SPREAD_FORMAT = "{mean} ± {sd} ({n} seeds)"
_DIMS_HINT = "each dimension costs n_evals random numbers"


@fields(values=Array(shape=(None,), min_size=2, hint="one result per seed; a spread needs at least 2"))
@dataclass(frozen=True)
class SeedSpread:
    """One computation repeated with ``n`` seeds: the mean and the standard deviation (ddof = 1) over the seeds.

    A training run is chaotic: a change in the last bits of its arithmetic (another CPU, another BLAS library)
    changes its result as much as a change of seed does, so one run's number is one sample of a distribution,
    and only the distribution is a result. ``str()`` prints ``mean ± sd (n seeds)`` with the sd to one significant
    figure (two when that figure is 1; at most four significant figures of the mean) and the mean to the same
    decimal place; ``spread.format(scale=100)``
    prints percentages. ``values``: one per seed, finite.
    """

    values: tuple

    def __post_init__(self):
        object.__setattr__(self, "values", tuple(float(v) for v in self.values))

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def sd(self) -> float:
        return float(np.std(self.values, ddof=1))

    @params(scale=Real(gt=0, hint="a unit factor, e.g. 100 for percentages"))
    def decimals(self, scale: float = 1.0) -> int:
        """Decimal places that the sd justifies (one significant figure, two when it starts with 1), but no more
        than four significant figures of the mean (seeds that all reach the same minimum have an sd of round-off)."""
        mean, sd = abs(self.mean * scale), self.sd * scale
        cap = max(0, 3 - int(np.floor(np.log10(mean)))) if mean > 0 else 3
        if sd == 0:
            return cap
        first = int(np.floor(np.log10(sd)))
        two = f"{sd / 10.0**first:.0f}" == "1"
        return min(cap, max(0, -first + (1 if two else 0)))

    @params(scale=Real(gt=0, hint="a unit factor, e.g. 100 for percentages"), unit=Text(allow_empty=True))
    def format(self, scale: float = 1.0, unit: str = "") -> str:
        d = self.decimals(scale)
        return SPREAD_FORMAT.format(mean=f"{self.mean * scale:.{d}f}{unit}", sd=f"{self.sd * scale:.{d}f}{unit}",
                                    n=self.n)

    def __str__(self):
        return self.format()


@params(dims=AnyOf(Integer(ge=1, le=100, hint=_DIMS_HINT), Sequence(Integer(ge=1, le=100, typical=(1, 12),
                                                                         hint=_DIMS_HINT))),
        n_evals=Integer(ge=2, le=10**7, typical=(2, 2000), hint="memory and time grow with n_evals"), rng=Seed())
def quadrature_versus_monte_carlo(dims, n_evals: int, *, rng=None) -> dict:
    """Relative error of a d-dimensional integral at a fixed budget of ``n_evals`` integrand evaluations.

    The integrand ``prod_k (pi/2) sin(pi x_k)`` on the unit cube integrates to exactly 1 in every dimension.
    Quadrature: the tensor-product midpoint rule with ``m = floor(n_evals^(1/d))`` points per axis (error
    ~ d m^-2 = d n^(-2/d)); for this separable integrand its value is the 1D rule to the power d, computed
    exactly without enumerating the m^d points. Monte Carlo: ``n_evals`` uniform points (error ~ sigma / sqrt(n),
    whatever d), with its estimated standard error. Returns arrays keyed ``dims``, ``points_per_axis``,
    ``quadrature_error``, ``monte_carlo_error``, ``monte_carlo_sigma``.
    """
    dims = [int(d) for d in np.atleast_1d(dims)]
    gen = make_rng(rng)
    m = np.array([int(np.floor(n_evals ** (1.0 / d) + 1e-9)) for d in dims])
    quad, mc, sigma = [], [], []
    for d, mk in zip(dims, m):
        nodes = (np.arange(mk) + 0.5) / mk
        one_d = np.mean(0.5 * np.pi * np.sin(np.pi * nodes))
        quad.append(abs(one_d**d - 1.0))
        f = np.ones(n_evals)
        for _ in range(d):                            # one axis at a time: memory n_evals, not n_evals x d
            f *= 0.5 * np.pi * np.sin(np.pi * gen.random(n_evals))
        mc.append(abs(f.mean() - 1.0))
        sigma.append(f.std() / np.sqrt(n_evals))
    return dict(dims=np.array(dims), points_per_axis=m, quadrature_error=np.array(quad),
                monte_carlo_error=np.array(mc), monte_carlo_sigma=np.array(sigma))


@params(samples=SERIES)
def naive_error(samples) -> float:
    """``sqrt(var / n)``: the standard error if the samples were independent."""
    x = samples
    return float(np.sqrt(x.var() / x.size))


@params(samples=SERIES, max_lag=Integer(ge=0, typical=(0, 5)))
def autocorrelation(samples, max_lag: int = 100) -> np.ndarray:
    """Normalised autocorrelation function ``C(t) / C(0)`` for lags 0..max_lag (lags beyond n - 1 dropped)."""
    x = samples
    max_lag = min(max_lag, x.size - 1)
    x = x - x.mean()
    c0 = np.dot(x, x) / x.size
    if c0 == 0:
        return np.ones(max_lag + 1)
    return np.array([np.dot(x[: x.size - t], x[t:]) / x.size / c0 for t in range(max_lag + 1)])


@params(Rule("positions", lambda positions: positions.shape[2] <= 3, "must be in 1, 2 or 3 dimensions (the last "
             "axis): it is (samples, particles, D)"),
        positions=Array(shape=(None, None, None), hint="(samples, particles, D) with D = 1, 2 or 3 dimensions"),
        r_max=Real(gt=0), n_bins=Integer(ge=2, le=10**7, typical=(2, 20)))
def radial_density(positions, *, r_max: float, n_bins: int = 60):
    """One-body radial density from sampled positions ``(..., D)``, normalised to the particle number.

    Returns ``(r, rho)`` with ``rho(r)`` the density per unit area (2D) or volume (3D) or
    length (1D, |x|), so that ``integral rho dV = particles per sample``.
    ``positions`` has shape ``(samples, particles, D)``.
    """
    X = positions
    n_samples, n_particles, dim = X.shape
    r = np.linalg.norm(X, axis=-1).ravel()
    edges = np.linspace(0.0, r_max, n_bins + 1)
    counts, _ = np.histogram(r, bins=edges)
    if dim == 1:
        shell = 2 * np.diff(edges)
    elif dim == 2:
        shell = np.pi * np.diff(edges**2)
    else:
        shell = 4.0 / 3.0 * np.pi * np.diff(edges**3)
    return 0.5 * (edges[1:] + edges[:-1]), counts / shell / n_samples
