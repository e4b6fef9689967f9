import numpy as np
import pytest

from scipy import stats

from mlphys import bayes, linreg


def test_discrete_posterior_is_bayes_theorem():
    post = bayes.discrete_posterior([0.01, 0.99], [0.99, 0.02])
    np.testing.assert_allclose(post[0], 0.99 * 0.01 / (0.99 * 0.01 + 0.02 * 0.99))
    np.testing.assert_allclose(post.sum(), 1.0)


def test_posterior_matches_conjugate_formulas(rng):
    X = linreg.design_matrix(rng.uniform(0, 1, 15), 2)
    y = rng.standard_normal(15)
    sigma, tau = 0.3, 2.0
    post = bayes.posterior(X, y, noise_sd=sigma, prior_sd=tau)
    precision = np.eye(3) / tau**2 + X.T @ X / sigma**2
    np.testing.assert_allclose(post.cov @ precision, np.eye(3), atol=1e-10)
    np.testing.assert_allclose(post.mean, np.linalg.solve(precision, X.T @ y / sigma**2), rtol=1e-10)


def test_posterior_matches_brute_force_quadrature(rng):
    x, y = linreg.make_linear_data(12, noise_sd=0.5, rng=rng)
    X = linreg.design_matrix(x, 1)
    post = bayes.posterior(X, y, noise_sd=0.5, prior_sd=1.0)
    mean, sd = bayes.grid_posterior_moments(X, y, noise_sd=0.5, prior_sd=1.0)
    np.testing.assert_allclose(mean, post.mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(sd, post.sd, rtol=1e-3)


def test_prior_mean_enters_the_posterior(rng):
    """A prior N(m0, tau^2 I): by quadrature, as a shift of the data, and as the limit of uninformative data."""
    x, y = linreg.make_linear_data(4, noise_sd=0.5, rng=rng)
    X = linreg.design_matrix(x, 1)
    m0 = np.array([0.7, -1.3])
    post = bayes.posterior(X, y, noise_sd=0.5, prior_sd=0.3, prior_mean=m0)
    mean, sd = bayes.grid_posterior_moments(X, y, noise_sd=0.5, prior_sd=0.3, prior_mean=m0)
    np.testing.assert_allclose(post.mean, mean, rtol=1e-4, atol=1e-5)
    # theta = m0 + delta with delta ~ N(0, tau^2): the same posterior for delta from the data y - X m0
    shifted = bayes.posterior(X, y - X @ m0, noise_sd=0.5, prior_sd=0.3)
    np.testing.assert_allclose(post.mean, m0 + shifted.mean, rtol=1e-12)
    np.testing.assert_allclose(post.cov, shifted.cov, rtol=1e-12)
    # data far noisier than the prior is wide teach nothing: the posterior mean is the prior mean
    vague = bayes.posterior(X, y, noise_sd=1e6, prior_sd=0.3, prior_mean=m0)
    np.testing.assert_allclose(vague.mean, m0, atol=1e-10)
    assert bayes.log_evidence(X, X @ m0, noise_sd=0.5, prior_sd=0.3, prior_mean=m0) > \
        bayes.log_evidence(X, X @ m0, noise_sd=0.5, prior_sd=0.3)


def test_posterior_mean_equals_ridge(rng):
    x, y = linreg.make_linear_data(30, rng=rng)
    X = linreg.design_matrix(x, 1)
    post = bayes.posterior(X, y, noise_sd=0.5, prior_sd=0.4)
    np.testing.assert_allclose(post.mean, linreg.ridge_fit(X, y, 0.25 / 0.16, penalize_intercept=True), rtol=1e-10)


def test_broad_prior_gives_ols_and_sd_shrinks_like_one_over_sqrt_n():
    posts, (x, y) = bayes.slope_sd_versus_n([25, 100, 400, 1600], prior_sd=1e6, rng=5)
    X = linreg.design_matrix(x, 1)
    np.testing.assert_allclose(posts[-1].mean, linreg.ols_fit(X, y), rtol=1e-8)
    sds = np.array([p.sd[1] for p in posts])
    np.testing.assert_allclose(sds[:-1] / sds[1:], 2.0, rtol=0.15)


def test_predictive_band_and_sampling(rng):
    post = bayes.GaussianPosterior(mean=np.array([1.0, 2.0]), cov=np.array([[0.04, 0.01], [0.01, 0.09]]))
    Xn = linreg.design_matrix(np.array([0.0, 1.0]), 1)
    mean, sd = post.predict(Xn, noise_sd=0.5)
    np.testing.assert_allclose(mean, [1.0, 3.0])
    np.testing.assert_allclose(sd**2, [0.04 + 0.25, 0.04 + 0.09 + 0.02 + 0.25])
    draws = post.sample(20000, rng=rng)
    np.testing.assert_allclose(np.cov(draws.T), post.cov, atol=0.005)


def test_credible_intervals_are_calibrated():
    frac, err = bayes.coverage(3000, 10, level=0.9, rng=2)
    assert abs(frac - 0.9) < 4 * err


def test_misspecified_noise_breaks_calibration():
    # data noise twice what the posterior assumes: 95% intervals cover only ~67% of the time
    rng = np.random.default_rng(4)
    hits = 0
    for _ in range(1000):
        x, y = linreg.make_linear_data(20, noise_sd=1.0, rng=rng)
        lo, hi = bayes.posterior(linreg.design_matrix(x, 1), y, noise_sd=0.5, prior_sd=10).interval(0.95)
        hits += lo[1] <= 2.0 <= hi[1]
    assert 0.6 < hits / 1000 < 0.74


@pytest.mark.parametrize("call, match", [
    (lambda: bayes.discrete_posterior([0.5, 0.6], [0.1, 0.2]), "sum to 1"),
    (lambda: bayes.discrete_posterior([0.5, 0.5], [0.1, 1.2]), "likelihood"),
    (lambda: bayes.discrete_posterior([0.5, 0.5], [0.1]), "likelihood has 1 entries"),
    (lambda: bayes.posterior(np.ones((3, 2)), np.ones(3), noise_sd=0.0, prior_sd=1.0), "noise_sd"),
    (lambda: bayes.posterior(np.ones((3, 2)), np.ones(3), noise_sd=1.0, prior_sd=-1.0), "prior_sd"),
    (lambda: bayes.posterior(np.ones((3, 2)), np.ones(2), noise_sd=1.0, prior_sd=1.0), "match X"),
    (lambda: bayes.grid_posterior_moments(np.ones((3, 3)), np.ones(3), noise_sd=1.0, prior_sd=1.0), "2 parameters"),
    (lambda: bayes.coverage(10, 5, level=1.0), "level"),
])
def test_bad_inputs_raise_valueerror(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_log_evidence_is_the_prior_averaged_likelihood():
    """One parameter: the closed form against quadrature of likelihood x prior over the slope."""
    from scipy import integrate

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 12)
    y = 0.7 * x + 0.3 * rng.standard_normal(12)
    X = x[:, None]
    like = lambda t: np.exp(np.sum(stats.norm.logpdf(y, t * x, 0.3)) + stats.norm.logpdf(t, 0, 2.0))  # noqa: E731
    z, _ = integrate.quad(like, -10, 10, points=[0.7], epsabs=0, epsrel=1e-10)
    assert bayes.log_evidence(X, y, noise_sd=0.3, prior_sd=2.0) == pytest.approx(np.log(z), abs=1e-8)


def test_model_average_prefers_the_true_degree():
    from mlphys import linreg

    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, 60)
    y = 1 - 2 * x + 3 * x**2 + 0.1 * rng.standard_normal(60)
    designs = [linreg.design_matrix(x, d) for d in range(6)]
    grid = np.linspace(-1, 1, 5)
    w, mean, sd = bayes.model_average(designs, y, [linreg.design_matrix(grid, d) for d in range(6)],
                                      noise_sd=0.1, prior_sd=10.0)
    assert w.sum() == pytest.approx(1.0) and np.argmax(w) == 2 and w[:2].sum() < 1e-6
    np.testing.assert_allclose(mean, 1 - 2 * grid + 3 * grid**2, atol=5 * sd.max())
    with pytest.raises(ValueError, match="X_new"):
        bayes.model_average(designs, y, designs[:2], noise_sd=0.1, prior_sd=10.0)


