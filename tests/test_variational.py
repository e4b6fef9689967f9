import numpy as np
import pytest

from mlphys import dfnn, variational as va, vmc
from mlphys.claims import rodini


def test_reference_energies_reproduce_closed_forms():
    assert np.allclose(va.reference_energies(va.harmonic, (-10, 10), 4000, 3), [0.5, 1.5, 2.5], atol=1e-8)
    assert va.reference_energies(va.linear_harmonic, (-10, 10), 4000)[0] == pytest.approx(0.375, abs=1e-8)
    assert va.reference_energies(va.morse, (-4, 20), 8000)[0] == pytest.approx(va.MORSE_E0, abs=1e-8)
    # the paper's printed Morse energy is not an eigenvalue
    assert abs(rodini.PAPER_MORSE_E0 - va.MORSE_E0) > 0.3


def test_closed_form_ground_states_are_normalised_eigenfunctions():
    x = np.linspace(-8, 25, 40001)
    for c in va.SECTION4:
        if c.psi0 is None:
            continue
        psi = c.psi0(x)
        assert np.trapezoid(psi**2, x) == pytest.approx(1.0, abs=1e-6)
        d2 = np.gradient(np.gradient(psi, x), x)
        residual = (-0.5 * d2 + c.V(x) * psi - c.exact * psi)[100:-100]
        assert np.max(np.abs(residual)) < 1e-4


def test_energy_gradient_equals_autograd_and_finite_differences():
    net = dfnn.DFNN((1, 6, 6, 1), rng=3)
    x, h = va.grid((-4, 4), 400)
    v = va.quartic(x, 0.3)
    e, norm, grads = va.energy_and_gradient(net, x, v, h, penalty=0.7)
    e2, norm2, ref = va.energy_and_gradient_autograd(net, x, v, h, penalty=0.7)
    assert e == pytest.approx(e2, rel=1e-12) and norm == pytest.approx(norm2, rel=1e-12)
    for g, r in zip(grads, ref):
        assert np.allclose(g, r, rtol=1e-9, atol=1e-12)
    theta, eps = net.get_flat(), 1e-6
    flat = np.concatenate([g.ravel() for g in grads])

    def loss(t):
        net.set_flat(t)
        e, n, _ = va.energy_and_gradient(net, x, v, h, penalty=0.7)
        return e + 0.7 * (n - 1) ** 2

    for k in (0, 7, 20, len(theta) - 1):
        step = np.zeros_like(theta)
        step[k] = eps
        fd = (loss(theta + step) - loss(theta - step)) / (2 * eps)
        assert fd == pytest.approx(flat[k], rel=1e-5, abs=1e-8)


def test_short_training_approaches_the_harmonic_ground_state():
    r = va.ground_state(va.harmonic, (-4, 4), hidden=(8, 8), n_points=200, rng=1,
                        schedule=((300, 1e-2), (200, 1e-3)))
    assert r.steps == 500 and not r.interrupted
    assert abs(r.energy - 0.5) < 5e-3
    assert r.history["energy"][-1] < r.history["energy"][0]
    assert r.norm_error < 0.05 and r.goodness < 0.05
    assert np.max(r.phi) > 0


@pytest.mark.parametrize("kwargs, match", [
    (dict(domain=(1.0, -1.0)), "domain"),
    (dict(domain=(0.0, np.inf)), "domain"),
    (dict(n_points=5), "n_points"),
    (dict(V=lambda x: np.full_like(x, np.nan)), "NaN"),
    (dict(V=lambda x: x[:-1]), "V returned shape"),
    (dict(V=3.0), "callable"),
    (dict(hidden=()), "hidden"),
    (dict(schedule=((10,),)), "schedule"),
    (dict(schedule=((10, -1.0),)), r"schedule\[0\]\[1\].*learning rate"),
])
def test_ground_state_rejects_bad_input(kwargs, match):
    args = dict(V=va.harmonic, domain=(-4, 4), n_points=100, schedule=((1, 1e-3),))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        va.ground_state(**args)


