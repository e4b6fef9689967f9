"""Bad input a student might try: each call must fail fast with a ValueError naming the argument, or warn.

Items of issue #15, section 1 ("never hang, never lie"); the hangs run under a time limit.
"""
import gzip
import signal
import warnings
from contextlib import contextmanager

import numpy as np
import pytest

from mlphys import bayes, config, data, hopfield, linreg, neural_ode, nn, pathint, perceptron, rbm, resnet_pde, stats
from mlphys import validate, vmc


@contextmanager
def time_limit(seconds):
    def handler(signum, frame):
        raise TimeoutError(f"call did not return within {seconds} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_calls_that_used_to_hang_now_fail_fast():
    with time_limit(10), pytest.raises(ValueError, match="margin"):
        perceptron.separable_data(50, margin=3.0, rng=0)
    with time_limit(10), pytest.raises(ValueError, match="dim"):
        vmc.Slater(2, 0)
    with time_limit(10), pytest.raises(ValueError, match="dim"):
        vmc.closed_shell_numbers(0)
    with time_limit(10), pytest.raises(ValueError, match="n must be an integer >= 2 and <= 12"):
        rbm.bars_and_stripes(22)
    with time_limit(10):   # a large but possible margin still works, quickly
        X, labels, _ = perceptron.separable_data(200, margin=1.0, rng=0)
    assert X.shape == (200, 2) and set(labels) == {-1.0, 1.0}


def test_silent_wrong_results_are_refused():
    net = nn.Network([2, 3, 1])
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="labels_val"):
        nn.train(net, X, np.zeros((4, 1)), epochs=1, X_val=X)
    with pytest.raises(ValueError, match="boundary"):
        pathint.residual_block(np.array([0.1, 0.0, 0.1]), np.ones(5), boundary="periodc")
    with pytest.raises(ValueError, match="spins"):
        hopfield.overlap(np.ones(5), np.ones((2, 6)))
    with pytest.raises(ValueError, match="same length"):
        hopfield.crossing([1, 2, 3], [1.0, 0.5], 0.7)
    f = neural_ode.ODEFunc(2, 4, rng=0)
    with pytest.raises(ValueError, match="t0 and t1"):
        neural_ode.integrate(f, np.zeros((3, 2)), 0.0, float("nan"))
    with pytest.raises(ValueError, match="t0 and t1"):
        neural_ode.adjoint_gradients(f, np.zeros((3, 2)), np.zeros((3, 2)), 1.0, 1.0)
    model = neural_ode.RingClassifier(rng=0)
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        model.fit(np.zeros((4, 2)), np.array([0, 2, 0, 2]), iterations=1)
    small = rbm.BinaryRBM(4, 2, rng=0)
    with pytest.raises(ValueError, match="record_every"):
        rbm.train(small, rbm.bars_and_stripes(2), epochs=1, record_every=-5)
    with pytest.raises(ValueError, match="r_max"):
        stats.radial_density(np.zeros((3, 2, 2)), r_max=0.0)
    with pytest.raises(ValueError, match="dimensions"):
        stats.radial_density(np.zeros((3, 2, 4)), r_max=1.0)
    with pytest.raises(ValueError, match="errors must be > 0"):
        pathint.trotter_extrapolation(10.0, [8, 16, 32], [0.5, 0.5, 0.5], [0.01, 0.0, 0.01])
    H, wf = vmc.Hamiltonian(1, 1), vmc.Gaussian(1.0)
    with pytest.raises(ValueError, match="X0"):
        vmc.sample(wf, H, vmc.Metropolis(1.0), n_walkers=2, n_steps=2, X0=np.full((2, 1, 1), np.nan))
    with pytest.raises(ValueError, match="lr"):
        validate.positive("0.5", "lr")
    with pytest.raises(ValueError, match="seed"):
        config.make_rng(True)


def test_divergent_training_stops_and_says_so():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 2)), rng.normal(size=(64, 1))
    net = nn.Network([2, 8, 1], activation="relu", output="identity", loss="mse", rng=0)
    with pytest.warns(RuntimeWarning, match="diverged"):
        hist = nn.train(net, X * 1e3, y * 1e3, epochs=50, optimizer=nn.SGD(lr=10.0), rng=0)
    assert hist.diverged and len(hist.loss) < 50


def test_read_idx_failures_name_the_file(tmp_path):
    good = tmp_path / "ok.idx"
    data.write_idx(good, np.arange(12, dtype=np.uint8).reshape(3, 4))
    arr = data.read_idx(good)
    arr[0, 0] = 7                                      # writable
    raw = good.read_bytes()
    truncated = tmp_path / "short.idx"
    truncated.write_bytes(raw[:-3])
    with pytest.raises(ValueError, match="short.idx"):
        data.read_idx(truncated)
    huge = tmp_path / "huge.idx"
    huge.write_bytes(bytes([0, 0, 8, 3]) + (2**31 - 1).to_bytes(4, "big") * 3 + b"\x00" * 10)
    with pytest.raises(ValueError, match="huge.idx"):
        data.read_idx(huge)
    bad_gz = tmp_path / "bad.idx.gz"
    bad_gz.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="bad.idx.gz"):
        data.read_idx(bad_gz)
    cut_gz = tmp_path / "cut.idx.gz"
    cut_gz.write_bytes(gzip.compress(raw)[:-8])
    with pytest.raises(ValueError, match="cut.idx.gz"):
        data.read_idx(cut_gz)


