import numpy as np
import pytest
from scipy.special import logsumexp

from mlphys import rbm


def random_rbm(nv=4, nh=3, seed=0):
    machine = rbm.BinaryRBM(nv, nh, rng=seed, weight_scale=1.0)
    g = np.random.default_rng(seed + 100)
    machine.a, machine.b = g.normal(size=nv), g.normal(size=nh)
    return machine


def joint_table(machine):
    V, H = rbm.all_states(machine.n_visible), rbm.all_states(machine.n_hidden)
    E = machine.energy(V[:, None, :], H[None, :, :])
    p = np.exp(-E - logsumexp(-E))
    return V, H, p


def test_free_energy_and_partition_function_match_enumeration():
    machine = random_rbm()
    V, H, p = joint_table(machine)
    E = machine.energy(V[:, None, :], H[None, :, :])
    np.testing.assert_allclose(machine.free_energy(V), -logsumexp(-E, axis=1), rtol=1e-12)
    assert machine.log_partition() == pytest.approx(float(logsumexp(-E)), rel=1e-12)
    np.testing.assert_allclose(machine.visible_distribution()[1], p.sum(axis=1), rtol=1e-10)


def test_conditionals_match_enumeration():
    machine = random_rbm()
    V, H, p = joint_table(machine)
    p_h_given_v = p / p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(machine.p_h_given_v(V), p_h_given_v @ H, rtol=1e-10)
    p_v_given_h = p / p.sum(axis=0, keepdims=True)
    np.testing.assert_allclose(machine.p_v_given_h(H), p_v_given_h.T @ V, rtol=1e-10)


def test_exact_gradient_matches_finite_differences_of_log_likelihood():
    machine = random_rbm(5, 3, seed=2)
    data = rbm.all_states(5)[[1, 7, 12, 30, 30, 19]]
    dW, da, db = machine.exact_gradient(data)
    analytic = np.concatenate([dW.ravel(), da, db])
    theta0, h = machine.params(), 1e-6

    def log_likelihood(theta):
        machine.set_params(theta)
        return machine.log_likelihood(data)

    numeric = np.array([(log_likelihood(theta0 + h * e) - log_likelihood(theta0 - h * e)) / (2 * h)
                        for e in np.eye(theta0.size)])
    machine.set_params(theta0)
    np.testing.assert_allclose(analytic, numeric, atol=1e-8)


def test_gibbs_sampling_reaches_the_exact_distribution():
    machine = random_rbm(3, 2, seed=4)
    V, p = machine.visible_distribution()
    samples = rbm.sample_model(machine, 20000, burn_in=50, rng=0)
    index = samples @ (2 ** np.arange(2, -1, -1))
    freq = np.bincount(index.astype(int), minlength=8) / len(samples)
    np.testing.assert_allclose(freq, p, atol=0.015)


def test_exact_training_fits_bars_and_stripes():
    data = rbm.bars_and_stripes(3)
    assert len(data) == 14
    machine = rbm.BinaryRBM(9, 16, rng=0)
    hist = rbm.train(machine, data, method="exact", epochs=1500, lr=0.5, rng=1, record_every=1500)
    assert hist.kl[0] == pytest.approx(np.log(512 / 14), abs=0.01)
    assert hist.kl[-1] < 0.3
    assert rbm.probability_on(data, machine) > 0.9


def test_cd_k_learns_a_tiny_problem():
    data = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]] * 5)
    machine = rbm.BinaryRBM(4, 4, rng=0)
    hist = rbm.train(machine, data, method="cd", k=1, epochs=2000, lr=0.1, rng=1, record_every=2000)
    assert hist.kl[-1] < 0.3 * hist.kl[0]
    assert rbm.probability_on(data, machine) > 0.8


def cd_expectation(machine, data, k):
    """The exact mean of the CD-k gradient: k block-Gibbs steps from each data row as a Markov matrix over all v."""
    V = rbm.all_states(machine.n_visible)
    ph = machine.p_h_given_v(V)                                        # p(h_j = 1 | v) for every v
    H = rbm.all_states(machine.n_hidden)
    p_h = np.prod(np.where(H[None] == 1, ph[:, None], 1 - ph[:, None]), axis=2)          # p(h | v), (v, h)
    pv = machine.p_v_given_h(H)
    p_v = np.prod(np.where(V[None] == 1, pv[:, None], 1 - pv[:, None]), axis=2)          # p(v' | h), (h, v')
    step = np.linalg.matrix_power(p_h @ p_v, k)                        # p(v_k = v' | v_0 = v)
    index = (data @ (2 ** np.arange(machine.n_visible)[::-1])).astype(int)             # row of each datum in V
    assert np.array_equal(V[index], data)
    neg = step[index].mean(axis=0)                                     # distribution of the chains' end points
    dW = data.T @ machine.p_h_given_v(data) / len(data) - (V * neg[:, None]).T @ ph
    return dW, data.mean(axis=0) - neg @ V, machine.p_h_given_v(data).mean(axis=0) - neg @ ph


