"""Chapter 1 (id `regression`) - Machine learning meets physics: the 2024 Nobel Prize (OLS, ridge, Bayes).

The lecture prints no numbers of its own for these examples, so the "paper"
column is empty; every reference is an independent computation: the known
generating parameters, a closed-form fit, brute-force quadrature of the
posterior, or the nominal coverage of a credible interval.
The experiment settings live here so the notebook and the command line share them.
"""
from __future__ import annotations

import numpy as np

from .. import bayes, linreg
from ..cases import Runner
from ..config import SCALE, by_scale, make_rng
from ..validate import Array, Flag, Instance, Optional, Real, params
from . import Claim

CHAPTER = "regression"

#: y = 2x + 1 + noise, the lecture's running example, for the OLS section.
OLS_SETUP = dict(n=100, slope=2.0, intercept=1.0, noise_sd=0.1, seed=2024)
#: A smooth non-polynomial target for the over-fitting study.
POLY_SETUP = dict(n=40, noise_sd=0.1, test_fraction=0.5, degrees=tuple(range(16)), seed=7)
#: Bayesian linear regression: noise sd 0.5 (known), prior N(0, 10^2), nested data of n = 5, 20, 100.
BAYES_SETUP = dict(sizes=(5, 20, 100), noise_sd=0.5, prior_sd=10.0, slope=2.0, intercept=1.0, seed=1)
#: Calibration: how often the 95% credible interval of the slope covers the truth.
COVERAGE_SETUP = dict(n_points=20, level=0.95, seed=11)
#: Bayes' theorem with two hypotheses: is a particle that fired the muon trigger a muon?
MUON_SETUP = dict(prior_muon=0.01, efficiency=0.99, fake_rate=0.02)


@params(x=Array(ndim=(1, 0), hint="inputs x (an array or one number)"))
def nonlinear_target(x):
    """Two Gaussian bumps, ``exp(-x^2) + 1.5 exp(-(x - 2)^2)`` (a standard regression test function)."""
    return np.exp(-x**2) + 1.5 * np.exp(-((x - 2) ** 2))


def ols_data():
    s = OLS_SETUP
    return linreg.make_linear_data(s["n"], slope=s["slope"], intercept=s["intercept"],
                                   noise_sd=s["noise_sd"], rng=s["seed"])


def poly_data():
    """Return ``(x_train, x_test, y_train, y_test)`` for the over-fitting study."""
    s = POLY_SETUP
    rng = make_rng(s["seed"])
    x = rng.uniform(-3, 3, s["n"])
    y = nonlinear_target(x) + s["noise_sd"] * rng.standard_normal(s["n"])
    return linreg.train_test_split(x, y, test_fraction=s["test_fraction"], rng=rng)


@params(prior_sd=Real(gt=0, typical=(0.5, 20.0)))
def model_averaging(prior_sd: float = 10.0):
    """Bayesian model averaging over the polynomial degrees of the over-fitting study (training points only).

    ``x`` is rescaled from [-3, 3] to [-1, 1] so that one prior ``N(0, prior_sd^2)`` suits every coefficient.
    Returns ``(degrees, weights, x_grid, mean, sd, test_mse)``: model probabilities, the averaged prediction
    with its predictive sd on a grid, and the averaged prediction's mean squared error on the test points.
    """
    x_train, x_test, y_train, y_test = poly_data()
    degrees = np.array(POLY_SETUP["degrees"])
    grid = np.linspace(-3, 3, 301)
    designs = [linreg.design_matrix(x_train / 3, d) for d in degrees]
    weights, mean, sd = bayes.model_average(designs, y_train, [linreg.design_matrix(np.concatenate([grid, x_test]) / 3, d)
                                                               for d in degrees], noise_sd=POLY_SETUP["noise_sd"],
                                            prior_sd=prior_sd)
    test_mse = float(np.mean((mean[grid.size:] - y_test) ** 2))
    return degrees, weights, grid, mean[:grid.size], sd[:grid.size], test_mse


