import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlphys import autodiff, data, nn

OUTPUTS = [("identity", "mse"), ("sigmoid", "mse"), ("softmax", "cross_entropy"), ("sigmoid", "cross_entropy")]


def random_problem(sizes, output, rng, n=6):
    X = rng.standard_normal((n, sizes[0]))
    if output == "identity":
        Y = rng.standard_normal((n, sizes[-1]))
    elif output == "softmax":
        Y = nn.one_hot(rng.integers(0, sizes[-1], n), sizes[-1])
    else:
        Y = rng.integers(0, 2, (n, sizes[-1])).astype(float)
    return X, Y


@settings(max_examples=25, deadline=None, derandomize=True)
@given(sizes=st.lists(st.integers(1, 5), min_size=2, max_size=5), activation=st.sampled_from(nn.HIDDEN_ACTIVATIONS),
       out=st.sampled_from(OUTPUTS), l2=st.sampled_from([0.0, 0.3]), seed=st.integers(0, 2**16))
def test_backprop_equals_autograd_value_ad_and_finite_differences(sizes, activation, out, l2, seed):
    output, loss = out
    if output == "softmax" and sizes[-1] < 2:
        sizes = sizes[:-1] + [2]
    rng = np.random.default_rng(seed)
    net = nn.Network(sizes, activation=activation, output=output, loss=loss, l2=l2, rng=rng)
    X, Y = random_problem(sizes, output, rng)
    if activation == "relu":  # keep away from the kink, where finite differences are meaningless
        for p in net.params[1::2]:
            p += 0.05
    dev = autodiff.gradient_agreement(net, X, Y)
    assert dev["autograd"] < 1e-10
    assert dev["scalar reverse-mode AD (Value)"] < 1e-10
    assert dev["central finite differences"] < 1e-5


def test_loss_value_is_the_same_three_ways(rng):
    net = nn.Network([3, 4, 2], activation="tanh", output="softmax", loss="cross_entropy", l2=0.1, rng=rng)
    X, Y = random_problem([3, 4, 2], "softmax", rng)
    loss_bp, _ = net.backward(X, Y)
    loss_value, _ = autodiff.network_gradients_by_value(net, X, Y)
    manual = -np.mean(np.sum(Y * np.log(net.predict(X)), axis=1)) + 0.05 * sum(np.sum(W**2) for W in net.params[0::2])
    np.testing.assert_allclose([loss_bp, loss_value], manual, rtol=1e-12)


def test_softmax_rows_sum_to_one_and_are_shift_invariant(rng):
    z = rng.standard_normal((5, 4)) * 50
    a = nn.activation("softmax", z)
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    np.testing.assert_allclose(nn.activation("softmax", z + 100.0), a)


def test_xor_is_solved():
    from mlphys.claims import backprop

    net, X, y, hist = backprop.xor_network()
    assert np.all((net.predict(X)[:, 0] > 0.5) == y)
    assert hist.loss[-1] < hist.loss[0] / 100


def test_optimisers_minimise_a_quadratic():
    target = np.array([1.0, -2.0])
    for opt in (nn.SGD(0.1), nn.SGD(0.05, momentum=0.9), nn.Adam(0.1)):
        params = [np.zeros(2)]
        for _ in range(500):
            opt.step(params, [params[0] - target])
        np.testing.assert_allclose(params[0], target, atol=1e-3)


def test_sgd_momentum_steps_by_hand():
    """Heavy ball, lr 0.1, momentum 0.9, gradient (1, 2) twice: v1 = (-0.1, -0.2), v2 = 0.9 v1 - 0.1 g."""
    opt, params = nn.SGD(0.1, momentum=0.9), [np.array([1.0, -2.0])]
    opt.step(params, [np.array([1.0, 2.0])])
    np.testing.assert_allclose(params[0], [0.9, -2.2], rtol=1e-15)
    opt.step(params, [np.array([1.0, 2.0])])
    np.testing.assert_allclose(params[0], [0.9 - 0.19, -2.2 - 0.38], rtol=1e-15)


