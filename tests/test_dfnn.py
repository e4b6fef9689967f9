import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlphys import dfnn


def rel_err(a, b):
    return np.max(np.abs(a - b)) / max(1.0, np.max(np.abs(b)))


@settings(max_examples=12, deadline=None, derandomize=True)
@given(n_in=st.integers(1, 4), n_out=st.integers(1, 3), hidden=st.lists(st.integers(1, 4), min_size=1, max_size=6),
       activation=st.sampled_from(dfnn.ACTIVATIONS), mode=st.sampled_from(dfnn.MODES), seed=st.integers(0, 2**16))
def test_recursion_equals_autograd(n_in, n_out, hidden, activation, mode, seed):
    """Values, input derivatives and every parameter gradient of them, against autograd."""
    net = dfnn.DFNN((n_in, *hidden, n_out), activation=activation, rng=seed)
    X = np.random.default_rng(seed).normal(size=(2, n_in))
    deriv, grads = net.jacobians(X, mode)
    ref, ref_grads = dfnn.autograd_reference(net, X, mode)
    for key in ("value", "gradient", "hessian", "hessian_diag"):
        if getattr(ref, key) is not None:
            assert rel_err(getattr(deriv, key), getattr(ref, key)) < 1e-10, key
    for g, r in zip(grads, ref_grads):
        assert g.keys() == r.keys()
        for key in g:
            assert g[key].shape == r[key].shape, key
            assert rel_err(g[key], r[key]) < 1e-10, key


@pytest.mark.parametrize("activation", dfnn.ACTIVATIONS)
def test_activation_derivatives_against_finite_differences(activation):
    z, h = np.linspace(-3, 3, 13), 1e-5
    s = dfnn.activation_derivatives(activation, z)
    for k in range(3):
        fd = (dfnn.activation_derivatives(activation, z + h)[k] - dfnn.activation_derivatives(activation, z - h)[k]) / (2 * h)
        assert np.allclose(s[k + 1], fd, atol=1e-8)


def test_input_derivatives_against_finite_differences():
    net = dfnn.DFNN((3, 6, 5, 2), rng=4)
    x = np.array([[0.3, -0.7, 1.1]])
    d = net.derivatives(x, "full")
    h = 1e-4
    for a in range(3):
        e = np.zeros(3)
        e[a] = h
        fd = (net(x + e) - net(x - e)) / (2 * h)
        assert np.allclose(d.gradient[0, :, a], fd[0], atol=1e-8)
        fd2 = (net.derivatives(x + e, "first").gradient - net.derivatives(x - e, "first").gradient) / (2 * h)
        assert np.allclose(d.hessian[0, :, :, a], fd2[0], atol=1e-7)
    assert np.allclose(d.laplacian, np.trace(d.hessian[0], axis1=1, axis2=2))


@settings(max_examples=15, deadline=None, derandomize=True)
@given(n_in=st.integers(1, 3), n_out=st.integers(1, 3), hidden=st.lists(st.integers(1, 5), min_size=1, max_size=4),
       mode=st.sampled_from(dfnn.MODES), seed=st.integers(0, 2**16))
def test_vjp_is_the_contraction_of_the_jacobians(n_in, n_out, hidden, mode, seed):
    rng = np.random.default_rng(seed)
    net = dfnn.DFNN((n_in, *hidden, n_out), rng=seed)
    X = rng.normal(size=(5, n_in))
    c0, c1 = rng.normal(size=(5, n_out)), rng.normal(size=(5, n_out, n_in))
    c2 = {"first": None, "diag": rng.normal(size=(5, n_out, n_in)), "full": rng.normal(size=(5, n_out, n_in, n_in))}[mode]
    _, grads = net.jacobians(X, mode)
    for vjp in (net.vjp, net.vjp_general):
        _, v = vjp(X, lambda d: (c0, c1, c2), mode)
        for g, vi in zip(grads, v):
            expected = np.einsum("bk,bk...->...", c0, g["value"]) + np.einsum("bka,bka...->...", c1, g["gradient"])
            if mode == "full":
                expected += np.einsum("bkae,bkae...->...", c2, g["hessian"])
            elif mode == "diag":
                expected += np.einsum("bka,bka...->...", c2, g["hessian_diag"])
            assert rel_err(vi, expected) < 1e-10


