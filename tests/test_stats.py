"""mlphys.stats (Chapter 5): blocking error bars, chain errors, autocorrelation, radial densities, d-dim integrals.

Every expected number here comes from a definition or a closed form (hand-computed series, the AR(1) process,
the midpoint rule for sin), never from running the code.
"""
import warnings

import numpy as np
import pytest

from mlphys import stats


def _no_warnings(call):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return call()


def test_blocking_of_a_constant_series_has_zero_error():
    """A constant series: mean exact, error 0, statistical inefficiency 1 (nothing to be inefficient about),
    every sample its own block. 16 samples is the documented minimum and must be accepted."""
    for n in (16, 100):
        est = _no_warnings(lambda: stats.blocking(np.full(n, 2.5)))
        d = int(np.log2(n))
        assert (est.mean, est.error, est.variance, est.tau, est.blocks) == (2.5, 0.0, 0.0, 1.0, 2**d)


def test_blocking_alternating_pairs_are_exactly_anticorrelated():
    """x = 3, 1, 3, 1, ...: every pair averages to exactly 2, so once blocks hold two samples the block means are
    constant and the error of the mean is 0. Level 0 (lag-one autocorrelation -1) must fail the test for remaining
    correlation and level 1 must pass it, leaving 2^(d-1) = 512 blocks: no warning."""
    est = _no_warnings(lambda: stats.blocking(np.tile([3.0, 1.0], 512)))
    assert est.mean == 2.0 and est.error == 0.0 and est.blocks == 512 and est.warning == ""
    assert est.variance == 1.0 and est.tau == 0.0


