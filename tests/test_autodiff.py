import math

import numpy as np
import pytest

from mlphys import autodiff
from mlphys.autodiff import Dual, Value


def f_scalar(v):
    x, y, z = v
    return (x * y).tanh() + z.exp() * x - (y ** 2) / (1 + z.sigmoid()) + (x * x + 1).log() + (y - 3).relu()


def f_numpy(v):
    x, y, z = v
    return math.tanh(x * y) + math.exp(z) * x - y**2 / (1 + 1 / (1 + math.exp(-z))) + math.log(x * x + 1) + max(y - 3, 0)


@pytest.mark.parametrize("point", [[0.3, -1.2, 0.5], [1.5, 0.7, -2.0], [-0.4, 2.1, 1.1]])
def test_reverse_forward_and_finite_differences_agree(point):
    rev = autodiff.reverse_gradient(f_scalar, point)
    fwd = autodiff.forward_gradient(f_scalar, point)
    fd = autodiff.central_differences(lambda p: f_numpy(p), np.array(point))
    np.testing.assert_allclose(rev, fwd, rtol=1e-13)
    np.testing.assert_allclose(rev, fd, rtol=1e-7, atol=1e-9)


def test_shared_subexpressions_accumulate_gradients():
    x = Value(3.0)
    y = x * x + x  # x used three times
    y.backward()
    assert x.grad == pytest.approx(2 * 3.0 + 1)


def test_backward_handles_deep_graphs_without_recursion_limit():
    x = Value(0.5)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**5000)


def test_dual_numbers_give_directional_derivatives():
    d = Dual(2.0, 1.0)
    out = (d * d).tanh() / d
    h = 1e-6
    g = lambda t: math.tanh(t * t) / t  # noqa: E731
    assert out.dot == pytest.approx((g(2 + h) - g(2 - h)) / (2 * h), rel=1e-8)


def test_value_errors():
    with pytest.raises(ValueError, match="non-positive"):
        Value(-1.0).log()
    with pytest.raises(ValueError, match="exponent"):
        Value(2.0) ** Value(3.0)


@pytest.mark.parametrize("call, error, match", [
    (lambda: Value(0) ** -1, ValueError, "0 \\*\\* -1: a negative power of zero"),
    (lambda: Dual(0) ** -2, ValueError, "negative power of zero"),
    (lambda: Value(3.0) / 0, ValueError, "division by zero"),
    (lambda: 1 / Dual(0.0), ValueError, "division by zero"),
    (lambda: Value(1000).exp(), FloatingPointError, "exp\\(1000\\) overflows"),
    (lambda: Dual(1000).exp(), FloatingPointError, "exp\\(1000\\) overflows"),
    (lambda: Value(1e200) ** 2, FloatingPointError, "\\*\\* 2 overflows"),
    (lambda: Dual(-1).log(), ValueError, "log of a non-positive value -1 at this node; the function is not defined"),
    (lambda: Value(0.0).log(), ValueError, "log of a non-positive value 0 at this node"),
    (lambda: Value(-8.0) ** (1 / 3), ValueError, "non-integer power of the negative value -8"),
    (lambda: Dual(0.0) ** 0.5, ValueError, "derivative .* is infinite at 0"),
    (lambda: Value(2.0) + "a", TypeError, "numbers and other Values"),
])
def test_operations_outside_their_domain_say_so_in_the_users_terms(call, error, match):
    """Issue #30: ZeroDivisionError, OverflowError ("math range error"), "math domain error" or a silent complex
    number came out of the graph's operations; each now names the operation and the value at the node."""
    with pytest.raises(error, match=match):
        call()


def test_operations_inside_their_domain_keep_their_values_and_derivatives():
    """The domain checks do not change the arithmetic: x^p and its derivative p x^(p-1) (also p = 0 at x = 0, where
    the derivative is 0), exp and log against math, integer powers of negative values."""
    for x, p in ((2.0, 3), (-2.0, 3), (-2.0, 2.0), (0.0, 2), (0.0, 0), (1.5, -0.5), (4.0, 0.5)):
        v = Value(x)
        y = v**p
        y.backward()
        assert y.data == x**p
        assert v.grad == (0.0 if p == 0 else p * x ** (p - 1))
        d = Dual(x, 1.0) ** p
        assert (d.value, d.dot) == (x**p, 0.0 if p == 0 else p * x ** (p - 1))
    assert Value(709.0).exp().data == math.exp(709.0)
    assert Dual(0.5, 2.0).log().dot == 4.0
    with pytest.raises(ValueError, match="data"):
        Value(float("nan"))
    with pytest.raises(FloatingPointError, match="f\\(x\\)"):        # an overflow inside f leaves the entry point
        autodiff.reverse_gradient(lambda v: v[0] * 1e300 * 1e300, [1.0])


def test_network_loss_scalar_refuses_plain_floats():
    from mlphys import nn
    net = nn.Network([2, 1], rng=0)
    with pytest.raises(ValueError, match="params"):
        autodiff.network_loss_scalar(net.params, np.ones((2, 2)), np.ones((2, 1)), activation="sigmoid",
                                     output="identity", loss="mse")
