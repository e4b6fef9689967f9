"""mlphys.dft (Chapters 10-11): training with checkpoints, gradient descent, diagnostics."""
import numpy as np
import pytest

from mlphys import cnn, dft, speckle
from mlphys.claims import costa

G = speckle.SPECKLE_GRID


@pytest.fixture(scope="module")
def small():
    V = speckle.speckle_potential(4, rng=np.random.default_rng(0))
    return V, speckle.exact_ground_states(V, G)


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


def test_paper_protocol_keeps_the_best_validation_network_and_resumes(cache):
    """protocol="paper" (Sec. III): raw inputs, the network of the lowest validation loss kept; a run resumed from
    its checkpoint (also past a longer horizon) ends with the same weights as one that never stopped."""
    train, val, _ = speckle.dataset(90, rng=4, progress=False).split((0.6, 0.3, 0.1))
    kw = dict(lr=3e-3, batch_size=20, validation=val, protocol="paper", progress=False)
    full = dft.train_functional(train, "avg-60", epochs=6, rng=7, **kw)
    assert full.net.scaling == (1.0, 0.0, 1.0)
    assert full.best_epoch == int(np.argmin(full.val_loss)) + 1 and full.finished
    best_val = np.mean((full.net.predict(val.densities) - val.kinetic) ** 2)
    assert np.isclose(best_val, min(full.val_loss), rtol=1e-12)
    path = cache / "paper.npz"
    part = dft.train_functional(train, "avg-60", epochs=3, rng=7, checkpoint=path, **kw)
    assert part.epochs == 3 and part.finished
    resumed = dft.train_functional(train, "avg-60", epochs=6, rng=7, checkpoint=path, **kw)
    assert resumed.val_loss == full.val_loss and resumed.best_epoch == full.best_epoch
    for a, b in zip(resumed.net.params, full.net.params):
        assert np.array_equal(a, b)
    with pytest.raises(ValueError, match="validation"):
        dft.train_functional(train, "avg-60", epochs=1, protocol="paper", progress=False)
    with pytest.raises(ValueError, match="protocol"):
        dft.train_functional(train, "avg-60", epochs=1, protocol="Paper", progress=False)


def test_parallel_training_equals_serial(cache):
    kw = dict(n_data=60, epochs=2, batch_size=20, architectures=("avg-60", "cnn-relu"), n_descent=2, n_curvature=2)
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


WALLS = speckle.Grid(length=2.0, n=15, periodic=False, kinetic_prefactor=0.5)


class _Potential:
    """A functional with T = 0 and dT/dchi = 0 (no kinetic energy): Eq. 13 is then pure potential descent."""

    name = "potential only"

    def __init__(self, grid, bad_row=None):
        self.grid, self.bad_row = grid, bad_row

    def value_and_derivative(self, densities):
        g = np.zeros_like(densities)
        if self.bad_row is not None and len(densities) > self.bad_row:
            g[self.bad_row] = np.nan
        return np.zeros(len(densities)), g


def test_initial_chi_is_the_empty_box_ground_state():
    """Periodic: uniform, chi = 1/sqrt(L). Hard walls: chi proportional to sin(pi x / L) at the interior points,
    normalised with the grid's rule (dx sum chi^2 = 1), which for this grid is the continuum sqrt(2/L)."""
    np.testing.assert_allclose(dft.initial_chi(G), np.full(G.n, 1 / np.sqrt(14.0)), rtol=1e-13)
    chi = dft.initial_chi(WALLS)
    x = (np.arange(15) + 1) * 2.0 / 16
    np.testing.assert_allclose(chi, np.sqrt(2 / 2.0) * np.sin(np.pi * x / 2.0), rtol=1e-13)