def test_grid_posterior_uses_little_memory_and_agrees():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, 2000)
    X = linreg.design_matrix(x, 1)
    y = 1 + 2 * x + 0.5 * rng.standard_normal(x.size)
    mean, sd = bayes.grid_posterior_moments(X, y, noise_sd=0.5, prior_sd=10.0)   # (801, 801, 2000) would be 10 GB
    post = bayes.posterior(X, y, noise_sd=0.5, prior_sd=10.0)
    np.testing.assert_allclose(mean, post.mean, rtol=1e-6)
    np.testing.assert_allclose(sd, post.sd, rtol=1e-3)


def test_pde_net_head_is_never_stale():
    rng = np.random.default_rng(0)
    X, labels = rng.uniform(0, 1, (40, 64)), rng.integers(0, 10, 40)
    model = resnet_pde.PDENet("pde", 2, rng=0)
    resnet_pde.train(model, X, labels, epochs=2, rng=0)
    direct = model.head.predict(model.hidden_states(X)[-1])
    np.testing.assert_array_equal(direct, model.predict(X))


def test_optimiser_refuses_a_second_network():
    opt = nn.Adam()
    a, b = nn.Network([2, 3, 1], rng=0), nn.Network([4, 5, 1], rng=0)
    X = np.zeros((2, 2))
    _, grads = a.backward(X, np.zeros((2, 1)))
    opt.step(a.params, grads)
    _, grads_b = b.backward(np.zeros((2, 4)), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="new optimiser"):
        opt.step(b.params, grads_b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step(a.params, grads)                      # the same network still works


def test_one_randomness_convention():
    """Issue #15, section 2: randomness enters every public function as keyword ``rng=`` (never ``seed=``), and
    ``np.random.default_rng`` is called in one place only, ``config.make_rng``. (``make_rng(seed)`` and the
    notebooks' ``setup_notebook(seed)``, which turn a seed into that generator, are the exceptions.)"""
    import importlib
    import inspect
    import pkgutil
    from pathlib import Path

    import mlphys

    offenders = []
    for info in pkgutil.walk_packages(mlphys.__path__, "mlphys."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__ \
                    or obj in (config.make_rng, config.setup_notebook, config.NotebookContext):
                continue
            callables = [obj] + [m for k, m in vars(obj).items() if not k.startswith("_") or k == "__init__"] \
                if inspect.isclass(obj) else [obj]
            for f in filter(inspect.isfunction, callables):
                params = inspect.signature(f).parameters
                if "seed" in params:
                    offenders.append(f"{info.name}.{f.__qualname__}: seed=")
                if "rng" in params and params["rng"].kind is not inspect.Parameter.KEYWORD_ONLY:
                    offenders.append(f"{info.name}.{f.__qualname__}: rng not keyword-only")
    assert not offenders, offenders
    root = Path(mlphys.__file__).parent
    calls = [str(p.relative_to(root)) for p in root.rglob("*.py") if "default_rng(" in p.read_text()]
    assert calls == ["config.py"], calls


def test_blocking_warns_on_a_series_too_short_for_its_correlation():
    n, phi = 1024, 0.999                              # correlation time ~ 2000 steps > n: error ~12x too small
    noise = np.random.default_rng(0).standard_normal(n)
    x = np.empty(n)
    x[0] = noise[0] / np.sqrt(1 - phi**2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + noise[t]
    with pytest.warns(RuntimeWarning, match="too small"):
        stats.blocking(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stats.blocking(np.random.default_rng(0).standard_normal(1024))   # independent samples: no warning


def ar1_chains(steps=1000, chains=400, phi=0.9):
    """(steps, chains) stationary AR(1) chains with coefficient phi (seed 1)."""
    g = np.random.default_rng(1)
    x = np.empty((steps, chains))
    x[0] = g.standard_normal(chains) / np.sqrt(1 - phi**2)
    for t in range(1, steps):
        x[t] = phi * x[t - 1] + g.standard_normal(chains)
    return x


def test_independent_chains_give_an_honest_error():
    """400 AR(1) chains (phi = 0.9): the chain-mean error matches theory, 1/((1 - phi) sqrt(steps x chains))."""
    steps, chains, phi = 1000, 400, 0.9
    x = ar1_chains(steps, chains, phi)
    mean, err = stats.chain_mean_error(x)
    # the estimate of an error from 400 chain means is itself uncertain by 1/sqrt(2 x 399) = 3.5%: 15% is 4 sigma
    assert err == pytest.approx(1 / ((1 - phi) * np.sqrt(steps * chains)), rel=0.15)
    with pytest.raises(ValueError, match="2 chains"):
        stats.chain_mean_error(x[:, :1])