@pytest.mark.parametrize("k", [1, 5])
def test_cd_k_gradient_has_the_exact_mean_of_k_gibbs_steps(k):
    """CD-k averaged over 20,000 chains equals its exact mean (k-step Markov matrix) within 5 standard errors.

    The tiny RBM mixes slowly enough that CD-1 and CD-5 have clearly different means (so running one Gibbs step
    whatever k is fails), and CD-k tends to the exact log-likelihood gradient as k grows.
    """
    machine = random_rbm(3, 2, seed=3)
    machine.W *= 2
    data = np.repeat(np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]), 7000, axis=0)
    exact = [np.concatenate([g.ravel() for g in cd_expectation(machine, data, j)]) for j in (1, 5, 200)]
    ll_gradient = np.concatenate([g.ravel() for g in machine.exact_gradient(data)])
    np.testing.assert_allclose(exact[2], ll_gradient, atol=1e-10)          # k -> infinity: the exact gradient
    dW, da, db, neg = machine.cd_gradient(data, k=k, rng=np.random.default_rng(k))
    ours = np.concatenate([dW.ravel(), da, db])
    # standard error of the negative phase: the per-chain terms v h^T, v and p(h|v) of the end points
    ph = machine.p_h_given_v(neg)
    terms = np.hstack([(neg[:, :, None] * ph[:, None, :]).reshape(len(neg), -1), neg, ph])
    se = terms.std(axis=0) / np.sqrt(len(neg))
    expected = exact[0] if k == 1 else exact[1]
    assert np.all(np.abs(ours - expected) < 5 * se + 1e-12)
    assert np.max(np.abs(exact[0] - exact[1]) / (se + 1e-12)) > 20      # CD-1 and CD-5 are distinguishable


