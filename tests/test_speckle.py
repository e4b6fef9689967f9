"""The speckle / Gaussian-well testbed (Chapter 10): statistics, exact ground states, the exact functional."""
import numpy as np
import pytest

from mlphys import speckle

G = speckle.SPECKLE_GRID


@pytest.fixture(scope="module")
def many():
    return speckle.speckle_potential(4000, rng=np.random.default_rng(0))


def test_intensity_is_exponential(many):
    """Eq. 15: P(V) = exp(-V/V0)/V0 - mean V0, P(V > a) = exp(-a/V0); 4 standard errors over independent patterns."""
    per_pattern_mean = many.mean(axis=1)
    assert abs(per_pattern_mean.mean() - 0.5) < 4 * per_pattern_mean.std() / np.sqrt(len(many))
    for a in (0.5, 1.0, 2.0):
        frac = (many > a).mean(axis=1)
        assert abs(frac.mean() - np.exp(-a / 0.5)) < 4 * frac.std() / np.sqrt(len(many))


@pytest.mark.parametrize("symmetric", [False, True])
def test_autocorrelation(symmetric):
    """Eq. 16 on the ring: the measured <V(x'+x)V(x')>/V0^2 - 1 matches the Dirichlet-kernel formula; the 14
    consecutive harmonics put its zeros at multiples of gamma, the symmetric 15 at multiples of L/15."""
    V = speckle.speckle_potential(3000, rng=np.random.default_rng(1), symmetric=symmetric)
    lags = np.arange(0, 40)
    per = np.array([np.mean(V * np.roll(V, -k, axis=1), axis=1) / 0.25 - 1 for k in lags])  # (lags, patterns)
    mean, err = per.mean(axis=1), per.std(axis=1) / np.sqrt(V.shape[0])
    x = lags * G.dx
    model = speckle.speckle_autocorrelation(x, symmetric=symmetric)
    assert np.all(np.abs(mean - model) < 5 * err + 1e-12)
    first_zero = 1.0 if not symmetric else 14 / 15
    assert speckle.speckle_autocorrelation(first_zero, symmetric=symmetric) < 1e-20
    assert speckle.speckle_autocorrelation(first_zero, symmetric=not symmetric) > 1e-3
    # and the periodic formula is within 1% of Eq. 16's sinc^2 over the first grain
    xs = np.linspace(0.05, 1, 20)
    assert np.max(np.abs(speckle.speckle_autocorrelation(xs) - np.sinc(xs) ** 2)) < 0.01


def test_ground_state_against_plane_waves():
    """V = A cos(2 pi x / L): the finite-difference e_gs against a 61-mode plane-wave diagonalisation."""
    A, L = 0.7, G.length
    V = A * np.cos(2 * np.pi * G.x / L)
    m = np.arange(-30, 31)
    H = np.diag((2 * np.pi * m / L) ** 2) + np.diag(np.full(60, A / 2), 1) + np.diag(np.full(60, A / 2), -1)
    exact = np.linalg.eigvalsh(H)[0]
    gs = speckle.exact_ground_states(V, G)
    assert abs(gs.energies[0] - exact) < 1e-9
    assert abs(G.integrate(gs.densities[0]) - 1) < 1e-12


def test_discretisation_error_is_negligible(many):
    """Speckle is band-limited, so the same pattern on 512 points is exact: e_gs changes by < 1e-8 relative."""
    V = many[:5]
    fine = speckle.Grid(G.length, 512, True, 1.0)
    e1 = speckle.exact_ground_states(V, G).energies
    e2 = speckle.exact_ground_states(speckle.fourier_resample(V, 512), fine).energies
    assert np.max(np.abs(e1 - e2) / e1) < 1e-8


