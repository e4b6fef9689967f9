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
    (lambda: bayes.discrete_posterior([0.5, 0.5], [0.1]), "one per hypothesis"),
    (lambda: bayes.posterior(np.ones((3, 2)), np.ones(3), noise_sd=0.0, prior_sd=1.0), "noise_sd"),
    (lambda: bayes.posterior(np.ones((3, 2)), np.ones(3), noise_sd=1.0, prior_sd=-1.0), "prior_sd"),
    (lambda: bayes.posterior(np.ones((3, 2)), np.ones(2), noise_sd=1.0, prior_sd=1.0), "rows"),
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
