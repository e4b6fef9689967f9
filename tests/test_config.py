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


def test_config_declares_its_parameters():
    """Issue #30: wrong types and values are refused naming the argument (and, for make_rng, saying "rng")."""
    from mlphys.config import progress_bar, setup_notebook

    for bad in ("7", True, -1, np.random.RandomState(0)):
        with pytest.raises(ValueError, match="seed must be an rng"):
            make_rng(bad)
    assert make_rng(np.int64(5)).integers(1000) == make_rng(5).integers(1000)   # the same stream as before
    with pytest.raises(ValueError, match="scale"):
        get_scale("huge")
    with pytest.raises(ValueError, match="scale"):
        by_scale("Paper", class_value=1, paper_value=2)
    with pytest.raises(ValueError, match="enabled"):
        progress_bar(range(3), "no", "x")
    with pytest.raises(ValueError, match="seed"):
        setup_notebook(seed=1.5)
