import numpy as np
import pytest

from mlphys import hopfield


@pytest.mark.parametrize("seed", range(4))
def test_energy_never_increases_under_asynchronous_updates(seed):
    rng = np.random.default_rng(seed)
    xi = hopfield.random_patterns(30, 100, rng=rng)  # high load: a rough landscape
    W = hopfield.hebbian_weights(xi)
    fields = rng.normal(0, 0.1, 100) if seed % 2 else None
    rec = hopfield.run_async(W, hopfield.random_patterns(3, 100, rng=rng), rng=rng, fields=fields, record_energy=True)
    assert np.all(np.diff(rec.energies, axis=0) <= 1e-12)
    assert rec.converged.all()
    # a converged state is a fixed point: every spin is aligned with its local field
    h = rec.states @ W + (0 if fields is None else fields)
    assert np.all(rec.states * h >= -1e-12)


def test_hebbian_weights_are_symmetric_with_zero_diagonal(rng):
    W = hopfield.hebbian_weights(hopfield.random_patterns(5, 40, rng=rng))
    np.testing.assert_allclose(W, W.T)
    assert np.all(np.diag(W) == 0)


def test_energy_matches_explicit_double_sum(rng):
    xi = hopfield.random_patterns(3, 12, rng=rng)
    W = hopfield.hebbian_weights(xi)
    s = hopfield.random_patterns(1, 12, rng=rng)[0]
    explicit = -0.5 * sum(W[i, j] * s[i] * s[j] for i in range(12) for j in range(12) if i != j)
    assert hopfield.energy(W, s) == pytest.approx(explicit)


def test_stored_patterns_are_fixed_points_at_small_load(rng):
    xi = hopfield.random_patterns(5, 300, rng=rng)
    W = hopfield.hebbian_weights(xi)
    rec = hopfield.run_async(W, xi, rng=rng)
    np.testing.assert_array_equal(rec.states, xi)
    assert rec.sweeps == 1


def test_recall_from_corrupted_pattern(rng):
    xi = hopfield.random_patterns(10, 200, rng=rng)
    W = hopfield.hebbian_weights(xi)
    start = hopfield.flip(xi[0], 0.2, rng=rng)
    assert hopfield.overlap(start, xi[0]) == pytest.approx(0.6)
    assert hopfield.overlap(hopfield.run_async(W, start, rng=rng).states, xi[0]) == 1.0


def test_capacity_curve_collapses_at_high_load():
    _, m, _ = hopfield.capacity_curve(200, [0.05, 0.3], n_seeds=2, n_probe=10, rng=0)
    assert m[0] > 0.99 and m[1] < 0.8


def test_mixture_state_overlaps_are_one_half_on_average():
    xi = hopfield.random_patterns(3, 20000, rng=0)
    np.testing.assert_allclose(hopfield.overlap(hopfield.mixture_state(xi), xi), 0.5, atol=0.02)


def test_synchronous_dynamics_can_two_cycle():
    W = np.array([[0.0, 1.0], [1.0, 0.0]])
    states = hopfield.run_sync(W, np.array([1.0, -1.0]), steps=4)
    np.testing.assert_array_equal(states[1], [-1.0, 1.0])
    np.testing.assert_array_equal(states[2], [1.0, -1.0])


def test_crossing_interpolates():
    assert hopfield.crossing([0.0, 1.0, 2.0], [1.0, 0.8, 0.2], 0.5) == pytest.approx(1.5)
    assert np.isnan(hopfield.crossing([0.0, 1.0], [1.0, 0.9], 0.5))


@pytest.mark.parametrize("call, match", [
    (lambda: hopfield.hebbian_weights([[1, 0, -1]]), "entries in -1, 1"),
    (lambda: hopfield.energy(np.zeros((3, 3)), [1, -1]), "one spin per row of W"),
    (lambda: hopfield.energy(np.zeros((3, 2)), [1, -1, 1]), "W has 2 entries along axis 1"),
    (lambda: hopfield.run_async(np.zeros((2, 2)), [0.5, 1]), "entries in -1, 1"),
    (lambda: hopfield.flip([1, -1], 1.5), "fraction_flipped"),
    (lambda: hopfield.mixture_state(hopfield.random_patterns(2, 10, rng=0)), "must have 3"),
    (lambda: hopfield.capacity_curve(50, [0.0, 0.1]), "alphas"),
])
def test_bad_inputs_raise_valueerror(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_a_field_that_is_zero_up_to_round_off_is_a_tie():
    """0.1 + 0.2 - 0.3 is 5.6e-17 in floating point, not 0: the spin must keep its value (a tie), whatever order
    the CPU adds the terms in - otherwise the dynamics depends on the machine."""
    W = np.zeros((4, 4))
    W[0, 1:] = W[1:, 0] = [0.1, 0.2, -0.3]
    s0 = np.array([-1.0, 1.0, 1.0, 1.0])
    assert 0.1 + 0.2 - 0.3 != 0
    assert hopfield.run_sync(W, s0, steps=1)[1][0] == -1.0
    assert hopfield.run_async(W, s0, rng=0, max_sweeps=1).states[0] == -1.0


def test_fields_need_one_entry_per_spin():
    """Issue #30: run_sync(fields=[0.5]) broadcast one field over every spin; fields now need one entry per spin
    (in every function that takes them), and the right length still gives the dynamics with fields."""
    W = np.array([[0.0, 1.0], [1.0, 0.0]])
    s0 = np.array([1.0, -1.0])
    for call in (lambda f: hopfield.run_sync(W, s0, steps=2, fields=f),
                 lambda f: hopfield.run_async(W, s0, rng=0, fields=f),
                 lambda f: hopfield.energy(W, s0, f)):
        with pytest.raises(ValueError, match="fields"):
            call([0.5])
        with pytest.raises(ValueError, match="fields"):
            call([0.5, 0.5, 0.5])
    # a strong field on each spin wins over the coupling: both spins follow their own field
    np.testing.assert_array_equal(hopfield.run_sync(W, s0, steps=1, fields=[-2.0, 2.0])[1], [-1.0, 1.0])
    assert hopfield.energy(W, s0, [0.5, 0.25]) == pytest.approx(1.0 - 0.25)
