import numpy as np
import pytest

import mlphys
from mlphys.config import by_scale, get_scale, make_rng


def test_scale_defaults_to_class_and_reads_environment(monkeypatch):
    monkeypatch.delenv("MLPHYS_SCALE", raising=False)
    assert get_scale() == "class"
    monkeypatch.setenv("MLPHYS_SCALE", "paper")
    assert get_scale() == "paper"
    assert get_scale("class") == "class"  # an explicit argument wins
    assert by_scale(None, class_value=1, paper_value=2) == 2


def test_unknown_scale_is_refused(monkeypatch):
    monkeypatch.setenv("MLPHYS_SCALE", "huge")
    with pytest.raises(ValueError, match="MLPHYS_SCALE"):
        get_scale()


def test_setup_notebook_is_reproducible(monkeypatch):
    monkeypatch.delenv("MLPHYS_SCALE", raising=False)
    a, b = mlphys.setup_notebook(seed=3), mlphys.setup_notebook(seed=3)
    assert a.scale == "class"
    np.testing.assert_array_equal(a.rng.standard_normal(5), b.rng.standard_normal(5))


def test_make_rng():
    g = np.random.default_rng(1)
    assert make_rng(g) is g
    with pytest.raises(ValueError, match="seed"):
        make_rng(1.5)
    with pytest.raises(ValueError, match="seed"):
        make_rng(-1)