def test_adam_steps_by_hand():
    """Kingma and Ba's Algorithm 1 for two steps, the numbers written out (lr 0.01, betas 0.9 / 0.999, eps 1e-8).

    Step 1: the bias-corrected moments are g and g^2, so every parameter moves by lr g / (|g| + eps).
    Step 2 (g1 = (0.5, -3), g2 = (1, 1)): m = 0.09 g1 + 0.1 g2, s = 0.000999 g1^2 + 0.001 g2^2,
    corrections 1 - 0.9^2 = 0.19 and 1 - 0.999^2 = 0.001999.
    """
    opt, params = nn.Adam(0.01), [np.array([1.0, 1.0])]
    g1, g2 = np.array([0.5, -3.0]), np.array([1.0, 1.0])
    opt.step(params, [g1])
    p1 = np.array([1.0 - 0.01 * 0.5 / (0.5 + 1e-8), 1.0 + 0.01 * 3.0 / (3.0 + 1e-8)])
    np.testing.assert_allclose(params[0], p1, rtol=1e-14)
    opt.step(params, [g2])
    m, s = 0.09 * g1 + 0.1 * g2, 0.000999 * g1**2 + 0.001 * g2**2
    np.testing.assert_allclose(params[0], p1 - 0.01 * (m / 0.19) / (np.sqrt(s / 0.001999) + 1e-8), rtol=1e-13)


def test_digits_accuracy_above_095():
    Xtr, Xte, ytr, yte = data.load_digits_split(rng=0)
    net = nn.Network([64, 50, 10], activation="sigmoid", output="softmax", loss="cross_entropy", rng=1)
    nn.train(net, Xtr, nn.one_hot(ytr, 10), epochs=20, batch_size=32, optimizer=nn.Adam(1e-2), rng=1)
    assert nn.accuracy(net, Xte, yte) >= 0.95


def test_training_can_be_interrupted(monkeypatch, rng):
    net = nn.Network([2, 3, 1], rng=rng)
    calls = {"n": 0}
    original = net.backward

    def interrupting_backward(X, Y):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return original(X, Y)

    monkeypatch.setattr(net, "backward", interrupting_backward)
    hist = nn.train(net, rng.standard_normal((8, 2)), rng.standard_normal(8), epochs=10, batch_size=2, rng=rng)
    assert hist.interrupted and len(hist.loss) == 1


def test_universal_approximation_error_falls_with_width():
    x = np.linspace(0, 1, 100)
    y = np.sin(2 * np.pi * x)
    errors = [nn.fit_one_hidden_layer(x, y, w, restarts=2, maxiter=1000, rng=1)[1] for w in (1, 3)]
    assert errors[1] < 1e-3 * errors[0]


