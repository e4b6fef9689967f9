"""VMC speed: Metropolis moves per second, and analytic vs autograd local energy.

    python benchmarks/bench_vmc.py [--walkers N] [--steps N]

Two electrons in 2D with the RBM x Pade-Jastrow wave function. Prints, from one
run: walker moves per second (all particles of a walker moved at once) and
single-particle moves per second for random-walk Metropolis and Langevin
sampling, and the ratio of the time to evaluate the local energy of the same
batch by autograd to that of the analytic implementation. A benchmark, not a test.
"""
import argparse
import time

import numpy as np

from mlphys import vmc


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--walkers", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    H = vmc.Hamiltonian(2, 2, 1.0, coulomb=True)
    wf = vmc.build_wavefunction("rbm-jastrow", 2, 2, rng=0, coulomb=True)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.walkers, 2, 2))
    print(f"2 electrons in 2D, RBM x Pade-Jastrow, {args.walkers} walkers, {args.steps} steps")
    for sampler in (vmc.Metropolis(1.0), vmc.Langevin(0.05)):
        state = sampler.init(wf, X.copy())
        start = time.perf_counter()
        for _ in range(args.steps):
            sampler.sweep(wf, state, rng=rng)
        seconds = time.perf_counter() - start
        moves = args.walkers * args.steps / seconds
        print(f"{type(sampler).__name__:10s}: {moves:.2e} walker moves/s = {2 * moves:.2e} particle moves/s")
    repeats = 20
    start = time.perf_counter()
    for _ in range(repeats):
        vmc.local_energy(wf, H, X)
    analytic = (time.perf_counter() - start) / repeats
    start = time.perf_counter()
    vmc.local_energy_autograd(wf, H, X)
    autograd_time = time.perf_counter() - start
    print(f"local energy of {args.walkers} walkers: analytic {analytic * 1e3:.2f} ms, autograd "
          f"{autograd_time * 1e3:.1f} ms, speed-up {autograd_time / analytic:.0f}x")


if __name__ == "__main__":
    main()
