"""Bayes' theorem and conjugate Bayesian linear regression (Chapter 1).

Bayes' theorem as written in the lecture ("Bayes' Theorem" slide),

    p(X = x_k | Y) = p(Y | X = x_k) p(x_k) / sum_i p(Y | X = x_i) p(x_i),

is :func:`discrete_posterior`. For linear regression with Gaussian noise of
known standard deviation ``sigma`` and a Gaussian prior ``theta ~ N(m0, S0)``
the posterior is Gaussian again (a conjugate prior), with

    S_N^{-1} = S0^{-1} + X^T X / sigma^2,      m_N = S_N (S0^{-1} m0 + X^T y / sigma^2),

see e.g. Bishop, *Pattern Recognition and Machine Learning*, Eqs. (3.50)-(3.51).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .config import make_rng, progress_bar
from .linreg import DATA, design_matrix, make_linear_data
from .validate import Array, Flag, Integer, Optional, Real, Rule, Seed, Sequence, params


@params(Rule("prior", lambda prior: np.isclose(prior.sum(), 1.0), "must be non-negative and sum to 1"),
        Rule("likelihood", lambda prior, likelihood: np.sum(likelihood * prior) > 0,
             "the data have zero probability under every hypothesis the prior allows; check likelihood"),
        prior=Array(shape=("k",), ge=0, hint="probabilities p(x_k), one per hypothesis, summing to 1"),
        likelihood=Array(shape=("k",), ge=0, le=1, hint="probabilities p(Y|x_k), one per hypothesis"))
def discrete_posterior(prior, likelihood) -> np.ndarray:
    """Posterior ``p(x_k | Y)`` from a prior ``p(x_k)`` and likelihoods ``p(Y | x_k)``.

    The denominator is the lecture's normalising sum ``sum_i p(Y|x_i) p(x_i)``.
    """
    joint = likelihood * prior
    evidence = joint.sum()
    return joint / evidence


def _covariance(cov) -> bool:
    """Symmetric and positive semi-definite (to round-off)."""
    if not np.allclose(cov, cov.T, rtol=1e-10, atol=0.0):
        return False
    eig = np.linalg.eigvalsh(cov)
    return bool(eig.min() >= -1e-10 * max(abs(eig.max()), np.finfo(float).tiny))


@dataclass(frozen=True)
class GaussianPosterior:
    """Posterior ``N(mean, cov)`` of the regression parameters."""

    mean: np.ndarray
    cov: np.ndarray

    @property
    def sd(self) -> np.ndarray:
        """Marginal posterior standard deviations."""
        return np.sqrt(np.diag(self.cov))

    def _interval(self, level):
        z = stats.norm.ppf(0.5 + level / 2)
        return self.mean - z * self.sd, self.mean + z * self.sd

    @params(level=Real(gt=0, lt=1))
    def interval(self, level: float = 0.95):
        """Central credible intervals ``(low, high)`` for each parameter at probability ``level``."""
        return self._interval(level)

    @params(X=Array(shape=(None, "self.mean.size"), hint="a design matrix with one column per parameter"),
            noise_sd=Real(ge=0))
    def predict(self, X, noise_sd: float = 0.0):
        """Predictive mean and standard deviation at design matrix ``X`` (noise included if ``noise_sd > 0``)."""
        var = np.einsum("ij,jk,ik->i", X, self.cov, X) + noise_sd**2
        return X @ self.mean, np.sqrt(var)

    @params(n=Integer(ge=1, typical=(1, 50)), rng=Seed())
    def sample(self, n: int, *, rng=None) -> np.ndarray:
        """Draw ``n`` parameter vectors from the posterior."""
        return make_rng(rng).multivariate_normal(self.mean, self.cov, size=n)


# the dataclass writes __init__; its parameters are declared here, and the module's own posteriors (built in loops,
# symmetric by construction) skip the checks through _gaussian
_unchecked_init = GaussianPosterior.__init__
GaussianPosterior.__init__ = params(
    Rule("cov", lambda cov: _covariance(cov), "must be a covariance matrix: symmetric and positive semi-definite"),
    mean=Array(shape=("p",)), cov=Array(shape=("p", "p")),
)(_unchecked_init)


def _gaussian(mean, cov) -> GaussianPosterior:
    post = object.__new__(GaussianPosterior)
    _unchecked_init(post, mean=mean, cov=cov)
    return post

#: the conjugate model: the regression data (linreg's), the noise and the prior N(prior_mean, prior_sd^2 I)
MODEL = dict(**DATA, noise_sd=Real(gt=0), prior_sd=Real(gt=0), prior_mean=Optional(Array(shape=(None,))))
#: a Rule, so that X, not prior_mean, fixes the number of parameters
PRIOR_MEAN = Rule("prior_mean", lambda X, prior_mean: prior_mean is None or prior_mean.shape == X.shape[1:],
                  "must have one entry per parameter (column of X)")


def _posterior(X, y, noise_sd, prior_sd, prior_mean=None):
    m0 = np.zeros(X.shape[1]) if prior_mean is None else prior_mean
    precision = np.eye(X.shape[1]) / prior_sd**2 + X.T @ X / noise_sd**2
    cov = np.linalg.inv(precision)
    cov = (cov + cov.T) / 2
    mean = cov @ (m0 / prior_sd**2 + X.T @ y / noise_sd**2)
    return _gaussian(mean, cov)


@params(PRIOR_MEAN, **MODEL)
def posterior(X, y, *, noise_sd: float, prior_sd: float, prior_mean=None) -> GaussianPosterior:
    """Conjugate posterior of ``theta`` for ``y = X theta + N(0, noise_sd^2)``, prior ``N(prior_mean, prior_sd^2 I)``."""
    return _posterior(X, y, noise_sd, prior_sd, prior_mean)


def _log_evidence(X, y, noise_sd, prior_sd, prior_mean=None):
    m0 = np.zeros(X.shape[1]) if prior_mean is None else prior_mean
    (n, p), a, b = X.shape, 1.0 / prior_sd**2, 1.0 / noise_sd**2
    U, sv, Vt = np.linalg.svd(X, full_matrices=False)
    r = y - X @ m0
    d = Vt.T @ (b * sv / (a + b * sv**2) * (U.T @ r))          # m_N - m0
    energy = 0.5 * b * np.sum((r - X @ d) ** 2) + 0.5 * a * np.sum(d**2)
    log_det_A = np.sum(np.log(a + b * sv**2)) + (p - sv.size) * np.log(a)
    return float(0.5 * p * np.log(a) + 0.5 * n * np.log(b) - energy - 0.5 * log_det_A - 0.5 * n * np.log(2 * np.pi))


@params(PRIOR_MEAN, **MODEL)
def log_evidence(X, y, *, noise_sd: float, prior_sd: float, prior_mean=None) -> float:
    """log p(y | model): the likelihood averaged over the prior, for the conjugate model of :func:`posterior`.

    Integrating ``theta`` out leaves ``y ~ N(X m0, noise_sd^2 I + prior_sd^2 X X^T)``; we evaluate it as Bishop's
    Eq. (3.86), ``p/2 ln a + n/2 ln b - E(m_N) - ln|A|/2 - n/2 ln 2 pi`` with ``a = 1/prior_sd^2``,
    ``b = 1/noise_sd^2``, ``A = a I + b X^T X``, through the SVD of ``X`` (stable for the ill-conditioned design
    matrices of high-degree polynomials). It rewards a fit and penalises every parameter the data do not need:
    the basis of model comparison.
    """
    return _log_evidence(X, y, noise_sd, prior_sd, prior_mean)


@params(Rule("X_new", lambda designs, X_new: len(X_new) == len(designs)
             and all(Xn.shape[1] == X.shape[1] for X, Xn in zip(designs, X_new)),
             "give one X_new per model, with the columns of its design matrix"),
        Rule("model_prior", lambda designs, model_prior: model_prior is None
             or (model_prior.size == len(designs) and np.isclose(model_prior.sum(), 1.0)),
             "must have one non-negative entry per model and sum to 1"),
        designs=Sequence(Array(shape=("n", None), hint="one design matrix per model, one row per entry of y")),
        y=Array(shape=("n",)), X_new=Sequence(Array(ndim=2, hint="one design matrix per model")),
        noise_sd=Real(gt=0), prior_sd=Real(gt=0),
        model_prior=Optional(Array(shape=(None,), ge=0, hint="prior probabilities of the models, summing to 1")))
def model_average(designs, y, X_new, *, noise_sd: float, prior_sd: float, model_prior=None):
    """Bayesian model averaging over linear models (one design matrix per model, same rows as ``y``).

    Posterior model probabilities ``p(M_k | y) ~ p(y | M_k) p(M_k)`` (:func:`log_evidence`, uniform prior by
    default); the averaged prediction at ``X_new`` (one design matrix per model) is the mixture of the models'
    predictive distributions. Returns ``(weights, mean, sd)``.
    """
    logz = np.array([_log_evidence(X, y, noise_sd, prior_sd) for X in designs])
    prior = np.full(len(designs), 1.0 / len(designs)) if model_prior is None else model_prior
    with np.errstate(divide="ignore"):
        logw = logz + np.log(prior)
    weights = np.exp(logw - logw.max())
    weights /= weights.sum()
    preds = [_posterior(X, y, noise_sd, prior_sd).predict(Xn, noise_sd) for X, Xn in zip(designs, X_new)]
    means, sds = np.array([m for m, _ in preds]), np.array([s for _, s in preds])
    mean = weights @ means
    var = weights @ (sds**2 + means**2) - mean**2
    return weights, mean, np.sqrt(np.maximum(var, 0.0))


@params(Rule("X", lambda X: X.shape[1] == 2, "grid quadrature is implemented for 2 parameters (2 columns of X)"),
        PRIOR_MEAN, **MODEL, half_width=Real(gt=0, typical=(1.0, 10.0)),
        n_grid=Integer(ge=11, le=2001, typical=(11, 41), hint="the grid has n_grid^2 points"))
def grid_posterior_moments(X, y, *, noise_sd: float, prior_sd: float, prior_mean=None,
                           half_width: float = 8.0, n_grid: int = 801):
    """Posterior mean and standard deviations of a two-parameter model by brute-force quadrature.

    Evaluates ``log p(y|theta) + log p(theta)`` on an ``n_grid x n_grid`` grid
    centred on the least-squares solution, ``half_width`` least-squares standard
    errors wide in each direction, normalises numerically and takes moments.
    It knows nothing of conjugacy, so it independently checks :func:`posterior`.
    """
    m0 = np.zeros(2) if prior_mean is None else prior_mean
    centre = np.linalg.lstsq(X, y, rcond=None)[0]
    widths = half_width * noise_sd * np.sqrt(np.diag(np.linalg.pinv(X.T @ X)))
    axes = [np.linspace(c - w, c + w, n_grid) for c, w in zip(centre, widths)]
    T0, T1 = np.meshgrid(*axes, indexing="ij")
    # sum of squared residuals from sufficient statistics, never an (n_grid, n_grid, n) array:
    # |y - X theta|^2 = |y - X theta_ls|^2 + (theta - theta_ls)^T X^T X (theta - theta_ls)
    A = X.T @ X
    d0, d1 = T0 - centre[0], T1 - centre[1]
    rss = np.sum((y - X @ centre) ** 2) + A[0, 0] * d0**2 + 2 * A[0, 1] * d0 * d1 + A[1, 1] * d1**2
    log_post = -0.5 * rss / noise_sd**2
    log_post -= 0.5 * ((T0 - m0[0]) ** 2 + (T1 - m0[1]) ** 2) / prior_sd**2
    w = np.exp(log_post - log_post.max())
    w /= w.sum()
    mean = np.array([np.sum(w * T0), np.sum(w * T1)])
    sd = np.sqrt(np.array([np.sum(w * (T0 - mean[0]) ** 2), np.sum(w * (T1 - mean[1]) ** 2)]))
    return mean, sd


@params(sizes=Sequence(Integer(ge=1, typical=(1, 50))), noise_sd=Real(gt=0), prior_sd=Real(gt=0), slope=Real(),
        intercept=Real(), rng=Seed())
def slope_sd_versus_n(sizes, *, noise_sd: float = 0.5, prior_sd: float = 10.0, slope: float = 2.0,
                      intercept: float = 1.0, rng=None):
    """Posterior standard deviation of the slope for data sets of increasing size.

    Draws one data set of ``max(sizes)`` points ``y = intercept + slope x + noise``
    (``x ~ U(0, 1)``) and conditions on its first ``n`` points for each ``n`` in
    ``sizes``, so the posteriors are nested as if the data arrived one by one.
    Returns ``(posteriors, data)`` with ``data = (x, y)``.
    """
    x, y = make_linear_data(max(sizes), slope=slope, intercept=intercept, noise_sd=noise_sd, rng=rng)
    posts = [_posterior(design_matrix(x[:n], 1), y[:n], noise_sd, prior_sd) for n in sizes]
    return posts, (x, y)


@params(n_datasets=Integer(ge=1, typical=(1, 20)), n_points=Integer(ge=2, typical=(2, 20)), level=Real(gt=0, lt=1),
        noise_sd=Real(gt=0), prior_sd=Real(gt=0), slope=Real(), intercept=Real(), rng=Seed(), progress=Flag())
def coverage(n_datasets: int, n_points: int, *, level: float = 0.95, noise_sd: float = 0.5,
             prior_sd: float = 10.0, slope: float = 2.0, intercept: float = 1.0, rng=None,
             progress: bool = False):
    """Calibration check: how often the ``level`` credible interval of the slope covers the truth.

    Repeats the experiment on ``n_datasets`` fresh data sets of ``n_points``
    points each. For a well-calibrated posterior the returned fraction is close
    to ``level``, within the binomial error ``sqrt(level (1 - level) / n_datasets)``
    (which is also returned). With the broad N(0, 10^2) prior the posterior is
    essentially the likelihood, so the check is close to exact for fixed truth.
    """
    rng = make_rng(rng)
    hits = 0
    iterator = progress_bar(range(n_datasets), progress, f"coverage ({n_datasets} data sets)")
    for _ in iterator:
        x, y = make_linear_data(n_points, slope=slope, intercept=intercept, noise_sd=noise_sd, rng=rng)
        post = _posterior(design_matrix(x, 1), y, noise_sd, prior_sd)
        lo, hi = post._interval(level)
        hits += lo[1] <= slope <= hi[1]
    frac = hits / n_datasets
    return frac, float(np.sqrt(level * (1 - level) / n_datasets))
