"""Chapter 2 (id `perceptron`) - the perceptron and gradient descent.

The lecture prints the code of its one-point experiment but not its output, so
the "paper" column is empty; references are closed forms (the geometric series
of one-point descent, the generating line y = 2x + 1) and Novikoff's mistake bound.
"""
from __future__ import annotations

import numpy as np

from .. import perceptron
from ..cases import Runner
from ..config import SCALE
from ..validate import Array, Flag, Instance, Optional, params
from . import Claim

CHAPTER = "perceptron"

#: The lecture's experiment: one point x = 4 (target y = 2x + 1 = 9), eta = 0.01, 40 steps.
LECTURE_SETUP = dict(x=4.0, eta=0.01, steps=40)
#: Many points: 50 inputs on [-2, 2], full-batch descent.
MANY_SETUP = dict(n=50, eta=0.5, steps=200)
#: Rosenblatt on separable data and on XOR.
ROSENBLATT_SETUP = dict(n=100, margin=0.3, data_seed=1, order_seed=2, max_epochs=100)


@params(x=Array(ndim=(1, 0), hint="inputs x (an array or one number)"))
def target(x):
    """The lecture's target ``y = 2x + 1``."""
    return 2.0 * np.asarray(x, dtype=float) + 1.0


def lecture_experiment():
    """Gradient descent exactly as in the lecture; returns the :class:`DescentHistory`."""
    s = LECTURE_SETUP
    w0, b0 = perceptron.lecture_initial_weights()
    return perceptron.gradient_descent(s["x"], target(s["x"]), w0=w0, b0=b0, eta=s["eta"], steps=s["steps"])


def many_points_experiment():
    s = MANY_SETUP
    x = np.linspace(-2.0, 2.0, s["n"])
    w0, b0 = perceptron.lecture_initial_weights()
    return x, perceptron.gradient_descent(x, target(x), w0=w0, b0=b0, eta=s["eta"], steps=s["steps"])


def rosenblatt_experiments():
    s = ROSENBLATT_SETUP
    X, labels, (w_true, b_true) = perceptron.separable_data(s["n"], margin=s["margin"], rng=s["data_seed"])
    separable = perceptron.rosenblatt(X, labels, max_epochs=s["max_epochs"], rng=s["order_seed"])
    bound = perceptron.mistake_bound(X, labels, w_true, b_true)
    Xx, lx = perceptron.xor_data()
    xor = perceptron.rosenblatt(Xx, lx, max_epochs=s["max_epochs"], rng=s["order_seed"])
    return (X, labels, separable, bound), (Xx, lx, xor)


@params(scale=SCALE, progress=Flag(), runner=Optional(Instance(Runner)))
def claims(scale=None, progress=True, runner=None):
    rows = []
    s = LECTURE_SETUP
    hist = lecture_experiment()
    w0, b0 = perceptron.lecture_initial_weights()
    w_exact, b_exact, c_exact = perceptron.one_point_descent_exact(s["x"], target(s["x"]), w0=w0, b0=b0,
                                                                    eta=s["eta"], steps=s["steps"])
    note = "lecture's experiment; reference: closed-form geometric series"
    # 1e-12 (cost: 1e-15 absolute, cost ~4e-7): 40 updates against a closed form; only rounding separates them.
    rows.append(Claim(CHAPTER, "one point x = 4, 40 steps: w", hist.w[-1], w_exact, 1e-12, note=note))
    rows.append(Claim(CHAPTER, "one point x = 4, 40 steps: b", hist.b[-1], b_exact, 1e-12, note=note))
    rows.append(Claim(CHAPTER, "one point x = 4, 40 steps: cost", hist.cost[-1], c_exact, 1e-15, note=note))
    # 1e-2: after 40 steps the residual 4w + b - 9 has shrunk by (1 - 17 eta)^40 = 1e-3 from its start, ~1; a wrong
    # update rule leaves it O(1).
    rows.append(Claim(CHAPTER, "one point: 4w + b (the only constrained combination)",
                      4 * hist.w[-1] + hist.b[-1], 9.0, 1e-2, note="reference: y(4) = 9"))

    _, many = many_points_experiment()
    # 1e-6: noise-free data, so descent converges to y = 2x + 1 exactly; 200 steps leave < 1e-9 (measured 1e-16).
    rows.append(Claim(CHAPTER, "50 points, 200 steps: w", many.w[-1], 2.0, 1e-6, note="reference: y = 2x + 1"))
    rows.append(Claim(CHAPTER, "50 points, 200 steps: b", many.b[-1], 1.0, 1e-6, note="reference: y = 2x + 1"))

    (X, labels, sep, bound), (_, _, xor) = rosenblatt_experiments()
    # Tolerance 0 for the three Rosenblatt rows: Novikoff's bound is a theorem, separable data are learned without
    # error, and XOR cannot be (no separating line).
    rows.append(Claim(CHAPTER, "Rosenblatt, separable data: mistakes until convergence", sep.mistakes, bound, 0.0,
                      comparison="at_most", note="reference: Novikoff bound (R/gamma)^2"))
    rows.append(Claim(CHAPTER, "Rosenblatt, separable data: training accuracy",
                      float(np.mean(perceptron.predict_sign(X, sep.w, sep.b) == labels)), 1.0, 0.0))
    rows.append(Claim(CHAPTER, "Rosenblatt on XOR: fewest mistakes in any of 100 epochs",
                      min(xor.mistakes_per_epoch), 1.0, 0.0, comparison="at_least",
                      note="XOR is not linearly separable: never an error-free epoch"))
    return rows