def _ar1(phi, n, seed):
    """x_t = phi x_{t-1} + e_t, unit-variance innovations, started in the stationary law (variance 1/(1-phi^2))."""
    e = np.random.default_rng(seed).standard_normal(n)
    x = np.empty(n)
    x[0] = e[0] / np.sqrt(1 - phi**2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


def test_blocking_error_is_the_spread_of_block_means_and_follows_the_ar1_closed_form():
    """AR(1), phi = 0.8, 2^16 samples. Definitions: error^2 = var(block means) / blocks for the chosen block length
    b = n / blocks, and tau = n error^2 / var. Physics: for AR(1) the variance of a mean of b consecutive samples is
    (var / b) [ (1 + phi)/(1 - phi) - 2 phi (1 - phi^b) / (b (1 - phi)^2) ], so tau at block length b is the bracket
    (9 for b -> infinity). Tolerance: the block variance from B blocks has relative sd sqrt(2 / B); 4 of those."""
    phi, n = 0.8, 2**16
    x = _ar1(phi, n, seed=2)
    est = _no_warnings(lambda: stats.blocking(x))
    b = n // est.blocks
    assert est.blocks * b == n and b & (b - 1) == 0 and est.blocks >= stats.MIN_BLOCKS
    block_means = x.reshape(est.blocks, b).mean(axis=1)
    assert est.error == pytest.approx(np.sqrt(block_means.var() / est.blocks), rel=1e-12)
    assert est.mean == pytest.approx(x.mean(), rel=1e-12) and est.variance == pytest.approx(x.var(), rel=1e-12)
    assert est.tau == pytest.approx(n * est.error**2 / x.var(), rel=1e-12)
    tau_b = (1 + phi) / (1 - phi) - 2 * phi * (1 - phi**b) / (b * (1 - phi) ** 2)
    assert abs(est.tau / tau_b - 1) < 4 * np.sqrt(2 / est.blocks)
    assert est.tau > 5  # far from the naive (independent-sample) value 1


def test_blocking_warns_and_says_so_for_a_trend():
    """A linear trend has no finite correlation time: too few blocks remain, blocking warns and records why in
    ``.warning``; the error is still the spread of the block means at the level it stopped at."""
    x = np.arange(1024.0)
    with pytest.warns(RuntimeWarning, match="blocks remain"):
        est = stats.blocking(x)
    assert "blocks remain" in est.warning and est.blocks < stats.MIN_BLOCKS
    means = x.reshape(est.blocks, -1).mean(axis=1)
    assert est.error == pytest.approx(np.sqrt(means.var() / est.blocks), rel=1e-12)


def test_chain_mean_error_by_hand():
    """Two chains [1, 3] and [4, 8]: chain means 2 and 6, mean 4, sample sd (ddof 1) sqrt(8), error sqrt(8)/sqrt(2)
    = 2; all samples' variance (9 + 1 + 0 + 16) / 4 = 6.5, tau = 4 * 2^2 / 6.5. Two chains are enough."""
    est = stats.chain_mean_error(np.array([[1.0, 4.0], [3.0, 8.0]]))
    assert est.mean == 4.0 and est.error == pytest.approx(2.0, rel=1e-15) and est.blocks == 2
    assert est.variance == 6.5 and est.tau == pytest.approx(16 / 6.5, rel=1e-15)


def test_autocorrelation_by_hand():
    """x = 3, 1, 3, 1: deviations +-1, C(0) = 1, C(t) = sum_i d_i d_{i+t} / 4: -3/4, 2/4, -1/4; lags beyond n - 1
    are dropped. A constant series counts as perfectly correlated. The default returns lags 0..100."""
    np.testing.assert_allclose(stats.autocorrelation([3.0, 1.0, 3.0, 1.0], max_lag=10),
                               [1.0, -0.75, 0.5, -0.25], rtol=0, atol=1e-15)
    np.testing.assert_allclose(stats.autocorrelation([3.0, 1.0, 3.0, 1.0], max_lag=1), [1.0, -0.75], atol=1e-15)
    np.testing.assert_array_equal(stats.autocorrelation(np.full(10, 7.0), max_lag=5), np.ones(6))
    # 5, -1, 5, -1: deviations +-3, C(0) = 9 (not 1, so that a missing normalisation shows): the same ratios
    np.testing.assert_allclose(stats.autocorrelation([5.0, -1.0, 5.0, -1.0], max_lag=3),
                               [1.0, -0.75, 0.5, -0.25], rtol=0, atol=1e-15)
    assert stats.autocorrelation(np.random.default_rng(0).standard_normal(500)).shape == (101,)


@pytest.mark.parametrize("dim, shell", [
    (1, lambda r0, r1: 2 * (r1 - r0)),                              # |x| in [r0, r1): two intervals
    (2, lambda r0, r1: np.pi * (r1**2 - r0**2)),                    # annulus
    (3, lambda r0, r1: 4 / 3 * np.pi * (r1**3 - r0**3)),            # spherical shell
])
def test_radial_density_counts_per_shell_measure(dim, shell):
    """Particles at radii 0.2, 0.7, 0.7 (sample 1) and 0.2, 1.2, 3.0 (sample 2, the last beyond r_max = 2) in
    4 bins of width 0.5: rho = count / (shell measure) / samples, so that sum rho * shell = particles within r_max
    per sample (5/2); r are the bin centres."""
    radii = np.array([[0.2, 0.7, 0.7], [0.2, 1.2, 3.0]])
    direction = np.ones(dim) / np.sqrt(dim)
    r, rho = stats.radial_density(radii[..., None] * direction, r_max=2.0, n_bins=4)
    edges = np.array([0.0, 0.5, 1.0, 1.5, 2.0])
    measure = shell(edges[:-1], edges[1:])
    np.testing.assert_allclose(r, [0.25, 0.75, 1.25, 1.75], rtol=1e-15)
    np.testing.assert_allclose(rho, np.array([2, 2, 1, 0]) / measure / 2, rtol=1e-12)
    assert np.sum(rho * measure) == pytest.approx(2.5, rel=1e-12)
    assert stats.radial_density(radii[..., None] * direction, r_max=2.0)[0].shape == (60,)


def test_quadrature_versus_monte_carlo_closed_forms():
    """n = 1000 evaluations: m = floor(n^(1/d)) = 1000, 31, 10 points per axis (10^3 = 1000 exactly, despite
    1000^(1/3) rounding below 10). Midpoint rule for (pi/2) sin(pi x): sum_i sin(pi (i + 1/2)/m) = 1/sin(pi/2m),
    so the d-dim value is (pi / (2 m sin(pi/2m)))^d. Monte Carlo: var f = (pi^2/8)^d - 1 (E[f^2] = pi^2/8 per
    axis); the sample sd from 20,000 points has a relative error ~1 % (kurtosis <= 10), so 5 % is 5 sd."""
    out = stats.quadrature_versus_monte_carlo([1, 2, 3], 1000, rng=np.random.default_rng(0))
    m = np.array([1000, 31, 10])
    np.testing.assert_array_equal(out["points_per_axis"], m)
    d = np.array([1, 2, 3])
    np.testing.assert_allclose(out["quadrature_error"], np.abs((np.pi / (2 * m * np.sin(np.pi / (2 * m)))) ** d - 1),
                               rtol=1e-9)
    big = stats.quadrature_versus_monte_carlo([1, 3], 20000, rng=np.random.default_rng(1))
    sigma = np.sqrt(((np.pi**2 / 8) ** np.array([1, 3]) - 1) / 20000)
    np.testing.assert_allclose(big["monte_carlo_sigma"], sigma, rtol=0.05)
    assert np.all(big["monte_carlo_error"] < 5 * sigma)
    again = stats.quadrature_versus_monte_carlo([1, 3], 20000, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(big["monte_carlo_error"], again["monte_carlo_error"])


def test_chain_mean_error_refuses_an_array_that_looks_transposed():
    """400 AR(1) chains (phi = 0.9) of 1000 steps: the error from the chains is 1/((1 - phi) sqrt(N)) = 0.0158.
    Passed as (chains, steps) the function used to read 1000 "chains" of 400 "steps" and return a wrong error
    without a word; an array with more columns than rows (>= 2 rows) is now refused, saying what to pass."""
    from test_robustness import ar1_chains

    steps, chains, phi = 1000, 400, 0.9
    x = ar1_chains(steps, chains, phi)
    right = stats.chain_mean_error(x)
    assert right.error == pytest.approx(1 / ((1 - phi) * np.sqrt(steps * chains)), rel=0.15)
    with pytest.raises(ValueError, match="chain_axis=0 if the chains are the rows"):
        stats.chain_mean_error(x.T)
    assert stats.chain_mean_error(x.T, chain_axis=0) == right
    assert stats.chain_mean_error(x, chain_axis=1) == right
    # more chains than steps, said explicitly: accepted (vmc's 500 walkers x 400 steps)
    assert stats.chain_mean_error(x[:300], chain_axis=1).blocks == chains
    # one step per chain (pathint's chain means) cannot be read the other way: accepted as is
    assert stats.chain_mean_error(x[:1]).blocks == chains
    with pytest.raises(ValueError, match="at least 2 chains"):
        stats.chain_mean_error(x[:, :1])
