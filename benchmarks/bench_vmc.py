"""VMC speed: Metropolis moves per second and local energies per second, mlphys against NetKet.

    python benchmarks/bench_vmc.py [--walkers 1000 10000] [--steps N] [--repeats N] [--no-install] [--only-mlphys]
                                   [--time-to-energy]

Two electrons in 2D (omega = 1, Coulomb) with the RBM x Pade-Jastrow wave function of Chapter 5. From one run:

* mlphys alone: walker moves/s of random-walk Metropolis and Langevin sampling, and the analytic local energy
  against autograd's;
* against NetKet (installed on demand into the cache by ``peers.py``, never a dependency; ``--no-install``
  skips it when absent): the *same* wave function (our ``log_psi`` written once, evaluated by NetKet through
  ``jax.numpy``, checked equal to ours) and the same Hamiltonian (checked: the local energies agree), then,
  interleaved, medians over ``--repeats``: Metropolis walker moves/s (all coordinates moved at once with a
  Gaussian of the same width in both, so the acceptances match) and local energies/s (both on the same batch,
  every sample of one run: ``walkers x steps``), at each ``--walkers``.
  NetKet's compilation is excluded from its timings (one warm-up call) and reported separately.
* ``--time-to-energy``: the whole calculation, timed end to end on both sides, NetKet's compilation included:
  the same starting parameters, Adam (rate 0.02) for 300 iterations of 5 Metropolis steps of 1000 walkers,
  then 2000 production steps; each side's energy with its error bar (ours: independent chains; NetKet's own
  estimate) against the exact 3, and the wall time to that energy.

A benchmark, not a test: the numbers depend on the machine.
"""
import argparse
import time

import numpy as np

import peers
from mlphys import nn, vmc

P, D, STEP = 2, 2, 1.0


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def mlphys_alone(wf, H, walkers, steps):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(walkers, P, D))
    for sampler in (vmc.Metropolis(STEP), vmc.Langevin(0.05)):
        state = sampler.init(wf, X.copy())
        start = time.perf_counter()
        for _ in range(steps):
            sampler.sweep(wf, state, rng=rng)
        moves = walkers * steps / (time.perf_counter() - start)
        print(f"  {type(sampler).__name__:10s}: {moves:.2e} walker moves/s")
    analytic = median_time(lambda: vmc.local_energy(wf, H, X), 10)
    start = time.perf_counter()
    vmc.local_energy_autograd(wf, H, X)
    autograd_time = time.perf_counter() - start
    print(f"  local energy of {walkers} walkers: analytic {analytic * 1e3:.2f} ms, autograd {autograd_time * 1e3:.1f} ms"
          f" ({autograd_time / analytic:.0f}x)")


def netket_state(nk, wf, H, walkers, steps, *, trainable=False):
    """NetKet's MCState for our wave function and Hamiltonian, ``walkers`` chains of ``steps`` Metropolis moves.

    The wave function is ours, ``wf.log_psi`` evaluated through ``jax.numpy``. Its parameters enter as constants
    (plus the one parameter NetKet needs, an offset 0), or with ``trainable`` as NetKet's parameters: written into
    a private copy of ``wf`` before each evaluation, so both sides optimise the same function of the same numbers.
    """
    import copy

    import flax.linen as fnn
    import jax.numpy as jnp
    from netket.experimental.geometry import FreeSpace
    from netket.experimental.hilbert import Particle

    model = copy.deepcopy(wf)

    class Ours(fnn.Module):
        @fnn.compact
        def __call__(self, x):
            X = x.reshape(-1, P, D)
            if not trainable:
                offset = self.param("offset", fnn.initializers.zeros, ())
                return wf.log_psi(X, xp=jnp).reshape(x.shape[:-1]) + offset
            theta = self.param("theta", lambda key: jnp.asarray(wf.params))
            k = 0
            for factor in model.factors:
                factor.params = theta[k:k + factor.n_params]
                k += factor.n_params
            return model.log_psi(X, xp=jnp).reshape(x.shape[:-1])

    def potential(x):                        # one configuration, flattened (P * D,)
        r = x.reshape(P, D)
        return 0.5 * H.omega**2 * jnp.sum(r**2) + 1.0 / jnp.linalg.norm(r[0] - r[1])

    hilbert = Particle(N=P, geometry=FreeSpace(d=D))
    ham = nk.operator.KineticEnergy(hilbert, mass=1.0) + nk.operator.PotentialEnergy(hilbert, potential)
    sampler = nk.sampler.MetropolisGaussian(hilbert, sigma=STEP, n_chains=walkers, sweep_size=1)
    state = nk.vqs.MCState(sampler, Ours(), n_samples=walkers * steps, n_discard_per_chain=0, seed=0,
                           sampler_seed=1)
    return state, ham


