import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlphys import linreg


def test_design_matrix_columns():
    x = np.array([0.5, 2.0, -1.0])
    X = linreg.design_matrix(x, 3)
    np.testing.assert_allclose(X, np.stack([np.ones(3), x, x**2, x**3], axis=1))
    assert linreg.design_matrix(x, 2, intercept=False).shape == (3, 2)


@pytest.mark.parametrize("method", ["qr", "svd", "lstsq", "inverse"])
def test_ols_equals_numpy_lstsq(method, rng):
    X = rng.standard_normal((40, 4))
    y = rng.standard_normal(40)
    np.testing.assert_allclose(linreg.ols_fit(X, y, method=method), np.linalg.lstsq(X, y, rcond=None)[0],
                               rtol=1e-10, atol=1e-12)


def test_ols_matches_closed_form_simple_regression(rng):
    x, y = linreg.make_linear_data(50, rng=rng)
    theta = linreg.ols_fit(linreg.design_matrix(x, 1), y)
    slope = np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)
    np.testing.assert_allclose(theta, [y.mean() - slope * x.mean(), slope], rtol=1e-12)


def test_residual_orthogonal_to_columns(rng):
    X = linreg.design_matrix(rng.uniform(-1, 1, 30), 5)
    y = rng.standard_normal(30)
    theta = linreg.ols_fit(X, y)
    assert np.max(np.abs(X.T @ (y - X @ theta))) < 1e-12


def test_ols_recovers_parameters_within_errors():
    x, y = linreg.make_linear_data(2000, slope=2.0, intercept=1.0, noise_sd=0.5, rng=3)
    X = linreg.design_matrix(x, 1)
    theta = linreg.ols_fit(X, y)
    se = linreg.ols_standard_errors(X, y, theta)
    assert np.all(np.abs(theta - [1.0, 2.0]) < 4 * se)
    # the standard errors themselves match sigma^2 (X^T X)^-1 with the true sigma, to sampling accuracy
    np.testing.assert_allclose(se, 0.5 * np.sqrt(np.diag(np.linalg.inv(X.T @ X))), rtol=0.05)


def test_svd_handles_rank_deficiency_and_qr_refuses():
    x = np.linspace(0, 1, 10)
    X = np.stack([np.ones(10), x, 2 * x], axis=1)
    y = 1 + 3 * x
    theta = linreg.ols_fit(X, y, method="svd")
    np.testing.assert_allclose(X @ theta, y, atol=1e-12)
    np.testing.assert_allclose(theta, np.linalg.pinv(X) @ y, atol=1e-12)  # minimum-norm solution
    with pytest.raises(ValueError, match="rank deficient"):
        linreg.ols_fit(X, y, method="qr")


def test_ridge_equals_normal_equations(rng):
    X = rng.standard_normal((25, 6))
    y = rng.standard_normal(25)
    lam = 0.7
    expected = np.linalg.solve(X.T @ X + lam * np.eye(6), X.T @ y)
    np.testing.assert_allclose(linreg.ridge_fit(X, y, lam, penalize_intercept=True), expected, rtol=1e-10)
    D = np.eye(6)
    D[0, 0] = 0
    expected_free_intercept = np.linalg.solve(X.T @ X + lam * D, X.T @ y)
    np.testing.assert_allclose(linreg.ridge_fit(X, y, lam), expected_free_intercept, rtol=1e-10)


def test_ridge_zero_penalty_is_ols_and_shrinks(rng):
    X = rng.standard_normal((30, 4))
    y = rng.standard_normal(30)
    np.testing.assert_allclose(linreg.ridge_fit(X, y, 0.0), linreg.ols_fit(X, y), rtol=1e-10)
    norms = [np.linalg.norm(linreg.ridge_fit(X, y, lam, penalize_intercept=True)) for lam in (0.1, 1, 10, 100)]
    assert np.all(np.diff(norms) < 0)