def test_relative_errors_and_density_diagnostics_by_hand():
    """Eqs. 19-21 and 22 on made-up numbers: energies 10 % below / above e_gs = -2 / 4 give -0.1 / +0.1 (sign:
    below the ground state is negative); twice the exact density has relative density error 1, gradient-noise 1
    (every |n'| doubled) and excess total variation 1; zero density has density error 1 and variation ratio -1."""
    x = G.x
    n_gs = np.vstack([1 + 0.5 * np.sin(2 * np.pi * x / 14), 1 + 0.3 * np.cos(4 * np.pi * x / 14)]) / 14
    exact = speckle.GroundStates(energies=np.array([-2.0, 4.0]), densities=n_gs, kinetic=np.array([1.0, 1.0]))
    de, dn = dft.relative_errors(2 * n_gs, np.array([-2.2, 4.4]), exact, G)
    np.testing.assert_allclose(de, [-0.1, 0.1], rtol=1e-13)
    np.testing.assert_allclose(dn, [1.0, 1.0], rtol=1e-13)
    np.testing.assert_allclose(dft.relative_errors(0 * n_gs, exact.energies, exact, G)[1], [1.0, 1.0], rtol=1e-13)
    np.testing.assert_allclose(dft.gradient_noise(2 * n_gs, exact, G, eps=1e-3), [1.0, 1.0], rtol=1e-12)
    np.testing.assert_allclose(dft.variation_ratio(2 * n_gs, exact), [1.0, 1.0], rtol=1e-12)
    np.testing.assert_allclose(dft.variation_ratio(0 * n_gs, exact), [-1.0, -1.0], rtol=1e-12)


def test_gradient_noise_uses_central_differences():
    """Eq. 22 with n_gs = 1 + 0.5 sin(kx) and n = 1 + 0.5 sin(2kx) (k = 2 pi / L): the central difference of
    sin(qx) is exactly sin(q dx)/dx cos(qx), so |n'|/|n_gs'| = 2 cos(k dx) |cos 2kx| / |cos kx| at every grid point;
    the metric is its mean minus 1 over the points with |cos kx| > eps max |cos kx|."""
    k = 2 * np.pi / 14.0
    x = G.x
    exact = speckle.GroundStates(energies=np.array([-1.0]), densities=(1 + 0.5 * np.sin(k * x))[None] / 14,
                                 kinetic=np.array([1.0]))
    n = (1 + 0.5 * np.sin(2 * k * x))[None] / 14
    keep = np.abs(np.cos(k * x)) > 0.2
    ratio = 2 * np.cos(k * G.dx) * np.abs(np.cos(2 * k * x[keep])) / np.abs(np.cos(k * x[keep]))
    np.testing.assert_allclose(dft.gradient_noise(n, exact, G, eps=0.2), [np.mean(ratio - 1)], rtol=1e-9)


def test_descent_force_is_the_potential_gradient_orthogonal_to_chi():
    """With no kinetic term Eq. 13's bracket is 2 (V - <V>) chi, <V> = integral chi^2 V / integral chi^2 (the
    Lagrange multiplier): zero for a constant potential, and its L2 norm otherwise (here for chi uniform)."""
    chi2 = np.full((2, G.n), 1 / 14.0)
    exact = speckle.GroundStates(energies=np.zeros(2), densities=chi2, kinetic=np.zeros(2))
    V = np.vstack([np.full(G.n, 2.5), np.cos(2 * np.pi * G.x / 14)])  # mean 0 over the period
    force = dft.descent_force(_Potential(G), exact, V)
    # |2 cos(k x) / sqrt(14)|^2 integrated over one period: 4 / 14 * 14 / 2 = 2
    np.testing.assert_allclose(force, [0.0, np.sqrt(2.0)], rtol=1e-12, atol=1e-13)


