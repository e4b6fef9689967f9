import gzip

import numpy as np
import pytest

from mlphys import data


def test_idx_round_trip_and_mnist_folder(tmp_path):
    """write_idx stores whole numbers 0..255 as bytes, read_idx reads them back (gzipped or not), load_mnist
    flattens and scales the images to [0, 1]."""
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (5, 4, 4)), rng.integers(0, 10, 5)
    for key, name in data.MNIST_FILES.items():
        data.write_idx(tmp_path / name, images if key.startswith("X") else labels)
    plain = tmp_path / "t10k-labels-idx1-ubyte"
    (tmp_path / (plain.name + ".gz")).write_bytes(gzip.compress(plain.read_bytes()))
    plain.unlink()
    assert np.array_equal(data.read_idx(tmp_path / "train-images-idx3-ubyte"), images)
    X_train, X_test, y_train, y_test = data.load_mnist(str(tmp_path))
    np.testing.assert_allclose(X_train, images.reshape(5, 16) / 255.0)
    assert np.array_equal(y_test, labels) and y_train.dtype.kind == "i"


@pytest.mark.parametrize("array, match", [
    (np.array([1, 256]), "<= 255"), (np.array([0.5, 2.0]), "whole numbers"), (np.array([-1, 2]), ">= 0"),
    (np.zeros((2, 2, 2, 2)), "dimension"),
])
def test_write_idx_refuses_what_is_not_bytes(tmp_path, array, match):
    with pytest.raises(ValueError, match=match):
        data.write_idx(tmp_path / "x.idx", array)
    assert not (tmp_path / "x.idx").exists()


def test_paths_are_checked():
    with pytest.raises(ValueError, match="path must be a path"):
        data.read_idx(3)
    with pytest.raises(ValueError, match="is not a directory"):
        data.load_mnist("/nonexistent/folder")
