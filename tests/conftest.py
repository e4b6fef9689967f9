import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: renders the built book in headless Chromium (run by `make browser`)")


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(12345)


@pytest.fixture(autouse=True)
def _class_scale(monkeypatch):
    """Unit tests never run at paper scale or read MNIST because of the caller's environment."""
    monkeypatch.delenv("MLPHYS_SCALE", raising=False)
    monkeypatch.delenv("MLPHYS_MNIST", raising=False)