def test_descend_step_records_and_divergence_by_hand():
    """Potential-only descent from the uniform chi (hard to get wrong by hand): one step without renormalising is
    chi (1 - 2 eta (V - mu)), mu = <V>; the history is recorded at steps 0, 2, 4 and the last (5), with
    E = integral chi^2 V and the norm; an instance whose derivative is not finite is frozen and flagged."""
    V = np.vstack([np.cos(2 * np.pi * G.x / 14), np.full(G.n, 1.0)])
    chi0 = dft.initial_chi(G)
    eta = 0.01
    exact = speckle.GroundStates(energies=np.array([-2.0, 4.0]), densities=np.vstack([chi0**2, 2 * chi0**2]),
                                 kinetic=np.zeros(2))
    d = dft.descend(_Potential(G), V, steps=1, eta=eta, renormalise=False, exact=exact, progress=False)
    mu = np.array([0.0, 1.0])
    n1 = (chi0 * (1 - 2 * eta * (V - mu[:, None]))) ** 2
    np.testing.assert_allclose(d.densities, n1, rtol=1e-12)
    # Eqs. 19-21 along the way: at step 0 n = chi0^2, E = (0, 1); at step 1 E = integral n1 V
    E1 = G.dx * np.sum(n1 * V, axis=1)
    np.testing.assert_allclose(d.energy_errors, [[1.0, -3 / 4], (E1 - [-2.0, 4.0]) / [2.0, 4.0]], rtol=1e-12)
    np.testing.assert_allclose(d.density_errors[0], [0.0, 0.5], atol=1e-13)
    with pytest.warns(RuntimeWarning, match="1 of 2 instances diverged .*derivative was not finite"):
        d = dft.descend(_Potential(G, bad_row=1), V, steps=5, eta=eta, record_every=2, progress=False)
    np.testing.assert_array_equal(d.steps, [0, 2, 4, 5])
    np.testing.assert_allclose(d.energies[0], [0.0, 1.0], atol=1e-13)
    np.testing.assert_allclose(d.norms, 1.0, rtol=1e-12)
    assert d.energies[-1][0] < -0.01 and d.diverged.tolist() == [False, True]
    np.testing.assert_allclose(d.densities[1], chi0**2, rtol=1e-13)
    assert np.all(np.isnan(d.energies[1:, 1]))


def test_learned_functional_is_chunked_without_changing_results():
    """value_and_derivative over rows in chunks of 2 equals chunks of 50 and the network's own T and dT/dn (Eq. 17:
    times 2 chi / dx)."""
    net = cnn.CNN.from_architecture("avg-60", G.n, rng=np.random.default_rng(2))
    n = np.random.default_rng(3).random((5, G.n)) / 7
    T_big, g_big = dft.LearnedFunctional(net, G).value_and_derivative(n)
    T_small, g_small = dft.LearnedFunctional(net, G, chunk=2).value_and_derivative(n)
    T_net, dT = net.input_gradient(n)
    np.testing.assert_allclose(T_big, T_net, rtol=1e-13)
    np.testing.assert_allclose(g_big, 2 * np.sqrt(n) * dT / G.dx, rtol=1e-12)
    np.testing.assert_allclose(T_small, T_big, rtol=1e-13)
    np.testing.assert_allclose(g_small, g_big, rtol=1e-12, atol=1e-12 * np.max(np.abs(g_big)))


def test_density_response_is_first_order_perturbation_theory(small):
    """R dV against the exact solver's densities at V +- eps dV (central difference, error O(eps^2))."""
    V, gs = small
    R = dft.density_response(V[0], G)
    assert np.allclose(R, R.T) and np.allclose(R.sum(axis=1), 0, atol=1e-9)
    assert np.max(np.linalg.eigvalsh(R)) < 1e-9                      # negative semi-definite
    dV = np.cos(2 * np.pi * 3 * G.x / G.length)
    eps = 1e-4
    n_up, n_down = (speckle.exact_ground_states((V[0] + s * eps * dV)[None], G).densities[0] for s in (1, -1))
    np.testing.assert_allclose(R @ dV, (n_up - n_down) / (2 * eps), atol=1e-6 * np.max(np.abs(R @ dV)))


