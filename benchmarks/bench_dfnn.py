"""Speed of Rodini's recursion (Chapters 7-8) against autograd, JAX and the paper's C code.

    python benchmarks/bench_dfnn.py [--points N] [--steps N] [--only-jax] [--no-install]

From one run, for the paper's 1-(10 x 6)-1 network, prints:

* against JAX (installed on demand into the cache by ``peers.py``, never a dependency; ``--no-install``
  skips it when absent): the energy + gradient step of ``variational.energy_and_gradient`` jit-compiled two
  ways - ``phi''`` by forward-over-forward (two nested ``jvp``) and by reverse-over-reverse (two nested
  ``grad``) - checked equal to ours first, then timed interleaved with ours at 1e3 and 1e4 points (medians
  of ``--repeats``; JAX's compilation excluded and reported separately; each call after a 50 ms pause, see
  ``PAUSE``). Ours is the default engine: compiled when numba is installed, and then the NumPy engine is timed
  against it in a loop of its own (the before/after). Then the flop count of the step against this machine's
  large-matrix-product speed (the "flop limit" of issue #17), for the paused medians and for the best of
  back-to-back calls (as the yardstick is timed), beside the speed numba-compiled code can reach at all here;
* per point, value + input derivatives + all their parameter gradients (``DFNN.jacobians``
  batched over ``--points``) in the three modes, beside the paper's C library as read off its Table 1 trend
  lines (Eq. 43, natural log) at one input: about 7 us for first derivatives to 15 us for the full Hessian;
* one energy + parameter-gradient step at ``--points`` grid points (``DFNN.vjp``),
  analytic vs autograd, and the ratio;
* the time of ``--steps`` Adam steps of the harmonic-oscillator training, and that time extrapolated to the
  12,000 steps of our paper-scale setting (the paper states neither its number of steps nor its training time).

A benchmark, not a test: the numbers depend on the machine (and on a shared virtual machine, on its
neighbours: repeat a run before believing a ratio within 20% of 1).
"""
import argparse
import time

import numpy as np

import peers
from mlphys import dfnn, variational as va

PAPER_C_US = {"first": 7.0, "full": 15.0}
# Each side runs threads (numba's OpenMP pool, XLA's Eigen pool, OpenBLAS's) that spin for a while after
# their work before they sleep; on 2 cores the spinning threads of one side steal the next side's cores. A
# pause before each timed call lets numba's and XLA's go idle. OpenBLAS's spin far longer (~0.1 s), so the
# NumPy engine, whose large matrix products use them, is timed in a loop of its own with a longer pause.
PAUSE, OPENBLAS_PAUSE = 0.05, 0.3


def step_flops(sizes, n_points):
    """Floating-point operations of one energy + gradient step: the matrix products exactly (value and two
    input derivatives forward, Sigma and weight gradients backward: 3 x 2 x N_in x N_out each), plus ~35
    per hidden neuron for the activation and the product rules (issue #17's count: 114 MFLOP at 1e4 points)."""
    products = sum(6 * a * b for a, b in zip(sizes[:-1], sizes[1:]))
    products += sum(12 * a * b for a, b in zip(sizes[1:-1], sizes[2:])) + 6 * sizes[0] * sizes[1]
    return n_points * (products + 35 * sum(sizes[1:-1]))


def matmul_gflops(n=1000, repeats=5):
    """This machine's large-matrix-product speed (GFLOP/s, float64, all cores): the flop limit's yardstick."""
    a = np.random.default_rng(0).normal(size=(n, n))
    return 2 * n**3 / best_of(lambda: a @ a, repeats) / 1e9


def numba_ceiling_gflops(n_rounds=20_000, repeats=5):
    """The arithmetic speed of numba-compiled code here (GFLOP/s, float64, all cores): independent multiply-add
    chains on registers, compiled with the compiled engine's options (``dfnn_compiled._KERNEL``: no FMA), so
    vectorised as its loops are. No kernel of that engine can beat it; None without numba."""
    try:
        from numba import get_num_threads, njit, prange
    except ImportError:
        return None
    from mlphys.dfnn_compiled import _KERNEL

    @njit(parallel=True, **{**_KERNEL, "cache": False})
    def chains(x, out, n_rounds):
        for t in prange(x.shape[0]):                  # one row of 256 points per thread
            for _ in range(n_rounds):
                for b in range(x.shape[1]):
                    v0, v1, v2, v3 = x[t, b], x[t, b] + 1.0, x[t, b] + 2.0, x[t, b] + 3.0
                    for _ in range(32):                # 4 x 32 multiply-adds = 256 flops per point
                        v0, v1, v2, v3 = v0 * 0.999 + 1e-3, v1 * 0.999 + 1e-3, v2 * 0.999 + 1e-3, v3 * 0.999 + 1e-3
                    out[t, b] = (v0 + v1) + (v2 + v3)

    x = np.zeros((get_num_threads(), 256))
    out = np.empty_like(x)
    chains(x, out, 1)
    return 256 * x.size * n_rounds / best_of(lambda: chains(x, out, n_rounds), repeats) / 1e9