@pytest.mark.parametrize("call, match", [
    (lambda: nn.Network([3]), "at least"),
    (lambda: nn.Network([3, 0, 2]), "sizes"),
    (lambda: nn.Network([3, 2], activation="swish"), "activation"),
    (lambda: nn.Network([3, 2], output="softmax", loss="mse"), "cross_entropy"),
    (lambda: nn.Network([3, 2], loss="cross_entropy"), "probabilities"),
    (lambda: nn.Network([3, 2]).predict(np.ones((4, 2))), "X has 2 entries along axis 1 but must have 3"),
    (lambda: nn.Network([3, 2]).backward(np.ones((4, 3)), np.ones((4, 3))),
     "Y has 3 entries along axis 1 but must have 2"),
    (lambda: nn.Network([3, 2]).loss(np.full((4, 3), np.nan), np.ones((4, 2))), "NaN"),
    (lambda: nn.one_hot([0, 3, 10], 10), "labels: must lie in 0..n_classes-1"),
    (lambda: nn.one_hot([-1, 2], 10), "labels must be an integer array .*entries >= 0"),
    (lambda: nn.one_hot([0.5, 2], 10), "integer"),
    (lambda: nn.SGD(lr=0.0), "lr"),
    (lambda: nn.SGD(lr=0.1, momentum=1.0), "momentum"),
    (lambda: nn.Adam(lr=-1e-3), "lr"),
    (lambda: nn.train(nn.Network([2, 1]), np.ones((3, 2)), np.ones(3), epochs=0), "epochs"),
])
def test_bad_inputs_raise_valueerror(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_adam_state_round_trip():
    """A resumed Adam (state saved with np.savez-able arrays) takes exactly the same next step."""
    params = [np.ones((2, 3)), np.zeros(3)]
    grads = [np.full((2, 3), 0.5), np.arange(3.0)]
    a = nn.Adam(1e-2)
    a.step(params, grads)
    b = nn.Adam(1e-2)
    b.load_state(a.state(), params)
    pa, pb = [p.copy() for p in params], [p.copy() for p in params]
    a.step(pa, grads)
    b.step(pb, grads)
    for x, y in zip(pa, pb):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(ValueError, match="does not fit"):
        nn.Adam().load_state(a.state(), [np.ones(4), np.zeros(3)])


def test_layer_gradient_norms_show_vanishing_sigmoid_gradients():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(64, 10)), nn.one_hot(rng.integers(0, 3, 64), 3)
    ratios = {}
    for name in ("sigmoid", "tanh"):
        net = nn.Network([10] + [20] * 8 + [3], activation=name, output="softmax", loss="cross_entropy", rng=1)
        norms = nn.layer_gradient_norms(net, X, Y)
        _, grads = net.backward(X, Y)
        np.testing.assert_allclose(norms, [np.sqrt(np.sum(g**2)) for g in grads[0::2]], rtol=1e-12)
        ratios[name] = norms[0] / norms[-1]
    # sigmoid' <= 1/4 per layer: eight layers shrink the gradient by orders of magnitude; tanh' (0) = 1 does not
    assert ratios["sigmoid"] < 1e-3 < 0.1 < ratios["tanh"]


def test_training_loop_owns_the_periodic_saves():
    """save(done) after the last step, and after any step once save_seconds have passed; never past an interrupt."""
    saved = []
    with nn.TrainingLoop(5, done=1, save=saved.append, save_seconds=1e9) as loop:
        for _ in loop:
            pass
    assert saved == [5]
    saved.clear()
    with nn.TrainingLoop(5, save=saved.append, save_seconds=0.0) as loop:
        for step in loop:
            if step == 3:
                raise KeyboardInterrupt
    assert saved == [1, 2, 3] and loop.interrupted         # step 3 never finished: no state claims it


def test_interrupts_stop_training_in_a_notebook_and_propagate_in_a_reproduction():
    """Ctrl-C in a training loop: absorbed (interrupted = True) by default, raised inside interrupts_propagate()."""
    with nn.TrainingLoop(10) as loop:
        for step in loop:
            if step == 3:
                raise KeyboardInterrupt
    assert loop.interrupted
    with pytest.raises(KeyboardInterrupt), nn.interrupts_propagate(), nn.TrainingLoop(10) as loop:
        for step in loop:
            if step == 3:
                raise KeyboardInterrupt
    with nn.TrainingLoop(10) as loop:                     # the default is back after the block
        for step in loop:
            if step == 3:
                raise KeyboardInterrupt


def _pickled_npz(path):
    np.savez(path, param0=np.array([{"a": 1}], dtype=object), layout=np.array(nn.TRAINING_STATE_VERSION))


def _without(path, key):
    with np.load(path) as f:
        kept = {k: f[k] for k in f.files if k != key}
    np.savez(path, **kept)


