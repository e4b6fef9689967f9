import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlphys import pathint
from mlphys.claims import imchitr as ch9


@settings(max_examples=30, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**16), n_layers=st.integers(0, 6), sites=st.integers(3, 10),
       boundary=st.sampled_from(pathint.BOUNDARIES))
def test_sum_over_paths_equals_layer_by_layer(seed, n_layers, sites, boundary):
    rng = np.random.default_rng(seed)
    kernel, psi0 = rng.normal(0, 0.5, 3), rng.normal(size=sites)
    a = pathint.sum_over_paths(kernel, psi0, n_layers, boundary)
    b = pathint.propagate(kernel, psi0, n_layers, boundary)
    assert np.allclose(a, b, rtol=1e-12, atol=1e-12 * np.max(np.abs(b)))


def test_kernel_is_the_thesis_kernel_at_unit_steps():
    a, b, g = 0.7, 0.3, -0.1
    assert np.allclose(pathint.pde_kernel(a, b, g), [(a * a + b) / 2, g - a * a, (a * a - b) / 2])


def test_propagation_matches_the_gaussian_at_second_order():
    errors, order = ch9.convergence_order()
    assert errors[-1] < 2e-3
    assert np.all(np.abs(order - 2) < 0.15)


def test_stability_limit_at_unit_steps():
    k = np.linspace(0, np.pi, 201)
    assert np.max(np.abs(pathint.amplification(pathint.pde_kernel(np.sqrt(0.9), 0, 0), k))) <= 1 + 1e-12
    assert np.abs(pathint.amplification(pathint.pde_kernel(np.sqrt(1.1), 0, 0), np.pi)) > 1
    x = np.arange(40.0)
    psi0 = np.exp(-(x - 20) ** 2 / 8) + 1e-3 * (-1) ** x
    blown = pathint.propagate(pathint.pde_kernel(np.sqrt(1.3), 0, 0), psi0, 60, "periodic")
    assert np.max(np.abs(blown)) > 1e3


def test_monte_carlo_paths_within_error_bar():
    est, err, exact = ch9.monte_carlo_paths(rng=3)
    assert abs(est - exact) < 3 * err


def test_path_action_gives_the_gaussian_kernel():
    """Integrating e^{-S} over one step reproduces e^gamma: the kernel is normalised up to the growth."""
    alpha, beta, gamma = 0.7, 0.4, 0.2
    dx = np.linspace(-8, 8, 20001)
    weight = np.exp(-pathint.action(np.stack([np.zeros_like(dx), dx], axis=-1), alpha, beta, gamma))
    assert np.trapezoid(weight, dx) == pytest.approx(np.exp(gamma), rel=1e-8)
    assert np.trapezoid(dx * weight, dx) / np.exp(gamma) == pytest.approx(-beta, abs=1e-8)


def test_pimc_matches_the_exact_discretised_path_integral():
    E, err = pathint.pimc_harmonic(8.0, 16, n_chains=200, n_sweeps=1500, rng=5)
    assert abs(E - pathint.discretised_x2(8.0, 16)) < 4 * err
    # extrapolating the exact discretised values recovers the continuum energy
    slices = np.array([16, 24, 32, 48])
    values = [pathint.discretised_x2(12.0, P) for P in slices]
    E0, _, _ = pathint.trotter_extrapolation(12.0, slices, values, np.full(4, 1e-4))
    assert E0 == pytest.approx(0.5 / np.tanh(6.0), abs=3e-5)


@pytest.mark.parametrize("call, match", [
    (lambda: pathint.propagate([1, 2], np.zeros(5), 3), "kernel has 2 entries"),
    (lambda: pathint.propagate([0.1, 0.2, 0.3], np.zeros(5), -1), "n_layers"),
    (lambda: pathint.propagate([0.1, 0.2, 0.3], np.zeros(5), 2, "reflecting"), "boundary"),
    (lambda: pathint.propagate([0.1, 0.2, 0.3], np.zeros((5, 2)), 2), "psi0"),
    (lambda: pathint.sum_over_paths([0.1, 0.2, 0.3], np.zeros(50), 20), "too many"),
    (lambda: pathint.sample_paths([-0.1, 0.2, 0.3], np.zeros(5), 2, 1, 100), ">= 0"),
    (lambda: pathint.pimc_harmonic(5.0, 15), "even"),
    (lambda: pathint.trotter_extrapolation(5.0, [8, 16], [0.4, 0.45], [0.01, 0.01]), "at least 3"),
])
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_exact_gaussian_refuses_a_negative_width():
    """width=-1 used to turn the Gaussian negative (width / sqrt(s2) < 0)."""
    x = np.linspace(-3, 3, 7)
    with pytest.raises(ValueError, match="width"):
        pathint.exact_gaussian(x, 0.5, 0.7, 0.1, 0.0, width=-1)
    assert np.all(pathint.exact_gaussian(x, 0.5, 0.7, 0.1, 0.0, width=1.0) > 0)


@pytest.mark.parametrize("slices", [[16, 16, 32], [0, 16, 32]])
def test_trotter_fit_refuses_repeated_or_zero_trotter_numbers(slices, capfd):
    """These used to print seven LAPACK lines and raise LinAlgError; now a ValueError naming slices."""
    with pytest.raises(ValueError, match="slices"):
        pathint.trotter_extrapolation(10.0, slices, [0.5, 0.5, 0.51], [0.01, 0.01, 0.01])
    out, err = capfd.readouterr()
    assert "LAPACK" not in out + err and "DGELSD" not in out + err


def test_pimc_refuses_a_huge_step_and_warns_when_it_accepts_almost_nothing():
    """step=1e300 used to return 1.47 +- 0.015 against 0.5 coth(1/2) = 1.082 (beta = 1), nothing being accepted."""
    with pytest.raises(ValueError, match="step"):
        pathint.pimc_harmonic(1.0, 16, step=1e300, rng=0)
    with pytest.warns(RuntimeWarning, match=r"accepted 2\.\d% of its bead moves.*step=10.*lower step"):
        pathint.pimc_harmonic(1.0, 16, n_chains=50, n_sweeps=300, burn_in=50, step=10.0, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # the default step accepts ~60%: no warning
        E, err = pathint.pimc_harmonic(1.0, 16, n_chains=200, n_sweeps=1000, rng=1)
    # against the closed forms: the discretised path integral (P = 16) and the continuum 0.5 coth(beta / 2)
    assert abs(E - pathint.discretised_x2(1.0, 16)) < 4 * err
    assert abs(E - 0.5 / np.tanh(0.5)) < 4 * err
