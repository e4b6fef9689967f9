"""Every chapter's claims can fail (issue #14): a physically wrong result makes its row say NO.

For each registered chapter we take the rows its notebook recorded (``results/class``), replace ``ours`` by a
value that would be a real mistake - an energy off by a fraction of a percent, a variational energy below the
exact one, a gradient wrong in the fourth digit, a network a few points worse than the baseline - and check that
the row fails. A tolerance looser than the mistake makes this test fail.
"""
import pytest

from mlphys import registry

#: chapter id -> (start of the quantity, wrong value of ``ours``, why it is wrong). One or more per chapter.
WRONG = {
    "regression": [
        ("OLS slope", 2.2, "10% off the generating slope 2"),
        ("coverage of 95% credible interval", 0.90, "a 90% interval sold as a 95% one"),
        ("posterior sd of slope, n = 20", 0.4273, "1% off the quadrature"),
    ],
    "perceptron": [
        ("50 points, 200 steps: w", 2.01, "a fit that has not converged to y = 2x + 1"),
        ("Rosenblatt, separable data: mistakes", 120.0, "more mistakes than Novikoff's bound allows"),
    ],
    "backprop": [
        ("gradient: max rel. deviation, back-prop vs autograd", 1e-6, "a gradient wrong in the sixth digit"),
        ("gradient: max rel. deviation, back-prop vs central", 1e-4, "a gradient wrong in the fourth digit"),
        ("digits: accuracy mlphys.nn - scikit-learn", -0.04, "four points worse than the same network in sklearn"),
    ],
    "hopfield": [
        ("Hopfield: largest energy change", 1e-9, "an update that raises the energy"),
        ("mixture state: mean energy per spin", -0.5, "the energy of a stored pattern, not of the mixture"),
        ("RBM bars-and-stripes 3x3: initial KL", 3.7, "not the uniform model's KL"),
    ],
    "vmc": [
        ("2 electrons 2D, RBM x Pade-Jastrow: E", 3.003, "0.1% above Taut's exact 3"),
        ("2 electrons 2D, RBM: E (above exact", 2.98, "below the exact energy: breaks the variational bound"),
        ("1 particle 1D, RBM: E", 0.5001, "0.02% off the exact 1/2 for an ansatz that contains it"),
    ],
    "quantum-dots": [
        ("6 electrons 2D, Slater x Pade-Jastrow: E", 20.14, "below DMC: breaks the variational bound"),
        ("6 particles 2D, no interaction, Slater: E", 10.001, "0.01% off the exact 10"),
    ],
    "derivatives": [
        ("derivatives of 1-(10x6)-1 network", 1e-7, "derivatives wrong in the seventh digit"),
    ],
    "ground-states": [
        ("x^2/2 + x^4: E", 0.8045, "0.1% above the exact quartic energy"),
        ("exp|x|: E", 2.0595, "below the exact energy"),
    ],
    "potentials": [
        ("oscillator n = 2, MPNN: E", 2.58, "3% off the exact 5/2"),
        ("Metropolis samples of hydrogen: <r>", 1.6, "the mean radius of a wrong distribution"),
        ("hydrogen 1s, MPNN: E", -0.4, "0.1 above the exact -1/2"),
        ("hydrogen 1s, MPNN: epsilon, Eq. 9", 0.25, "worse than the untrained U = 0"),
    ],
    "density-functionals": [
        ("R^2 on the test set, CNN (ReLU)", -0.01, "a network that learned nothing"),
        ("best R^2 (avg-channel CNN, N_c = 60) against the Thomas-Fermi", 0.85, "worse than Thomas-Fermi"),
    ],
    "functional-descent": [
        ("exact functional, descent", 1e-4, "descent with the exact functional missing e_gs by 1e-4"),
        ("CNN (ReLU), after descent: <de/e>", 0.01, "an energy above e_gs: the variational violation not reproduced"),
        ("CNN (Softplus), after descent: <de/e>", 0.01,
         "an energy above e_gs: the variational violation not reproduced"),
        ("CNN (ReLU), after descent: <|de|/e> against twice", 0.01,
         "within twice its own error: the standard CNN's failure not reproduced"),
    ],
    "path-integrals": [
        ("residual blocks solve the PDE", 1.0, "first order in dx: a wrong stencil"),
        ("PIMC harmonic oscillator", 0.52, "4% above the exact 1/2"),
        ("sum over paths vs layer-by-layer", 1e-8, "a path sum that misses terms"),
    ],
    "pde-networks": [
        ("resnet depth 5:", None, "five points below the classifier alone"),
        ("pde depth 50:", None, "five points below the classifier alone"),
    ],
    "neural-odes": [
        ("adjoint vs autograd gradients", 1e-5, "adjoint gradients wrong in the fifth digit"),
        ("Euler ResNet -> ODE: observed order", 2.0, "second order is not Euler's"),
        ("memory: adjoint peak", 8.0, "memory that grows with the steps"),
    ],
}


def test_every_chapter_is_covered():
    assert set(WRONG) == set(registry.CHAPTERS)


@pytest.mark.parametrize("chapter_id", sorted(registry.CHAPTERS))
def test_a_wrong_result_fails(chapter_id):
    path = registry.record_path(chapter_id, "class")
    rows = registry.load_rows(path)
    for start, wrong, why in WRONG[chapter_id]:
        matches = [r for r in rows if r.quantity.startswith(start)]
        assert len(matches) == 1, f"{chapter_id}: no single row starts with {start!r}"
        row = matches[0]
        assert row.within_tolerance, f"{chapter_id}: the recorded row {start!r} itself fails"
        if wrong is None:                                   # accuracies: 5 points below the reference
            wrong = row.reference - 0.05
        bad = registry.Claim(**{**row.__dict__, "ours": wrong, "seeds": ()})
        assert not bad.within_tolerance, f"{chapter_id}: {start!r} = {wrong} passes, yet it is {why}"
