"""Data sets used by the book: generated, or shipped inside a pip package (no downloads)."""
from __future__ import annotations

import gzip

import numpy as np

from .linreg import train_test_split
from .validate import Array, PathLike, Real, Seed, params


@params(test_fraction=Real(gt=0, lt=1), rng=Seed())
def load_digits_split(*, test_fraction: float = 0.25, rng=None):
    """scikit-learn's bundled 8x8 hand-written digits (1797 images), scaled to [0, 1] and split.

    Returns ``(X_train, X_test, y_train, y_test)`` with ``X`` of shape ``(n, 64)``
    and integer labels 0-9. The data ship with scikit-learn: nothing is downloaded.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    return train_test_split(digits.data / 16.0, digits.target.astype(int), test_fraction=test_fraction, rng=rng)


# ----------------------------------------------------------------------------- MNIST IDX files (user-supplied)

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
MNIST_FILES = {"X_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
               "X_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}


@params(path=PathLike())
def read_idx(path) -> np.ndarray:
    """Read an IDX file (the MNIST format; ``.gz`` compressed or not) into an array of its stored shape."""
    if not path.is_file():
        raise ValueError(f"IDX file {path} does not exist")
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:   # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path} could not be read ({exc}); download it again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number {raw[:4]!r})")
    dtype, ndim = np.dtype(_IDX_TYPES[raw[2]]), raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{path} is truncated: its header is incomplete")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    expected = 1
    for n in shape:                                 # Python integers: no overflow for absurd headers
        expected *= n
    if (len(raw) - 4 - 4 * ndim) != expected * dtype.itemsize:
        raise ValueError(f"{path}: header says shape {shape} ({expected} values) but the file holds "
                         f"{(len(raw) - 4 - 4 * ndim) // dtype.itemsize}; it is truncated or not this format")
    return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(shape).copy()   # writable


@params(path=PathLike(),
        array=Array(ndim=(3, 2, 1), dtype=int, ge=0, le=255, hint="unsigned bytes: MNIST images or labels"))
def write_idx(path, array) -> None:
    """Write an unsigned-byte array (whole numbers 0..255, e.g. MNIST images (n, 28, 28) or labels (n,)) in IDX
    format (what :func:`read_idx` reads; used by the tests)."""
    array = array.astype(np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    with open(path, "wb") as fh:
        fh.write(header + array.tobytes())


@params(path=PathLike())
def load_mnist(path):
    """MNIST from the four standard IDX files in directory ``path`` (``.gz`` or not); nothing is downloaded.

    Returns ``(X_train, X_test, y_train, y_test)`` with images flattened to rows and scaled to [0, 1].
    """
    folder = path
    if not folder.is_dir():
        raise ValueError(f"path={path!r} is not a directory holding the MNIST IDX files")
    arrays = {}
    for key, name in MNIST_FILES.items():
        candidates = [folder / name, folder / (name + ".gz")]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise ValueError(f"{folder} has no {name} (or {name}.gz); get the MNIST files and put them there")
        arrays[key] = read_idx(found)
    for part in ("train", "test"):
        X, y = arrays["X_" + part], arrays["y_" + part]
        if X.shape[0] != y.shape[0]:
            raise ValueError(f"MNIST {part} set: {X.shape[0]} images but {y.shape[0]} labels")
    flat = lambda X: X.reshape(X.shape[0], -1).astype(float) / 255.0  # noqa: E731
    return flat(arrays["X_train"]), flat(arrays["X_test"]), arrays["y_train"].astype(int), arrays["y_test"].astype(int)