def best_of(fn, repeats):
    """The fastest of ``repeats`` back-to-back calls of ``fn()``, in seconds."""
    return float(dfnn.call_times(fn, repeats).min())


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
    peak, ceiling = matmul_gflops(), numba_ceiling_gflops()
    engine = "numba engine" if dfnn.compiled_kernel() is not None else "NumPy engine: numba not installed"
    net = dfnn.DFNN(sizes, rng=0)
    for n in points:
        x, h = va.grid((-4, 4), n)
        v = va.harmonic(x)
        e, norm, grads = va.energy_and_gradient(net, x, v, h)
        params = [jax.numpy.asarray(p) for p in net.params]
        steps = jax_steps(jax, net, x, v, h)
        for name, step in steps.items():
            start = time.perf_counter()
            (_, (e_j, _)), g_j = step(params)
            jax.block_until_ready(g_j)
            compile_s = time.perf_counter() - start
            dev = max(float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b))) for a, b in zip(g_j, grads))
            print(f"  {n:6d} points, JAX {name}: |dE| = {abs(float(e_j) - e):.1e}, gradients agree to {dev:.1e} "
                  f"(relative); first call incl. compilation {compile_s:.2f} s")
        contenders = {"mlphys": lambda: va.energy_and_gradient(net, x, v, h),
                      **{name: (lambda step=step: jax.block_until_ready(step(params))) for name, step in steps.items()}}
        median = peers.interleaved(contenders, repeats, pause=PAUSE)
        best = min((t, name) for name, t in median.items() if name in steps)
        line = ", ".join(f"{name} {t * 1e3:.2f} ms" for name, t in median.items())
        print(f"  {n:6d} points ({engine}): {line}; mlphys / best JAX ({best[1]}) = "
              f"{median['mlphys'] / best[0]:.2f} (target <= 1)")
        if dfnn.compiled_kernel() is not None:       # before/after, in a loop of its own: see PAUSE
            engines = peers.interleaved({e: (lambda e=e: va.energy_and_gradient(net, x, v, h, engine=e))
                                         for e in ("numba", "numpy")}, repeats, pause=OPENBLAS_PAUSE)
            print(f"  {n:6d} points: NumPy engine {engines['numpy'] * 1e3:.2f} ms, numba engine "
                  f"{engines['numba'] * 1e3:.2f} ms: {engines['numpy'] / engines['numba']:.2f}x faster")
        flops = step_flops(sizes, n)
        limit = flops / (peak * 1e9)
        print(f"  {n:6d} points: {flops / 1e6:.0f} MFLOP per step, {limit * 1e3:.2f} ms at the {peak:.0f} GFLOP/s of "
              f"a large matrix product here (the flop limit): with the pauses above mlphys takes "
              f"{median['mlphys'] / limit:.1f}x that, best JAX {best[0] / limit:.1f}x (target <= 5)")
        # The limit is a best of back-to-back products: so is this, as in a training loop (threads kept awake).
        ours, theirs = (best_of(contenders[name], repeats) for name in ("mlphys", best[1]))
        print(f"  {n:6d} points, best of {repeats} back to back: mlphys {ours * 1e3:.2f} ms = {ours / limit:.1f}x the "
              f"limit, best JAX {theirs * 1e3:.2f} ms = {theirs / limit:.1f}x (target <= 5)")
        if ceiling is not None:
            print(f"  {n:6d} points: numba-compiled code peaks at {ceiling:.0f} GFLOP/s here (multiply-add chains on "
                  f"registers, no FMA), {peak / ceiling:.1f}x below the limit's yardstick; the compiled step runs at "
                  f"{flops / ours / 1e9:.0f} GFLOP/s, {100 * flops / ours / 1e9 / ceiling:.0f}% of that peak")


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
