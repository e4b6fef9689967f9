import numpy as np
import pytest

from mlphys import neural_ode
from mlphys.claims import imchitr as ch9


def test_adjoint_matches_autograd_and_converges_at_fourth_order():
    devs = [ch9.adjoint_check(n) for n in (10, 20, 40)]
    assert devs[-1] < 1e-8
    assert devs[0] / devs[1] > 10 and devs[1] / devs[2] > 10


def test_input_adjoint_matches_finite_differences():
    rng = np.random.default_rng(1)
    f = neural_ode.ODEFunc(2, 6, rng=1)
    psi0 = rng.normal(size=(1, 2))
    loss = lambda p: float(np.sum(neural_ode.integrate(f, p, 0, 1, 50) ** 2))  # noqa: E731
    psi1 = neural_ode.integrate(f, psi0, 0, 1, 50)
    a0, _ = neural_ode.adjoint_gradients(f, psi1, 2 * psi1, 0, 1, 50)
    eps = 1e-6
    for k in range(2):
        e = np.zeros((1, 2))
        e[0, k] = eps
        assert (loss(psi0 + e) - loss(psi0 - e)) / (2 * eps) == pytest.approx(a0[0, k], rel=1e-6)


def test_memory_flat_for_adjoint_growing_for_backprop():
    steps, mem = ch9.memory_scan(steps=(10, 200))
    assert mem["adjoint"][1] < 1.5 * mem["adjoint"][0]
    assert mem["autograd"][1] > 5 * mem["autograd"][0]


def test_euler_resnet_converges_to_the_ode_at_first_order():
    _, errors, order = ch9.euler_order()
    assert np.all(np.abs(order - 1) < 0.1)


def test_rings_are_learned():
    model, history, _, (X_test, y_test) = ch9.rings_experiment(iterations=150)
    assert history.loss[-1] < 0.1 * history.loss[0] and not history.interrupted
    assert model.accuracy(X_test, y_test) > 0.95


def test_bad_input_raises():
    f = neural_ode.ODEFunc(2, 4)
    with pytest.raises(ValueError, match="t1"):
        neural_ode.integrate(f, np.zeros((1, 2)), 1.0, 1.0)
    with pytest.raises(ValueError, match="shape"):
        neural_ode.adjoint_gradients(f, np.zeros((3, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="n_steps"):
        neural_ode.integrate(f, np.zeros((1, 2)), 0.0, 1.0, 0)


def test_fit_with_a_diverging_loss_warns_what_to_change_and_keeps_finite_parameters():
    """lr=1e300 used to end in "psi1 contains 300 NaN or infinite value(s)", raised from the adjoint inside fit,
    naming nothing the caller passed; now fit stops with a warning naming lr and keeps its last finite parameters."""
    import warnings

    X, y = neural_ode.rings(100, rng=0)
    model = neural_ode.RingClassifier(rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)          # overflows on the way
        with pytest.warns(RuntimeWarning, match=r"diverged.*lower lr \(now 1e\+300\)"):
            history = model.fit(X, y, iterations=20, lr=1e300)
    assert history.diverged and np.all(np.isfinite(history.loss))
    assert all(np.all(np.isfinite(p)) for p in model.f.params) and np.all(np.isfinite(model.w))
    assert np.all(np.isfinite(model.predict_proba(X)))


def test_integrate_and_resnet_check_f_and_result():
    with pytest.raises(ValueError, match="f returned shape"):
        neural_ode.integrate(lambda p, *a: p[:, :1], np.ones((2, 2)))
    with pytest.raises(ValueError, match="f returned shape"):
        neural_ode.euler_resnet(lambda p, *a: p[:, :1], np.ones((2, 2)), 3)
    with pytest.raises((ValueError, FloatingPointError), match="NaN"):
        neural_ode.integrate(lambda p, *a: p * np.nan, np.ones((2, 2)))
    with pytest.raises((ValueError, FloatingPointError), match="NaN"):
        neural_ode.euler_resnet(lambda p, *a: p * np.nan, np.ones((2, 2)), 3)
    with pytest.raises(ValueError, match="psi"):
        neural_ode.ODEFunc(2, 4, rng=0)(np.ones((3, 3)))
