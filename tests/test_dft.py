"""mlphys.dft (Chapters 10-11): training with checkpoints, gradient descent, diagnostics."""
import numpy as np
import pytest

from mlphys import cnn, dft, speckle
from mlphys.claims import costa

G = speckle.SPECKLE_GRID


@pytest.fixture(scope="module")
def small():
    V = speckle.speckle_potential(4, rng=np.random.default_rng(0))
    return V, speckle.ground_state(V, G)


def test_exact_descent_reaches_ground_state_and_the_step_bound(small):
    """The exact functional: Eqs. 13-14 converge to e_gs below eta = 1/lambda_max and blow up above it."""
    V, gs = small
    eta = costa.exact_eta(G)
    d = dft.descend(dft.ExactFunctional(G), V, steps=int(20 / eta), eta=eta, exact=gs, record_every=10_000,
                    progress=False)
    assert np.max(np.abs(d.energy_errors[-1])) < 1e-6 and np.all(d.energy_errors[-1] > -1e-12)
    assert np.all(np.abs(d.norms - 1) < 1e-12)
    assert np.all(np.diff(d.energies, axis=0) <= 1e-12)  # gradient descent never raises the energy
    bad = dft.descend(dft.ExactFunctional(G), V, steps=3000, eta=1e-3, progress=False)
    assert bad.diverged.all() or np.all(np.abs(bad.energies[-1]) > 10)


def test_descent_step_is_eq14_without_renormalisation(small):
    """Eq. 14's mu keeps integral chi^2 = 1 to first order in eta: without renormalising, one step from a
    normalised chi changes the norm by exactly eta^2 times the squared bracket, O(eta^2) (halving eta divides the
    drift by 4; a mu off by 10% would make it first order). A uniform chi in a constant potential V = c: the
    von Weizsaecker derivative vanishes, mu = c, and the step leaves chi unchanged."""
    V, _ = small
    exact = dft.ExactFunctional(G)
    drift = [np.abs(dft.descend(exact, V, steps=1, eta=eta, renormalise=False, progress=False).norms[-1] - 1)
             for eta in (1e-5, 5e-6)]
    assert np.all(drift[0] > 0) and np.all(drift[0] < 1e-3)
    np.testing.assert_allclose(drift[0] / drift[1], 4.0, rtol=1e-3)
    flat = np.full((1, G.n), 3.0)
    d = dft.descend(exact, flat, steps=1, eta=1e-2, renormalise=False, progress=False)
    np.testing.assert_allclose(d.densities, dft.initial_chi(G)[None] ** 2, rtol=1e-12)


def test_descent_force_vanishes_for_the_exact_functional(small):
    V, gs = small
    assert np.max(dft.descent_force(dft.ExactFunctional(G), gs, V)) < 1e-8
    assert np.allclose(dft.gradient_noise(gs.densities, gs, G, eps=1e-3), 0, atol=1e-12)
    assert np.allclose(dft.variation_ratio(gs.densities, gs), 0, atol=1e-12)


def test_learned_functional_derivative_is_eq17(small):
    """delta T / delta chi = 2 chi (dT/dn_i) / dx: against central differences of T[chi^2] in chi."""
    _, gs = small
    net = cnn.CNN.from_architecture("cnn-softplus", G.n, rng=np.random.default_rng(1))
    f = dft.LearnedFunctional(net, G)
    chi = np.sqrt(gs.densities[:1])
    _, g = f.value_and_derivative(chi**2)
    h, i = 1e-6, 100
    e = np.zeros_like(chi)
    e[0, i] = h
    fd = (f((chi + e) ** 2)[0] - f((chi - e) ** 2)[0]) / (2 * h) / G.dx
    assert abs(fd - g[0, i]) < 1e-6 * np.max(np.abs(g))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPHYS_CACHE", str(tmp_path))
    return tmp_path


def test_checkpoint_resume_equals_uninterrupted(cache):
    data = speckle.dataset(60, rng=3, progress=False)
    kw = dict(lr=1e-3, batch_size=20, progress=False)
    full = dft.train_functional(data, "avg-60", epochs=4, rng=7, **kw)
    path = cache / "ck.npz"
    dft.train_functional(data, "avg-60", epochs=2, rng=7, checkpoint=path, **kw)  # "killed" after 2 epochs
    resumed = dft.train_functional(data, "avg-60", epochs=4, rng=7, checkpoint=path, **kw)
    assert resumed.loss == full.loss
    for a, b in zip(resumed.net.params, full.net.params):
        assert np.array_equal(a, b)


def test_parallel_training_equals_serial(cache):
    kw = dict(n_data=60, epochs=2, batch_size=20, architectures=("avg-60", "cnn-relu"))
    serial = costa.train_all("class", jobs=1, **kw)
    for f in (cache / "functionals").glob("*.npz"):
        f.unlink()
    parallel = costa.train_all("class", jobs=2, **kw)
    for name in serial:
        for a, b in zip(serial[name].net.params, parallel[name].net.params):
            assert np.array_equal(a, b)


def test_bad_inputs(small):
    V, gs = small
    exact = dft.ExactFunctional(G)
    with pytest.raises(ValueError, match="normalised"):
        dft.descend(exact, V, steps=1, chi0=np.ones(G.n), progress=False)
    with pytest.raises(ValueError, match="non-negative"):
        dft.descend(exact, V, steps=1, chi0=-dft.initial_chi(G), progress=False)
    with pytest.raises(ValueError, match="potentials"):
        dft.descend(exact, V[:, :10], steps=1, progress=False)
    with pytest.raises(ValueError, match="eta"):
        dft.descend(exact, V, steps=1, eta=0, progress=False)
    data = speckle.Dataset("speckle", G, V, gs.densities, gs.energies, gs.kinetic)
    with pytest.raises(ValueError, match="architecture"):
        dft.train_functional(data, "mlp", epochs=1)
    with pytest.raises(ValueError, match="data"):
        dft.train_functional(V, "avg-60", epochs=1)


def test_model_errors_are_the_networks_error_on_exact_densities():
    """costa.model_errors, the reference of chapter 11's "twice its own error" rows: zero for the exact functional,
    <t_gs / |e_gs|> for a functional that returns 0, on the first n_descent (class: 20) instances."""
    from types import SimpleNamespace

    data = speckle.dataset(25, rng=3, progress=False)
    exact = dft.ExactFunctional(G)
    trained = {"exact": SimpleNamespace(functional=lambda n: exact.value_and_derivative(n)[0]),
               "zero": SimpleNamespace(functional=lambda n: np.zeros(len(n)))}
    errors = costa.model_errors(trained, data, "class")
    sub = costa.descent_instances(data, "class")
    assert len(sub) == 20
    assert errors["exact"] < 1e-8
    assert errors["zero"] == pytest.approx(np.mean(sub.kinetic / np.abs(sub.energies)), rel=1e-12)