def test_damaged_or_foreign_training_states_are_moved_aside(tmp_path):
    """Every kind of bad training state - garbage, a truncated file, pickled objects, a missing entry, the state
    of another problem - is named in a warning, moved aside, and the run starts afresh: the same result as a
    run without a checkpoint. A good state of the same run is resumed."""
    from mlphys import mpnn

    state = mpnn.harmonic_state(2)
    kw = dict(r0=[1.0], v_r0=0.5, hidden=(6,), n_samples=100, steps=30, rng=0, progress=False,
              checkpoint_seconds=0)
    fresh = mpnn.learn_potential(state, "mpnn", **kw)
    path = tmp_path / "state.npz"
    mpnn.learn_potential(state, "mpnn", checkpoint=path, **kw)
    good = path.read_bytes()
    damage = {"garbage": lambda: path.write_bytes(b"not a zip file"),
              "truncated": lambda: path.write_bytes(good[:len(good) // 2]),
              "pickled": lambda: _pickled_npz(path),
              "missing entry": lambda: (path.write_bytes(good), _without(path, "losses"))}
    for kind, spoil in damage.items():
        spoil()
        with pytest.warns(RuntimeWarning, match="state.npz"):
            again = mpnn.learn_potential(state, "mpnn", checkpoint=path, **kw)
        assert again.loss == fresh.loss, kind
        assert (tmp_path / "state.npz.rejected").is_file()
    path.write_bytes(good)                                 # another problem: lambda 0.5 instead of 1
    with pytest.warns(RuntimeWarning, match="another problem"):
        other = mpnn.learn_potential(state, "mpnn", checkpoint=path, **{**kw, "lam": 0.5})
    assert other.loss == mpnn.learn_potential(state, "mpnn", **{**kw, "lam": 0.5}).loss
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resumed = mpnn.learn_potential(state, "mpnn", checkpoint=path, **{**kw, "lam": 0.5, "steps": 40})
    assert resumed.loss[:30] == other.loss and len(resumed.loss) == 40


def test_softplus_and_sigmoid_closed_forms():
    """softplus(z) = log(1 + e^z) and its derivative, the logistic 1 / (1 + e^-z): log 2 and 1/2 at 0,
    z + log(1 + e^-z) for large z, 0 at z = -800 and 800 at z = 800 without overflow, log1p/exp elsewhere;
    sigmoid=False skips the derivative."""
    z = np.array([-800.0, -30.0, -1.5, 0.0, 0.7, 30.0, 800.0])
    sp, sig = nn.softplus_and_sigmoid(z)
    expected_sp = np.array([0.0, np.log1p(np.exp(-30.0)), np.log1p(np.exp(-1.5)), np.log(2.0), np.log1p(np.exp(0.7)),
                            30.0 + np.log1p(np.exp(-30.0)), 800.0])
    expected_sig = np.array([0.0, np.exp(-30.0) / (1 + np.exp(-30.0)), 1 / (1 + np.exp(1.5)), 0.5,
                             1 / (1 + np.exp(-0.7)), 1 / (1 + np.exp(-30.0)), 1.0])
    np.testing.assert_allclose(sp, expected_sp, rtol=1e-14, atol=0)
    np.testing.assert_allclose(sig, expected_sig, rtol=1e-14, atol=0)
    assert nn.softplus_and_sigmoid(z, sigmoid=False)[1] is None
    np.testing.assert_allclose(nn.softplus_and_sigmoid(z, sigmoid=False)[0], expected_sp, rtol=1e-14)


def test_sgd_default_step_and_fresh_adam_state():
    """Plain SGD's default rate is 0.1: one step moves p by -0.1 g. A fresh Adam has step count 0 and no moments;
    restoring that state gives an optimiser whose first step is Adam's first step, lr g / (|g| + eps)."""
    params = [np.array([1.0, -1.0])]
    nn.SGD().step(params, [np.array([2.0, 4.0])])
    np.testing.assert_allclose(params[0], [0.8, -1.4], rtol=1e-15)
    fresh = nn.Adam(0.01)
    assert {k: int(v) for k, v in fresh.state().items()} == {"t": 0}
    resumed = nn.Adam(0.01)
    resumed.load_state(fresh.state(), params)
    p = [np.array([1.0, 1.0])]
    resumed.step(p, [np.array([0.5, -3.0])])
    np.testing.assert_allclose(p[0], [1.0 - 0.01 * 0.5 / (0.5 + 1e-8), 1.0 + 0.01 * 3.0 / (3.0 + 1e-8)], rtol=1e-14)


def test_relu_hidden_layers_backpropagate_the_step_function():
    """ReLU' is the step function: 0 for z < 0, 1 for z > 0 (also between 0 and 1). Through two ReLU hidden layers
    (units on both sides of the kink) back-propagation agrees with central finite differences of the loss, which
    know nothing of the derivative formula; the finite-difference error is O(h^2) ~ 1e-10 away from kinks."""
    np.testing.assert_array_equal(nn.activation_derivative("relu", np.array([-2.0, -0.3, 0.4, 0.9, 3.0]), None),
                                  [0.0, 0.0, 1.0, 1.0, 1.0])
    rng = np.random.default_rng(21)
    net = nn.Network([3, 5, 4, 2], activation="relu", output="identity", loss="mse", rng=rng)
    X, Y = rng.standard_normal((7, 3)), rng.standard_normal((7, 2))
    zs, _ = net.forward(X)
    assert all((z > 0).any() and (z < 0).any() and np.min(np.abs(z)) > 1e-4 for z in zs[:-1])
    _, grads = net.backward(X, Y)
    theta0, h = net.get_flat(), 1e-6
    numeric = []
    for e in np.eye(theta0.size):
        net.set_flat(theta0 + h * e)
        up = net.loss(X, Y)
        net.set_flat(theta0 - h * e)
        numeric.append((up - net.loss(X, Y)) / (2 * h))
    net.set_flat(theta0)
    np.testing.assert_allclose(np.concatenate([g.ravel() for g in grads]), numeric, rtol=0, atol=1e-8)


def test_every_trainer_speaks_one_history():
    """One record shape: nn.History (named series, seconds, interrupted, diverged) from every trainer."""
    from mlphys import dft, mpnn, neural_ode, rbm, speckle, variational, vmc
    h = nn.History("loss")
    h.append(loss=1.0)
    h.append(loss=0.5)
    assert h.loss == [1.0, 0.5] and np.array_equal(h["loss"], [1.0, 0.5]) and len(h) == 2 and "loss" in h
    with pytest.raises(AttributeError, match="records"):
        h.energy
    X = np.random.default_rng(0).normal(size=(20, 2))
    runs = {
        "nn.train": nn.train(nn.Network([2, 3, 1], rng=0), X, X[:, :1], epochs=2, rng=0),
        "rbm.train": rbm.train(rbm.BinaryRBM(4, 2, rng=0), rbm.bars_and_stripes(2), epochs=2, rng=0, record_every=1),
        "vmc.optimise": vmc.optimise(vmc.Gaussian(1.0), vmc.Hamiltonian(1, 1), vmc.Metropolis(), nn.Adam(0.01),
                                     n_iterations=2, n_walkers=10, n_steps=2, rng=0)[0],
        "variational.ground_state": variational.ground_state(variational.harmonic, (-4.0, 4.0), hidden=(4,),
                                                             n_points=50, schedule=((3, 1e-2),), rng=0).history,
        "mpnn.learn_potential": mpnn.learn_potential(mpnn.harmonic_state(1), r0=[1.0], v_r0=0.5, hidden=(4,),
                                                     n_samples=20, steps=3, rng=0, progress=False).history,
        "dft.train_functional": dft.train_functional(speckle.dataset(20, rng=1, progress=False, cache=False),
                                                     "avg-60", epochs=1, rng=0, progress=False).history,
        "neural_ode.fit": neural_ode.RingClassifier(rng=0).fit(*neural_ode.rings(20, rng=0), iterations=2),
    }
    for name, history in runs.items():
        assert isinstance(history, nn.History), name
        assert len(history) >= 1 and history.seconds >= 0 and not history.interrupted and not history.diverged, name


@pytest.mark.filterwarnings("ignore:Output seems independent of input")   # ReLU's second derivative
def test_one_activation_table():
    """nn.activation, nn.activation_derivatives and nn.activation_derivative agree, the derivatives are autograd's,
    and every network's activations come from the one table."""
    import autograd
    import autograd.numpy as anp
    from mlphys import cnn, dfnn
    z = np.linspace(-4, 4, 17) + 0.01                     # off ReLU's kink
    for name in nn.ACTIVATIONS:
        table = nn.activation_derivatives(name, z)
        np.testing.assert_allclose(table[0], nn.activation(name, z), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(table[1], nn.activation_derivative(name, z, table[0]), rtol=1e-12, atol=1e-15)
        f = lambda x, name=name: nn.activation(name, x, anp)  # noqa: E731
        for k in range(1, 4):
            f = autograd.elementwise_grad(f)
            np.testing.assert_allclose(table[k], f(z), rtol=1e-9, atol=1e-12, err_msg=f"{name}, derivative {k}")
    assert set(dfnn.ACTIVATIONS) <= set(nn.ACTIVATIONS) and set(cnn.ACTIVATIONS) <= set(nn.ACTIVATIONS)
    assert set(nn.HIDDEN_ACTIVATIONS) <= set(nn.ACTIVATIONS) and dfnn.activation_derivatives is nn.activation_derivatives


def test_one_weight_layout_and_in_place_optimisers():
    """Dense weights are (n_out, n_in) in nn.Network and dfnn.DFNN alike; optimisers update the arrays in place, so a
    holder of a parameter (here: a second list) sees the step without copying back."""
    from mlphys import dfnn
    assert [p.shape for p in nn.Network([3, 5, 2], rng=0).params] == [(5, 3), (5,), (2, 5), (2,)]
    assert [p.shape for p in dfnn.DFNN((3, 5, 2), rng=0).params] == [(5, 3), (5,), (2, 5), (2,)]
    net = nn.Network([3, 5, 2], rng=0)
    held = list(net.params)
    before = held[0].copy()
    _, grads = net.backward(np.ones((4, 3)), np.zeros((4, 2)))
    nn.Adam(0.1).step(net.params, grads)
    assert all(a is b for a, b in zip(held, net.params)) and not np.array_equal(held[0], before)
    with pytest.raises(TypeError, match=r"params\[0\] must be a writable float array"):
        nn.SGD(0.1).step([np.ones(3, dtype=int)], [np.ones(3)])


def _three_class_net():
    """A softmax network that predicts class i for the unit vector e_i (weights 10 * identity)."""
    net = nn.Network([3, 3], output="softmax", loss="cross_entropy", rng=0)
    net.params[0][:] = 10 * np.eye(3)
    net.params[1][:] = 0.0
    return net


def test_accuracy_reads_labels_by_ndim_not_by_size():
    """Issue: with as many samples as classes, one-hot labels were compared entry by entry with the predicted
    classes (0.000 instead of 1/3). Now 1-D = integer class labels, 2-D = one-hot rows, always."""
    net, X = _three_class_net(), np.eye(3)                       # predicts classes 0, 1, 2
    truth = np.array([0, 0, 0])                                   # only the first prediction is right
    assert nn.accuracy(net, X, truth) == pytest.approx(1 / 3)
    assert nn.accuracy(net, X, nn.one_hot(truth, 3)) == pytest.approx(1 / 3)     # was 0.0
    # a single sample: its label is [0], its one-hot row [[1, 0, 0]] (was 2/3); a 1-D row is 3 labels for 1 sample
    assert nn.accuracy(net, X[:1], [0]) == 1.0
    assert nn.accuracy(net, X[:1], [[1.0, 0.0, 0.0]]) == 1.0
    with pytest.raises(ValueError, match="labels has 3 entries along axis 0 but must have 1"):
        nn.accuracy(net, X[:1], [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="labels"):
        nn.accuracy(net, X, [[0.5, 0.5, 0.5]] * 3)                # rows must be one-hot (sum to 1)
    with pytest.raises(ValueError, match="labels must be class labels 0..2"):
        nn.accuracy(net, X, [0, 1, 3])


def test_train_validation_labels_are_read_by_ndim():
    """labels_val of nn.train: one-hot rows with as many validation samples as classes give the accuracy of the
    integer labels (a learning rate of 1e-12 leaves the predictions 0, 1, 2)."""
    truth = np.array([0, 0, 0])
    runs = [nn.train(_three_class_net(), np.eye(3), nn.one_hot(np.arange(3), 3), epochs=1, optimizer=nn.SGD(1e-12),
                     rng=0, X_val=np.eye(3), labels_val=labels) for labels in (truth, nn.one_hot(truth, 3))]
    assert runs[0].val_accuracy == runs[1].val_accuracy == [pytest.approx(1 / 3)]
    with pytest.raises(ValueError, match="labels_val"):
        nn.train(_three_class_net(), np.eye(3), np.arange(3), epochs=1, X_val=np.eye(3)[:1], labels_val=[1, 0, 0])


def test_cross_entropy_targets_must_be_probabilities_or_class_labels():
    """Issue: +-1 targets on a softmax cross-entropy network trained to a negative loss (-3.08 here) and
    "succeeded". Cross-entropy targets are probabilities (softmax: rows summing to 1) or 1-D integer class labels
    in range; anything else is refused naming the argument. 1-D labels train exactly like their one-hot rows."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    labels = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    softmax = lambda: nn.Network([2, 8, 3], activation="tanh", output="softmax", loss="cross_entropy", rng=0)  # noqa
    with pytest.raises(ValueError, match=r"Y must hold probabilities in \[0, 1\].*one_hot"):
        nn.train(softmax(), X, 2 * nn.one_hot(labels, 3) - 1, epochs=30, optimizer=nn.Adam(1e-2), rng=0)
    with pytest.raises(ValueError, match="Y is 1-D, so it must hold integer class labels 0..2"):
        nn.train(softmax(), X, 2 * (labels > 0) - 1, epochs=1, rng=0)
    with pytest.raises(ValueError, match="Y: each row must sum to 1"):
        softmax().loss(X, np.full((60, 3), 0.5))
    sigmoid = nn.Network([2, 4, 1], activation="tanh", output="sigmoid", loss="cross_entropy", rng=0)
    with pytest.raises(ValueError, match=r"Y must hold probabilities.*\(y \+ 1\) / 2"):
        nn.train(sigmoid, X, 2.0 * (labels > 0) - 1, epochs=1, rng=0)
    by_label = nn.train(softmax(), X, labels, epochs=3, optimizer=nn.Adam(1e-2), rng=0)
    by_row = nn.train(softmax(), X, nn.one_hot(labels, 3), epochs=3, optimizer=nn.Adam(1e-2), rng=0)
    assert by_label.loss == by_row.loss and all(loss > 0 for loss in by_row.loss)


def test_divergent_training_warns_with_the_learning_rate_to_lower():
    """A loss beyond 1e30 (or NaN) stops nn.train with a warning naming the learning rate (History.diverged)."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 2)) * 1e3, rng.normal(size=64) * 1e3
    with pytest.warns(RuntimeWarning, match=r"diverged .*lower the learning rate \(lr=10\)"):
        hist = nn.train(nn.Network([2, 8, 1], activation="relu", rng=0), X, y, epochs=50, optimizer=nn.SGD(10.0),
                        rng=0)
    assert hist.diverged and len(hist.loss) < 50
