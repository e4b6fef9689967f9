"""The compiled DFNN step (mlphys.dfnn_compiled, optional numba) against the NumPy path, its reference.

Both compute the same recursion in float64, in different orders of summation: they agree to rounding.
Observed relative differences are ~3e-15 for the 1-(10 x 6)-1 network; the tolerances below (1e-12 relative
to the largest entry of each array) leave room for deeper and wider networks while still catching a wrong
term of any product rule, which changes results at the 1e-3 level or more.
"""
import numpy as np
import pytest

from mlphys import dfnn, variational as va

pytest.importorskip("numba")
from mlphys import dfnn_compiled  # noqa: E402  (needs numba)

RTOL = 1e-12


def _random_cotangent(B, rng, with_gradient=True):
    c = rng.normal(size=(3, B))

    def cotangent(d):
        return c[0][:, None], (c[1][:, None, None] if with_gradient else None), c[2][:, None, None]
    return cotangent


def _assert_close(a, b, what):
    scale = np.max(np.abs(b))
    assert np.max(np.abs(a - b)) <= RTOL * scale, f"{what}: {np.max(np.abs(a - b)) / scale:.1e} relative"


@pytest.mark.parametrize("activation", dfnn.ACTIVATIONS)
@pytest.mark.parametrize("sizes, B", [((1,) + (10,) * 6 + (1,), 1000),   # the paper's network, 15 blocks + 40
                                      ((1, 5, 12, 3, 1), 37),            # uneven widths, less than one block
                                      ((1, 1), 200),                     # no hidden layer: phi linear
                                      ((1, 16, 16, 1), 4 * 64 + 1)])     # one point in the last stripe's block
def test_compiled_vjp_equals_numpy(activation, sizes, B):
    rng = np.random.default_rng(7)
    net = dfnn.DFNN(sizes, activation=activation, rng=rng)
    X = rng.uniform(-4, 4, size=(B, 1))
    for mode in ("diag", "full"):
        cot = _random_cotangent(B, rng)
        d_ref, g_ref = net.vjp(X, cot, mode, engine="numpy")
        d, g = net.vjp(X, cot, mode, engine="numba")
        _assert_close(d.value, d_ref.value, "value")
        _assert_close(d.gradient, d_ref.gradient, "gradient")
        _assert_close(d.laplacian, d_ref.laplacian, "laplacian")
        assert (d.hessian is None) == (d_ref.hessian is None)
        for k, (a, b) in enumerate(zip(g, g_ref)):
            assert a.shape == b.shape
            _assert_close(a, b, f"grads[{k}] ({mode})")


@pytest.mark.parametrize("max_bytes", [0, 3 * (2 * 4 * 12 * 3 * 64 * 8), None])  # none, 3 of 5 blocks, all kept
def test_blocks_kept_or_recomputed_give_the_same_bits(max_bytes):
    """The second sweep reads a block's forward sweep from the workspace or recomputes it: same bits, and
    the same again when the workspace is reused (its accumulators are zeroed on every call)."""
    rng = np.random.default_rng(5)
    sizes, B = (1, 5, 12, 3, 1), 5 * 64 - 9
    net = dfnn.DFNN(sizes, rng=rng)
    x, c = rng.uniform(-3, 3, B), rng.normal(size=(3, B))
    ref = dfnn_compiled.vjp(net.params, "tanh", x, lambda out: c, workspace=None)
    kw = {} if max_bytes is None else {"max_bytes": max_bytes}
    ws = dfnn_compiled.Workspace(sizes, B, **kw)
    assert ws.n_cached == {0: 0, None: 5}.get(max_bytes, 3)
    for _ in range(2):
        out, grads = dfnn_compiled.vjp(net.params, "tanh", x, lambda out: c, workspace=ws)
        assert np.array_equal(out, ref[0]) and all(np.array_equal(a, b) for a, b in zip(grads, ref[1]))