def test_curvature_diagnostic_equals_the_exact_response_for_von_weizsaecker(small):
    """The exact functional's second variation along the 26 tangent directions is -dx dV^T R dV / |R dV|^2 (Eq. 11
    of chapter 11's curvature): ratio 1 to the secant's O(step^2) error; a broken Hessian or response would not be."""
    V, gs = small
    ratios, exact = dft.curvature_ratios(dft.ExactFunctional(G), V[0], gs.densities[0])
    assert ratios.shape == (26,) and np.all(np.diff(exact) >= 0) and exact[0] > 0
    np.testing.assert_allclose(ratios, 1.0, atol=1e-4)
    off = np.cos(2 * np.pi * 30 * G.x / G.length)
    off = (off - off.mean()) / np.linalg.norm(off - off.mean())
    assert dft.second_variation(dft.ExactFunctional(G), gs.densities[0], off[None])[0] > 10 * exact[-1]   # grid-scale: ~40x the stiffest


def test_relu_activity_counts_linear_and_dead_channels():
    net = cnn.CNN.from_architecture("avg-60", 64, rng=0)
    net.params[1][:] = 1e3                                   # every first-block channel always on
    net.params[3][:30] = -1e9                                # half the second block dead, half always on
    net.params[3][30:] = 1e9
    act = dft.relu_activity(net, np.random.default_rng(0).random((4, 64)))
    assert act[0] == dict(always_on=1.0, always_off=0.0, active=1.0)
    assert act[1]["always_on"] == 0.5 and act[1]["always_off"] == 0.5


def test_euler_lagrange_targets_are_the_exact_functional_derivative(small):
    """dT/dn_i = dx (e_gs - V_i) for ground states: von Weizsaecker's own derivative (chi = sqrt(n), Eq. 17)."""
    V, gs = small
    data = speckle.Dataset("speckle", G, V, gs.densities, gs.energies, gs.kinetic)
    _, g_chi = speckle.von_weizsaecker(gs.densities, G, gradient=True)
    np.testing.assert_allclose(dft.euler_lagrange_targets(data), G.dx * g_chi / (2 * np.sqrt(gs.densities)),
                               atol=1e-9)


def test_derivative_informed_training_beats_plain_training_at_class_scale():
    """Chapter 11's claim at class scale: the Euler-Lagrange loss lowers <|de|/e> after descent (measured 0.13 vs
    0.37 for the N_c = 60 average-channel CNN); a sign error in the double backward would not."""
    informed = costa.informed_summary("class")
    _, _, test = costa.data("class")
    trained = costa.train_all("class", architectures=(costa.INFORMED,))
    plain = costa.descent_summary(costa.descend_all(trained, test, "class"))[costa.INFORMED]
    assert informed["abs_de"] < 0.7 * plain["abs_de"]
    with pytest.raises(ValueError, match="ReLU"):
        dft.train_functional(costa.data("class", n_data=40, n_descent=2, n_curvature=2)[0], "cnn-softplus", epochs=1, derivative_weight=0.1)


def test_a_network_is_the_same_whichever_networks_are_trained_with_it(cache):
    """Each network's seed comes from its place in Table I, not in the request: avg-60 trained alone is avg-60 trained
    with the others (and so one cache file never holds two different networks)."""
    kw = dict(n_data=60, epochs=1, batch_size=20, n_descent=2, n_curvature=2)
    alone = costa.train_all("class", architectures=("avg-60",), **kw)["avg-60"]
    for f in (cache / "functionals").glob("*.npz"):
        f.unlink()
    together = costa.train_all("class", architectures=("cnn-relu", "avg-60"), **kw)["avg-60"]
    for a, b in zip(alone.net.params, together.net.params):
        assert np.array_equal(a, b)


# ----------------------------------------------------------------------------- issue #30: results leaving entry points

class _Flat(_Potential):
    """T = NaN for every density (a broken network), with a finite derivative: the densities stay finite."""

    def value_and_derivative(self, densities):
        return np.full(len(densities), np.nan), np.zeros_like(densities)