def test_discrete_posterior_edge_hypotheses():
    """Bayes' theorem at the edges: uninformative data (likelihood 1 for every hypothesis) return the prior; a
    hypothesis with zero prior or zero likelihood keeps zero posterior; a certain datum is a valid likelihood."""
    prior = np.array([0.2, 0.3, 0.5])
    np.testing.assert_allclose(bayes.discrete_posterior(prior, [1.0, 1.0, 1.0]), prior, rtol=1e-15)
    # joint = (0, 0, 0.25): all the mass on the one hypothesis that both allows the data and was thought possible
    np.testing.assert_allclose(bayes.discrete_posterior([0.0, 0.5, 0.5], [1.0, 0.0, 0.5]), [0.0, 0.0, 1.0], rtol=1e-15)


def _marginal_loglike(X, y, noise_sd, prior_sd, m0):
    """y ~ N(X m0, C), C = noise_sd^2 I + prior_sd^2 X X^T: theta integrated out of the linear-Gaussian model.

    Small n: scipy's multivariate normal density. Large n: the same density through the matrix determinant lemma
    and the Woodbury identity (p x p solves), so that the oracle stays fast."""
    n, p = X.shape
    if n <= 50:
        cov = noise_sd**2 * np.eye(n) + prior_sd**2 * X @ X.T
        return stats.multivariate_normal(X @ m0, cov).logpdf(y)
    r, k = y - X @ m0, noise_sd**2 / prior_sd**2
    A = k * np.eye(p) + X.T @ X
    quad = (r @ r - r @ X @ np.linalg.solve(A, X.T @ r)) / noise_sd**2
    logdet = 2 * n * np.log(noise_sd) + np.linalg.slogdet(np.eye(p) + X.T @ X / k)[1]
    return -0.5 * (quad + logdet + n * np.log(2 * np.pi))