def test_gaussian_wells_converge_and_stay_inside():
    V, params = speckle.gaussian_wells(4, rng=np.random.default_rng(2))
    a, b, c = params[:, 0], params[:, 1], params[:, 2]
    assert a.min() >= 1 and a.max() <= 40 and b.min() >= 1.8 and b.max() <= 4.2 and c.min() >= 0.12 and c.max() <= 0.4
    W = speckle.WELLS_GRID
    gs = speckle.exact_ground_states(V, W)
    fine = speckle.Grid(W.length, 513, False, 0.5)
    Vf = -np.sum(a[..., None] * np.exp(-(fine.x - b[..., None]) ** 2 / (2 * c[..., None] ** 2)), axis=1)
    ef = speckle.exact_ground_states(Vf, fine).energies
    assert np.max(np.abs(gs.energies - ef) / np.abs(ef)) < 1e-6
    assert np.all(gs.densities[:, :5] < 1e-8) and np.all(gs.densities[:, -5:] < 1e-8)  # vanishes at the walls


def test_exact_functional_is_t_gs_and_its_derivative(many):
    gs = speckle.exact_ground_states(many[:3], G)
    T, dT = speckle.von_weizsaecker(gs.densities, G, gradient=True)
    assert np.allclose(T, gs.kinetic, rtol=0, atol=1e-12)
    # Euler equation (Eq. 10 in chi): dT/dchi + 2 chi V = 2 e_gs chi at the ground state
    chi = np.sqrt(gs.densities)
    assert np.max(np.abs(dT + 2 * chi * many[:3] - 2 * gs.energies[:, None] * chi)) < 1e-8
    # dT/dchi_i / dx against central differences in chi
    chi0, h, i = chi[0], 1e-6, 37
    f = lambda c: speckle.von_weizsaecker(c[None] ** 2, G)[0]  # noqa: E731
    e = np.zeros(G.n)
    e[i] = h
    assert abs((f(chi0 + e) - f(chi0 - e)) / (2 * h) / G.dx - dT[0, i]) < 1e-5 * abs(dT[0, i]) + 1e-8