def test_descend_says_what_to_change_when_energies_leave_non_finite():
    """An instance whose chi blows up is frozen and flagged (its energies NaN), with a warning naming eta; a
    functional that returns NaN is named as the cause; so is a T[n] that is NaN while the densities stay finite."""
    V = np.vstack([np.cos(2 * np.pi * G.x / 14), np.full(G.n, 1.0)])
    grid = speckle.Grid(length=2.0, n=15, periodic=False, kinetic_prefactor=0.5)
    Vw = np.zeros((2, grid.n))
    with pytest.warns(RuntimeWarning, match=r"2 of 2 instances diverged .*lower eta \(now 1;"):
        d = dft.descend(dft.ExactFunctional(grid), Vw, steps=40, eta=1.0, renormalise=False, progress=False)
    assert d.diverged.all() and np.all(np.isnan(d.energies[-1]))
    with pytest.warns(RuntimeWarning, match="check the functional"):
        dft.descend(_Potential(G, bad_row=0), V, steps=2, eta=1e-3, progress=False)
    with pytest.warns(RuntimeWarning, match="non-finite T"):
        dft.descend(_Flat(G), V, steps=2, eta=1e-3, progress=False)
    with pytest.raises(ValueError, match="functional.value_and_derivative returned shapes"):
        dft.descend(type("Wrong", (_Potential,), {"value_and_derivative": lambda self, n: (np.zeros(1), n)})(G), V,
                    steps=1, progress=False)


def test_train_functional_says_what_to_change_when_the_loss_diverges(cache):
    """A learning rate far too large: the training loss leaves finite numbers; the warning names lr (and the
    run is flagged diverged, not finished). Under the paper's protocol the network kept is the one before."""
    data = speckle.dataset(20, rng=3, progress=False)
    with pytest.warns(RuntimeWarning, match=r"training diverged \(the training loss .*lower lr \(now 1e\+08\)"):
        run = dft.train_functional(data, "avg-60", epochs=3, rng=7, lr=1e8, batch_size=10, progress=False)
    assert run.diverged and not run.finished
    train, val = data.subset(slice(0, 15)), data.subset(slice(15, 20))
    with pytest.warns(RuntimeWarning, match="the best network before it"):
        run = dft.train_functional(train, "avg-60", epochs=3, rng=7, lr=1e8, batch_size=10, validation=val,
                                   protocol="paper", progress=False)
    assert run.best_epoch == 0 and np.all(np.isfinite(run.functional(val.densities)))


def test_declared_parameters_are_refused_by_name(small):
    V, gs = small
    exact = dft.ExactFunctional(G)
    with pytest.raises(ValueError, match="functional must be a functional"):
        dft.descend(G, V, steps=1, progress=False)
    with pytest.raises(ValueError, match="exact: must hold the ground states"):
        dft.descend(exact, V, steps=1, exact=speckle.GroundStates(gs.energies[:2], gs.densities[:2], gs.kinetic[:2]),
                    progress=False)
    with pytest.raises(ValueError, match="renormalise must be True or False"):
        dft.descend(exact, V, steps=1, renormalise=1, progress=False)
    net = cnn.CNN.from_architecture("avg-60", 64, rng=0)
    with pytest.raises(ValueError, match="net: must take one input per grid point"):
        dft.LearnedFunctional(net, G)
    with pytest.raises(ValueError, match="architecture: does not fit data.grid.n"):
        coarse = speckle.Grid(14.0, 40, True, 1.0)
        dft.train_functional(speckle.Dataset("speckle", coarse, V[:, :40], gs.densities[:, :40], gs.energies,
                                             gs.kinetic), "avg-60", epochs=1)
    with pytest.raises(ValueError, match="n_modes: must be below grid.n / 2"):
        dft.manifold_directions(V[0], G, 128)
    with pytest.raises(ValueError, match="step: is too large"):
        dft.second_variation(exact, gs.densities[0], np.eye(G.n)[:2], step=1.0)