def test_scalar_fast_path_equals_general_path():
    net = dfnn.DFNN((1, 10, 10, 10, 1), activation="softplus", rng=1)
    X = np.linspace(-2, 2, 50)[:, None]
    cot = lambda d: (np.sin(X), np.cos(X)[:, :, None], d.value[:, :, None])  # noqa: E731
    d2, g2 = net.vjp_general(X, cot, "diag")
    for engine in ("numpy",) + (("numba",) if dfnn.compiled_kernel() is not None else ()):
        d1, g1 = net.vjp(X, cot, "diag", engine=engine)
        assert np.allclose(d1.hessian_diag, d2.hessian_diag, rtol=1e-12, atol=1e-14)
        for a, b in zip(g1, g2):
            assert rel_err(a, b) < 1e-12


def test_flat_parameters_round_trip():
    net = dfnn.DFNN((2, 3, 1), rng=0)
    theta = net.get_flat()
    net.set_flat(theta * 2)
    assert np.allclose(net.get_flat(), 2 * theta)
    with pytest.raises(ValueError, match="theta"):
        net.set_flat(theta[:-1])


@pytest.mark.parametrize("sizes, kwargs, match", [
    ((3,), {}, "at least an input and an output"),
    ((1, 0, 1), {}, r"sizes\[1\]"),
    ((1, 2.5, 1), {}, r"sizes\[1\]"),
    ((1, 4, 1), {"activation": "relu"}, "activation"),
])
def test_bad_networks_raise(sizes, kwargs, match):
    with pytest.raises(ValueError, match=match):
        dfnn.DFNN(sizes, **kwargs)


def test_bad_inputs_raise():
    net = dfnn.DFNN((2, 4, 1))
    with pytest.raises(ValueError, match="X: must have one column per network input"):
        net.derivatives(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="mode"):
        net.derivatives(np.zeros((3, 2)), mode="hessian")
    with pytest.raises(ValueError, match="NaN"):
        net(np.array([[np.nan, 0.0]]))


def test_without_numba_auto_takes_numpy_and_numba_is_refused(monkeypatch):
    """numba is optional: with it absent, engine='auto' is the NumPy path and engine='numba' says how to get it."""
    net = dfnn.DFNN((1, 4, 1), rng=0)
    X = np.linspace(-1, 1, 5)[:, None]

    def cot(d):
        return np.ones((5, 1)), None, np.ones((5, 1, 1))
    _, g_numpy = net.vjp(X, cot, engine="numpy")
    monkeypatch.setattr(dfnn, "compiled_kernel", lambda: None)
    _, g_auto = net.vjp(X, cot)
    assert all(np.array_equal(a, b) for a, b in zip(g_auto, g_numpy))
    with pytest.raises(ValueError, match=r"mlphys\[fast\]"):
        net.vjp(X, cot, engine="numba")


def test_a_broken_numba_falls_back_to_numpy_with_a_warning(monkeypatch):
    """numba installed but failing to import (e.g. built for another NumPy): a warning, then the NumPy engine."""
    import builtins
    import importlib.util

    real_import = builtins.__import__

    def failing_import(name, globals=None, locals=None, fromlist=(), level=0):
        if "dfnn_compiled" in (fromlist or ()):                  # `from . import dfnn_compiled`
            raise ImportError("numba built against another NumPy")
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())   # "installed"
    monkeypatch.setattr(builtins, "__import__", failing_import)
    dfnn.compiled_kernel.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="does not import"):
            assert dfnn.compiled_kernel() is None
    finally:
        dfnn.compiled_kernel.cache_clear()


def test_engine_is_validated():
    net = dfnn.DFNN((1, 4, 1), rng=0)
    with pytest.raises(ValueError, match="engine must be one of"):
        net.vjp(np.zeros((3, 1)), lambda d: (np.ones((3, 1)), None, None), engine="jax")


def test_call_times_times_every_call_and_validates_repeats():
    calls = []
    times = dfnn.call_times(lambda: calls.append(1), 3)
    assert len(calls) == 3 and times.shape == (3,) and np.all(times >= 0)
    with pytest.raises(ValueError, match="repeats"):
        dfnn.call_times(lambda: None, 0)


def test_output_refuses_malformed_params():
    net = dfnn.DFNN((1, 3, 1), rng=0)
    X = np.zeros((2, 1))
    for bad in (net.params[:3], net.params[:1], [net.params[0], net.params[1], np.ones((5, 1)), np.ones(1)]):
        with pytest.raises(ValueError, match="params"):
            dfnn.output(list(bad), X)
    with pytest.raises(ValueError, match="X"):
        dfnn.output(list(net.params), np.zeros((2, 2)))