def against_netket(nk, wf, H, walkers, steps, repeats):
    state, ham = netket_state(nk, wf, H, walkers, steps)
    x = np.random.default_rng(1).normal(size=(64, P * D))
    ours = wf.log_psi(x.reshape(-1, P, D))
    theirs = np.asarray(state.log_value(x))
    start = time.perf_counter()
    samples = np.asarray(state.sample())             # compiles the sampler
    compile_sampler = time.perf_counter() - start
    flat = samples.reshape(-1, P * D)[:walkers]
    start = time.perf_counter()
    state.local_estimators(ham)                      # compiles the local energy
    compile_energy = time.perf_counter() - start
    e_ours = vmc.local_energy(wf, H, flat.reshape(-1, P, D))
    e_theirs = np.asarray(state.local_estimators(ham).data).reshape(-1)[:walkers]
    print(f"  same wave function: max |log psi ours - NetKet| = {np.max(np.abs(ours - theirs)):.1e}; "
          f"same local energies: max |E_L ours - NetKet| = {np.max(np.abs(e_ours - e_theirs.real)):.1e}")
    print(f"  NetKet compilation: sampler {compile_sampler:.1f} s, local energy {compile_energy:.1f} s (excluded)")

    rng = np.random.default_rng(0)
    ours_state = vmc.Metropolis(STEP).init(wf, samples.reshape(-1, P, D)[:walkers].copy())
    acc = []

    def mlphys_sample():
        for _ in range(steps):
            acc.append(vmc.Metropolis(STEP).sweep(wf, ours_state, rng=rng))

    def netket_sample():
        np.asarray(state.sample())

    X = samples.reshape(-1, P, D)                  # both evaluate the same batch: every stored sample
    t = peers.interleaved({"mlphys sample": mlphys_sample, "netket sample": netket_sample,
                           "mlphys energy": lambda: vmc.local_energy(wf, H, X),
                           "netket energy": lambda: np.asarray(state.local_estimators(ham).data)}, repeats)
    rows = [("Metropolis walker moves/s", walkers * steps / t["mlphys sample"], walkers * steps / t["netket sample"]),
            ("local energies/s", len(X) / t["mlphys energy"], len(X) / t["netket energy"])]
    print(f"  acceptance: mlphys {np.mean(acc):.2f}, NetKet {float(state.sampler_state.acceptance):.2f}")
    print(f"  {'workload':28s} {'mlphys':>10s} {'NetKet':>10s} {'mlphys / NetKet speed':>22s}")
    for name, a, b in rows:
        print(f"  {name:28s} {a:10.3g} {b:10.3g} {a / b:22.2f}")


def time_to_energy(nk, wf0, H, *, walkers=1000, iterations=300, steps=5, production=2000, lr=0.02):
    """Optimise from the same parameters on both sides, then measure E; returns nothing, prints both rows."""
    import copy

    import optax

    print(f"time to the energy: Adam {lr}, {iterations} iterations x {steps} Metropolis steps x {walkers} walkers, "
          f"then {production} production steps (exact E = 3)")
    start = time.perf_counter()
    state, ham = netket_state(nk, wf0, H, walkers, steps, trainable=True)
    state.sample(n_discard_per_chain=200)                     # burn-in, as ours
    nk.driver.VMC(ham, optax.adam(lr), variational_state=state).run(iterations, out=None, show_progress=False)
    state.n_samples = walkers * production
    theirs = state.expect(ham)
    netket_seconds = time.perf_counter() - start

    wf = copy.deepcopy(wf0)
    start = time.perf_counter()
    vmc.optimise(wf, H, vmc.Metropolis(STEP), nn.Adam(lr), n_iterations=iterations, n_walkers=walkers,
                 n_steps=steps, burn_in=200, rng=0)
    ours = vmc.sample(wf, H, vmc.Metropolis(STEP), n_walkers=walkers, n_steps=production, burn_in=200,
                      rng=1).energy()
    mlphys_seconds = time.perf_counter() - start
    for name, (E, err), seconds in (("mlphys", (ours.mean, ours.error), mlphys_seconds),
                                    ("NetKet", (float(theirs.mean.real), float(theirs.error_of_mean)),
                                     netket_seconds)):
        print(f"  {name:7s} E = {E:.6f} +- {err:.6f} (|E - 3| = {abs(E - 3):.1e})   {seconds:6.1f} s")
    print(f"  mlphys / NetKet speed (time to the energy): {netket_seconds / mlphys_seconds:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--walkers", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--steps", type=int, default=100, help="Metropolis steps per chain per timed run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-install", action="store_true", help="skip NetKet if it is not installed")
    parser.add_argument("--only-mlphys", action="store_true", help="no NetKet comparison")
    parser.add_argument("--time-to-energy", action="store_true",
                        help="only the end-to-end optimisation + production run on both sides")
    args = parser.parse_args()
    H = vmc.Hamiltonian(P, D, 1.0, coulomb=True)
    wf = vmc.build_wavefunction("rbm-jastrow", P, D, rng=0, coulomb=True)
    nk = None if args.only_mlphys else peers.require("netket", ["netket==3.23.0"], install=not args.no_install)
    if args.time_to_energy:
        if nk is not None:
            time_to_energy(nk, wf, H)
        return
    for walkers in args.walkers:
        print(f"2 electrons in 2D, RBM x Pade-Jastrow, {walkers} walkers, {args.steps} steps per run")
        mlphys_alone(wf, H, walkers, args.steps)
        if nk is not None:
            against_netket(nk, wf, H, walkers, args.steps, args.repeats)


if __name__ == "__main__":
    main()
