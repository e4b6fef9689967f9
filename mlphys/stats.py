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
from .validate import as_array, integer, positive


#: Below this many blocks the test for remaining correlation has no power (error of the error ~ 1/sqrt(2 blocks)).
MIN_BLOCKS = 32


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


def blocking(samples) -> Estimate:
    """Mean and standard error of a correlated series by automated blocking (Jonsson 2018).

    Uses the last ``2^d`` samples (``d = floor(log2 n)``); needs at least 16 samples.
    Returns an :class:`Estimate` (unpacks as ``mean, error``). Warns (RuntimeWarning, and says so in
    ``.warning``) when no blocking level passes the test or fewer than :data:`MIN_BLOCKS` blocks remain:
    the series is too short for its correlation time.
    """
    x = as_array(samples, "samples", ndim=1)
    if x.size < 16:
        raise ValueError(f"blocking needs at least 16 samples, got {x.size}")
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
        warnings.warn(warning, RuntimeWarning, stacklevel=2)
        k = d - 1 if k is None else k
    return _estimate(mu, np.sqrt(s[k] / 2 ** (d - k)), used, 2 ** (d - k), warning)


def chain_mean_error(samples) -> Estimate:
    """Mean and standard error from independent Markov chains: ``samples`` is ``(steps, chains)``.

    Each chain's mean is one independent draw, however correlated the steps inside a chain are, so the
    error is the spread of the chain means over ``sqrt(chains)`` - valid as long as every chain was burnt in.
    Returns an :class:`Estimate` (unpacks as ``mean, error``; ``blocks`` is the number of chains).
    """
    x = as_array(samples, "samples", ndim=2)
    if x.shape[1] < 2:
        raise ValueError(f"samples needs at least 2 chains (columns), got shape {x.shape}")
    means = x.mean(axis=0)
    return _estimate(means.mean(), means.std(ddof=1) / np.sqrt(means.size), x.ravel(), means.size)


#: How a seed spread prints: "4.4 ± 0.3 (5 seeds)". The notebooks' regression check (nbval) recognises this form
#: and compares its text but not its digits (tests/nbval_sanitize.cfg): a chaotic run's digits are one sample.
SPREAD_FORMAT = "{mean} ± {sd} ({n} seeds)"


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
        values = as_array(self.values, "values", ndim=1)
        if values.size < 2:
            raise ValueError(f"values needs the results of at least 2 seeds for a spread, got {values.size}")
        object.__setattr__(self, "values", tuple(float(v) for v in values))

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def sd(self) -> float:
        return float(np.std(self.values, ddof=1))

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

    def format(self, scale: float = 1.0, unit: str = "") -> str:
        d = self.decimals(scale)
        return SPREAD_FORMAT.format(mean=f"{self.mean * scale:.{d}f}{unit}", sd=f"{self.sd * scale:.{d}f}{unit}",
                                    n=self.n)

    def __str__(self):
        return self.format()


def quadrature_versus_monte_carlo(dims, n_evals: int, *, rng=None) -> dict:
    """Relative error of a d-dimensional integral at a fixed budget of ``n_evals`` integrand evaluations.

    The integrand ``prod_k (pi/2) sin(pi x_k)`` on the unit cube integrates to exactly 1 in every dimension.
    Quadrature: the tensor-product midpoint rule with ``m = floor(n_evals^(1/d))`` points per axis (error
    ~ d m^-2 = d n^(-2/d)); for this separable integrand its value is the 1D rule to the power d, computed
    exactly without enumerating the m^d points. Monte Carlo: ``n_evals`` uniform points (error ~ sigma / sqrt(n),
    whatever d), with its estimated standard error. Returns arrays keyed ``dims``, ``points_per_axis``,
    ``quadrature_error``, ``monte_carlo_error``, ``monte_carlo_sigma``.
    """
    dims = [integer(d, "dims", minimum=1) for d in np.atleast_1d(dims)]
    n_evals = integer(n_evals, "n_evals", minimum=2)
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


def naive_error(samples) -> float:
    """``sqrt(var / n)``: the standard error if the samples were independent."""
    x = as_array(samples, "samples", ndim=1)
    return float(np.sqrt(x.var() / x.size))


def autocorrelation(samples, max_lag: int = 100) -> np.ndarray:
    """Normalised autocorrelation function ``C(t) / C(0)`` for lags 0..max_lag."""
    x = as_array(samples, "samples", ndim=1)
    max_lag = min(integer(max_lag, "max_lag", minimum=0), x.size - 1)
    x = x - x.mean()
    c0 = np.dot(x, x) / x.size
    if c0 == 0:
        return np.ones(max_lag + 1)
    return np.array([np.dot(x[: x.size - t], x[t:]) / x.size / c0 for t in range(max_lag + 1)])


def radial_density(positions, *, r_max: float, n_bins: int = 60):
    """One-body radial density from sampled positions ``(..., D)``, normalised to the particle number.

    Returns ``(r, rho)`` with ``rho(r)`` the density per unit area (2D) or volume (3D) or
    length (1D, |x|), so that ``integral rho dV = particles per sample``.
    ``positions`` has shape ``(samples, particles, D)``.
    """
    X = as_array(positions, "positions", ndim=3)
    n_samples, n_particles, dim = X.shape
    if dim > 3:
        raise ValueError(f"positions must be in 1, 2 or 3 dimensions (last axis), got {dim}")
    r_max = positive(r_max, "r_max")
    r = np.linalg.norm(X, axis=-1).ravel()
    edges = np.linspace(0.0, r_max, integer(n_bins, "n_bins", minimum=2) + 1)
    counts, _ = np.histogram(r, bins=edges)
    if dim == 1:
        shell = 2 * np.diff(edges)
    elif dim == 2:
        shell = np.pi * np.diff(edges**2)
    else:
        shell = 4.0 / 3.0 * np.pi * np.diff(edges**3)
    return 0.5 * (edges[1:] + edges[:-1]), counts / shell / n_samples