def test_ridge_works_with_more_columns_than_rows(rng):
    X = rng.standard_normal((5, 12))
    y = rng.standard_normal(5)
    theta = linreg.ridge_fit(X, y, 1.0, penalize_intercept=True)
    np.testing.assert_allclose(theta, X.T @ np.linalg.solve(X @ X.T + np.eye(5), y), rtol=1e-10)


def test_training_error_never_increases_with_degree():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 40)
    y = np.sin(3 * x) + 0.1 * rng.standard_normal(40)
    train, test = linreg.polynomial_sweep(x, y, x[:5], y[:5], range(12))
    assert np.all(np.diff(train) <= 1e-12)


def test_inverse_loses_digits_on_ill_conditioned_problems():
    cond, errors = linreg.conditioning_study([3, 12])
    assert errors["qr"][1] < 1e-5 and errors["svd"][1] < 1e-5
    assert errors["inverse"][1] > 1e3 * errors["qr"][1]
    assert cond[1] > 1e8


def test_train_test_split_is_a_partition(rng):
    x = np.arange(20.0)
    xtr, xte, ytr, yte = linreg.train_test_split(x, 2 * x, test_fraction=0.25, rng=rng)
    assert len(xte) == 5 and len(xtr) == 15
    np.testing.assert_array_equal(np.sort(np.concatenate([xtr, xte])), x)
    np.testing.assert_array_equal(ytr, 2 * xtr)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.integers(3, 30), st.integers(0, 2), st.integers(0, 10_000))
def test_exact_polynomial_data_are_fitted_exactly(n, degree, seed):
    rng = np.random.default_rng(seed)
    x = np.linspace(-1, 1, n)
    coef = rng.standard_normal(degree + 1)
    y = linreg.design_matrix(x, degree) @ coef
    np.testing.assert_allclose(linreg.ols_fit(linreg.design_matrix(x, degree), y), coef, atol=1e-9)


@pytest.mark.parametrize("call, match", [
    (lambda: linreg.ols_fit(np.ones((3, 2)), np.ones(4)), "y has 4 entries along axis 0 but must have 3 to match X"),
    (lambda: linreg.ols_fit(np.ones((3, 2)), np.ones(3), method="cholesky"), "method"),
    (lambda: linreg.ols_fit(np.ones(3), np.ones(3)), r"X must be a numeric array of shape \(n, p\)"),
    (lambda: linreg.ols_fit([[1.0, np.nan]], [1.0]), "NaN"),
    (lambda: linreg.ridge_fit(np.ones((3, 2)), np.ones(3), -1.0), "lam"),
    (lambda: linreg.design_matrix([1.0, 2.0], -1), "degree"),
    (lambda: linreg.design_matrix([1.0, 2.0], 1.5), "degree"),
    (lambda: linreg.make_linear_data(0), "n"),
    (lambda: linreg.make_linear_data(5, x_range=(1, 0)), "x_range"),
    (lambda: linreg.train_test_split([1.0, 2.0], [1.0, 2.0, 3.0]), "match"),
    (lambda: linreg.train_test_split([1.0, 2.0], [1.0, 2.0], test_fraction=1.5), "test_fraction"),
    (lambda: linreg.polynomial_fit([1.0, 1.0], [1.0, 2.0], 1), "single distinct"),
])
def test_bad_inputs_raise_valueerror(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_mse_r2_refuse_mismatched_shapes():
    y = np.arange(5.0)
    with pytest.raises(ValueError, match="y_pred"):
        linreg.mse(y, y.reshape(-1, 1))
    with pytest.raises(ValueError, match="y_pred"):
        linreg.r2_score([1.0, 2, 3], [[1.0], [2], [3]])


def test_design_matrix_refuses_overflow():
    with pytest.raises(FloatingPointError, match="rescale x"):
        linreg.design_matrix(np.array([1e3]), 400)


def test_ols_inverse_singular_names_X():
    with pytest.raises(ValueError, match="X.*svd"):
        linreg.ols_fit(np.ones((4, 2)), np.ones(4), method="inverse")
