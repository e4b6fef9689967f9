import numpy as np
import pytest

from mlphys import data, nn, resnet_pde


@pytest.mark.parametrize("kind", resnet_pde.KINDS)
def test_backprop_equals_autograd(kind):
    import autograd.numpy as anp
    from autograd import grad

    rng = np.random.default_rng(0)
    X, labels = rng.random((6, 16)), rng.integers(0, 10, 6)
    Y = nn.one_hot(labels, 10)
    model = resnet_pde.PDENet(kind, 3, side=4, rng=1)
    for p in model.params[:3]:
        p += 0.3                                   # away from the symmetric start
    loss, grads = model.backward(X, Y)
    ref = grad(lambda ps: model.loss_from_params(ps, X, Y, anp))(list(model.params))
    assert loss == pytest.approx(float(model.loss_from_params(model.params, X, Y)), rel=1e-12)
    for g, r in zip(grads, ref):
        assert np.allclose(g, r, rtol=1e-9, atol=1e-12)


def test_pde_kernel_is_the_finite_difference_operator():
    model = resnet_pde.PDENet("pde", 1, side=5, rng=0)
    a, b, s, r, g = 0.6, 0.2, 0.4, -0.3, 0.1
    K = model.kernel(np.array([a, b, s, r, g]))
    # along x on [psi(x-1), psi(x), psi(x+1)]: alpha^2/2 [1, -2, 1] + beta [-1/2, 0, 1/2]
    assert np.allclose(K[1], [a * a / 2 - b / 2, -a * a - s * s + g, a * a / 2 + b / 2])
    assert np.allclose(K[:, 1], [s * s / 2 - r / 2, -a * a - s * s + g, s * s / 2 + r / 2])
    stable = resnet_pde.PDENet("pde-stable", 1, side=5, rng=0).kernel(np.array([a, b, s, r, g]))
    assert np.allclose(stable[1], [a * a / 2 + b / 16, -a * a - s * s + g, a * a / 2 - b / 16])
    # the dense operator applies the stencil with zero padding
    img = np.zeros((5, 5))
    img[2, 2] = 1.0
    out = (model.operator(np.array([a, b, s, r, g])) @ img.ravel()).reshape(5, 5)
    assert np.allclose(out[1:4, 1:4], K[::-1, ::-1])


def test_training_learns_digits():
    X_train, X_test, y_train, y_test = data.load_digits_split(rng=0)
    model = resnet_pde.PDENet("pde", 3, rng=0)
    result = resnet_pde.train(model, X_train, y_train, epochs=4, rng=0, X_test=X_test, labels_test=y_test)
    assert result.loss[-1] < result.loss[0]
    assert result.val_accuracy[-1] > 0.8


def test_bad_input_raises():
    with pytest.raises(ValueError, match="kind"):
        resnet_pde.PDENet("unet", 3)
    with pytest.raises(ValueError, match="depth"):
        resnet_pde.PDENet("pde", -1)
    with pytest.raises(ValueError, match="X has 49 entries along axis 1 but must have 64"):
        resnet_pde.PDENet("pde", 2).hidden_states(np.zeros((3, 49)))


def test_idx_round_trip_and_load_mnist(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (7, 28, 28)).astype(np.uint8)
    labels = rng.integers(0, 10, 7).astype(np.uint8)
    data.write_idx(tmp_path / "x.idx", images)
    assert np.array_equal(data.read_idx(tmp_path / "x.idx"), images)
    import gzip
    for stem, arr in [("train-images-idx3-ubyte", images), ("train-labels-idx1-ubyte", labels),
                      ("t10k-images-idx3-ubyte", images[:3]), ("t10k-labels-idx1-ubyte", labels[:3])]:
        data.write_idx(tmp_path / stem, arr)
    (tmp_path / "train-images-idx3-ubyte").rename(tmp_path / "raw")
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "wb") as fh:
        fh.write((tmp_path / "raw").read_bytes())
    X_train, X_test, y_train, y_test = data.load_mnist(tmp_path)
    assert X_train.shape == (7, 784) and X_test.shape == (3, 784)
    assert np.allclose(X_train * 255, images.reshape(7, -1)) and np.array_equal(y_test, labels[:3])
    with pytest.raises(ValueError, match="not an IDX"):
        (tmp_path / "bad").write_bytes(b"hello world")
        data.read_idx(tmp_path / "bad")
    with pytest.raises(ValueError, match="t10k-labels"):
        (tmp_path / "t10k-labels-idx1-ubyte").unlink()
        data.load_mnist(tmp_path)


def test_accuracy_reads_labels_by_ndim_even_with_as_many_samples_as_classes():
    """One-hot labels with n_samples == n_classes used to broadcast (n,) against (n, n) and average n^2
    comparisons; 1-D are class labels and 2-D one-hot rows (the convention of nn.accuracy)."""
    rng = np.random.default_rng(0)
    model = resnet_pde.PDENet("pde", 1, side=3, hidden=4, n_classes=3, rng=0)
    X = rng.random((3, 9))
    predicted = np.argmax(model.predict(X), axis=1)
    labels = np.array([predicted[0], predicted[1], (predicted[2] + 1) % 3])     # two of three right
    assert model.accuracy(X, labels) == pytest.approx(2 / 3)
    assert model.accuracy(X, nn.one_hot(labels, 3)) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="labels"):
        model.accuracy(X, np.ones((3, 2)) / 2)                  # 2-D rows with the wrong number of classes
    with pytest.raises(ValueError, match="labels"):
        model.accuracy(X, np.array([0, 1, 3]))                  # a class the network does not have