def test_dataset_cache_reproduces_and_advances_rng(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPHYS_CACHE", str(tmp_path))
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    a = speckle.dataset(6, rng=r1, progress=False)
    b = speckle.dataset(6, rng=r2, progress=False)  # from the cache
    assert len(list(tmp_path.glob("*.npz"))) == 1
    assert np.array_equal(a.densities, b.densities) and np.array_equal(a.kinetic, b.kinetic)
    assert r1.random() == r2.random()
    w = speckle.dataset(3, "gaussian_wells", rng=0, progress=False, cache=False)
    assert w.grid == speckle.WELLS_GRID and np.all(w.energies < 0)
    parts = speckle.dataset(100, rng=1, progress=False, cache=False).split()
    assert [len(p) for p in parts] == [81, 9, 10]


def test_bad_inputs():
    with pytest.raises(ValueError, match="kind"):
        speckle.dataset(3, "lattice")
    with pytest.raises(ValueError, match="potentials"):
        speckle.exact_ground_states(np.zeros((2, 100)), G)
    with pytest.raises(ValueError, match="non-negative"):
        speckle.von_weizsaecker(-np.ones((1, G.n)), G)
    with pytest.raises(ValueError, match="periodic"):
        speckle.speckle_potential(2, grid=speckle.WELLS_GRID)
    with pytest.raises(ValueError, match="n"):
        speckle.speckle_potential(0)


def test_damaged_dataset_cache_is_regenerated(tmp_path, monkeypatch):
    """A truncated or pickled dataset file in the cache: named in a warning, moved aside, the data regenerated."""
    monkeypatch.setenv("MLPHYS_CACHE", str(tmp_path))
    fresh = speckle.dataset(5, rng=np.random.default_rng(7), progress=False)
    [path] = list(tmp_path.rglob("speckle-5-*.npz"))
    good = path.read_bytes()
    for damage in (good[: len(good) // 3], b"garbage"):
        path.write_bytes(damage)
        with pytest.warns(RuntimeWarning, match=path.name):
            again = speckle.dataset(5, rng=np.random.default_rng(7), progress=False)
        np.testing.assert_array_equal(again.densities, fresh.densities)


# ----------------------------------------------------------------------------- issue #30: declared parameters

def _made_up(n_rows):
    """A data set of made-up numbers on the speckle grid (what split and subset do does not depend on them)."""
    V = np.random.default_rng(0).random((n_rows, G.n))
    return speckle.Dataset("speckle", G, V, V / 14, V[:, 0], V[:, 1])


def test_split_fractions_must_sum_to_one():
    """(0.2, 0.2, 0.2) used to give parts of 2, 2 and 6 (the last part took the rest); now it is refused, naming
    fractions, as is a split that leaves a part empty. Fractions that sum to 1 split as before."""
    data = _made_up(10)
    with pytest.raises(ValueError, match="fractions: must sum to 1"):
        data.split((0.2, 0.2, 0.2))
    with pytest.raises(ValueError, match="fractions"):
        data.split((0.6, 0.6))
    with pytest.raises(ValueError, match="fractions: leave an empty part"):
        data.split((0.95, 0.05))
    assert [len(p) for p in data.split((0.5, 0.3, 0.2))] == [5, 3, 2]
    assert [len(p) for p in _made_up(100).split()] == [81, 9, 10]
    np.testing.assert_array_equal(data.split((0.5, 0.5))[1].potentials, data.potentials[5:])
    with pytest.raises(ValueError, match="index"):
        data.subset(np.array([0, 10]))
    np.testing.assert_array_equal(data.subset(np.arange(10) % 3 == 0).energies, data.energies[::3])


@pytest.mark.parametrize("n", [32, 33])
def test_fourier_resample_passes_through_its_samples(n):
    """The trigonometric interpolant: onto the same grid it returns its input; upsampled k-fold, every k-th point is
    the input (a random row has a Nyquist term on an even grid: it used to come back doubled). A pure Nyquist row
    (-1)^i interpolates to cos(pi x / dx) exactly, not 2 cos(pi x / dx)."""
    V = np.random.default_rng(1).normal(size=(3, n))
    np.testing.assert_allclose(speckle.fourier_resample(V, n), V, rtol=0, atol=1e-14)
    for k in (2, 3):
        np.testing.assert_allclose(speckle.fourier_resample(V, k * n)[:, ::k], V, rtol=0, atol=1e-13)
    if n % 2 == 0:
        nyquist = (-1.0) ** np.arange(n)
        fine = speckle.fourier_resample(nyquist, 4 * n)
        np.testing.assert_allclose(fine, np.cos(np.pi * np.arange(4 * n) / 4), rtol=0, atol=1e-13)
    with pytest.raises(ValueError, match="n_new"):
        speckle.fourier_resample(V, n - 1)


def test_hard_walls_give_the_particle_in_a_box_to_eighth_order():
    """-1/2 d^2/dx^2 between hard walls, L = 6: E_k = pi^2 k^2 / (2 L^2). With the odd mirror beyond the walls the
    eighth-order stencil's error falls like h^8 (observed order >= 7 as h halves: n + 1 = 16, 32, 64), and on the
    Gaussian-wells grid itself the box's ground state is exact to rounding (treating the points beyond the walls as
    zero would leave 0.16%)."""
    L = 6.0
    for k in (2, 3):
        exact = np.pi**2 * k**2 / (2 * L**2)
        errors = []
        for n in (15, 31, 63):
            grid = speckle.Grid(length=L, n=n, periodic=False, kinetic_prefactor=0.5)
            errors.append(abs(np.linalg.eigvalsh(-0.5 * grid.laplacian())[k - 1] / exact - 1))
        orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
        assert np.all(orders >= 7), (k, errors, orders)
    W = speckle.WELLS_GRID
    e = speckle.exact_ground_states(np.zeros(W.n), W).energies[0]
    assert abs(e / (np.pi**2 / (2 * W.length**2)) - 1) < 1e-10


def test_declared_parameters_are_refused_by_name():
    with pytest.raises(ValueError, match="grid must be a Grid"):
        speckle.exact_ground_states(np.zeros((1, G.n)), "speckle")
    with pytest.raises(ValueError, match="n must be an integer >= 9"):
        speckle.Grid(length=1.0, n=8, periodic=True, kinetic_prefactor=1.0)
    with pytest.raises(ValueError, match="gradient must be True or False"):
        speckle.von_weizsaecker(np.ones((1, G.n)), G, gradient="yes")
    with pytest.raises(ValueError, match="densities: must have one value per grid point"):
        speckle.von_weizsaecker(np.ones((1, 100)), G)
    with pytest.raises(ValueError, match="cache must be True or False"):
        speckle.dataset(2, cache="no")
