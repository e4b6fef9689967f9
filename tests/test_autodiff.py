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
