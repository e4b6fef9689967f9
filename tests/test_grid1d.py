"""mlphys.grid1d: the one finite-difference engine of the exact 1D solvers."""
import numpy as np
import pytest

from mlphys import autodiff, grid1d, speckle, variational


def test_periodic_second_derivative_is_the_eighth_order_stencil_and_exact_on_band_limited_functions():
    n, L = 64, 2 * np.pi
    D = grid1d.second_derivative(n, L / n, periodic=True)
    assert np.array_equal(D, D.T) and np.allclose(D.sum(axis=1), 0, atol=1e-10)
    np.testing.assert_allclose(D[5, 3:8] * (L / n) ** 2, grid1d.D2_STENCIL[[2, 1, 0, 1, 2]], rtol=1e-14)
    x = np.arange(n) * L / n
    np.testing.assert_allclose(D @ np.sin(3 * x), -9 * np.sin(3 * x), atol=1e-6)      # error ~ (3 dx)^8 / 630


@pytest.mark.parametrize("n", [9, 20])
def test_hard_walls_mirror_the_points_beyond_a_wall(n):
    """A point beyond a wall takes minus its mirror image: the matrix stays symmetric, and a sine that vanishes on the
    walls (its odd extension is itself) is differentiated to the stencil's order."""
    L = 3.0
    dx = L / (n + 1)
    D = grid1d.second_derivative(n, dx, periodic=False)
    S = grid1d.second_derivative(n, dx, periodic=False, sparse=True)
    assert np.array_equal(D, D.T) and np.array_equal(S.toarray(), D)
    c = grid1d.D2_STENCIL / dx**2
    assert np.isclose(D[0, 0], c[0] - c[2]) and np.isclose(D[0, 1], c[1] - c[3]) and np.isclose(D[1, 0], c[1] - c[3])
    x = (np.arange(n) + 1) * dx
    f = np.sin(np.pi * x / L)
    err = np.max(np.abs(D @ f + (np.pi / L) ** 2 * f))
    assert err < 10 * (np.pi * dx / L) ** 8 * (np.pi / L) ** 2


def _order(errors, h):
    """Observed orders of convergence between successive grids."""
    errors, h = np.asarray(errors), np.asarray(h)
    return np.log(errors[:-1] / errors[1:]) / np.log(h[:-1] / h[1:])


def test_particle_in_a_box_converges_at_the_promised_order():
    """E_n = pi^2 n^2 / (2 L^2): with the walls one spacing beyond the end points (h = L / (n + 1)) and the stencil
    mirrored about them, the error falls by ~2^8 each time h halves (it was 0.2%, O(h), with zeros beyond the
    walls) - for grid1d's own matrix, for variational.reference_energies, and for speckle's walled grid."""
    L, levels = 6.0, 5
    exact = np.pi**2 * np.arange(1, levels + 1) ** 2 / (2 * L**2)
    sizes = np.array([23, 47, 95])                                   # h = L/24, L/48, L/96: halved each time
    h = L / (sizes + 1)
    own = [grid1d.lowest_eigenpairs(-0.5 * grid1d.second_derivative(n, L / (n + 1), periodic=False), levels,
                                    vectors=False) for n in sizes]
    reference = [variational.reference_energies(lambda x: 0 * x, (0.0, L), n, levels) for n in sizes]
    for energies in (own, reference):
        errors = [abs(e[-1] / exact[-1] - 1) for e in energies]      # E_5: far above rounding on all three grids
        assert np.all(_order(errors, h) >= 7), _order(errors, h)      # measured 7.9, 8.0
        assert errors[0] < 2e-5 and errors[-1] < 1e-9
        assert max(abs(e[0] / exact[0] - 1) for e in energies) < 1e-10
    W = speckle.WELLS_GRID
    e = speckle.exact_ground_states(np.zeros((1, W.n)), W).energies[0]
    assert abs(e / (W.kinetic_prefactor * np.pi**2 / W.length**2) - 1) < 1e-10


def test_hard_wall_second_derivative_converges_at_eighth_order_up_to_the_walls():
    """sin(3 pi x / L) vanishes on the walls and is odd about each: the mirrored stencil differentiates it to
    O(h^8) at every point, the ones next to the walls included."""
    L = 2.0
    errors, h = [], []
    for n in (15, 31, 63):                                           # h = L/16, L/32, L/64
        dx = L / (n + 1)
        x = dx * np.arange(1, n + 1)
        f = np.sin(3 * np.pi * x / L)
        errors.append(np.max(np.abs(grid1d.second_derivative(n, dx, periodic=False) @ f + (3 * np.pi / L) ** 2 * f)))
        h.append(dx)
    assert np.all(_order(errors, h) >= 7), _order(errors, h)


def test_lowest_eigenpairs_dense_and_sparse_agree():
    rng = np.random.default_rng(0)
    D = grid1d.second_derivative(40, 0.1, periodic=False)
    H = -D + np.diag(rng.uniform(0, 1, 40))
    w, U = grid1d.lowest_eigenpairs(H, 3)
    ws = grid1d.lowest_eigenpairs(grid1d.second_derivative(40, 0.1, periodic=False, sparse=True) * -1
                                  + np.diag(np.diag(H) - np.diag(-D)), 3, vectors=False)
    np.testing.assert_allclose(w, np.linalg.eigvalsh(H)[:3], rtol=1e-12)
    np.testing.assert_allclose(ws, w, rtol=1e-10)
    np.testing.assert_allclose(H @ U, U * w, atol=1e-9)
    with pytest.raises(ValueError, match="k must be at most"):
        grid1d.lowest_eigenpairs(H, 30)
    with pytest.raises(ValueError, match="H: must be symmetric"):
        grid1d.lowest_eigenpairs(H + np.triu(np.ones_like(H), 1), 3)
    with pytest.raises(ValueError, match="H must be"):
        grid1d.lowest_eigenpairs(np.ones((4, 3)), 1)


def test_finite_difference_helpers():
    x = np.linspace(0, 2 * np.pi, 100, endpoint=False)
    np.testing.assert_allclose(grid1d.central_difference(np.sin(x), x[1]), np.cos(x), atol=1e-3)
    y = np.linspace(0, 1, 50)
    np.testing.assert_allclose(grid1d.central_difference(y**2, y[1], periodic=False), 2 * y, atol=1e-12)
    r = np.random.default_rng(1).normal(size=(5, 3))
    g = autodiff.central_differences(lambda p: np.sum(p**3, axis=1), r, 1e-5, batched=True)
    np.testing.assert_allclose(g, 3 * r**2, rtol=1e-8, atol=1e-8)      # h^2 f''' / 6 ~ 1e-10, rounding ~ eps f / h
    with pytest.raises(ValueError, match="batched"):
        autodiff.central_differences(np.sum, np.ones(3), batched=True)
    with pytest.raises(ValueError, match="axis"):
        grid1d.central_difference(y, y[1], axis=1)
    with pytest.raises(ValueError, match="f: needs at least 3 samples"):
        grid1d.central_difference(y[:2], y[1], periodic=False)
