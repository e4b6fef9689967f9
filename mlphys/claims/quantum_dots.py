"""Chapters 5-6 - variational Monte Carlo with RBM neural-network quantum states for quantum dots.

The lecture shows figures but prints no energies, so the "paper" column is empty.
References: the exact non-interacting energies; Taut's exact two-electron
energies in two dimensions (Taut, J. Phys. A 27, 1045 (1994); his Phys. Rev. A 48, 3561 (1993)
is the 3D problem), checked here by :func:`mlphys.vmc.two_electron_energy_2d`: E = 3 at omega = 1 and E = 2/3 at
omega = 1/6; the Hartree-Fock energy 3.1619 at omega = 1; and the diffusion
Monte Carlo energy 20.1597 for six electrons at omega = 1 (Pedersen Lohne et al.,
Phys. Rev. B 84, 115302 (2011)).
"""
from __future__ import annotations

from types import SimpleNamespace

from .. import vmc
from ..cases import Case, Runner
from ..config import SCALE, by_scale, get_scale
from ..validate import Choice, Flag, Having, Instance, Integer, Mapping, Optional, Real, Rule, Sequence, params
from . import Claim

VMC, DOTS = "vmc", "quantum-dots"   # chapters 5 (two particles), 6 (six electrons)

TAUT_OMEGA_1 = 3.0
TAUT_OMEGA_1_6 = 2.0 / 3.0
HARTREE_FOCK_OMEGA_1 = 3.1619
DMC_SIX_ELECTRONS = 20.1597

#: name -> (n_particles, dim, omega, coulomb, ansatz, n_hidden, seed)
RUNS_TWO = {
    "1 particle 1D, RBM": (1, 1, 1.0, False, "rbm", 2, 0),
    "2 particles 2D, no interaction, RBM": (2, 2, 1.0, False, "rbm", 4, 0),
    "2 electrons 2D, RBM": (2, 2, 1.0, True, "rbm", 4, 0),
    "2 electrons 2D, RBM x Pade-Jastrow": (2, 2, 1.0, True, "rbm-jastrow", 4, 0),
    "2 electrons 2D, omega = 1/6, RBM x Pade-Jastrow": (2, 2, 1.0 / 6.0, True, "rbm-jastrow", 4, 0),
}
RUNS_SIX = {
    "6 particles 2D, no interaction, Slater": (6, 2, 1.0, False, "slater-jastrow", 4, 0),
    "6 electrons 2D, Slater x Pade-Jastrow": (6, 2, 1.0, True, "slater-jastrow", 4, 0),
    "6 electrons 2D, Slater x RBM x Pade-Jastrow": (6, 2, 1.0, True, "slater-rbm", 4, 0),
}


@params(scale=SCALE, n_particles=Integer(ge=1, typical=(1, 6)))
def run_settings(scale=None, *, n_particles: int = 2) -> dict:
    """The sizes of :func:`mlphys.vmc.ground_state`: its class-sized defaults, or the paper's."""
    return by_scale(scale, class_value=vmc.default_settings(n_particles),
                    paper_value=dict(n_iterations=1000, n_walkers=2000, opt_steps=10, n_steps=20000, burn_in=2000,
                                     lr=0.01, dt=0.1 if n_particles > 2 else 0.05))


#: ``name=``: one of the named calculations of chapters 5 and 6.
RUN_NAME = Choice(*RUNS_TWO, *RUNS_SIX)


@params(name=RUN_NAME, scale=SCALE)
def run(name: str, scale=None):
    """Run one of the named calculations with :func:`mlphys.vmc.ground_state`."""
    spec = {**RUNS_TWO, **RUNS_SIX}[name]
    P, D, omega, coulomb, ansatz, n_hidden, seed = spec
    return vmc.ground_state(P, D, omega=omega, coulomb=coulomb, ansatz=ansatz, n_hidden=n_hidden, rng=seed,
                            settings=run_settings(scale, n_particles=P))


