"""Bad input as a student types it, across the public API: every call must fail fast with a ValueError
that names the argument to change (issue 15). Not a hang, not NaN, not an obscure NumPy error.

    python tests/test_probes.py      # a summary: how many probes are refused clearly, and the others

Each probe is (the name the message must contain, the call). A probe that returns, raises anything else,
or runs past the time limit is listed by the summary and fails the test.
"""
import numpy as np
import pytest
from test_robustness import time_limit

from mlphys import (bayes, cnn, data, dfnn, dft, hopfield, linreg, mpnn, neural_ode, nn, pathint, perceptron, rbm,
                    resnet_pde, speckle, stats, variational, vmc)
from mlphys.config import make_rng

NAN = float("nan")
SECONDS = 20


def _probes():
    x, y = np.linspace(0, 1, 10), np.linspace(1, 3, 10)
    X = linreg.design_matrix(x, 2)
    net = nn.Network([2, 3, 1], rng=0)
    W = hopfield.hebbian_weights(hopfield.random_patterns(2, 16, rng=0))
    s0 = np.ones(16)
    machine = rbm.BinaryRBM(4, 3, rng=0)
    H = vmc.Hamiltonian(2, 2)
    wf = vmc.Gaussian(1.0)
    grid = speckle.grid_for("speckle")
    V = speckle.speckle_potential(2, rng=0)
    small_cnn = cnn.CNN(256, channels=2, pools=[2], kernel=3, rng=0)
    kernel = pathint.pde_kernel(0.8, 0.2, 0.0)
    psi0 = np.exp(-np.linspace(-3, 3, 16) ** 2)
    f = neural_ode.ODEFunc(2, 4, rng=0)
    deriv_net = dfnn.DFNN([1, 4, 1], rng=0)
    h_state = mpnn.hydrogen_ground_state()
    return [
        # linreg, bayes
        ("degree", lambda: linreg.design_matrix(x, -1)),
        ("degree", lambda: linreg.design_matrix(x, 2.5)),
        ("x", lambda: linreg.design_matrix([1.0, NAN], 2)),
        ("x", lambda: linreg.design_matrix("abc", 2)),
        ("method", lambda: linreg.ols_fit(X, y, method="lu")),
        ("y", lambda: linreg.ols_fit(X, y[:5])),
        ("lam", lambda: linreg.ridge_fit(X, y, -1.0)),
        ("lam", lambda: linreg.ridge_fit(X, y, NAN)),
        ("y", lambda: linreg.mse(y, y[:3])),
        ("n", lambda: linreg.make_linear_data(0)),
        ("noise_sd", lambda: linreg.make_linear_data(10, noise_sd=-1)),
        ("test_fraction", lambda: linreg.train_test_split(x, y, test_fraction=1.5)),
        ("test_fraction", lambda: linreg.train_test_split(x, y, test_fraction=0.01)),
        ("degree", lambda: linreg.polynomial_fit(x, y, -2)),
        ("lam", lambda: linreg.polynomial_fit(x, y, 2, lam=-1)),
        ("noise_sd", lambda: bayes.posterior(X, y, noise_sd=0, prior_sd=1)),
        ("prior_sd", lambda: bayes.posterior(X, y, noise_sd=1, prior_sd=-1)),
        ("prior_mean", lambda: bayes.posterior(X, y, noise_sd=1, prior_sd=1, prior_mean=[0, 0])),
        ("prior", lambda: bayes.discrete_posterior([0.5, -0.5], [1, 1])),
        ("likelihood", lambda: bayes.discrete_posterior([0.5, 0.5], [1, 1, 1])),
        ("n_grid", lambda: bayes.grid_posterior_moments(X[:, :2], y, noise_sd=1, prior_sd=1, n_grid=1)),
        ("level", lambda: bayes.coverage(5, 10, level=1.5)),
        # perceptron
        ("eta", lambda: perceptron.gradient_descent(x, y, w0=0, b0=0, eta=-0.1, steps=10)),
        ("steps", lambda: perceptron.gradient_descent(x, y, w0=0, b0=0, eta=0.1, steps=-1)),
        ("w0", lambda: perceptron.gradient_descent(x, y, w0=NAN, b0=0, eta=0.1, steps=10)),
        ("labels", lambda: perceptron.rosenblatt(np.ones((4, 2)), [1, 0, 2, 1])),
        ("max_epochs", lambda: perceptron.rosenblatt(np.ones((2, 2)), [1, -1], max_epochs=0)),
        ("margin", lambda: perceptron.separable_data(10, margin=5.0)),
        ("n", lambda: perceptron.separable_data(-3)),
        # nn
        ("sizes", lambda: nn.Network([2], rng=0)),
        ("sizes", lambda: nn.Network([2, 0, 1], rng=0)),
        ("activation", lambda: nn.Network([2, 3, 1], activation="relux")),
        ("loss", lambda: nn.Network([2, 3, 1], loss="hinge")),
        ("l2", lambda: nn.Network([2, 3, 1], l2=-1)),
        ("X", lambda: net.forward(np.ones((4, 3)))),
        ("X", lambda: net.forward(np.full((4, 2), NAN))),
        ("lr", lambda: nn.Adam(lr=0)),
        ("lr", lambda: nn.SGD(lr=-1)),
        ("momentum", lambda: nn.SGD(momentum=1.5)),
        ("epochs", lambda: nn.train(net, np.ones((4, 2)), np.ones((4, 1)), epochs=0)),
        ("batch_size", lambda: nn.train(net, np.ones((4, 2)), np.ones((4, 1)), epochs=1, batch_size=0)),
        ("labels_val", lambda: nn.train(net, np.ones((4, 2)), np.ones((4, 1)), epochs=1, X_val=np.ones((2, 2)))),
        ("Y", lambda: nn.train(net, np.ones((4, 2)), np.ones((3, 1)), epochs=1)),
        ("n_classes", lambda: nn.one_hot([0, 1, 2], 2)),
        ("labels", lambda: nn.one_hot([0, -1], 2)),
        ("width", lambda: nn.fit_one_hidden_layer(x, y, 0)),
        # hopfield
        ("s", lambda: hopfield.check_spins([1, 0, -1])),
        ("patterns", lambda: hopfield.hebbian_weights(np.zeros((2, 5)))),
        ("P", lambda: hopfield.random_patterns(0, 10)),
        ("fraction_flipped", lambda: hopfield.flip(s0, 1.5)),
        ("s0", lambda: hopfield.run_async(W, np.ones(15))),
        ("max_sweeps", lambda: hopfield.run_async(W, s0, max_sweeps=0)),
        ("steps", lambda: hopfield.run_sync(W, s0, steps=-1)),
        ("y", lambda: hopfield.crossing([1, 2, 3], [1, 2], 0.5)),
        ("patterns", lambda: hopfield.overlap(s0, np.ones((2, 15)))),
        ("alphas", lambda: hopfield.capacity_curve(16, [-0.1])),
        ("threshold", lambda: hopfield.binarize_digits(np.ones((2, 64)), NAN)),
        # rbm
        ("n_hidden", lambda: rbm.BinaryRBM(4, 0)),
        ("weight_scale", lambda: rbm.BinaryRBM(4, 3, weight_scale=-1)),
        ("v", lambda: rbm.check_binary([0, 1, 2])),
        ("n", lambda: rbm.bars_and_stripes(22)),
        ("n", lambda: rbm.all_states(40)),
        ("method", lambda: rbm.train(machine, rbm.bars_and_stripes(2), method="pcdx")),
        ("record_every", lambda: rbm.train(machine, rbm.bars_and_stripes(2), record_every=-5)),
        ("epochs", lambda: rbm.train(machine, rbm.bars_and_stripes(2), epochs=0)),
        ("data", lambda: rbm.train(machine, np.ones((3, 5)), epochs=1)),
        ("n_samples", lambda: rbm.sample_model(machine, 0)),
        # vmc, stats
        ("n_particles", lambda: vmc.Hamiltonian(0, 2)),
        ("dim", lambda: vmc.Hamiltonian(2, 4)),
        ("omega", lambda: vmc.Hamiltonian(2, 2, omega=-1)),
        ("alpha", lambda: vmc.Gaussian(-1.0)),
        ("dim", lambda: vmc.Slater(2, 0)),
        ("dim", lambda: vmc.closed_shell_numbers(0)),
        ("n_hidden", lambda: vmc.RBM(2, 2, 0)),
        ("step", lambda: vmc.Metropolis(step=0)),
        ("dt", lambda: vmc.Langevin(dt=-0.1)),
        ("n_walkers", lambda: vmc.sample(wf, H, vmc.Metropolis(), n_walkers=0, n_steps=10)),
        ("n_steps", lambda: vmc.sample(wf, H, vmc.Metropolis(), n_walkers=10, n_steps=0)),
        ("X0", lambda: vmc.sample(wf, H, vmc.Metropolis(), n_walkers=2, n_steps=4, X0=np.full((2, 2, 2), NAN))),
        ("X0", lambda: vmc.sample(wf, H, vmc.Metropolis(), n_walkers=2, n_steps=4, X0=np.zeros((2, 3, 2)))),
        ("X", lambda: vmc.local_energy(wf, H, np.zeros((5, 3, 2)))),
        ("ansatz", lambda: vmc.build_wavefunction("rbmx", 2, 2)),
        ("n_iterations", lambda: vmc.optimise(wf, H, vmc.Metropolis(), nn.Adam(), n_iterations=-1, n_walkers=4,
                                              n_steps=4)),
        ("n_walkers", lambda: vmc.optimise(wf, H, vmc.Metropolis(), nn.Adam(), n_iterations=1, n_walkers=0,
                                           n_steps=4)),
        ("samples", lambda: stats.blocking([1.0, 2.0])),
        ("samples", lambda: stats.blocking([1.0, NAN, 2.0, 3.0])),
        ("samples", lambda: stats.chain_mean_error(np.ones((10, 1)))),
        ("max_lag", lambda: stats.autocorrelation(np.ones(10), max_lag=-1)),
        ("r_max", lambda: stats.radial_density(np.ones((5, 2, 2)), r_max=0)),
        ("positions", lambda: stats.radial_density(np.ones((5, 2, 4)), r_max=1)),
        ("n_evals", lambda: stats.quadrature_versus_monte_carlo([1], 1)),
        # data
        ("test_fraction", lambda: data.load_digits_split(test_fraction=0)),
        ("IDX file", lambda: data.read_idx("/nonexistent/file-idx3-ubyte")),
        # dfnn, variational
        ("sizes", lambda: dfnn.DFNN([1])),
        ("activation", lambda: dfnn.DFNN([1, 3, 1], activation="sin")),
        ("X", lambda: deriv_net.derivatives(np.ones((4, 2)))),
        ("mode", lambda: dfnn.autograd_reference(deriv_net, np.ones((3, 1)), mode="half")),
        ("order", lambda: dfnn.activation_derivatives("tanh", np.ones(3), order=9)),
        ("domain", lambda: variational.check_domain((1.0, -1.0))),
        ("domain", lambda: variational.check_domain((0.0, NAN))),
        ("n_points", lambda: variational.grid((0.0, 1.0), 1)),
        ("name", lambda: variational.benchmark("harmonicx")),
        ("penalty", lambda: variational.ground_state(variational.harmonic, (-5.0, 5.0), penalty=-1, rng=0)),
        ("hidden", lambda: variational.ground_state(variational.harmonic, (-5.0, 5.0), hidden=(), rng=0)),
        ("omegas", lambda: variational.Trap(omegas=(1.0, -1.0))),
        # mpnn
        ("method", lambda: mpnn.learn_potential(h_state, "mpnnx", r0=[1, 0, 0], v_r0=-1)),
        ("lam", lambda: mpnn.learn_potential(h_state, r0=[1, 0, 0], v_r0=-1, lam=-1)),
        ("box", lambda: mpnn.learn_potential(h_state, r0=[1, 0, 0], v_r0=-1, box=0)),
        ("r0", lambda: mpnn.learn_potential(h_state, r0=[1, 0], v_r0=-1)),
        ("n_samples", lambda: mpnn.learn_potential(h_state, r0=[1, 0, 0], v_r0=-1, n_samples=0)),
        ("v_r0", lambda: mpnn.learn_potential(h_state, r0=[1, 0, 0], v_r0=NAN)),
        ("n", lambda: mpnn.harmonic_state(-1)),
        ("log_psi", lambda: mpnn.learn_potential(mpnn.Eigenstate(1, lambda r: np.zeros((len(r), 2)),
                                                                 lambda r: np.zeros(len(r))), r0=[0], v_r0=0)),
        ("local_kinetic", lambda: mpnn.learn_potential(mpnn.Eigenstate(1, lambda r: np.zeros(len(r)),
                                                                       lambda r: np.full(len(r), NAN)), r0=[0], v_r0=0)),
        ("n_samples", lambda: mpnn.sample_density(h_state, 0)),
        # speckle, cnn, dft
        ("kind", lambda: speckle.grid_for("speckles")),
        ("v0", lambda: speckle.speckle_potential(2, v0=-0.5)),
        ("n", lambda: speckle.speckle_potential(0)),
        ("n_new", lambda: speckle.fourier_resample(V, 0)),
        ("potentials", lambda: speckle.exact_ground_states(np.ones((2, 100)), grid)),
        ("potentials", lambda: speckle.exact_ground_states(np.full((1, 256), NAN), grid)),
        ("densities", lambda: speckle.von_weizsaecker(-np.ones((1, 256)), grid)),
        ("kind", lambda: speckle.dataset(2, "wells", progress=False, cache=False)),
        ("channels", lambda: cnn.CNN(256, channels=0, pools=[2])),
        ("kernel", lambda: cnn.CNN(8, channels=2, pools=[2], kernel=13)),
        ("activation", lambda: cnn.CNN(256, channels=2, pools=[2], activation="elu")),
        ("padding", lambda: cnn.CNN(256, channels=2, pools=[2], padding="reflect")),
        ("pools", lambda: cnn.CNN(256, channels=2, pools=[0])),
        ("X", lambda: small_cnn.predict(np.ones((2, 100)))),
        ("X", lambda: small_cnn.input_gradient(np.full((2, 256), NAN))),
        ("architecture", lambda: dft.train_functional(speckle.Dataset("speckle", grid, V, V, V[:, 0], V[:, 0]),
                                                      "cnn-tanh", epochs=1)),
        ("epochs", lambda: dft.train_functional(speckle.Dataset("speckle", grid, V, V, V[:, 0], V[:, 0]),
                                                "cnn-relu", epochs=0)),
        ("steps", lambda: dft.descend(dft.ExactFunctional(grid), V, steps=0)),
        ("eta", lambda: dft.descend(dft.ExactFunctional(grid), V, steps=1, eta=-1)),
        ("chi0", lambda: dft.descend(dft.ExactFunctional(grid), V, steps=1, chi0=np.ones(256) * 5)),
        ("potentials", lambda: dft.descend(dft.ExactFunctional(grid), np.ones((2, 100)), steps=1)),
        # pathint, resnet_pde, neural_ode
        ("boundary", lambda: pathint.residual_block(kernel, psi0, "periodc")),
        ("kernel", lambda: pathint.residual_block(np.ones(2), psi0)),
        ("psi", lambda: pathint.residual_block(kernel, np.full(16, NAN))),
        ("n_layers", lambda: pathint.propagate(kernel, psi0, -1)),
        ("n_paths", lambda: pathint.sample_paths(kernel, psi0, 3, 8, 0)),
        ("x", lambda: pathint.sample_paths(kernel, psi0, 3, 99, 10)),
        ("n_slices", lambda: pathint.pimc_harmonic(10.0, 1)),
        ("inverse_temperature", lambda: pathint.pimc_harmonic(-1.0, 16)),
        ("errors", lambda: pathint.trotter_extrapolation(10.0, [16, 24, 32], [0.5, 0.5, 0.5], [0.0, 0.1, 0.1])),
        ("dt", lambda: pathint.pde_kernel(0.8, 0.2, 0.0, dt=0)),
        ("kind", lambda: resnet_pde.pde_stencils("wave")),
        ("kind", lambda: resnet_pde.PDENet("cnn")),
        ("depth", lambda: resnet_pde.PDENet(depth=-1)),
        ("side", lambda: resnet_pde.shift_basis(1)),
        ("epochs", lambda: resnet_pde.train(resnet_pde.PDENet(depth=1, side=4, hidden=2, rng=0), np.ones((2, 16)),
                                            [0, 1], epochs=0)),
        ("hidden", lambda: neural_ode.ODEFunc(2, 0)),
        ("init_scale", lambda: neural_ode.ODEFunc(2, 4, init_scale=-1)),
        ("n_steps", lambda: neural_ode.integrate(f, np.ones((3, 2)), n_steps=0)),
        ("t1", lambda: neural_ode.integrate(f, np.ones((3, 2)), 0.0, NAN)),
        ("psi0", lambda: neural_ode.integrate(f, np.ones((3, 5)))),
        ("t1", lambda: neural_ode.adjoint_gradients(f, np.ones((3, 2)), np.ones((3, 2)), 0.5, 0.5)),
        ("dL_dpsi1", lambda: neural_ode.adjoint_gradients(f, np.ones((3, 2)), np.ones((3, 3)))),
        ("n_blocks", lambda: neural_ode.euler_resnet(f, np.ones((3, 2)), 0)),
        ("n", lambda: neural_ode.rings(0)),
        ("labels", lambda: neural_ode.RingClassifier(rng=0).fit(np.ones((4, 2)), [0, 2, 0, 2], iterations=1)),
        ("augment", lambda: neural_ode.RingClassifier(augment=-1)),
        # randomness
        ("rng", lambda: make_rng(True)),
        ("rng", lambda: make_rng("7")),
        ("rng", lambda: make_rng(-1)),
    ]


PROBES = _probes()


def outcome(name, call):
    """'clear', or what went wrong: 'returned', 'hang', 'unclear: <message>', '<ErrorType>: <message>'."""
    try:
        with time_limit(SECONDS):
            call()
    except TimeoutError:
        return "hang"
    except ValueError as error:
        return "clear" if name.lower() in str(error).lower() else f"unclear: {str(error)[:100]}"
    except Exception as error:   # noqa: BLE001 - any other error is what the probe is looking for
        return f"{type(error).__name__}: {str(error)[:100]}"
    return "returned"


@pytest.mark.parametrize("index", range(len(PROBES)))
def test_bad_input_is_refused_clearly(index):
    name, call = PROBES[index]
    assert outcome(name, call) == "clear"


if __name__ == "__main__":
    import inspect
    import warnings

    warnings.simplefilter("ignore")
    results = [(name, call, outcome(name, call)) for name, call in PROBES]
    clear = sum(r == "clear" for *_, r in results)
    print(f"{clear} of {len(results)} bad calls refused with a ValueError naming the argument")
    for name, call, r in results:
        if r != "clear":
            print(f"  [{name}] {inspect.getsource(call).strip()[:110]}\n      -> {r}")