def test_reference_energies_reject_bad_input():
    with pytest.raises(ValueError, match="n_points"):
        va.reference_energies(va.harmonic, (-4, 4), 5)
    with pytest.raises(ValueError, match="k must be"):
        va.reference_energies(va.harmonic, (-4, 4), 40, k=30)


def test_network_state_local_energy_equals_autograd():
    H = va.Trap((1.0, 2.0))
    wf = va.NetworkState(2, (5, 5), rng=2)
    X = np.random.default_rng(0).normal(size=(7, 1, 2))
    assert np.allclose(vmc.local_energy(wf, H, X), vmc.local_energy_autograd(wf, H, X), rtol=1e-10)
    lp, _, _, pgrad = wf.evaluate(X)
    theta, eps = wf.params, 1e-6
    for k in (0, 9, wf.n_params - 1):
        step = np.zeros_like(theta)
        step[k] = eps
        wf.set_params(theta + step)
        up = wf.evaluate(X, derivatives=False)[0]
        wf.set_params(theta - step)
        down = wf.evaluate(X, derivatives=False)[0]
        assert np.allclose((up - down) / (2 * eps), pgrad[:, k], atol=1e-7)
    assert H.exact_energy == 1.5
    with pytest.raises(ValueError, match="omegas"):
        va.Trap((1.0, -1.0))


def test_section4_table_says_when_paper_scale_is_not_recorded():
    from types import SimpleNamespace

    from mlphys.claims import rodini

    results = {"harmonic": SimpleNamespace(energy=0.5000429)}
    assert "not recorded" in rodini.section4_table(results, {})
    assert "0.5000010" in rodini.section4_table(results, {"x^2/2": 0.500001})


def test_state_checkpoint_resume_equals_uninterrupted(tmp_path, monkeypatch):
    """Interrupted mid-way through the second Adam stage, resumed from its .npz: the same weights and history."""
    schedule = ((30, 1e-2), (30, 1e-3))
    kw = dict(hidden=(5, 5), n_points=200, schedule=schedule, rng=3)
    whole = va.ground_state(va.harmonic, (-4.0, 4.0), **kw)
    real, calls = va._energy_and_gradient, []

    def stop_after_45(*args):
        calls.append(1)
        if len(calls) == 46:                      # Ctrl-C during step 46
            raise KeyboardInterrupt
        return real(*args)

    path = tmp_path / "state.npz"
    monkeypatch.setattr(va, "_energy_and_gradient", stop_after_45)
    assert va.ground_state(va.harmonic, (-4.0, 4.0), checkpoint=path, checkpoint_seconds=0, **kw).interrupted
    monkeypatch.setattr(va, "_energy_and_gradient", real)
    with np.load(path) as f:
        assert int(f["done"]) == 45
    resumed = va.ground_state(va.harmonic, (-4.0, 4.0), checkpoint=path, **kw)
    assert resumed.energy == whole.energy and resumed.steps == 60
    np.testing.assert_array_equal(resumed.history["energy"], whole.history["energy"])
    for a, b in zip(resumed.network.params, whole.network.params):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_of_another_potential_is_not_resumed(tmp_path):
    """A state saved for the harmonic potential, offered to a quartic run: moved aside with a warning naming
    it, and the quartic run equals one without a checkpoint (it once resumed the harmonic weights silently)."""
    kw = dict(hidden=(5, 5), n_points=200, schedule=((20, 1e-2),), rng=3)
    path = tmp_path / "state.npz"
    va.ground_state(va.harmonic, (-4.0, 4.0), checkpoint=path, checkpoint_seconds=0, **kw)
    quartic = lambda x: 0.5 * x**2 + x**4                       # noqa: E731
    with pytest.warns(RuntimeWarning, match="state.npz.*another problem"):
        resumed = va.ground_state(quartic, (-4.0, 4.0), checkpoint=path, **kw)
    assert resumed.energy == va.ground_state(quartic, (-4.0, 4.0), **kw).energy
    assert (tmp_path / "state.npz.rejected").is_file()


