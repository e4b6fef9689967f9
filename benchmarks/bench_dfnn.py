"""Speed of Rodini's recursion (Chapter 6) against autograd and against the paper's C code.

    python benchmarks/bench_dfnn.py [--points N] [--steps N]

From one run, for the paper's 1-(10 x 6)-1 network, prints:

* per point, value + input derivatives + all their parameter gradients (``DFNN.jacobians``
  batched over ``--points``) in the three modes, beside the paper's C library as read off its Table 1 trend
  lines (Eq. 43, natural log) at one input: about 7 us for first derivatives to 15 us for the full Hessian;
* one energy + parameter-gradient step at ``--points`` grid points (``DFNN.vjp``),
  analytic vs autograd, and the ratio;
* the time of ``--steps`` Adam steps of the harmonic-oscillator training, and that time extrapolated to the
  12,000 steps of our paper-scale setting (the paper states neither its number of steps nor its training time).

A benchmark, not a test: the numbers depend on the machine.
"""
import argparse
import time

from mlphys import dfnn, variational as va

PAPER_C_US = {"first": 7.0, "full": 15.0}


def best_of(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    sizes = (1,) + (10,) * 6 + (1,)
    print(f"network {sizes}, {args.points} points")
    for mode in dfnn.MODES:
        t = dfnn.evaluation_time(sizes, mode, n_points=min(args.points, 2000), repeats=3)
        paper = PAPER_C_US.get(mode)
        ratio = f"  (paper's C code ~{paper:.0f} us: ratio C / ours = {paper / (t * 1e6):.2f})" if paper else ""
        print(f"jacobians, mode {mode:5s}: {t * 1e6:6.1f} us per point{ratio}")
    net = dfnn.DFNN(sizes, rng=0)
    x, h = va.grid((-4, 4), args.points)
    v = va.harmonic(x)
    ours = best_of(lambda: va.energy_and_gradient(net, x, v, h), 5)
    theirs = best_of(lambda: va.energy_and_gradient_autograd(net, x, v, h), 3)
    print(f"energy + gradient step: analytic {ours * 1e3:.1f} ms ({ours / args.points * 1e6:.2f} us per point), "
          f"autograd {theirs * 1e3:.1f} ms, speed-up {theirs / ours:.1f}x")
    schedule = ((args.steps, 1e-2),)
    r = va.ground_state(va.harmonic, (-4, 4), hidden=(10,) * 6, n_points=args.points, schedule=schedule)
    per_step = r.seconds / args.steps
    print(f"training: {args.steps} Adam steps in {r.seconds:.1f} s = {per_step * 1e3:.1f} ms per step; "
          f"12,000 steps (our paper-scale setting) extrapolated: {per_step * 12_000 / 60:.1f} min")


if __name__ == "__main__":
    main()
