import numpy as np
import pytest

from mlphys import perceptron


def test_lecture_experiment_matches_closed_form():
    w0, b0 = perceptron.lecture_initial_weights()
    assert (round(w0, 4), round(b0, 4)) == (1.7641, 0.4002)
    hist = perceptron.gradient_descent(4.0, 9.0, w0=w0, b0=b0, eta=0.01, steps=40)
    w, b, c = perceptron.one_point_descent_exact(4.0, 9.0, w0=w0, b0=b0, eta=0.01, steps=40)
    np.testing.assert_allclose(hist.final, (w, b), rtol=1e-13)
    np.testing.assert_allclose(hist.cost[-1], c, rtol=1e-9)
    assert hist.cost[-1] < 1e-6
    assert abs(hist.w[-1] - 2.0) > 0.1  # one point does not determine (w, b)


def test_one_point_descent_converges_to_projection():
    w0, b0 = 0.3, -1.0
    hist = perceptron.gradient_descent(4.0, 9.0, w0=w0, b0=b0, eta=0.05, steps=500)
    r0 = 4 * w0 + b0 - 9
    np.testing.assert_allclose(hist.final, (w0 - r0 * 4 / 17, b0 - r0 / 17), atol=1e-12)


def test_gradients_match_finite_differences(rng):
    x = rng.uniform(-2, 2, 10)
    y = 2 * x + 1 + rng.standard_normal(10)
    w, b, h = 0.7, -0.2, 1e-6
    dw, db = perceptron.gradients(w, b, x, y)
    fd_w = (perceptron.cost(w + h, b, x, y) - perceptron.cost(w - h, b, x, y)) / (2 * h)
    fd_b = (perceptron.cost(w, b + h, x, y) - perceptron.cost(w, b - h, x, y)) / (2 * h)
    np.testing.assert_allclose([dw, db], [fd_w, fd_b], rtol=1e-7)


def test_learning_rate_threshold():
    x = np.linspace(-2, 2, 50)
    eta_max = perceptron.max_stable_learning_rate(x)
    ok = perceptron.gradient_descent(x, 2 * x + 1, w0=0, b0=0, eta=0.99 * eta_max, steps=3000)
    with pytest.warns(RuntimeWarning, match="diverged.*lower eta"):   # the cost passes 1e30: descent stops, says so
        bad = perceptron.gradient_descent(x, 2 * x + 1, w0=0, b0=0, eta=1.01 * eta_max, steps=3000)
    np.testing.assert_allclose(ok.final, (2.0, 1.0), atol=1e-8)
    assert bad.cost[-1] > bad.cost[0]


@pytest.mark.parametrize("seed", range(5))
def test_rosenblatt_converges_within_novikoff_bound(seed):
    X, labels, (w, b) = perceptron.separable_data(80, margin=0.2, rng=seed)
    res = perceptron.rosenblatt(X, labels, max_epochs=1000, rng=seed)
    assert res.converged
    assert np.all(perceptron.predict_sign(X, res.w, res.b) == labels)
    assert res.mistakes <= perceptron.mistake_bound(X, labels, w, b)


def test_rosenblatt_fails_on_xor():
    X, labels = perceptron.xor_data()
    res = perceptron.rosenblatt(X, labels, max_epochs=200, rng=0)
    assert not res.converged and min(res.mistakes_per_epoch) >= 1


@pytest.mark.parametrize("call, match", [
    (lambda: perceptron.gradient_descent([1, 2], [1], w0=0, b0=0, eta=0.1, steps=1),
     "y has 1 entries along axis 0 but must have 2 to match x"),
    (lambda: perceptron.gradient_descent([1, 2], [1, 2], w0=0, b0=0, eta=0.0, steps=1), "eta"),
    (lambda: perceptron.gradient_descent([1, np.nan], [1, 2], w0=0, b0=0, eta=0.1, steps=1), "NaN"),
    (lambda: perceptron.rosenblatt([[0, 1], [1, 0]], [0, 1]), "labels must be .*entries in -1, 1.*2 \\* y - 1"),
    (lambda: perceptron.rosenblatt([[0, 1], [1, 0]], [1, -1, 1]),
     "labels has 3 entries along axis 0 but must have 2 to match X"),
    (lambda: perceptron.mistake_bound([[0.0, 1.0], [1.0, 0.0]], [1, -1], [1.0, 0.0], 0.0), "separate"),
])
def test_bad_inputs_raise_valueerror(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_integer_images_are_widened_before_arithmetic():
    """Issue: int8/uint8 data wrapped around ((-44, 22) instead of (12500, 150)). With w = 2, b = 0, x = (50, 100),
    y = 0: a - y = (100, 200), so dC/dw = (100 * 50 + 200 * 100) / 2 = 12500 and dC/db = 150."""
    for dtype in (np.int8, np.uint8):
        x, y = np.array([50, 100], dtype=dtype), np.zeros(2, dtype=dtype)
        assert perceptron.gradients(2, 0, x, y) == (12500.0, 150.0)
        assert perceptron.cost(2, 0, x, y) == pytest.approx((100**2 + 200**2) / 4)
        assert x.dtype == dtype and list(x) == [50, 100]                     # the caller's array is untouched


def test_divergent_descent_stops_and_says_what_to_change():
    """eta above max_stable_learning_rate: the cost grows like |1 - eta lambda|^(2k); past 1e30 the descent stops
    with a warning naming eta and the threshold, instead of returning NaN (with overflow warnings) after 3000 steps."""
    x = np.linspace(-2, 2, 50)
    with pytest.warns(RuntimeWarning, match=r"diverged.*lower eta=3 below max_stable_learning_rate\(x\) = 1.441"):
        hist = perceptron.gradient_descent(x, 2 * x + 1, w0=0, b0=0, eta=3.0, steps=3000)
    assert len(hist.cost) < 3001 and np.all(np.isfinite(hist.cost))
    with pytest.raises(ValueError, match="eta=1: descent diverges"):                 # was OverflowError
        perceptron.one_point_descent_exact(4.0, 9.0, w0=0.0, b0=0.0, eta=1.0, steps=1000)
    with pytest.raises(ValueError, match="steps"):
        perceptron.gradient_descent(x, x, w0=0, b0=0, eta=0.1, steps=10**12)
