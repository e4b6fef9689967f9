"""Fuzzer fixtures for the chapters' claims modules mlphys.claims (Claim), claims.backprop, claims.costa,
claims.hong and claims.hopfield. The functions that run a chapter (training networks for minutes) are NOT_FUZZED:
their bad values are still tried, and must be refused before any work. The cheap ones (formatters, summaries,
claims_from_results) get small results built here."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from mlphys import dft, nn, speckle
from mlphys.claims import Claim, costa, hong

from .fx_dft import _descend, learned
from .fx_speckle import dataset

_MINUTES = "runs chapter {}'s {}: minutes"


def _claim(rng):
    seeds = list(rng.uniform(0.5, 1.5, int(rng.integers(2, 5)))) if rng.integers(2) else []
    ours = float(np.mean(seeds)) if seeds else float(rng.uniform(0.5, 1.5))
    return {"ours": ours, "seeds": seeds}


def _networks(rng, names=None):
    names = names or [str(a) for a in rng.choice(costa.ARCHITECTURES, int(rng.integers(1, 3)), replace=False)]
    return {a: dft.TrainedFunctional(a, learned(rng), nn.History("loss", "val_loss")) for a in names}


def _descents(rng, names):
    out = {}
    for name in names:
        kw = _descend(rng)
        out[name] = dft.descend(steps=int(rng.integers(1, 4)), eta=1e-3, record_every=1, progress=False, **kw)
    return out


def _summary_entry(rng, model_error=True):
    entry = dict(de=float(rng.normal(0, 0.1)), abs_de=float(rng.uniform(0, 0.1)), dn=float(rng.uniform(0, 0.2)),
                 dn_start=float(rng.uniform(0, 0.3)), max_abs_de=float(rng.uniform(0, 0.2)),
                 diverged=int(rng.integers(3)))
    if model_error:
        entry["model_error"] = float(rng.uniform(0, 0.05))
    return entry


def _costa_claims(rng):
    archs = list(costa.ARCHITECTURES)
    r2 = {a: float(rng.uniform(0.5, 1.0)) for a in archs}
    out = {"r2": r2, "baseline_r2": float(rng.uniform(0.5, 1.0)), "size_note": "fixture"}
    if rng.integers(2):
        out["summary"] = {a: _summary_entry(rng, bool(rng.integers(2))) for a in [*archs, "exact"]}
        out["exact_curvature"] = float(rng.uniform(0, 1e-4))
        out["study"] = {costa.INFORMED: dict(ratios=rng.uniform(0, 2, 4), exact=rng.uniform(0, 2, 4),
                                             from_gs=rng.normal(0, 0.1, 3), from_uniform=rng.normal(0, 0.1, 3),
                                             activity=None)}
        out["informed"] = dict(de=float(rng.normal(0, 0.1)), abs_de=float(rng.uniform(0, 0.1)), dn=0.1, r2=0.9,
                               weight=0.01, seconds=1.0)
    return out


def _descent_summary(rng):
    names = [str(rng.choice(costa.ARCHITECTURES)), "exact"]
    out = {"runs": _descents(rng, names)}
    if rng.integers(2):
        out["model_errors"] = {names[0]: float(rng.uniform(0, 0.1))}
    return out


def _run_dict(rng):
    return dict(energy=float(rng.normal()), u_r0=float(rng.normal()), u_unit=float(rng.normal()),
                epsilon=float(rng.uniform(0, 1)), final_loss=float(rng.uniform(0, 1)))


def _scan(rng):
    return {lam: [_run_dict(rng) for _ in range(int(rng.integers(2, 4)))] for lam in hong.LAMBDAS[:3]}


def _table_results(rng):
    out = {}
    for system in hong.SYSTEMS:
        for method in hong.METHODS[int(rng.integers(2)):]:
            out[system, method] = [SimpleNamespace(energy=float(rng.normal()), epsilon=float(rng.uniform(0, 1)),
                                                   epsilon_grid=float(rng.uniform(0, 1)))
                                   for _ in range(int(rng.integers(1, 4)))]
    return out


#: hong.run's overrides that make a training run tiny (the oscillator, at class scale: no batch size to outgrow).
_TINY = dict(system="oscillator", scale="class", steps=2, n_samples=20, hidden=(3,))


INSTANCES = {Claim: lambda rng: Claim("fixture", "q", reference=1.0, tolerance=0.1, **_claim(rng))}

CALLS = {
    "claims.Claim": _claim,
    "claims.backprop.uat_fits": lambda rng: {"x": np.linspace(0, 1, int(rng.integers(4, 9))), "f": np.sin,
                                             "width": int(rng.integers(1, 3)), "scale": "class"},
    "claims.backprop.uat_table": lambda rng: {"uat": {name: [(w, None, list(rng.uniform(1e-6, 1e-2, 3)))
                                                             for w in (1, 2)] for name in ("sin", "step")}},
    "claims.costa.r2_table": lambda rng: {"trained": _networks(rng), "test": dataset(rng)},
    "claims.costa.model_errors": lambda rng: {"trained": _networks(rng), "test": dataset(rng)},
    "claims.costa.descend_all": lambda rng: {"trained": _networks(rng), "test": dataset(rng)},
    "claims.costa.curvature_study": lambda rng: {"trained": _networks(rng, ["avg-60"]), "test": dataset(rng),
                                                 "runs": _descents(rng, ["avg-60"])},
    "claims.costa.descent_summary": _descent_summary,
    "claims.costa.exact_curvature_check": lambda rng: {"test": dataset(rng, speckle.Grid(
        length=14.0, n=int(rng.integers(27, 40)), periodic=bool(rng.integers(2)), kinetic_prefactor=1.0), rows=3)},
    "claims.costa.claims_from_results": _costa_claims,
    "claims.hong.summary": lambda rng: {"system": "oscillator"},
    "claims.hong.run": lambda rng: dict(_TINY),
    "claims.hong.run_summary": lambda rng: dict(_TINY),
    "claims.hong.seed_runs": lambda rng: {**_TINY, "method": "mpnn", "seeds": [int(rng.integers(10))], "jobs": 1},
    "claims.hong.spread": lambda rng: {"runs": [_run_dict(rng) for _ in range(int(rng.integers(1, 4)))],
                                       "key": "energy"},
    "claims.hong.scan_statistics": lambda rng: {"scan": _scan(rng), "key": str(rng.choice(["energy", "epsilon"]))},
    "claims.hong.lambda_scan_table": lambda rng: {"scan": _scan(rng)},
    "claims.hong.table": lambda rng: {"results": _table_results(rng)},
    "claims.hong.claims_from_results": lambda rng: {"results": _table_results(rng),
                                                    "sampler_check": (1.5, float(rng.uniform(0, 0.05)))},
}

KEEP_DEFAULT = {"claims.hong.run_summary": ("checkpoint",)}

NOT_FUZZED = {
    "claims.backprop.digits_ours": _MINUTES.format(3, "digits training (30-200 epochs)"),
    "claims.backprop.digits_sklearn": _MINUTES.format(3, "scikit-learn digits training"),
    "claims.backprop.activation_experiment": _MINUTES.format(3, "deep-network training with three activations"),
    "claims.backprop.uat_sweep": _MINUTES.format(3, "universal-approximation sweep (72 fits)"),
    "claims.backprop.claims": _MINUTES.format(3, "claims (every experiment)"),
    "claims.hopfield.capacity_experiment": _MINUTES.format(4, "capacity curve"),
    "claims.hopfield.bas_training": _MINUTES.format(4, "RBM training (3,000 epochs)"),
    "claims.hopfield.digits_features": _MINUTES.format(4, "RBM training on the digits (ours and scikit-learn's)"),
    "claims.hopfield.claims": _MINUTES.format(4, "claims (every experiment)"),
    "claims.costa.data": "generates (or reads from the user's cache) chapter 10's 2,200-150,000 densities",
    "claims.costa.train_all": _MINUTES.format(10, "training of every network (and writes the cache)"),
    "claims.costa.descend_all": _MINUTES.format(11, "descent with every network, 1,000 steps in joblib processes"),
    "claims.costa.experiment": _MINUTES.format(10, "data, training and descent"),
    "claims.costa.curvature_study": _MINUTES.format(11, "curvature study, 1,000 descent steps per network"),
    "claims.costa.derivative_informed": _MINUTES.format(11, "training with the Euler-Lagrange loss"),
    "claims.costa.informed_summary": _MINUTES.format(11, "training with the Euler-Lagrange loss"),
    "claims.costa.claims": _MINUTES.format(11, "claims (both chapters)"),
    "claims.costa.chapter10_claims": _MINUTES.format(10, "claims"),
    "claims.costa.chapter11_claims": _MINUTES.format(11, "claims"),
    "claims.hong.lambda_scan": _MINUTES.format(9, "lambda scan (a training per lambda and seed)"),
    "claims.hong.noisy_run": _MINUTES.format(9, "oscillator training (1,000 steps)"),
    "claims.hong.noisy_runs": _MINUTES.format(9, "noisy-oscillator trainings (every method and seed)"),
    "claims.hong.table_results": _MINUTES.format(9, "Table I trainings"),
    "claims.hong.claims": _MINUTES.format(9, "claims (Table I and the sampler)"),
}

EXAMPLES = {"claims.backprop.uat_fits": 1, "claims.backprop.xor_network": 1, "claims.hopfield.mixture_statistics": 1,
            "claims.hong.seed_runs": 1, "claims.hong.run": 2, "claims.hong.run_summary": 2,
            "claims.hong.claims_from_results": 2, "claims.hong.untrained_epsilon": 2}