#: Trap frequencies of the lecture's "expectation values as functions of the oscillator frequency" (its densities: 0.1).
OMEGAS = (0.1, 0.28, 0.5, 1.0)
#: The ansatz used for the frequency scan, by number of electrons.
SCAN_ANSATZ = {2: "rbm-jastrow", 6: "slater-jastrow"}


@params(Rule("n_particles", lambda n_particles: n_particles in SCAN_ANSATZ,
             f"the frequency scan is set up for {sorted(SCAN_ANSATZ)} electrons"),
        Rule("known", lambda known, n_particles: known is None or (
            getattr(known.hamiltonian, "n_particles", None) == n_particles and hasattr(known.hamiltonian, "omega")),
             "must be a run of n_particles electrons in the trap (its hamiltonian has n_particles and omega)"),
        n_particles=Integer(ge=1, typical=(2, 6)), scale=SCALE, known=Optional(Instance(vmc.VMCResult)),
        omegas=Sequence(Real(gt=0, typical=(0.1, 1.0)), hint="trap frequencies, e.g. (0.1, 0.28, 0.5, 1.0)"))
def omega_scan(n_particles: int, scale=None, *, known=None, omegas=OMEGAS):
    """Ground states of ``n_particles`` (2 or 6) electrons at each trap frequency: ``{omega: VMCResult}``.

    ``known``: an already computed omega = 1 run of the same ansatz and seed (Chapter 6 passes its own) - reused.
    """
    ansatz = SCAN_ANSATZ[n_particles]
    out = {}
    for omega in omegas:
        if known is not None and omega == known.hamiltonian.omega:
            out[omega] = known
            continue
        out[omega] = vmc.ground_state(n_particles, 2, omega=omega, coulomb=True, ansatz=ansatz, n_hidden=4, rng=0,
                                      settings=run_settings(scale, n_particles=n_particles))
    return out


#: A run's result as the claims read it: a :class:`mlphys.vmc.VMCResult` or its :func:`run_summary`.
RESULT = Having("energy", "error", "variance", what="a run's result with energy, error and variance (a VMCResult or "
                "the namespace of its run_summary)")


@params(results=Mapping({name: RESULT for name in (*RUNS_TWO, *RUNS_SIX)}))
def claims_from_results(results: dict):
    """Claims for whichever of the named runs are in ``results`` (name -> VMCResult)."""
    rows = []

    def add(name, quantity, ours, reference, tolerance, comparison="close", note=""):
        if name in results:
            rows.append(Claim(VMC if name in RUNS_TWO else DOTS, quantity, float(ours(results[name])), reference, tolerance,
                              comparison=comparison, note=note))

    E, err, var = (lambda r: r.energy), (lambda r: r.error), (lambda r: r.variance)
    # Tolerances. Ansatze that contain the exact state (one particle; free particles): E within 1e-5 / 1e-4 of the
    # exact value and a vanishing variance or error bar (measured 1e-9 to 1e-7). Two electrons without cusp: above
    # the exact 3 within 3 error bars (variational bound) and below Hartree-Fock (an upper bound a correlated
    # ansatz must beat). With the Pade-Jastrow cusp: within 3e-4 of Taut's exact energies - ~10 error bars,
    # allowing the ansatz's own bias (measured 2e-5) while a missing cusp costs 0.07. Six electrons: above DMC
    # within 3 error bars, and within 0.5% of it (Hartree-Fock is 2.8% above).
    n = "1 particle 1D, RBM"
    add(n, n + ": E", E, 0.5, 1e-5, note="exact 1/2")
    add(n, n + ": Var(E_L)", var, 1e-5, 0.0, "at_most")
    n = "2 particles 2D, no interaction, RBM"
    add(n, n + ": E", E, 2.0, 1e-4, note="exact 2")
    add(n, n + ": error", err, 1e-4, 0.0, "at_most")
    n = "2 electrons 2D, RBM"
    if n in results:
        r = results[n]
        rows.append(Claim(VMC, n + ": E (above exact: variational)", r.energy, TAUT_OMEGA_1, 3 * r.error,
                          comparison="at_least", note="Taut 1994 (2D); no cusp, so it plateaus"))
        rows.append(Claim(VMC, n + ": E (below Hartree-Fock)", r.energy, HARTREE_FOCK_OMEGA_1, 0.0,
                          comparison="at_most"))
    n = "2 electrons 2D, RBM x Pade-Jastrow"
    add(n, n + ": E", E, TAUT_OMEGA_1, 3e-4, note="Taut 1994 (2D): exactly 3")
    add(n, n + ": error", err, 1e-4, 0.0, "at_most")
    n = "2 electrons 2D, omega = 1/6, RBM x Pade-Jastrow"
    add(n, n + ": E", E, TAUT_OMEGA_1_6, 3e-4, note="Taut 1994 (2D): exactly 2/3")
    n = "6 particles 2D, no interaction, Slater"
    add(n, n + ": E", E, 10.0, 1e-4, note="exact 10")
    for n in ("6 electrons 2D, Slater x Pade-Jastrow", "6 electrons 2D, Slater x RBM x Pade-Jastrow"):
        if n in results:
            r = results[n]
            rows.append(Claim(DOTS, n + ": E", r.energy, DMC_SIX_ELECTRONS, 3 * r.error, comparison="at_least",
                              note="DMC 20.1597 (Pedersen Lohne et al. 2011); variational bound"))
            rows.append(Claim(DOTS, n + ": (E - DMC) / DMC", (r.energy - DMC_SIX_ELECTRONS) / DMC_SIX_ELECTRONS,
                              0.005, 0.0, comparison="at_most", note="within 0.5% of DMC"))
    return rows


