import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: renders the built book in headless Chromium (run by `make browser`)")


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(12345)
