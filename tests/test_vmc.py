import numpy as np
import pytest

from mlphys import nn, stats, vmc

CASES = [("gaussian", 1, 1, False), ("gaussian-jastrow", 2, 2, True), ("gaussian-jastrow", 3, 3, True),
         ("rbm", 2, 2, True), ("rbm", 1, 3, False), ("rbm-jastrow", 2, 2, True), ("rbm-jastrow", 3, 2, True),
         ("slater-jastrow", 2, 2, True), ("slater-jastrow", 6, 2, True), ("slater-rbm", 6, 2, True),
         ("slater-jastrow", 4, 1, False), ("slater-jastrow", 8, 3, True), ("slater-jastrow", 12, 2, True)]


@pytest.mark.parametrize("ansatz, P, D, coulomb", CASES)
def test_local_energy_matches_autograd(ansatz, P, D, coulomb):
    rng = np.random.default_rng(P * 10 + D)
    H = vmc.Hamiltonian(P, D, 0.7, coulomb)
    wf = vmc.build_wavefunction(ansatz, P, D, omega=0.7, rng=rng, coulomb=coulomb)
    wf.set_params(wf.params + 0.2 * rng.standard_normal(wf.n_params))
    X = rng.normal(size=(6, P, D))
    np.testing.assert_allclose(vmc.local_energy(wf, H, X), vmc.local_energy_autograd(wf, H, X), rtol=1e-10)
    np.testing.assert_allclose(wf.evaluate(X)[0], wf.log_psi(X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ansatz, P, D, coulomb", CASES)
def test_parameter_and_coordinate_derivatives_match_autograd(ansatz, P, D, coulomb):
    import autograd.numpy as anp
    from autograd import elementwise_grad, jacobian

    rng = np.random.default_rng(P + 100 * D)
    wf = vmc.build_wavefunction(ansatz, P, D, rng=rng, coulomb=coulomb)
    X = rng.normal(size=(4, P, D))
    _, grad, _, pgrad = wf.evaluate(X)
    np.testing.assert_allclose(grad, elementwise_grad(lambda Z: wf.log_psi(Z, xp=anp))(X), rtol=1e-10, atol=1e-12)
    if wf.n_params:
        theta0 = wf.params

        def log_psi_of(theta):
            i = 0
            for f in wf.factors:
                f.params = theta[i:i + f.n_params]
                i += f.n_params
            return wf.log_psi(X, xp=anp)

        jac = jacobian(log_psi_of)(theta0)
        wf.set_params(theta0)
        np.testing.assert_allclose(pgrad, jac, rtol=1e-9, atol=1e-12)


def test_rbm_weight_derivative_is_x_times_sigmoid_over_sigma2():
    f = vmc.RBM(1, 2, 3, omega=2.0, power=1.0, rng=0, weight_scale=0.5)
    X = np.array([[[0.3, -0.7]]])
    a, b, W = f.unpack()
    x = X.reshape(1, 2)
    Q = b + x @ W / f.sigma2
    expected = (x[0][:, None] / (1 + np.exp(-Q[0]))[None, :] / f.sigma2).ravel()
    np.testing.assert_allclose(f.evaluate(X)[3][0, 2 + 3:], expected)


@pytest.mark.parametrize("ansatz, P, D, omega", [("gaussian", 3, 2, 0.5), ("rbm", 2, 3, 1.3),
                                                  ("slater-jastrow", 6, 2, 1.0), ("slater-jastrow", 8, 3, 0.8)])
def test_exact_wave_functions_have_zero_variance(ansatz, P, D, omega):
    H = vmc.Hamiltonian(P, D, omega, coulomb=False)
    wf = vmc.build_wavefunction(ansatz, P, D, omega=omega, rng=0, coulomb=False)
    # the exact non-interacting state: Gaussian alpha = omega, RBM with W = a = 0
    if ansatz == "gaussian":
        wf.set_params([omega])
    elif ansatz == "rbm":
        wf.set_params(np.zeros(wf.n_params))
    else:
        wf.set_params([omega, 0.5])
    e = vmc.local_energy(wf, H, np.random.default_rng(1).normal(size=(50, P, D)))
    np.testing.assert_allclose(e, e[0], rtol=1e-12)
    expected = {("gaussian", 3): 3 * 2 / 2, ("rbm", 2): 2 * 3 / 2, ("slater-jastrow", 6): 10.0,
                ("slater-jastrow", 8): 2 * 1.5 + 6 * 2.5}[(ansatz, P)] * omega
    assert e[0] == pytest.approx(expected, rel=1e-12)


def test_samplers_reproduce_the_gaussian_distribution():
    # |psi|^2 for exp(-alpha r^2/2) is a Gaussian with variance 1/(2 alpha) per coordinate
    alpha = 0.8
    wf = vmc.Product(vmc.Gaussian(alpha))
    for sampler in (vmc.Metropolis(1.0), vmc.Langevin(0.2)):
        rng = np.random.default_rng(0)
        state = sampler.init(wf, rng.normal(size=(2000, 1, 2)))
        xs = []
        for t in range(300):
            sampler.sweep(wf, state, rng=rng)
            if t >= 100 and t % 10 == 0:
                xs.append(state.X.copy())
        xs = np.concatenate(xs).ravel()
        assert np.var(xs) == pytest.approx(1 / (2 * alpha), rel=0.03)
        assert np.mean(xs**4) == pytest.approx(3 / (2 * alpha) ** 2, rel=0.06)


def test_langevin_is_unbiased_with_nodes():
    # orbitals {1, x} e^{-0.8 x^2/2} for 4 fermions in 1D: E = (0.5 + 1.5) * 2 * (0.4 + 0.625) = 4.1
    H = vmc.Hamiltonian(4, 1, 1.0)
    wf = vmc.Product(vmc.Slater(4, 1), vmc.Gaussian(0.8))
    means, *_ = vmc.sample(wf, H, vmc.Langevin(0.05), n_walkers=500, n_steps=1024, burn_in=300, rng=1)
    energy, error = stats.blocking(means)
    assert abs(energy - 4.1) < 4 * error + 1e-3


def test_energy_gradient_matches_finite_difference_of_the_closed_form():
    # dE/dalpha for the Gaussian trial function from samples, against d/dalpha of the closed form
    P, D, alpha = 2, 2, 0.7
    H = vmc.Hamiltonian(P, D, 1.0)
    wf = vmc.Product(vmc.Gaussian(alpha))
    _, _, _, state, _ = vmc.sample(wf, H, vmc.Langevin(0.1), n_walkers=4000, n_steps=1, burn_in=200, rng=3)
    grads = []
    rng = np.random.default_rng(4)
    sampler = vmc.Langevin(0.1)
    for _ in range(60):
        sampler.sweep(wf, state, rng=rng)
        e, g = vmc.local_energy(wf, H, state.X, return_param_grad=True)
        grads.append(vmc.energy_gradient(e, g)[0])
    exact = P * D * (0.25 - 1 / (4 * alpha**2))
    assert np.mean(grads) == pytest.approx(exact, rel=0.05)


def test_ground_state_one_particle_is_exact():
    r = vmc.ground_state(1, 1, ansatz="gaussian", rng=0)
    assert r.energy == pytest.approx(0.5, abs=1e-4)
    assert r.variance < 1e-4 and 0.9 < r.acceptance <= 1
    assert len(r.history["energy"]) > 10


def test_blocking_recovers_ar1_standard_error():
    n, phi = 2**16, 0.8
    errors, taus = [], []
    for seed in range(4):
        g = np.random.default_rng(seed)
        noise = g.standard_normal(n)
        x = np.empty(n)
        x[0] = noise[0] / np.sqrt(1 - phi**2)
        for t in range(1, n):
            x[t] = phi * x[t - 1] + noise[t]
        estimate = stats.blocking(x)
        errors.append(estimate[1])
        taus.append(estimate.tau)
        assert estimate.warning == "" and estimate.blocks >= stats.MIN_BLOCKS
    assert np.mean(errors) == pytest.approx(1 / ((1 - phi) * np.sqrt(n)), rel=0.15)
    assert np.mean(taus) == pytest.approx((1 + phi) / (1 - phi), rel=0.3)   # 9; the error's 15% doubled, squared


def test_estimate_unpacks_as_mean_and_error():
    x = np.random.default_rng(0).standard_normal((100, 8))
    estimate = stats.chain_mean_error(x)
    mean, error = estimate
    assert (mean, error) == (estimate.mean, estimate.error) == (estimate[0], estimate[1])
    assert estimate.blocks == 8 and estimate.variance == pytest.approx(x.var())


def test_blocking_on_independent_samples_equals_naive_error():
    x = np.random.default_rng(0).standard_normal(2**14)
    estimate = stats.blocking(x)
    assert estimate.error == pytest.approx(stats.naive_error(x), rel=0.1)
    assert estimate.tau == pytest.approx(1.0, rel=0.2)                           # (1.1)^2 - 1 ~ 0.2


def test_radial_density_is_normalised():
    X = np.random.default_rng(0).normal(size=(2000, 3, 2))
    r, rho = stats.radial_density(X, r_max=8.0, n_bins=200)
    dr = r[1] - r[0]
    assert np.sum(rho * 2 * np.pi * r * dr) == pytest.approx(3.0, rel=1e-2)


@pytest.mark.parametrize("call, match", [
    (lambda: vmc.Hamiltonian(2, 2, omega=-1.0), "omega"),
    (lambda: vmc.Hamiltonian(2, 4), "dim"),
    (lambda: vmc.Slater(5, 2), "closed shells"),
    (lambda: vmc.Slater(3, 2), "closed shells"),
    (lambda: vmc.Metropolis(step=0.0), "step"),
    (lambda: vmc.Langevin(dt=-0.1), "dt"),
    (lambda: vmc.ground_state(2, 2, ansatz="neural"), "ansatz"),
    (lambda: vmc.ground_state(3, 2, ansatz="slater-jastrow"), "closed shells"),
    (lambda: vmc.sample(vmc.Product(vmc.Gaussian()), vmc.Hamiltonian(1, 1), vmc.Metropolis(), n_walkers=0,
                        n_steps=10), "n_walkers"),
    (lambda: vmc.Product(vmc.Gaussian()).set_params([np.nan]), "NaN"),
    (lambda: vmc.RBM(2, 2, 2, power=2.0), "power"),
    (lambda: stats.blocking(np.ones(8)), "at least 16"),
])
def test_bad_inputs_raise_valueerror(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_single_particle_determinant_ratio_and_sherman_morrison_update():
    rng = np.random.default_rng(5)
    D = rng.normal(size=(7, 4, 4))
    inv = np.linalg.inv(D)
    for i in range(4):
        row = rng.normal(size=(7, 4))
        Dn = D.copy()
        Dn[:, i] = row
        ratio = vmc.determinant_ratio(inv, i, row)
        np.testing.assert_allclose(ratio, np.linalg.det(Dn) / np.linalg.det(D), rtol=1e-10)
        np.testing.assert_allclose(vmc.inverse_update(inv, i, row, ratio), np.linalg.inv(Dn), rtol=1e-8, atol=1e-10)


def test_two_electron_exact_energies_2d():
    """Taut's 2D analytic energies (J. Phys. A 27, 1045 (1994)), reproduced by diagonalisation."""
    assert vmc.two_electron_energy_2d(1.0) == pytest.approx(3.0, abs=1e-6)
    assert vmc.two_electron_energy_2d(1.0 / 6.0) == pytest.approx(2.0 / 3.0, abs=1e-6)
    # without the repulsion's help the energy would be 2 omega: the interaction raises it
    assert vmc.two_electron_energy_2d(0.5) > 1.0


def test_quadrature_loses_to_monte_carlo_in_many_dimensions():
    r = stats.quadrature_versus_monte_carlo([1, 3, 8, 12], 2**16, rng=0)
    m = r["points_per_axis"]
    # midpoint rule: relative error d pi^2 / (24 m^2) to leading order (d = 1, 3)
    np.testing.assert_allclose(r["quadrature_error"][:2], r["dims"][:2] * np.pi**2 / (24 * m[:2] ** 2), rtol=1e-2)
    # Monte Carlo: within four of its own error bars in every dimension; far better than quadrature at d >= 8
    assert np.all(r["monte_carlo_error"] <= 4 * r["monte_carlo_sigma"])
    assert np.all(r["quadrature_error"][2:] > 10 * r["monte_carlo_sigma"][2:])


def test_energy_components_satisfy_the_virial_theorem():
    """Free particles with the exact Gaussian: <T> = <V_trap> = E/2; two electrons: 2<T> = 2<V_trap> - <V_int>."""
    free = vmc.ground_state(2, 2, omega=1.0, coulomb=False, ansatz="gaussian", rng=0)
    c = vmc.energy_components(free)
    assert c["interaction"] == 0.0 and c["trap"] == pytest.approx(1.0, rel=0.02) and c["virial"] == pytest.approx(1, abs=0.03)
    from mlphys.claims import quantum_dots as qd

    scan = qd.omega_scan(2, omegas=(0.5,))
    c = vmc.energy_components(scan[0.5])
    assert c["energy"] == pytest.approx(vmc.two_electron_energy_2d(0.5), abs=3e-4)
    assert c["virial"] == pytest.approx(1.0, abs=0.03)            # 6000 kept configurations: ~1% noise in <V>
    with pytest.raises(ValueError, match="6"):
        qd.omega_scan(3)


# ---------------------------------------------------------------------------- issue #30: declared parameters

def _limit(seconds):
    import signal

    def handler(signum, frame):
        raise TimeoutError(f"did not return within {seconds} s")
    signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)


def test_flags_are_never_read_from_strings():
    """bool("no") is True: Hamiltonian(coulomb="no") used to switch the Coulomb repulsion on."""
    for call in (lambda: vmc.Hamiltonian(2, 2, coulomb="no"), lambda: vmc.Hamiltonian(2, 2, 1.0, 0),
                 lambda: vmc.build_wavefunction("gaussian-jastrow", 2, 2, coulomb="no"),
                 lambda: vmc.ground_state(2, 2, coulomb="False", ansatz="gaussian")):
        with pytest.raises(TypeError, match="coulomb must be True or False"):
            call()
    assert vmc.Hamiltonian(2, 2, coulomb=False).coulomb is False


def test_coincident_starting_positions_are_refused_and_nan_energies_raise():
    """X0 = zeros puts both electrons at one point, where 1/r and the Jastrow gradient are singular: every local
    energy used to come out NaN without an error. Now X0 is refused; NaN energies from elsewhere raise at the exit."""
    H = vmc.Hamiltonian(2, 2, 1.0, coulomb=True)
    wf = vmc.build_wavefunction("gaussian-jastrow", 2, 2, coulomb=True)
    for sampler in (vmc.Metropolis(1.0), vmc.Langevin(0.05)):
        with pytest.raises(ValueError, match="X0: has two particles of a walker at the same point"):
            vmc.sample(wf, H, sampler, n_walkers=4, n_steps=3, X0=np.zeros((4, 2, 2)), rng=0)
    X0 = np.zeros((4, 2, 2))
    X0[:, 1, 0] = 1.0                                     # distinct: accepted, finite
    run = vmc.sample(wf, H, vmc.Langevin(0.05), n_walkers=4, n_steps=3, X0=X0, burn_in=2, rng=0)
    assert np.all(np.isfinite(run.local_energies))

    class Broken:                                        # a wave function whose Laplacian is NaN
        n_params, params = 1, np.zeros(1)

        def evaluate(self, X, derivatives=True, param_grad=True):
            W = len(X)
            return np.zeros(W), np.zeros_like(X), np.full(W, np.nan), np.zeros((W, 1)) if param_grad else None

        def set_params(self, theta):
            self.params = theta

    with pytest.raises(FloatingPointError, match="sample: the local energies"):
        vmc.sample(Broken(), H, vmc.Metropolis(), n_walkers=3, n_steps=2, burn_in=0, rng=0)
    with pytest.raises(FloatingPointError, match="optimise: the local energies of iteration 0"):
        vmc.optimise(Broken(), H, vmc.Metropolis(), nn.Adam(0.01), n_iterations=2, n_walkers=3, n_steps=2, rng=0)


@pytest.mark.parametrize("sampler", [vmc.Metropolis(1.0), vmc.Langevin(0.1)])
def test_samplers_never_modify_the_callers_positions(sampler):
    """init(wf, X) used to keep X itself in the walker state, and every sweep then moved the caller's array."""
    wf = vmc.Product(vmc.Gaussian(1.0))
    X = np.random.default_rng(0).normal(size=(50, 2, 2))
    kept = X.copy()
    state = sampler.init(wf, X)
    for _ in range(5):
        sampler.sweep(wf, state, rng=0)
    np.testing.assert_array_equal(X, kept)
    assert not np.array_equal(state.X, kept)              # the walkers did move


def test_shell_enumerations_are_bounded_in_dim():
    """closed_shell_numbers(20) and Slater(2, 20) enumerate (shell + 1)^20 tuples per shell and never returned."""
    _limit(10)
    try:
        for call in (lambda: vmc.closed_shell_numbers(20), lambda: vmc.Slater(2, 20)):
            with pytest.raises(ValueError, match="dim must be an integer >= 1 and <= 3"):
                call()
        with pytest.raises(ValueError, match="max_particles"):
            vmc.closed_shell_numbers(1, max_particles=10**9)
    finally:
        import signal
        signal.alarm(0)
    # the closed form 2 C(s + D - 1, D - 1) per shell gives the enumeration's numbers
    assert vmc.closed_shell_numbers(2) == [2, 6, 12, 20, 30, 42, 56, 72, 90]
    assert vmc.closed_shell_numbers(3) == [2, 8, 20, 40, 70]
    assert vmc.closed_shell_numbers(1) == list(range(2, 101, 2))


def test_optimise_declares_its_optimizer():
    """optimise(optimizer=None) used to fail deep inside with AttributeError: 'NoneType' object has no attribute 'step'."""
    wf, H = vmc.Product(vmc.Gaussian(1.0)), vmc.Hamiltonian(1, 1)
    with pytest.raises(TypeError, match="optimizer must be a Adam or SGD"):
        vmc.optimise(wf, H, vmc.Metropolis(), None, n_iterations=1, n_walkers=2, n_steps=1)


def test_two_electron_energy_at_low_density_follows_the_wigner_limit():
    """At low density (omega -> 0) the electrons localise at the minimum r0 = (2/omega^2)^(1/3) of the relative
    potential omega^2 r^2/4 + 1/r (reduced mass 1/2), which grows faster than the old box 14/sqrt(omega): at
    omega = 1e-8 r0 = 2.7e5 against a box of 1.4e5, and the energy came out 43% high (7.94e-6).

    Wigner limit: E = V(r0) + (sqrt(3)/2) omega (radial zero point: V''(r0) = 3 omega^2/2, frequency
    sqrt(V''/mu) = sqrt(3) omega) + omega (centre of mass, mass 2, 2D) = (3/2)(omega^2/2)^(1/3)
    + (1 + sqrt(3)/2) omega + O(omega^(4/3)). Tolerance: the first neglected term's size, the 2D centrifugal
    term 1/(4 r0^2) = (1/4)(omega^2/2)^(2/3) (relative 6e-7 at 1e-8); the difference must also scale as
    omega^(4/3) (same coefficient at 1e-6 and 1e-8), which a box or grid error would not."""
    omega = 1e-8
    r0 = vmc.wigner_separation(omega)
    assert r0 == pytest.approx((2 / omega**2) ** (1 / 3), rel=1e-15) and r0 > 14 / np.sqrt(omega)
    wigner = 1.5 * (omega**2 / 2) ** (1 / 3) + (1 + np.sqrt(3) / 2) * omega
    assert vmc.wigner_energy_2d(omega) == pytest.approx(wigner, rel=1e-15)
    E = vmc.two_electron_energy_2d(omega)
    assert abs(E - wigner) < 0.25 * (omega**2 / 2) ** (2 / 3)
    coefficients = [(vmc.two_electron_energy_2d(w) - vmc.wigner_energy_2d(w)) / (w**2 / 2) ** (2 / 3)
                    for w in (1e-6, 1e-8)]
    assert coefficients[0] == pytest.approx(coefficients[1], rel=0.01)
    # high density unchanged: Taut's exact 3 at omega = 1 and 2/3 at omega = 1/6
    assert vmc.two_electron_energy_2d(1.0) == pytest.approx(3.0, abs=1e-9)
    assert vmc.two_electron_energy_2d(1.0 / 6.0) == pytest.approx(2.0 / 3.0, abs=1e-9)


def test_a_sampler_that_accepts_almost_nothing_says_so():
    """Metropolis with step 50 in a unit trap: almost every move lands where |psi|^2 ~ exp(-2500) - the walkers
    stay put and the energies repeat. sample warns naming the step; the default step does not warn."""
    import warnings

    wf, H = vmc.Product(vmc.Gaussian(1.0)), vmc.Hamiltonian(1, 2)
    with pytest.warns(RuntimeWarning, match=r"accepted 0\.\d+% of its moves \(below 1%\) with step=50.*lower step"):
        vmc.sample(wf, H, vmc.Metropolis(50.0), n_walkers=50, n_steps=10, burn_in=0, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vmc.sample(wf, H, vmc.Metropolis(1.0), n_walkers=50, n_steps=10, burn_in=0, rng=0)