def test_gaussian_binary_marginal_matches_sum_over_hidden_states():
    g = np.random.default_rng(3)
    a, b, W, sigma = g.normal(size=3), g.normal(size=4), g.normal(size=(3, 4)), g.uniform(0.5, 2, 3)
    x = g.normal(size=(6, 3))
    H = rbm.all_states(4)
    brute = logsumexp(-rbm.gaussian_binary_energy(x[:, None, :], H[None], a, b, W, sigma), axis=1)
    np.testing.assert_allclose(rbm.gaussian_binary_log_marginal(x, a, b, W, sigma), brute, rtol=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: rbm.BinaryRBM(3, 2).free_energy([1.0, 0.5, 0.0]), "entries in 0, 1"),
    (lambda: rbm.BinaryRBM(3, 2).free_energy([1.0, 0.0]), "n_visible"),
    (lambda: rbm.BinaryRBM(3, 2).p_v_given_h([1.0, 0.0, 1.0]), "n_hidden"),
    (lambda: rbm.BinaryRBM(0, 2), "n_visible"),
    (lambda: rbm.all_states(30), "too large"),
    (lambda: rbm.train(rbm.BinaryRBM(2, 2), [[0, 1]], method="magic"), "method"),
    (lambda: rbm.train(rbm.BinaryRBM(2, 2), [[0, 1]], lr=0), "lr"),
])
def test_bad_inputs_raise_valueerror(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _end_point_mean(machine, start, k):
    """Exact mean of the visible states after k block-Gibbs steps from each row of ``start`` (k-step Markov matrix)."""
    V, H = rbm.all_states(machine.n_visible), rbm.all_states(machine.n_hidden)
    ph, pv = machine.p_h_given_v(V), machine.p_v_given_h(H)
    p_h = np.prod(np.where(H[None] == 1, ph[:, None], 1 - ph[:, None]), axis=2)          # p(h | v)
    p_v = np.prod(np.where(V[None] == 1, pv[:, None], 1 - pv[:, None]), axis=2)          # p(v' | h)
    index = (start @ (2 ** np.arange(machine.n_visible)[::-1])).astype(int)
    return np.linalg.matrix_power(p_h @ p_v, k)[index].mean(axis=0) @ V


def test_pcd_negative_phase_runs_from_the_persistent_chains_with_k_1_by_default():
    """With ``chains`` the negative phase is one (default k = 1) block-Gibbs step from the chains, not from the data:
    the chains' mean end point against its exact value (Markov matrix) within 5 standard errors; the positive phase
    still comes from the data (da = <v>_data - <v>_chains). CD-1 and CD-2 differ by > 20 standard errors here."""
    machine = random_rbm(3, 2, seed=3)
    machine.W *= 2
    data = np.repeat([[1.0, 1.0, 0.0]], 20000, axis=0)
    chains = np.repeat([[0.0, 0.0, 1.0]], 20000, axis=0)
    dW, da, db, neg = machine.cd_gradient(data, chains=chains, rng=np.random.default_rng(0))
    se = neg.std(axis=0) / np.sqrt(len(neg))
    exact1, exact2 = _end_point_mean(machine, chains[:1], 1), _end_point_mean(machine, chains[:1], 2)
    assert np.all(np.abs(neg.mean(axis=0) - exact1) < 5 * se)
    assert np.max(np.abs(exact1 - exact2) / se) > 20
    np.testing.assert_allclose(da, data.mean(axis=0) - neg.mean(axis=0), rtol=1e-15)


def test_exact_training_step_is_gradient_ascent_on_the_log_likelihood():
    """One epoch of full-batch exact training is theta + lr * grad log L (default lr 0.1; the gradient by central
    differences of the enumerated log-likelihood); a given optimiser replaces plain SGD (nn.SGD(0.5): 5x the step)."""
    data = rbm.all_states(4)[[1, 6, 6, 11, 15]]
    for optimizer, lr in ((None, 0.1), (rbm.nn.SGD(0.5), 0.5)):
        machine = random_rbm(4, 2, seed=5)
        theta0 = machine.params()

        def log_likelihood(theta, machine=machine):
            machine.set_params(theta)
            return machine.log_likelihood(data)

        h = 1e-6
        grad = np.array([(log_likelihood(theta0 + h * e) - log_likelihood(theta0 - h * e)) / (2 * h)
                         for e in np.eye(theta0.size)])
        machine.set_params(theta0)
        rbm.train(machine, data, method="exact", epochs=1, rng=0, optimizer=optimizer)
        np.testing.assert_allclose(machine.params(), theta0 + lr * grad, rtol=0, atol=1e-8)


def test_training_records_the_exact_kl_every_record_every_epochs():
    """record_every=2 over 5 epochs: KL at epochs 0, 2, 4; at epoch 0 it is KL(data || untrained model) from the
    enumerated joint table, and KL is non-negative throughout. By default nothing is recorded (the exact KL enumerates
    all visible states, which only small models can afford)."""
    data = rbm.all_states(3)[[0, 3, 3, 5]]
    machine = random_rbm(3, 2, seed=6)
    V, _, p = joint_table(machine)
    p_model = p.sum(axis=1)
    p_data = np.array([np.mean(np.all(data == v, axis=1)) for v in V])
    seen = p_data > 0
    kl0 = np.sum(p_data[seen] * np.log(p_data[seen] / p_model[seen]))
    hist = rbm.train(machine, data, method="exact", epochs=5, lr=0.05, rng=0, record_every=2)
    assert hist.epochs == [0, 2, 4] and len(hist.kl) == 3
    assert hist.kl[0] == pytest.approx(kl0, rel=1e-12)
    assert min(hist.kl) >= 0 and hist.kl[-1] < hist.kl[0]
    assert rbm.train(machine, data, method="exact", epochs=2, rng=0).kl == []     # nothing recorded by default


def test_pcd_training_carries_its_chains_from_batch_to_batch(monkeypatch):
    """Persistent CD: the chains start as uniform random 0/1 states (n_chains of them) and every call continues from
    the chains the previous call returned, with the requested k. Plain CD starts from the data (no chains), k = 1 by
    default, and is reproducible from the seed."""
    machine = random_rbm(4, 3, seed=7)
    calls, original = [], machine._cd_gradient          # the undecorated form the training loop calls

    def spy(batch, *, k, rng, chains=None):
        out = original(batch, k=k, rng=rng, chains=chains)
        calls.append((k, None if chains is None else chains.copy(), out[3].copy()))
        return out

    monkeypatch.setattr(machine, "_cd_gradient", spy)
    data = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]] * 4)
    rbm.train(machine, data, method="pcd", k=3, epochs=3, batch_size=4, n_chains=200, lr=0.05, rng=1)
    assert len(calls) == 6 and all(k == 3 for k, _, _ in calls)
    first = calls[0][1]
    assert first.shape == (200, 4) and set(np.unique(first)) == {0.0, 1.0}
    assert abs(first.mean() - 0.5) < 5 * 0.5 / np.sqrt(first.size)
    for (_, _, returned), (_, given, _) in zip(calls[:-1], calls[1:]):
        np.testing.assert_array_equal(given, returned)
    # plain CD restarts from the data every time, CD-1 unless k is given, and its sampling follows the seed
    for kw, k_expected in (({}, 1), ({"k": 3}, 3)):
        calls.clear()
        rbm.train(machine, data, method="cd", epochs=1, batch_size=4, lr=0.05, rng=1, **kw)
        assert len(calls) == 2 and all(k == k_expected and chains is None for k, chains, _ in calls)
    monkeypatch.undo()
    trained = []
    for _ in range(2):
        fresh = random_rbm(4, 3, seed=7)
        rbm.train(fresh, data, method="cd", epochs=2, batch_size=4, lr=0.05, rng=np.random.default_rng(2))
        trained.append(fresh.params())
    np.testing.assert_array_equal(*trained)