def test_step_times_cover_every_engine_and_validate_repeats():
    net = dfnn.DFNN((1, 4, 1), rng=0)
    x, h = va.grid((-3, 3), 40)
    times = va.step_times(net, x, va.harmonic(x), h, repeats=1)
    expected = {"NumPy recursion", "autograd"} | ({"compiled recursion"} if dfnn.compiled_kernel() else set())
    assert set(times) == expected and all(t > 0 for t in times.values())
    with pytest.raises(ValueError, match="repeats"):
        va.step_times(net, x, va.harmonic(x), h, repeats=0)


def _box_errors(sizes, levels=5, L=6.0):
    """Relative errors of the lowest ``levels`` reference energies of a particle in a box [0, L] (V = 0) against
    E_n = pi^2 n^2 / (2 L^2) (hbar = m = 1), and the spacings h = L / (n_points + 1) of the grids."""
    exact = np.pi**2 * np.arange(1, levels + 1) ** 2 / (2 * L**2)
    errors = np.array([np.abs(va.reference_energies(lambda x: 0 * x, (0.0, L), n, levels) / exact - 1)
                       for n in sizes])
    return errors, L / (np.asarray(sizes) + 1)


def test_particle_in_a_box_reference_energies_converge_at_eighth_order():
    """Issue #30 (physics): the walls must sit on the grid (psi = 0 at x = 0 and L, one spacing beyond the end
    points, the stencil mirrored about them). With zeros beyond the walls the energies were 0.2% off and converged
    like h; now the error of E_5 drops by ~2^8 each time h halves (measured order >= 7) and E_1 is exact to 1e-10."""
    errors, h = _box_errors([23, 47, 95])                            # h = L/24, L/48, L/96
    top = errors[:, -1]                                              # E_5: the largest error, far above rounding
    orders = np.log(top[:-1] / top[1:]) / np.log(h[:-1] / h[1:])
    assert np.all(orders >= 7), orders                               # measured ~7.9 and ~8.0
    assert top[0] < 2e-5 and top[-1] < 1e-9
    assert np.max(errors[:, 0]) < 1e-10                              # E_1 = pi^2 / 72
    # the energies do not depend on where the box is
    shifted = va.reference_energies(lambda x: 0 * x, (-3.0, 3.0), 47, 5)
    np.testing.assert_allclose(shifted, va.reference_energies(lambda x: 0 * x, (0.0, 6.0), 47, 5), rtol=1e-12)


def test_ground_state_refuses_a_non_finite_energy_with_what_to_change():
    """A potential near the float limit overflows the energy: training stops with a warning saying what to change,
    and the non-finite energy never leaves ground_state (it used to come out as nan, or as an obscure error of
    the optimiser)."""
    with np.errstate(over="ignore", invalid="ignore"), pytest.warns(RuntimeWarning, match="diverged.*schedule"):
        with pytest.raises(FloatingPointError, match="energy.*learning rates in schedule"):
            va.ground_state(lambda x: 1e307 * x**2, (-4, 4), hidden=(4,), n_points=50, rng=0, schedule=((5, 1e-2),))


def test_reference_energies_and_ground_state_check_the_potential_they_call():
    with pytest.raises(ValueError, match=r"V returned shape \(40, 1\).*flatten"):
        va.reference_energies(lambda x: x[:, None] ** 2, (-4, 4), 40)
    with np.errstate(invalid="ignore"), pytest.raises(ValueError, match="V returned NaN"):
        va.goodness(dfnn.DFNN((1, 3, 1), rng=0), lambda x: np.log(x), (-1, 1), 0.5, n_points=20)