def test_log_evidence_is_the_gaussian_marginal_likelihood():
    """Three parameters, with fewer data points than parameters (X X^T full rank, X^T X singular) and with more,
    a non-zero prior mean and prior_sd != 1: against the marginal Gaussian density of y (scipy), to round-off."""
    rng = np.random.default_rng(7)
    m0 = np.array([0.3, -0.2, 0.5])
    for n in (2, 6):
        X = linreg.design_matrix(rng.uniform(-1, 1, n), 2)
        y = rng.normal(size=n)
        assert bayes.log_evidence(X, y, noise_sd=0.4, prior_sd=0.7, prior_mean=m0) == pytest.approx(
            _marginal_loglike(X, y, 0.4, 0.7, m0), rel=1e-10)


def _conjugate_predictive(X, y, Xn, noise_sd, prior_sd):
    """Bishop (3.53)-(3.54) and (3.58)-(3.59): the posterior N(m_N, S_N), the predictive mean and variance."""
    S = np.linalg.inv(np.eye(X.shape[1]) / prior_sd**2 + X.T @ X / noise_sd**2)
    m = S @ X.T @ y / noise_sd**2
    return Xn @ m, np.einsum("ij,jk,ik->i", Xn, S, Xn) + noise_sd**2


@pytest.mark.parametrize("n", [12, 600])
def test_model_average_is_the_evidence_weighted_mixture(n):
    """Two models (constant, line) with prior probabilities 0.3 / 0.7: weights proportional to p(y | M) p(M)
    (marginal Gaussian densities), mean and variance of the mixture of the two Gaussian predictives (law of total
    variance). n = 600 makes log p(y | M) ~ +500, where exponentiating without subtracting the maximum overflows."""
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, n)
    y = 0.2 + 0.3 * x + 0.1 * rng.standard_normal(n)
    designs = [linreg.design_matrix(x, d) for d in (0, 1)]
    grid = np.array([-0.5, 0.0, 0.8])
    new = [linreg.design_matrix(grid, d) for d in (0, 1)]
    w, mean, sd = bayes.model_average(designs, y, new, noise_sd=0.1, prior_sd=2.0, model_prior=[0.3, 0.7])
    logw = np.array([_marginal_loglike(X, y, 0.1, 2.0, np.zeros(X.shape[1])) for X in designs]) + np.log([0.3, 0.7])
    w_expected = np.exp(logw - np.logaddexp(*logw))
    np.testing.assert_allclose(w, w_expected, rtol=1e-8, atol=1e-300)
    preds = [_conjugate_predictive(X, y, Xn, 0.1, 2.0) for X, Xn in zip(designs, new)]
    m_exp = sum(wk * mk for wk, (mk, _) in zip(w_expected, preds))
    v_exp = sum(wk * (vk + mk**2) for wk, (mk, vk) in zip(w_expected, preds)) - m_exp**2
    np.testing.assert_allclose(mean, m_exp, rtol=1e-10)
    np.testing.assert_allclose(sd, np.sqrt(v_exp), rtol=1e-7)


