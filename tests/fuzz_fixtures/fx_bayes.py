"""Fuzzer fixtures for mlphys.bayes: a proper posterior, a normalised prior, models and their prediction points."""
from __future__ import annotations

import numpy as np

from mlphys import bayes


def _posterior(rng):
    A = rng.normal(size=(3, 3))
    return bayes.GaussianPosterior(mean=rng.normal(size=3), cov=A @ A.T + 0.1 * np.eye(3))


def _prior(rng, k):
    p = rng.uniform(0.1, 1.0, k)
    return p / p.sum()


def _models(rng):
    n = 6
    designs = [rng.normal(size=(n, p)) for p in (1, 2)]
    return {"designs": designs, "y": rng.normal(size=n), "X_new": [rng.normal(size=(3, p)) for p in (1, 2)],
            "model_prior": _prior(rng, 2)}


INSTANCES = {bayes.GaussianPosterior: _posterior}

CALLS = {
    "bayes.discrete_posterior": lambda rng: {"prior": _prior(rng, 4), "likelihood": rng.uniform(0.05, 1.0, 4)},
    "bayes.GaussianPosterior": lambda rng: {"mean": _posterior(rng).mean, "cov": _posterior(rng).cov},
    "bayes.model_average": _models,
}
