"""Fixtures of mlphys.data for the fuzzer: small IDX files and an MNIST-shaped folder of them (nothing downloaded)."""
from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

from mlphys import data

_DIR = Path(tempfile.mkdtemp(prefix="fx_data_"))


def _idx(rng):
    path = Path(tempfile.mkdtemp(dir=_DIR)) / "a.idx"
    data.write_idx(path, rng.integers(0, 256, (3, 4, 4)))
    return dict(path=path)


def _mnist(rng):
    """Four tiny IDX files (5 training and 3 test images of 4x4), some gzipped, as load_mnist expects them."""
    folder = Path(tempfile.mkdtemp(dir=_DIR))
    sizes = {"X_train": (5, 4, 4), "y_train": (5,), "X_test": (3, 4, 4), "y_test": (3,)}
    for key, name in data.MNIST_FILES.items():
        top = 10 if key.startswith("y") else 256
        data.write_idx(folder / name, rng.integers(0, top, sizes[key]))
        if rng.integers(2):
            (folder / (name + ".gz")).write_bytes(gzip.compress((folder / name).read_bytes()))
            (folder / name).unlink()
    return dict(path=folder)


CALLS = {
    "data.read_idx": _idx,
    "data.write_idx": lambda rng: dict(path=Path(tempfile.mkdtemp(dir=_DIR)) / "w.idx"),
    "data.load_mnist": _mnist,
}
