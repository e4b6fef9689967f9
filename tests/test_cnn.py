"""mlphys.cnn (Chapters 10-11): back-propagation against autograd and finite differences, equivariance, sizes."""
import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from mlphys import cnn

N = 64


def _net(name, padding="periodic", seed=0):
    net = cnn.CNN.from_architecture(name, N, padding=padding, rng=np.random.default_rng(seed))
    net.set_scaling(3.0, 0.2, 0.5)  # exercise the fixed affine maps too
    return net


@pytest.mark.parametrize("padding", cnn.PADDINGS)
@pytest.mark.parametrize("name", list(cnn.ARCHITECTURES))
def test_gradients_match_autograd(name, padding):
    net = _net(name, padding)
    rng = np.random.default_rng(1)
    X, Y = rng.random((4, N)), rng.random(4)
    loss, grads = net.backward(X, Y)
    f = lambda ps: anp.mean((net.predict_from_params(ps, X, anp) - Y) ** 2)  # noqa: E731
    assert abs(loss - f(net.params)) < 1e-14
    for g, ga in zip(grads, autograd.grad(f)(net.params)):
        assert np.max(np.abs(g - ga)) <= 1e-12 * max(1.0, np.max(np.abs(ga)))
    T, dT = net.input_gradient(X)
    dTa = autograd.elementwise_grad(lambda x: net.predict_from_params(net.params, x, anp))(X)
    assert np.allclose(T, net.predict(X), rtol=0, atol=1e-14)
    assert np.max(np.abs(dT - dTa)) <= 1e-12 * np.max(np.abs(dTa))


@pytest.mark.parametrize("name", ["cnn-softplus", "avg-60"])
def test_input_gradient_against_finite_differences(name):
    """Softplus is smooth everywhere; the ReLU network is checked where no unit sits at a kink (tiny h)."""
    net = _net(name)
    x = np.random.default_rng(2).random(N)
    _, dT = net.input_gradient(x)
    h = 1e-6 if name == "cnn-softplus" else 1e-8
    for i in (0, 17, N - 1):
        e = np.zeros(N)
        e[i] = h
        fd = (net.predict(x + e)[0] - net.predict(x - e)[0]) / (2 * h)
        assert abs(fd - dT[0, i]) < 1e-6 * np.max(np.abs(dT))


@pytest.mark.parametrize("name", ["cnn-relu", "avg-140"])
def test_circular_shift_equivariance(name):
    """Periodic padding: shifting the density by the total pooling shifts every block's features by one cell."""
    net = _net(name)
    X = np.random.default_rng(3).random((2, N))
    shift = int(np.prod(net.pools))
    flat = net._forward(X)[1].reshape(2, net.grid_points[-1], -1)
    flat_shifted = net._forward(np.roll(X, shift, axis=1))[1].reshape(2, net.grid_points[-1], -1)
    assert np.allclose(np.roll(flat, 1, axis=1), flat_shifted, rtol=0, atol=1e-13)
    z = net._forward(X)[2][0][1]
    z_shifted = net._forward(np.roll(X, 5, axis=1))[2][0][1]
    assert np.allclose(np.roll(z, 5, axis=1), z_shifted, rtol=0, atol=1e-13)


def test_parameter_counts_linear_vs_quadratic():
    """The average layer makes every convolution single-input: 2 (13 N_c + N_c) + 32 + 1 parameters on 256 points,
    against 13 N_c + N_c + 2 (13 N_c^2 + N_c) + 32 N_c + 1 for the three-block standard CNN."""
    for nc in (60, 140, 260):
        assert cnn.CNN.from_architecture(f"avg-{nc}", 256).n_params == 2 * (13 * nc + nc) + 32 + 1
    nc = 30
    assert cnn.CNN.from_architecture("cnn-relu", 256).n_params == 14 * nc + 2 * (13 * nc**2 + nc) + 32 * nc + 1
    ratio = cnn.CNN(256, channels=60, pools=(2, 2, 2)).n_params / cnn.CNN(256, channels=30, pools=(2, 2, 2)).n_params
    assert 3.8 < ratio < 4  # doubling N_c nearly quadruples the standard CNN ...
    avg = cnn.CNN.from_architecture("avg-140", 256).n_params / cnn.CNN.from_architecture("avg-60", 256).n_params
    assert 2 < avg < 140 / 60  # ... and scales the average-channel CNN linearly


def test_state_round_trip():
    a, b = _net("avg-60", seed=0), _net("avg-60", seed=9)
    b.set_scaling(1.0, 0.0, 1.0)
    b.load_state(a.state())
    X = np.random.default_rng(4).random((3, N))
    assert np.array_equal(a.predict(X), b.predict(X))
    with pytest.raises(ValueError, match="does not fit"):
        _net("cnn-relu").load_state(a.state())


def test_bad_inputs():
    with pytest.raises(ValueError, match="name must be one of 'cnn-relu'"):       # the architecture's name
        cnn.CNN.from_architecture("resnet", N)
    with pytest.raises(ValueError, match="kernel"):
        cnn.CNN(8, channels=2, pools=(1,), kernel=13)
    with pytest.raises(ValueError, match="kernel"):
        cnn.CNN(N, channels=2, pools=(2,), kernel=12)
    with pytest.raises(ValueError, match="deeper block"):
        cnn.CNN(32, channels=2, pools=(4, 2), kernel=13)
    with pytest.raises(ValueError, match="divisible"):
        cnn.CNN(60, channels=2, pools=(2, 2, 2))
    with pytest.raises(ValueError, match="padding"):
        cnn.CNN(N, channels=2, pools=(2,), padding="reflect")
    with pytest.raises(ValueError, match="X"):
        _net("avg-60").predict(np.ones((2, N + 1)))
    with pytest.raises(ValueError, match="X"):
        _net("avg-60").predict(np.full((1, N), np.nan))


@pytest.mark.parametrize("padding", cnn.PADDINGS)
@pytest.mark.parametrize("name", ["cnn-relu", "avg-60"])
def test_derivative_loss_double_backward_matches_autograd(name, padding):
    """Sobolev training's gradient - the parameter gradient of the input gradient - against autograd's double
    backward of mean (T - t)^2 + w mean (dT/dn - d)^2."""
    net = _net(name, padding)
    rng = np.random.default_rng(2)
    X, Y, dY, w = rng.random((3, N)), rng.random(3), 0.1 * rng.normal(size=(3, N)), 0.7
    (loss_T, loss_d), grads = net.derivative_backward(X, Y, dY, weight=w)

    def f(ps):
        T = net.predict_from_params(ps, X, anp)
        dT = autograd.elementwise_grad(lambda x: anp.sum(net.predict_from_params(ps, x, anp)))(X)
        return anp.mean((T - Y) ** 2) + w * anp.mean((dT - dY) ** 2)

    assert abs(loss_T + w * loss_d - f(net.params)) < 1e-13
    for k, (g, ga) in enumerate(zip(grads, autograd.grad(f)(net.params))):
        assert np.max(np.abs(g - ga)) <= 1e-11 * max(1.0, np.max(np.abs(ga))), k
    with pytest.raises(ValueError, match="ReLU"):
        _net("cnn-softplus").derivative_backward(X, Y, dY, weight=w)
    with pytest.raises(ValueError, match="dY"):
        net.derivative_backward(X, Y, dY[:2], weight=w)
