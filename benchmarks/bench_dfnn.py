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

and, against JAX (installed on demand into the cache by ``peers.py``, never a dependency; ``--no-install``
skips it when absent), the same energy + gradient step jit-compiled two ways - ``phi''`` by forward-over-forward
(two nested ``jvp``) and by reverse-over-reverse (two nested ``grad``) - checked equal to ours first, then timed
interleaved at 1e3 and 1e4 points (medians; JAX's compilation excluded and reported separately).

A benchmark, not a test: the numbers depend on the machine.
"""
import argparse
import time

import numpy as np

import peers
from mlphys import dfnn, variational as va

PAPER_C_US = {"first": 7.0, "full": 15.0}


def best_of(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def jax_steps(jax, net, x, v, h, penalty=1.0):
    """The energy + gradient step of ``va.energy_and_gradient`` in JAX: {name: jitted function of the params}."""
    import jax.numpy as jnp

    x, v = jnp.asarray(x), jnp.asarray(v)
    ones = jnp.ones_like(x)

    def phi_of(params):
        return lambda xx: dfnn.output(params, xx[:, None], net.activation, jnp)[:, 0]

    def lap_forward(f, xx):
        return jax.jvp(lambda y: jax.jvp(f, (y,), (ones,))[1], (xx,), (ones,))[1]

    def lap_reverse(f, xx):
        return jax.grad(lambda y: jax.grad(lambda z: f(z).sum())(y).sum())(xx)

    def make(lap_fn):
        def loss(params):
            f = phi_of(params)
            phi, lap = f(x), lap_fn(f, x)
            norm = h * jnp.dot(phi, phi)
            e = h * jnp.dot(phi, v * phi - 0.5 * lap) / norm
            return e + penalty * (norm - 1.0) ** 2, (e, norm)
        return jax.jit(jax.value_and_grad(loss, has_aux=True))

    return {"jvp-of-jvp": make(lap_forward), "grad-of-grad": make(lap_reverse)}


def compare_with_jax(jax, sizes, points, repeats):
    jax.config.update("jax_enable_x64", True)         # before any array is made: float64 like mlphys
    net = dfnn.DFNN(sizes, rng=0)
    for n in points:
        x, h = va.grid((-4, 4), n)
        v = va.harmonic(x)
        e, norm, grads = va.energy_and_gradient(net, x, v, h)
        params = [jax.numpy.asarray(p) for p in net.params]
        steps = jax_steps(jax, net, x, v, h)
        times = {"mlphys": []}
        for name, step in steps.items():
            start = time.perf_counter()
            (_, (e_j, _)), g_j = step(params)
            jax.block_until_ready(g_j)
            compile_s = time.perf_counter() - start
            dev = max(float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b))) for a, b in zip(g_j, grads))
            print(f"  {n:6d} points, JAX {name}: |dE| = {abs(float(e_j) - e):.1e}, gradients agree to {dev:.1e} "
                  f"(relative); first call incl. compilation {compile_s:.2f} s")
            times[name] = []
        for _ in range(repeats):                      # interleaved
            start = time.perf_counter()
            va.energy_and_gradient(net, x, v, h)
            times["mlphys"].append(time.perf_counter() - start)
            for name, step in steps.items():
                start = time.perf_counter()
                jax.block_until_ready(step(params))
                times[name].append(time.perf_counter() - start)
        ours = np.median(times["mlphys"])
        best = min((np.median(t), name) for name, t in times.items() if name != "mlphys")
        line = ", ".join(f"JAX {name} {np.median(t) * 1e3:.2f} ms" for name, t in times.items() if name != "mlphys")
        print(f"  {n:6d} points: mlphys {ours * 1e3:.2f} ms, {line}; mlphys / best JAX ({best[1]}) = "
              f"{ours / best[0]:.2f} (target <= 1)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=20, help="interleaved repeats of the JAX comparison")
    parser.add_argument("--no-install", action="store_true", help="do not install JAX if it is missing")
    parser.add_argument("--only-jax", action="store_true", help="run only the comparison with JAX")
    args = parser.parse_args()
    sizes = (1,) + (10,) * 6 + (1,)
    jax = peers.require("jax", ["jax==0.10.2", "jaxlib==0.10.2"], install=not args.no_install)
    if jax is not None:
        print(f"energy + gradient step, network {sizes}, float64: mlphys vs JAX {jax.__version__} (jit)")
        compare_with_jax(jax, sizes, (1_000, 10_000), args.repeats)
    if args.only_jax:
        return
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