def test_predict_and_interval_defaults():
    """predict without noise_sd: the parameter uncertainty alone, x^T Sigma x; interval() is the central 95 %
    interval, mean +- 1.959964 sd."""
    post = bayes.GaussianPosterior(mean=np.array([1.0, 2.0]), cov=np.array([[0.04, 0.01], [0.01, 0.09]]))
    _, sd = post.predict(linreg.design_matrix(np.array([0.0, 1.0]), 1))
    np.testing.assert_allclose(sd**2, [0.04, 0.04 + 0.09 + 0.02], rtol=1e-14)
    lo, hi = post.interval()
    np.testing.assert_allclose(hi - post.mean, 1.959963984540054 * np.array([0.2, 0.3]), rtol=1e-12)
    np.testing.assert_allclose(post.mean - lo, 1.959963984540054 * np.array([0.2, 0.3]), rtol=1e-12)


def test_coverage_counts_and_binomial_error():
    """A 99.9999 % interval covers the slope in all 20 data sets (z = 4.9): the fraction is exactly 1, never above.
    The returned error is the binomial sqrt(level (1 - level) / n): 0.03 for 0.9 and 100 data sets. With a
    non-default truth and noise (slope -3, intercept 4, sd 0.05) the 90 % intervals are still calibrated within 4
    binomial errors, and the same seed repeats the result. The default level is 0.95."""
    frac, err = bayes.coverage(20, 10, level=0.999999, rng=0)
    assert frac == 1.0
    assert bayes.coverage(100, 5, level=0.9, rng=1)[1] == pytest.approx(0.03, rel=1e-12)
    frac, err = bayes.coverage(400, 10, level=0.9, slope=-3.0, intercept=4.0, noise_sd=0.05, rng=2)
    assert abs(frac - 0.9) < 4 * err
    assert bayes.coverage(400, 10, level=0.9, slope=-3.0, intercept=4.0, noise_sd=0.05, rng=2)[0] == frac
    frac, err = bayes.coverage(400, 10, rng=3)
    assert err == pytest.approx(np.sqrt(0.95 * 0.05 / 400), rel=1e-12) and abs(frac - 0.95) < 4 * err


def test_slope_sd_versus_n_draws_the_requested_line():
    """Least squares on the 400 drawn points recovers the requested (default: 1 + 2x, sd 0.5) line within 5
    standard errors and the noise sd within 15 % (sd of a sample sd: 1/sqrt(2 n) = 3.5 %); with one point the
    posterior is the conjugate one with the default prior sd 10 and noise sd 0.5."""
    for kw, (b0, b1, sd) in (({}, (1.0, 2.0, 0.5)),
                             (dict(slope=-3.0, intercept=4.0, noise_sd=0.05, prior_sd=1e6), (4.0, -3.0, 0.05))):
        posts, (x, y) = bayes.slope_sd_versus_n([400], rng=np.random.default_rng(4), **kw)
        X = linreg.design_matrix(x, 1)
        coef, rss = np.linalg.lstsq(X, y, rcond=None)[:2]
        se = np.sqrt(rss[0] / 398 * np.diag(np.linalg.inv(X.T @ X)))
        assert np.all(np.abs(coef - [b0, b1]) < 5 * se)
        assert abs(np.sqrt(rss[0] / 398) / sd - 1) < 0.15
    posts, (x, _) = bayes.slope_sd_versus_n([1], rng=5)
    X = linreg.design_matrix(x[:1], 1)
    np.testing.assert_allclose(posts[0].cov, np.linalg.inv(np.eye(2) / 100 + X.T @ X / 0.25), rtol=1e-10)


@pytest.mark.parametrize("n, noise_sd", [(12, 4.0), (1000, 0.2)])
def test_grid_moments_match_the_conjugate_posterior(n, noise_sd):
    """Brute-force quadrature against the closed-form conjugate posterior (precision I / tau^2 + X^T X / sigma^2),
    for noisy data (sigma = 4, where the grid must still span 8 least-squares errors) and for 1000 points, where
    the unnormalised log posterior is ~ -500 and must be shifted by its maximum before exponentiating."""
    rng = np.random.default_rng(6)
    x, y = linreg.make_linear_data(n, noise_sd=noise_sd, rng=rng)
    X = linreg.design_matrix(x, 1)
    mean, sd = bayes.grid_posterior_moments(X, y, noise_sd=noise_sd, prior_sd=1.5)
    S = np.linalg.inv(np.eye(2) / 1.5**2 + X.T @ X / noise_sd**2)
    np.testing.assert_allclose(mean, S @ X.T @ y / noise_sd**2, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(sd, np.sqrt(np.diag(S)), rtol=1e-3)