def muon_posterior() -> float:
    """P(muon | trigger fired) by Bayes' theorem with the lecture's normalising sum."""
    s = MUON_SETUP
    prior = np.array([s["prior_muon"], 1 - s["prior_muon"]])
    likelihood = np.array([s["efficiency"], s["fake_rate"]])
    return float(bayes.discrete_posterior(prior, likelihood)[0])


@params(scale=SCALE, progress=Flag(), runner=Optional(Instance(Runner)))
def claims(scale=None, progress=True, runner=None):
    rows = []
    # OLS recovers the generating parameters within 3 standard errors ...
    x, y = ols_data()
    X = linreg.design_matrix(x, 1)
    theta = linreg.ols_fit(X, y)
    se = linreg.ols_standard_errors(X, y, theta)
    s = OLS_SETUP
    rows.append(Claim(CHAPTER, "OLS intercept (y = 2x + 1 + noise)", theta[0], s["intercept"], 3 * se[0],
                      note="reference: generating value; tolerance 3 standard errors"))
    rows.append(Claim(CHAPTER, "OLS slope", theta[1], s["slope"], 3 * se[1],
                      note="reference: generating value; tolerance 3 standard errors"))
    # ... and equals the closed-form simple-regression fit.
    slope_cf = np.cov(x, y, bias=True)[0, 1] / np.var(x)
    closed = np.array([y.mean() - slope_cf * x.mean(), slope_cf])
    # 1e-10: both are exact for this well-conditioned 100 x 2 design (cond ~ 5); rounding gives ~1e-15.
    rows.append(Claim(CHAPTER, "max |QR fit - closed-form fit|", float(np.max(np.abs(theta - closed))), 0.0, 1e-10,
                      note="closed form: slope = cov(x, y) / var(x)"))

    # Bayes: conjugate posterior vs brute-force quadrature.
    b = BAYES_SETUP
    posts, (xb, yb) = bayes.slope_sd_versus_n(b["sizes"], noise_sd=b["noise_sd"], prior_sd=b["prior_sd"],
                                              slope=b["slope"], intercept=b["intercept"], rng=b["seed"])
    for n, post in zip(b["sizes"], posts):
        _, sd_grid = bayes.grid_posterior_moments(linreg.design_matrix(xb[:n], 1), yb[:n],
                                                  noise_sd=b["noise_sd"], prior_sd=b["prior_sd"])
        # 1e-6 relative: trapezoidal quadrature of a smooth, Gaussian-decaying integrand on 801 points within +-8 sd
        # converges exponentially (measured agreement ~1e-13); dropping the prior would change the sd by ~1e-3.
        rows.append(Claim(CHAPTER, f"posterior sd of slope, n = {n}", post.sd[1], sd_grid[1], 1e-6 * sd_grid[1],
                          note="reference: grid quadrature of likelihood x prior"))

    # Calibration over repeated experiments.
    c = COVERAGE_SETUP
    n_sets = by_scale(scale, class_value=2000, paper_value=50000)
    frac, err = bayes.coverage(n_sets, c["n_points"], level=c["level"], noise_sd=b["noise_sd"],
                               prior_sd=b["prior_sd"], rng=c["seed"], progress=progress)
    rows.append(Claim(CHAPTER, f"coverage of 95% credible interval ({n_sets} data sets)", frac, c["level"], 3 * err,
                      note="tolerance: 3 binomial standard errors"))

    m = MUON_SETUP
    exact = m["efficiency"] * m["prior_muon"] / (m["efficiency"] * m["prior_muon"] + m["fake_rate"] * (1 - m["prior_muon"]))
    # 1e-12: the same fraction computed twice; only rounding separates them.
    rows.append(Claim(CHAPTER, "P(muon | trigger) by Bayes' theorem", muon_posterior(), exact, 1e-12,
                      note="reference: the fraction written out by hand"))
    return rows