@params(name=RUN_NAME, scale=SCALE)
def run_summary(name: str, scale=None) -> dict:
    """:func:`run` as the numbers the claims need (a JSON checkpoint of the case)."""
    r = run(name, scale)
    return dict(energy=r.energy, error=r.error, variance=r.variance, acceptance=r.acceptance, seconds=r.seconds)


def _work(scale, n_particles: int) -> int:
    """Walker moves of :func:`mlphys.vmc.ground_state` (two burn-ins, the optimisation, the production run)."""
    s = run_settings(scale, n_particles=n_particles)
    return s["n_walkers"] * (2 * s["burn_in"] + s["n_iterations"] * s["opt_steps"] + s["n_steps"])


def _cases(names, scale) -> list:
    """Independent cases; ``--estimate`` probes each at class scale and scales by the number of walker moves."""
    scale = get_scale(scale)
    slug = lambda name: "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")  # noqa: E731
    return [Case(slug(name), run_summary, dict(name=name, scale=scale), probe=dict(scale="class"),
                 probe_factor=_work(scale, spec[0]) / _work("class", spec[0]))
            for name, spec in names.items()]


@params(scale=SCALE)
def vmc_cases(scale=None) -> list:
    return _cases(RUNS_TWO, scale)


@params(scale=SCALE)
def dot_cases(scale=None) -> list:
    return _cases(RUNS_SIX, scale)


def _claims(todo, runner, desc):
    done = runner.run(todo, desc)
    return claims_from_results({c.kwargs["name"]: SimpleNamespace(**done[c.key]) for c in todo})


@params(scale=SCALE, progress=Flag(), runner=Optional(Instance(Runner)))
def vmc_claims(scale=None, progress=True, runner=None):
    """Chapter 5's registry entry: one and two particles (cases run by ``runner``)."""
    return _claims(vmc_cases(scale), runner or Runner(progress=progress), "VMC: one and two particles")


@params(scale=SCALE, progress=Flag(), runner=Optional(Instance(Runner)))
def dot_claims(scale=None, progress=True, runner=None):
    """Chapter 6's registry entry: six electrons (cases run by ``runner``)."""
    return _claims(dot_cases(scale), runner or Runner(progress=progress), "VMC: six electrons")
