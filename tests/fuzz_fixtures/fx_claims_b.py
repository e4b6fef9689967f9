"""Fuzzer fixtures for the claims modules of chapters 1, 2, 5-8 and 12-14 (mlphys.claims.imchitr, perceptron,
quantum_dots, regression, rodini). The cheap functions run for real at class scale with small sizes (a few Adam
steps, one epoch, a few RK4 steps); the chapters that train for minutes are listed in NOT_FUZZED (their bad values
are still tried, and refused before any work)."""
from __future__ import annotations

from types import SimpleNamespace

from mlphys import variational
from mlphys.claims import imchitr, quantum_dots

CLASS = {"scale": "class", "progress": False}


def _vmc_results(rng):
    """A summary of every named VMC run (what claims_from_results reads from the checkpoints)."""
    return {name: SimpleNamespace(energy=float(P * rng.uniform(0.5, 4.0)), error=float(rng.uniform(0, 1e-3)),
                                  variance=float(rng.uniform(0, 1e-3)))
            for name, (P, *_) in {**quantum_dots.RUNS_TWO, **quantum_dots.RUNS_SIX}.items()}


def _section4_results(rng, exact_only=True):
    """Summaries of Section 4 cases (by default those with a closed form: no finite-difference reference)."""
    cases = [c for c in variational.SECTION4 if c.exact is not None or not exact_only]
    return {c.name: SimpleNamespace(energy=float((c.exact or 0.8) + rng.uniform(0, 1e-4)),
                                    norm_error=float(rng.uniform(0, 1e-3))) for c in cases}


def _potential(rng):
    c = float(rng.uniform(0.5, 2.0))
    return lambda x: 0.5 * c * x**2


def _schedule(rng):
    return ((int(rng.integers(1, 4)), 1e-2),)


CALLS = {
    # chapter 12
    "claims.imchitr.pimc_experiment": lambda rng: dict(CLASS),
    "claims.imchitr.path_claims": lambda rng: dict(CLASS),
    # chapter 13: one epoch of one network; the accuracies and settings of a class-scale run
    "claims.imchitr.network_summary": lambda rng: {"scale": "class", "epochs": 1},
    "claims.imchitr.network_claims": lambda rng: {"settings": imchitr.network_settings("class")},
    # chapter 14: a memory scan of three short runs, Euler with few blocks, a few training iterations
    "claims.imchitr.memory_scan": lambda rng: {"steps": tuple(int(n) for n in rng.integers(1, 20, 2))},
    "claims.imchitr.ode_claims": lambda rng: {"memory": imchitr.memory_scan((5, 10, 20)),
                                              "euler": imchitr.euler_order((5, 10)),
                                              "rings": imchitr.rings_experiment(iterations=2)},
    # chapters 1 and 2 (a second each at class scale)
    "claims.perceptron.claims": lambda rng: dict(CLASS),
    "claims.regression.claims": lambda rng: dict(CLASS),
    # chapters 5-6: summaries of the named runs
    "claims.quantum_dots.claims_from_results": lambda rng: {"results": _vmc_results(rng)},
    # chapters 7-8: a few Adam steps on the class grid; the closed-form cases; a harmonic whole-line reference
    "claims.rodini.run_case": lambda rng: {**CLASS, "schedule": _schedule(rng)},
    "claims.rodini.case_summary": lambda rng: {**CLASS, "schedule": _schedule(rng)},
    "claims.rodini.derivative_claims": lambda rng: dict(CLASS),
    "claims.rodini.whole_line_energy": lambda rng: {"V": _potential(rng), "domain": (-3.0, 3.0)},
    "claims.rodini.exact_energy": lambda rng: {
        "case": variational.SECTION4[int(rng.integers(len(variational.SECTION4)))]},
    "claims.rodini.section4_claims": lambda rng: {"results": _section4_results(rng)},
    "claims.rodini.section4_table": lambda rng: {"results": _section4_results(rng, exact_only=False),
                                                 "paper_scale": {"x^2/2": 0.500001}},
}
KEEP_DEFAULT = {
    "claims.rodini.run_case": ("checkpoint",),
    "claims.rodini.case_summary": ("checkpoint",),
}
_CHAPTER = "runs a whole chapter ({}): the bad values are still refused before any work"
NOT_FUZZED = {
    "claims.imchitr.network_experiment": _CHAPTER.format("chapter 13: trains every network kind x depth x seed, "
                                                         "minutes"),
    "claims.imchitr.pde_network_claims": _CHAPTER.format("chapter 13: trains every network, minutes"),
    "claims.imchitr.neural_ode_claims": _CHAPTER.format("chapter 14: memory scan to 800 RK4 steps and 300 training "
                                                        "iterations, ~12 s whatever the scale"),
    "claims.quantum_dots.run": _CHAPTER.format("one VMC ground state of chapters 5-6, a minute at class scale"),
    "claims.quantum_dots.run_summary": _CHAPTER.format("one VMC ground state of chapters 5-6"),
    "claims.quantum_dots.omega_scan": _CHAPTER.format("a VMC ground state at each trap frequency"),
    "claims.quantum_dots.vmc_claims": _CHAPTER.format("chapter 5: five VMC ground states"),
    "claims.quantum_dots.dot_claims": _CHAPTER.format("chapter 6: three six-electron VMC ground states"),
    "claims.rodini.ground_state_claims": _CHAPTER.format("chapter 8: trains the six Section 4 networks, minutes"),
}
EXAMPLES = {
    "claims.imchitr.pimc_experiment": 1,
    "claims.imchitr.path_claims": 1,
    "claims.imchitr.network_summary": 2,
    "claims.imchitr.memory_scan": 2,
    "claims.imchitr.ode_claims": 1,
    "claims.regression.claims": 1,
    "claims.rodini.run_case": 2,
    "claims.rodini.case_summary": 2,
    "claims.rodini.derivative_deviation": 1,
    "claims.rodini.derivative_claims": 1,
    "claims.rodini.section4_table": 1,
}