def test_probability_on_all_states_is_one_and_single_vectors_match_batches():
    """Summing p(v) over every visible state gives 1; over a subset, the enumerated p(v) of those states. A single
    visible vector (or x) gives the same free energy (log marginal) as the same row in a batch."""
    machine = random_rbm(4, 3, seed=8)
    V, _, p = joint_table(machine)
    assert rbm.probability_on(V, machine) == pytest.approx(1.0, rel=1e-12)
    assert rbm.probability_on(V[[2, 9]], machine) == pytest.approx(p.sum(axis=1)[[2, 9]].sum(), rel=1e-10)
    assert machine.free_energy(V[5]) == pytest.approx(machine.free_energy(V)[5], rel=1e-14)
    g = np.random.default_rng(9)
    a, b, W, sigma = g.normal(size=3), g.normal(size=2), g.normal(size=(3, 2)), g.uniform(0.5, 2, 3)
    x = g.normal(size=(4, 3))
    assert rbm.gaussian_binary_log_marginal(x[1], a, b, W, sigma) == pytest.approx(
        rbm.gaussian_binary_log_marginal(x, a, b, W, sigma)[1], rel=1e-14)


def test_sampling_and_initialisation_are_reproducible_from_the_seed():
    """Every random draw goes through the given generator: the same seed, the same weights, CD negative phase and
    model samples."""
    np.testing.assert_array_equal(rbm.BinaryRBM(3, 2, rng=4, weight_scale=1.0).W, rbm.BinaryRBM(3, 2, rng=4, weight_scale=1.0).W)
    machine = random_rbm(3, 2, seed=1)
    data = np.repeat([[1.0, 0.0, 1.0]], 50, axis=0)
    runs = [machine.cd_gradient(data, k=2, rng=np.random.default_rng(11))[3] for _ in range(2)]
    np.testing.assert_array_equal(*runs)
    samples = [rbm.sample_model(machine, 50, burn_in=3, rng=np.random.default_rng(12)) for _ in range(2)]
    np.testing.assert_array_equal(*samples)


def test_set_params_needs_exactly_one_entry_per_parameter():
    """Issue #30: a vector longer than W, a and b together was split silently (b got shape (14,) for 3 hidden
    units); set_params now refuses any length but n_visible * n_hidden + n_visible + n_hidden, naming theta."""
    machine = rbm.BinaryRBM(4, 3, rng=0)
    assert machine.n_params == machine.params().size == 12 + 4 + 3
    for wrong in (np.zeros(30), np.zeros(18), np.zeros((1, 19))):
        with pytest.raises(ValueError, match="theta"):
            machine.set_params(wrong)
    assert machine.b.shape == (3,)
    theta = np.arange(19.0)
    machine.set_params(theta)
    np.testing.assert_array_equal(machine.params(), theta)


def test_training_that_diverges_raises_saying_what_to_change():
    """Issue #30: a far too large step made the weights or the recorded KL infinite or NaN, and training returned
    them silently; now it raises FloatingPointError naming lr (or the optimiser's lr)."""
    data = rbm.bars_and_stripes(2)
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match="NaN or infinite.*lower lr"):
        rbm.train(rbm.BinaryRBM(4, 3, rng=0), data, epochs=20, lr=1e308, rng=0, record_every=1)
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match="lower the optimizer's lr"):
        rbm.train(rbm.BinaryRBM(4, 3, rng=0), data, epochs=20, rng=0, optimizer=rbm.nn.Adam(lr=1e308))
    hist = rbm.train(rbm.BinaryRBM(4, 3, rng=0), data, epochs=20, lr=0.5, rng=0, record_every=10)
    assert np.all(np.isfinite(hist.kl))