def test_network_keeps_one_workspace_and_does_not_pickle_it():
    import pickle

    net = dfnn.DFNN((1, 8, 8, 1), rng=2)
    x, h = va.grid((-4, 4), 300)
    v = va.harmonic(x)
    first = va.energy_and_gradient(net, x, v, h, engine="numba")
    ws = net._workspace
    assert va.energy_and_gradient(net, x, v, h, engine="numba")[0] == first[0] and net._workspace is ws
    va.energy_and_gradient(net, x[:200], v[:200], h, engine="numba")      # another grid: a new workspace
    assert net._workspace is not ws and net._workspace.n_points == 200
    copy = pickle.loads(pickle.dumps(net))
    assert not hasattr(copy, "_workspace") and all(np.array_equal(a, b) for a, b in zip(copy.params, net.params))


def test_compiled_energy_gradient_equals_autograd():
    """The whole training step through the compiled engine against autograd (the oracle)."""
    net = dfnn.DFNN((1, 10, 10, 1), rng=3)
    x, h = va.grid((-4, 4), 300)
    v = va.harmonic(x)
    e, norm, grads = va.energy_and_gradient(net, x, v, h, engine="numba")
    e_ref, norm_ref, g_ref = va.energy_and_gradient_autograd(net, x, v, h)
    assert e == pytest.approx(e_ref, rel=1e-13) and norm == pytest.approx(norm_ref, rel=1e-13)
    for a, b in zip(grads, g_ref):
        _assert_close(a, b, "energy gradient")


def test_compiled_result_does_not_depend_on_threads():
    """Per-stripe accumulators summed in a fixed order: the same bits with one thread or two."""
    import numba

    net = dfnn.DFNN((1, 10, 10, 10, 1), rng=1)
    x, h = va.grid((-4, 4), 2000)
    v = va.harmonic(x)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = va.energy_and_gradient(net, x, v, h, engine="numba")
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = va.energy_and_gradient(net, x, v, h, engine="numba")
    finally:
        numba.set_num_threads(before)
    assert one[0] == two[0] and one[1] == two[1]
    assert all(np.array_equal(a, b) for a, b in zip(one[2], two[2]))


def test_tanh_within_3_ulp_of_numpy():
    z = np.concatenate([np.linspace(-25, 25, 100_001), np.random.default_rng(0).normal(0, 3, 50_000),
                        [0.0, -0.0, 1e-300, -1e-300, 1e-9, 0.625, -0.625, np.nextafter(0.625, 0), 19.99, 20.0, 1e300,
                         -1e300, np.inf, -np.inf]])
    # through a 1-1-1 network with unit weights: phi(x) = tanh(x), read off the first sweep
    net = dfnn.DFNN((1, 1, 1), rng=0)
    net.params = [np.ones((1, 1)), np.zeros(1), np.ones((1, 1)), np.zeros(1)]
    ours = dfnn_compiled.vjp(net.params, "tanh", z, np.zeros_like)[0][0]
    ref = np.tanh(z)
    ulp = np.abs(ours - ref) / np.spacing(np.maximum(np.abs(ref), np.finfo(float).tiny))
    assert ulp.max() <= 3, f"{ulp.max()} ulp at z = {z[np.argmax(ulp)]}"
    assert np.isnan(dfnn_compiled.vjp(net.params, "tanh", np.array([np.nan]), np.zeros_like)[0][0]).all()


def test_fresh_compilation_and_cached_code_agree_to_the_bit(tmp_path):
    """The first process compiles the kernel, the next loads it from numba's cache: both must give the same bits
    (they did not with FMA contraction, whose use depends on inlining), or a notebook's numbers would depend on
    whether it ran first."""
    import os
    import subprocess
    import sys

    script = ("import hashlib, numpy as np\nfrom mlphys import dfnn, variational as va\n"
              "net = dfnn.DFNN((1,) + (10,) * 6 + (1,), rng=0)\nx, h = va.grid((-4, 4), 500)\n"
              "e, n, g = va.energy_and_gradient(net, x, va.harmonic(x), h, engine='numba')\n"
              "print(hashlib.md5(np.concatenate([a.ravel() for a in g] + [[e, n]]).tobytes()).hexdigest())\n")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
            for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr[-2000:]
    assert any(tmp_path.rglob("*.nbi")), "the first run wrote no cache: the second did not test loading it"
    assert runs[0].stdout == runs[1].stdout
