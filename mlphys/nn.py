"""Feed-forward neural networks with back-propagation written out layer by layer (Chapter 3).

Notation (one row per sample, so a batch is a matrix; W^l has shape (n_{l+1}, n_l), row i holding the weights into
unit i - the layout of every network in the package, :class:`mlphys.dfnn.DFNN` included):

    z^{l+1} = a^l (W^l)^T + b^l,        a^{l+1} = f_l(z^{l+1}),        a^0 = X.

Back-propagation (the lecture's "Optimizing the parameters", generalised to
layers and batches) starts from the output error

    delta^L = dC/dz^L = (a^L - Y) / n                     (softmax or sigmoid output + cross-entropy)
    delta^L = (a^L - Y) * f'(z^L) / n                     (mean squared error)

and runs backwards,

    dC/dW^l = (delta^{l+1})^T a^l,     dC/db^l = sum_rows delta^{l+1},
    delta^l = (delta^{l+1} W^l) * f'(z^l).

The forward pass is written once, over an array module ``xp`` (numpy or
``autograd.numpy``), so autograd can differentiate exactly the function the
hand-written backward pass differentiates: the oracle in the tests.
"""
from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import time
import types
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from .config import make_rng, progress_bar, reject_checkpoint
from .validate import (AnyOf, Array, Choice, Flag, Function, Having, Instance, Integer, Optional, PathLike, Real, Rule,
                       Seed, Sequence, Text, Traced, params)

#: The package's one activation table: :func:`activation` (any array module), :func:`activation_derivatives` (value
#: and three derivatives) and :func:`activation_derivative` (the slope from the value, for back-propagation) cover
#: these names; each network admits the subset it needs (``mlphys.dfnn``: smooth ones, ``mlphys.cnn``: relu, softplus).
ACTIVATIONS = ("sigmoid", "tanh", "relu", "softplus", "identity")
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")
OUTPUT_ACTIVATIONS = ("identity", "sigmoid", "softmax")
LOSSES = ("mse", "cross_entropy")


class _Values(Traced):
    """The argument of an element-wise function: a finite numeric array of any shape (a fresh float copy), or an
    array autograd is tracing."""

    def __init__(self):
        super().__init__(Array(min_size=0))

    def bad(self, context):
        return ["abc", None, np.array([1.0, np.nan])]

    def example(self, context, random):
        return random.uniform(-3.0, 3.0, (3, 2))


def _Model(*methods: str) -> Having:
    """A model the training functions drive: a :class:`Network`, or any object with the same methods (the
    package's CNN, PDENet and derivative-informed wrappers)."""
    return Having(*methods, what="a Network or a model with " + ", ".join(methods))


def _labels_ok(labels) -> bool:
    """1-D: integer class labels; 2-D: one-hot (or probability) rows - decided by ndim alone, never by the sizes."""
    if labels is None:
        return True
    if labels.ndim == 1:
        return bool(np.all(labels == np.round(labels)))
    return bool(np.all(labels <= 1) and np.allclose(labels.sum(axis=1), 1.0, rtol=0, atol=1e-6))


_LABELS = ("must be 1-D integer class labels (0..n_classes-1) or 2-D one-hot rows (entries in [0, 1], each row "
           "summing to 1); one sample's label is [label], its one-hot row [[0, ..., 1, ..., 0]]")


def _labels(symbol: str) -> Array:
    """Class labels of the rows of an input: 1-D integers, or 2-D one-hot rows (decided by ndim alone)."""
    return Array(shape=(symbol, "net.n_out"), ndim=(1, 2), ge=0,
                 hint="1-D integer class labels or 2-D one-hot rows, one per row of the input")


# ----------------------------------------------------------------------------- activations

@params(Rule("z", lambda name, z: name != "softmax" or getattr(z, "ndim", 0) == 2,
             "must be 2-D (one row per sample) for softmax, which normalises each row"),
        name=Choice(*ACTIVATIONS, "softmax"), z=_Values(),
        xp=Instance(types.ModuleType, hint="an array module: numpy or autograd.numpy"))
def activation(name: str, z, xp=np):
    """Apply activation ``name`` to ``z`` using array module ``xp``."""
    return _activation(name, z, xp)


def _activation(name, z, xp=np):
    """:func:`activation` without the parameter checks (for the forward passes)."""
    if name == "sigmoid":
        return 0.5 * (1.0 + xp.tanh(0.5 * z))  # = 1 / (1 + e^-z), without overflow
    if name == "tanh":
        return xp.tanh(z)
    if name == "relu":
        return xp.maximum(z, 0.0)
    if name == "softplus":
        return xp.logaddexp(0.0, z)
    if name == "identity":
        return z
    if name == "softmax":
        e = xp.exp(z - xp.max(z, axis=1, keepdims=True))
        return e / xp.sum(e, axis=1, keepdims=True)
    raise ValueError(f"unknown activation {name!r}; use one of {ACTIVATIONS + ('softmax',)}")


@params(name=Choice(*ACTIVATIONS), z=_Values(),
        order=Integer(ge=0, le=3, hint="the recursion needs sigma up to its third derivative"))
def activation_derivatives(name: str, z, order: int = 3):
    """``[sigma(z), sigma'(z), sigma''(z), sigma'''(z)]`` up to ``order``, analytically: the derivative table of
    every activation but softmax (ReLU's derivatives: the step function, then zero)."""
    return _activation_derivatives(name, z, order)


def _activation_derivatives(name, z, order=3):
    """:func:`activation_derivatives` without the parameter checks (for the DFNN recursions)."""
    if name == "tanh":
        s = np.tanh(z)
        d1 = 1.0 - s * s
        out = [s, d1, -2.0 * s * d1, d1 * (6.0 * s * s - 2.0)]
    elif name == "sigmoid":
        s = 0.5 * (1.0 + np.tanh(0.5 * z))
        d1 = s * (1.0 - s)
        out = [s, d1, d1 * (1.0 - 2.0 * s), d1 * (1.0 - 6.0 * d1)]
    elif name == "softplus":
        p = 0.5 * (1.0 + np.tanh(0.5 * z))          # the logistic function, sigma'
        d2 = p * (1.0 - p)
        out = [np.logaddexp(0.0, z), p, d2, d2 * (1.0 - 2.0 * p)]
    elif name == "relu":
        out = [np.maximum(z, 0.0), (z > 0).astype(float), np.zeros_like(z), np.zeros_like(z)]
    elif name == "identity":
        out = [z, np.ones_like(z), np.zeros_like(z), np.zeros_like(z)]
    else:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")
    return out[:order + 1]


@params(z=_Values(), sigmoid=Flag())
def softplus_and_sigmoid(z, *, sigmoid: bool = True):
    """``(softplus(z), sigmoid(z))`` from one exponential: ``max(z, 0) + log(1 + e^-|z|)`` and its derivative
    (None for ``sigmoid=False``).

    The fused form for hot paths (the RBM wave function, the softplus CNN): half the time of ``np.logaddexp``
    followed by a separate logistic function, and equal to them to rounding.
    """
    return _softplus_and_sigmoid(z, sigmoid=sigmoid)


def _softplus_and_sigmoid(z, *, sigmoid=True):
    """:func:`softplus_and_sigmoid` without the parameter checks (for the hot paths)."""
    e = np.exp(-np.abs(z))
    return np.maximum(z, 0.0) + np.log1p(e), (np.where(z >= 0, 1.0, e) / (1.0 + e) if sigmoid else None)


@params(Rule("a", lambda name, a: a is not None or name in ("relu", "identity", "softplus"),
             "a = f(z) is needed for sigmoid and tanh"),
        Rule("a", lambda z, a: a is None or np.shape(a) == np.shape(z), "must have the shape of z (a = f(z))"),
        name=Choice(*HIDDEN_ACTIVATIONS, "softplus"), z=_Values(), a=Optional(_Values()))
def activation_derivative(name: str, z, a):
    """``f'(z)`` for an element-wise activation, given ``z`` and ``a = f(z)``."""
    return _activation_derivative(name, z, a)


def _activation_derivative(name, z, a):
    """:func:`activation_derivative` without the parameter checks (for back-propagation)."""
    if name == "sigmoid":
        return a * (1.0 - a)
    if name == "tanh":
        return 1.0 - a**2
    if name == "relu":
        return (z > 0).astype(float)
    if name == "identity":
        return np.ones_like(z)
    if name == "softplus":
        return 0.5 * (1.0 + np.tanh(0.5 * z))
    raise ValueError(f"activation {name!r} is not element-wise; softmax is only used with cross-entropy")


# ----------------------------------------------------------------------------- data helpers

@params(Rule("labels", lambda labels, n_classes: labels.max() < n_classes,
             "must lie in 0..n_classes-1: raise n_classes or fix the labels"),
        labels=Array(shape=(None,), dtype=int, ge=0, hint="integer class indices 0..n_classes-1"),
        n_classes=Integer(ge=1, le=1_000_000, typical=(1, 5), hint="one column per class"))
def one_hot(labels, n_classes: int) -> np.ndarray:
    """Rows ``e_{label}`` for integer labels ``0 <= label < n_classes``."""
    return _one_hot(labels, n_classes)


def _one_hot(labels, n_classes):
    out = np.zeros((labels.size, n_classes))
    out[np.arange(labels.size), labels] = 1.0
    return out


# ----------------------------------------------------------------------------- the network


@params(params=Sequence(_Values()))
def flat_parameters(params) -> np.ndarray:
    """All arrays of ``params`` (a list) raveled into one vector, in list order."""
    return _flat_parameters(params)


def _flat_parameters(params):
    return np.concatenate([p.ravel() for p in params])


@params(Rule("theta", lambda params, theta: theta.size == sum(np.size(p) for p in params),
             "must have one entry per parameter (the total size of the arrays of params)"),
        params=Instance(list, hint="the list of parameter arrays, overwritten in place"), theta=Array(shape=(None,)))
def set_flat_parameters(params, theta) -> None:
    """Inverse of :func:`flat_parameters`: overwrite the arrays of the list ``params`` in place from ``theta``."""
    _set_flat_parameters(params, theta)


def _set_flat_parameters(params, theta):
    i = 0
    for k, p in enumerate(params):
        params[k] = theta[i:i + p.size].reshape(p.shape).copy()
        i += p.size


class Network:
    """Fully connected network ``sizes[0] -> ... -> sizes[-1]``.

    ``activation``: activation of the hidden layers (sigmoid, tanh, relu, identity);
    ``output``: identity, sigmoid or softmax; ``loss``: ``"mse"`` (``sum (a - y)^2 / 2n``)
    or ``"cross_entropy"`` (softmax: ``-sum y log a / n``; sigmoid: binary
    cross-entropy); ``l2``: penalty ``l2/2 sum W^2`` on the weights (not the biases).
    Weights start from the Glorot/Xavier normal distribution drawn from ``rng``.

    Targets ``Y`` have one row per sample and one column per output unit; for a softmax output, 1-D ``Y`` holds
    integer class labels (turned into one-hot rows). Cross-entropy targets are probabilities: entries in [0, 1],
    and for softmax each row sums to 1.
    """

    @params(Rule("loss", lambda output, loss: output != "softmax" or loss == "cross_entropy",
                 "a softmax output needs loss='cross_entropy'"),
            Rule("output", lambda output, loss: loss != "cross_entropy" or output != "identity",
                 "cross-entropy needs probabilities: use output='softmax' or 'sigmoid'"),
            Rule("sizes", lambda sizes: sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) <= 50_000_000,
                 "gives more than 5e7 weights, more than this NumPy network can train; use fewer or narrower layers"),
            sizes=Sequence(Integer(ge=1, typical=(1, 4)), min_length=2,
                           hint="the widths of the layers, input first: at least an input and an output layer"),
            activation=Choice(*HIDDEN_ACTIVATIONS), output=Choice(*OUTPUT_ACTIVATIONS), loss=Choice(*LOSSES),
            l2=Real(ge=0), rng=Seed())
    def __init__(self, sizes, *, activation: str = "sigmoid", output: str = "identity", loss: str = "mse",
                 l2: float = 0.0, rng=None):
        self.sizes = list(sizes)
        self.activation, self.output, self.loss_name = activation, output, loss
        self.l2 = l2
        rng = make_rng(rng)
        self.params = []
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]):
            # Glorot-normal weights, drawn column by column (the order of the book's computed examples)
            self.params.append(rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), (n_in, n_out)).T.copy())
            self.params.append(np.zeros(n_out))

    @property
    def n_in(self) -> int:
        """Units of the input layer (columns of ``X``)."""
        return self.sizes[0]

    @property
    def n_out(self) -> int:
        """Units of the output layer (columns of ``Y``)."""
        return self.sizes[-1]

    # -- targets and the checks of models that wrap a network (mlphys.resnet_pde) --------------------------------
    def _targets(self, Y, name: str = "Y"):
        """``Y`` (a checked float array) as (n, n_out) targets of this network's loss, or a ValueError naming
        ``name``: 1-D is a column of targets, or for a softmax output integer class labels; cross-entropy targets
        are probabilities (softmax: rows summing to 1)."""
        k = self.sizes[-1]
        if Y.ndim == 1:
            if self.output == "softmax" and k > 1:
                if np.any(Y != np.round(Y)) or np.any(Y < 0) or np.any(Y >= k):
                    raise ValueError(f"{name} is 1-D, so it must hold integer class labels 0..{k - 1} for this softmax "
                                     f"network; got values from {Y.min():g} to {Y.max():g} (one-hot rows are 2-D)")
                Y = _one_hot(Y.astype(int), k)
            else:
                Y = Y[:, None]
        if Y.shape[1] != k:
            raise ValueError(f"{name} has shape {Y.shape}; expected ({Y.shape[0]}, {k}) (one row per sample, one "
                             "column per output unit; 1-D integer class labels for a softmax output)")
        if self.loss_name == "cross_entropy":
            if np.any(Y < 0) or np.any(Y > 1):
                fix = ("pass one-hot rows (one_hot(labels, n_classes)) or 1-D integer class labels"
                       if self.output == "softmax" else "map -1/+1 labels to 0/1 with (y + 1) / 2")
                raise ValueError(f"{name} must hold probabilities in [0, 1] for a cross-entropy loss, got entries from "
                                 f"{Y.min():g} to {Y.max():g}; {fix}")
            if self.output == "softmax" and not np.allclose(Y.sum(axis=1), 1.0, rtol=0, atol=1e-6):
                raise ValueError(f"{name}: each row must sum to 1 (one-hot or class probabilities) for a softmax "
                                 "cross-entropy loss; pass one_hot(labels, n_classes) or 1-D integer class labels")
        return Y

    def _check_X(self, X):
        return _ROWS.check(X, "X", {"n_in": self.sizes[0]})

    def _check_XY(self, X, Y):
        X = self._check_X(X)
        Y = Array(shape=(X.shape[0], None), ndim=(1, 2)).check(Y, "Y", {})
        return X, self._targets(Y)

    # -- forward pass, shared with autograd ------------------------------------
    @params(Rule("params", lambda self, params: [np.shape(p) for p in params] == [p.shape for p in self.params],
                 "must hold one array per parameter of this network, of the same shapes [W0, b0, W1, b1, ...]"),
            params=Traced(Sequence(_Values())), X=Traced(Array(shape=("n", "self.n_in"))),
            Y=Traced(Array(shape=("n", "self.n_out"))),
            xp=Instance(types.ModuleType, hint="an array module: numpy or autograd.numpy"))
    def loss_from_params(self, params, X, Y, xp=np):
        """Loss (data term + L2) as a pure function of the parameter list ``[W0, b0, W1, b1, ...]``."""
        return self._loss_from_params(params, X, self._targets(Y) if isinstance(Y, np.ndarray) else Y, xp)

    def _loss_from_params(self, params, X, Y, xp=np):
        a = X
        n_layers = len(params) // 2
        for l in range(n_layers):
            z = xp.dot(a, params[2 * l].T) + params[2 * l + 1]
            a = _activation(self.activation if l < n_layers - 1 else self.output, z, xp)
        return self._loss_of_output(a, Y, params, xp)

    def _loss_of_output(self, a, Y, params, xp=np):
        """The loss given the network's output ``a`` (one forward pass serves both loss and back-propagation)."""
        n = a.shape[0]
        if self.loss_name == "mse":
            data = 0.5 * xp.sum((a - Y) ** 2) / n
        elif self.output == "softmax":
            data = -xp.sum(Y * xp.log(a + 1e-300)) / n
        else:
            data = -xp.sum(Y * xp.log(a + 1e-300) + (1 - Y) * xp.log(1 - a + 1e-300)) / n
        if self.l2:
            data = data + 0.5 * self.l2 * sum(xp.sum(W**2) for W in params[0::2])
        return data

    @params(X=Array(shape=("n", "self.n_in"), hint="one row per sample, one column per input unit"))
    def forward(self, X):
        """Return the lists ``zs`` (pre-activations, layers 1..L) and ``activations`` (layers 0..L)."""
        return self._forward(X)

    def _forward(self, X):
        a = X
        zs, activations = [], [a]
        n_layers = len(self.params) // 2
        for l in range(n_layers):
            z = a @ self.params[2 * l].T + self.params[2 * l + 1]
            a = _activation(self.activation if l < n_layers - 1 else self.output, z)
            zs.append(z)
            activations.append(a)
        return zs, activations

    @params(X=Array(shape=("n", "self.n_in"), hint="one row per sample, one column per input unit"))
    def predict(self, X) -> np.ndarray:
        """Network output ``a^L`` for each row of ``X``."""
        return self._forward(X)[1][-1]

    @params(X=Array(shape=("n", "self.n_in")), Y=Array(shape=("n", "self.n_out"), ndim=(1, 2)))
    def loss(self, X, Y) -> float:
        """The loss (data term + L2) of targets ``Y`` (see the class docstring) for inputs ``X``."""
        return float(self._loss_from_params(self.params, X, self._targets(Y)))

    # -- back-propagation ----------------------------------------------------------
    @params(X=Array(shape=("n", "self.n_in")), Y=Array(shape=("n", "self.n_out"), ndim=(1, 2)),
            input_gradient=Flag())
    def backward(self, X, Y, *, input_gradient: bool = False):
        """Loss and gradients ``[dW0, db0, dW1, db1, ...]`` by back-propagation (equations above).

        With ``input_gradient=True`` also returns ``dLoss/dX`` (to back-propagate into layers before this network).
        """
        return self._backward(X, self._targets(Y), input_gradient=input_gradient)

    def _backward(self, X, Y, *, input_gradient=False):
        """:meth:`backward` of checked targets (the training loop checks them once, not per mini-batch)."""
        zs, acts = self._forward(X)
        n = X.shape[0]
        aL = acts[-1]
        if self.loss_name == "cross_entropy":
            delta = (aL - Y) / n  # softmax/sigmoid + cross-entropy: f'(z) cancels
        else:
            delta = (aL - Y) * _activation_derivative(self.output, zs[-1], aL) / n
        grads = [None] * len(self.params)
        for l in reversed(range(len(self.params) // 2)):
            W = self.params[2 * l]
            # delta^T a, formed as (a^T delta)^T: the products of the book's computed examples (BLAS sums delta.T @ a in
            # another order for some shapes, which moves the last bits of a trained number)
            grads[2 * l] = (acts[l].T @ delta).T + self.l2 * W
            grads[2 * l + 1] = delta.sum(axis=0)
            if l > 0:
                delta = (delta @ W) * _activation_derivative(self.activation, zs[l - 1], acts[l])
        loss = float(self._loss_of_output(aL, Y, self.params))
        if input_gradient:
            return loss, grads, delta @ self.params[0]
        return loss, grads

    # -- flat parameter vector (for optimisers from scipy and gradient checks) ---
    def get_flat(self) -> np.ndarray:
        return _flat_parameters(self.params)

    @params(theta=Array(shape=("self.n_params",), hint="one entry per parameter, in the order of get_flat()"))
    def set_flat(self, theta) -> None:
        _set_flat_parameters(self.params, theta)

    @property
    def n_params(self) -> int:
        return sum(p.size for p in self.params)


_ROWS = Array(shape=(None, "n_in"), hint="one row per sample, one column per input unit")
_NET_DATA = dict(X=Array(shape=("n", "net.n_in")), Y=Array(shape=("n", "net.n_out"), ndim=(1, 2)))


@params(net=Instance(Network), **_NET_DATA)
def layer_gradient_norms(net: Network, X, Y) -> np.ndarray:
    """Frobenius norm of dC/dW^l for every weight matrix, input side first: how fast each layer learns here.

    Back-propagation multiplies by ``f'(z)`` once per layer (Eq. eq-ch3-backprop); with sigmoid, ``f' <= 1/4``,
    so in a deep stack the layers near the input receive ever smaller gradients (vanishing gradients).
    """
    _, grads = net._backward(X, net._targets(Y))
    return np.array([np.linalg.norm(g) for g in grads[0::2]])


@params(Rule("labels", lambda labels: _labels_ok(labels), _LABELS),
        net=_Model("predict"), X=Array(shape=("n", "net.n_in")), labels=_labels("n"))
def accuracy(net: Network, X, labels) -> float:
    """Fraction of rows whose largest output is the true class: ``labels`` are 1-D integer class labels or 2-D
    one-hot rows (decided by ndim alone, so that as many samples as classes is never ambiguous)."""
    return _accuracy(net, X, labels)


def _accuracy(net, X, labels, name="labels"):
    predicted = net.predict(X)
    k = predicted.shape[1]
    if labels.ndim == 2:
        if labels.shape[1] != k:
            raise ValueError(f"{name} has {labels.shape[1]} columns but the model has {k} outputs (one-hot rows)")
        labels = np.argmax(labels, axis=1)
    elif labels.max() >= k:
        raise ValueError(f"{name} must be class labels 0..{k - 1} (the model has {k} outputs), got {labels.max():g}")
    return float(np.mean(np.argmax(predicted, axis=1) == labels))


# ----------------------------------------------------------------------------- optimisers
# One convention: ``optimizer.step(params, grads)`` updates each array of the list ``params`` in place, so that every
# holder of a parameter array (a network, a wave function, a classifier head) sees the new values without copying back.

def _check_state(optimizer, params):
    """Parameters are float arrays updated in place; an optimiser's state belongs to the parameters it first stepped:
    refuse others clearly."""
    for k, p in enumerate(params):
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f" or not p.flags.writeable:
            raise TypeError(f"params[{k}] must be a writable float array (optimisers update it in place), got "
                            f"{type(p).__name__}{'' if not isinstance(p, np.ndarray) else ' of dtype ' + str(p.dtype)}")
    shapes = [np.shape(p) for p in params]
    if getattr(optimizer, "_shapes", None) is None:
        optimizer._shapes = shapes
    elif shapes != optimizer._shapes:
        raise ValueError(f"this {type(optimizer).__name__} already holds the state of parameters with shapes "
                         f"{optimizer._shapes}; create a new optimiser for each network")


#: ``step(params, grads)``: the list of parameter arrays (updated in place) and one gradient of the same shape each
_STEP = (Rule("grads", lambda params, grads: [np.shape(g) for g in grads] == [np.shape(p) for p in params],
              "must hold one gradient per array of params, of the same shape"),)
_STEP_ARGS = dict(params=Instance(list, tuple, hint="the list of parameter arrays, updated in place"),
                  grads=Sequence(Array(min_size=0)))


class SGD:
    """Stochastic gradient descent with optional (heavy-ball) momentum: ``v <- mu v - lr g; p <- p + v``."""

    @params(lr=Real(gt=0), momentum=Real(ge=0, lt=1))
    def __init__(self, lr: float = 0.1, momentum: float = 0.0):
        self.lr, self.momentum = lr, momentum
        self._v = None

    @params(*_STEP, **_STEP_ARGS)
    def step(self, params, grads):
        """One step of every array of ``params`` (in place) along ``-grads``."""
        self._step(params, grads)

    def _step(self, params, grads):
        _check_state(self, params)
        if self._v is None:
            self._v = [np.zeros_like(p) for p in params]
        for k, (p, g) in enumerate(zip(params, grads)):
            self._v[k] = self.momentum * self._v[k] - self.lr * g
            p += self._v[k]


class Adam:
    """Adam (Kingma and Ba 2015) with bias-corrected first and second moments."""

    @params(lr=Real(gt=0), beta1=Real(ge=0, lt=1), beta2=Real(ge=0, lt=1), eps=Real(gt=0))
    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self._m = self._s = None
        self._t = 0

    @params(*_STEP, **_STEP_ARGS)
    def step(self, params, grads):
        """One Adam step of every array of ``params`` (in place) from the gradients ``grads``."""
        self._step(params, grads)

    def _step(self, params, grads):
        _check_state(self, params)
        if self._m is None:
            self._m = [np.zeros_like(p) for p in params]
            self._s = [np.zeros_like(p) for p in params]
        self._t += 1
        c1, c2 = 1 - self.beta1**self._t, 1 - self.beta2**self._t
        for k, (p, g) in enumerate(zip(params, grads)):
            self._m[k] = self.beta1 * self._m[k] + (1 - self.beta1) * g
            self._s[k] = self.beta2 * self._s[k] + (1 - self.beta2) * g * g
            p -= self.lr * (self._m[k] / c1) / (np.sqrt(self._s[k] / c2) + self.eps)

    def state(self) -> dict:
        """The step count and moments as arrays (for ``np.savez``); :meth:`load_state` restores them."""
        moments = {} if self._m is None else \
            {f"m{i}": m for i, m in enumerate(self._m)} | {f"s{i}": s for i, s in enumerate(self._s)}
        return {"t": np.array(self._t)} | moments

    @params(Rule("arrays", lambda arrays: "t" in arrays, "must hold the step count 't' (what Adam.state() returns)"),
            arrays=Instance(Mapping, hint="what Adam.state() returned (a dict of arrays)"),
            params=Sequence(Array(min_size=0)))
    def load_state(self, arrays, params) -> None:
        """Resume from :meth:`state` saved while stepping ``params`` (the same shapes)."""
        t = int(arrays["t"])
        if t:
            m = [np.asarray(arrays[f"m{k}"]) for k in range(len(params))]
            s = [np.asarray(arrays[f"s{k}"]) for k in range(len(params))]
            if [a.shape for a in m + s] != [np.shape(p) for p in params] * 2:
                raise ValueError("the saved Adam state does not fit these parameters")
            self._m, self._s, self._shapes = m, s, [np.shape(p) for p in params]
        self._t = t


#: The layout of :func:`save_training_state` files; caches keyed by it (Chapter 10's networks) ignore older layouts.
TRAINING_STATE_VERSION = 3


class CheckpointError(ValueError):
    """A saved training state that cannot be resumed: damaged, in another layout, or of another problem."""


def fingerprint(*parts) -> str:
    """A short hash of what a training run is computed from (arrays, numbers, strings, dicts, None).

    Stored in every saved state (:func:`save_training_state`), so that a run never resumes the state of
    another problem (another potential, data set, architecture or seed)."""
    digest = hashlib.sha256()

    def feed(part):
        if isinstance(part, (list, tuple)):
            digest.update(b"[")
            for item in part:
                feed(item)
            digest.update(b"]")
        elif isinstance(part, np.generic):
            feed(part.item())
            return
        elif isinstance(part, np.ndarray) and part.dtype != object:
            digest.update(f"{part.dtype}{part.shape}".encode())
            digest.update(np.ascontiguousarray(part).tobytes())
        else:
            digest.update(json.dumps(part, sort_keys=True, default=repr).encode())
        digest.update(b"|")

    feed(list(parts))
    return digest.hexdigest()[:16]


_STATE = dict(optimizer=Optional(Instance(Adam, hint="an optimiser with state() and load_state()")),
              rng=Optional(Instance(np.random.Generator, hint="the run's generator, whose state is saved")))
_LOAD = dict(params=Instance(list, hint="the list of parameter arrays, replaced in place"), **_STATE,
             fingerprint=Optional(Text(allow_empty=True)),
             required=AnyOf(Sequence(Text()), Choice(())))


@params(path=PathLike(), params=Sequence(Array(min_size=0)), **_STATE, fingerprint=Text(allow_empty=True))
def save_training_state(path, params, optimizer=None, *, rng=None, fingerprint: str = "", **arrays) -> None:
    """Save a training run to ``.npz`` (written to a temporary file, then renamed: never half-written).

    ``params`` (the list an optimiser updates), the ``optimizer``'s state, the generator's state, the run's
    ``fingerprint`` (:func:`fingerprint` of what it is computed from) and any other ``arrays`` (histories,
    counters). :func:`resume_training_state` restores them. No pickle: every entry is a plain array.
    """
    path = Path(path)
    tmp = path.with_suffix(".tmp.npz")
    saved = {f"param{i}": p for i, p in enumerate(params)} | arrays
    if optimizer is not None:
        saved |= {f"optimizer_{k}": v for k, v in optimizer.state().items()}
    if rng is not None:
        saved["rng_state"] = json.dumps(rng.bit_generator.state)
    saved["fingerprint"] = np.array(str(fingerprint))
    saved["layout"] = np.array(TRAINING_STATE_VERSION)
    np.savez(tmp, **saved)
    tmp.replace(path)


@params(path=PathLike(), **_LOAD)
def load_training_state(path, params, optimizer=None, *, rng=None, fingerprint: str | None = None,
                        required=()) -> dict:
    """Restore what :func:`save_training_state` wrote into ``params`` (in place), ``optimizer`` and ``rng``.

    Everything is read and checked first, then restored, so that a bad file changes nothing. Raises
    :class:`CheckpointError` (naming the file) if it is damaged or truncated, holds pickled objects, lacks one of
    the ``required`` arrays, was written in another layout, holds another network's parameters, or - when
    ``fingerprint`` is given - was computed from another problem. Returns the other arrays.
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except Exception as exc:       # BadZipFile, EOFError, ValueError (pickled data), OSError, ...
        raise CheckpointError(f"{path} is not a readable training state ({type(exc).__name__}: {exc})") from None
    if "layout" not in data or int(data["layout"]) != TRAINING_STATE_VERSION:
        raise CheckpointError(f"{path} was written in another layout than this version of mlphys reads")
    if fingerprint is not None and str(data.get("fingerprint", "")) != fingerprint:
        raise CheckpointError(f"{path} holds the state of another problem (other inputs, sizes or seed)")
    missing = [k for k in required if k not in data]
    if missing:
        raise CheckpointError(f"{path} lacks {missing}")
    saved = [data[f"param{i}"] for i in range(sum(k.startswith("param") for k in data))]
    if [p.shape for p in saved] != [np.shape(p) for p in params]:
        raise CheckpointError(f"{path} holds another network's parameters")
    state = {k[len("optimizer_"):]: v for k, v in data.items() if k.startswith("optimizer_")}
    try:
        if rng is not None:
            rng_state = json.loads(str(data["rng_state"]))
            type(rng.bit_generator)().state = rng_state             # checked on a scratch generator first
        if optimizer is not None and state:
            optimizer.load_state(state, params)
        if rng is not None:
            rng.bit_generator.state = rng_state
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path} holds an unreadable optimiser or generator state ({exc})") from None
    params[:] = saved
    return {k: v for k, v in data.items() if not k.startswith(("param", "optimizer_", "rng_state"))
            and k not in ("fingerprint", "layout")}


@params(path=Optional(PathLike()), **_LOAD)
def resume_training_state(path, params, optimizer=None, *, rng=None, fingerprint: str | None = None,
                          required=()) -> dict | None:
    """:func:`load_training_state`, or None when there is nothing to resume.

    Nothing to resume: no ``path`` (None), no file, or a file :func:`load_training_state` rejects - which is
    then moved aside (to ``<name>.rejected``) with a warning naming it, so that the run starts afresh instead of
    failing on every rerun or resuming another problem.
    """
    if path is None or not Path(path).is_file():
        return None
    try:
        return load_training_state(path, params, optimizer, rng=rng, fingerprint=fingerprint, required=required)
    except CheckpointError as exc:
        return reject_checkpoint(path, str(exc))


#: Whether a Ctrl-C inside a :class:`TrainingLoop` stops training and keeps what was learned (True: in a
#: notebook or script) or propagates (False: a case of a reproduction, which must never be recorded as finished).
_KEEP_ON_INTERRUPT = contextvars.ContextVar("mlphys_keep_on_interrupt", default=True)


@contextlib.contextmanager
def interrupts_propagate():
    """Inside this block a Ctrl-C in a training loop is not absorbed: it stops the whole computation.

    ``python -m mlphys reproduce`` and :class:`mlphys.cases.Runner` run every case inside it, so that an
    interrupted case is never returned (and stored) as if it had finished; its last state checkpoint remains,
    and the next run resumes from it. Outside it (a notebook), Ctrl-C ends training and returns the result so
    far, marked ``interrupted``.
    """
    token = _KEEP_ON_INTERRUPT.set(False)
    try:
        yield
    finally:
        _KEEP_ON_INTERRUPT.reset(token)


class TrainingLoop:
    """The package's one training loop: ``for step in loop`` runs ``range(done, total)`` behind a progress bar.

    Used as a context manager, so that a Ctrl-C inside the block ends training instead of raising
    (``interrupted = True``; inside :func:`interrupts_propagate` it raises) and ``seconds`` is the time spent
    in it; :meth:`diverging` flags a loss that is not finite or beyond 1e30 (``diverged = True``, with a
    warning) so that the caller stops. ``save(steps_done)``, if given, is called after a step whenever
    ``save_seconds`` have passed since the last call, and after the last step: the one place where a trainer's
    state checkpoints are written (:func:`save_training_state`), so that a run resumes from at most
    ``save_seconds`` ago::

        with nn.TrainingLoop(epochs, done=len(losses), progress=progress, desc="training",
                             save=lambda done: nn.save_training_state(path, ...), save_seconds=300) as loop:
            for _ in loop:
                loss = ...
                if loop.diverging(loss):
                    break
    """

    @params(total=Integer(ge=0, typical=(0, 4)), done=Integer(ge=0, typical=(0, 2)), progress=Flag(), desc=Text(),
            save=Optional(Function(hint="save(steps_done), called after a step")), save_seconds=Real(ge=0))
    def __init__(self, total: int, *, done: int = 0, progress: bool = False, desc: str = "training",
                 save=None, save_seconds: float = 300.0):
        self.total = total
        self.bar = progress_bar(range(done, total), progress, desc)
        self.interrupted = self.diverged = False
        self.seconds, self._start = 0.0, None
        self._save, self._save_seconds = save, save_seconds

    def __iter__(self):
        last = time.perf_counter()
        for step in self.bar:
            yield step
            if self._save is not None and (step + 1 == self.total or time.perf_counter() - last > self._save_seconds):
                self._save(step + 1)
                last = time.perf_counter()

    @property
    def elapsed(self) -> float:
        """Seconds since the block was entered."""
        return time.perf_counter() - self._start

    def __enter__(self):
        self._start = time.perf_counter()
        return self

    def __exit__(self, kind, error, traceback):
        self.seconds = self.elapsed
        if hasattr(self.bar, "close"):
            self.bar.close()
        if kind is KeyboardInterrupt:
            self.interrupted = True
            return _KEEP_ON_INTERRUPT.get()   # Ctrl-C: keep what was learned, unless inside interrupts_propagate()
        return False

    @params(loss=Array(ndim=0, finite=False, hint="one loss value (NaN and infinity are what this detects)"),
            hint=Text())
    def diverging(self, loss, *, hint: str = "lower the learning rate") -> bool:
        """True (warning with ``hint``; ``diverged = True``) if ``loss`` is NaN, infinite or beyond 1e30."""
        loss = float(loss)
        if np.isfinite(loss) and abs(loss) <= 1e30:
            return False
        self.diverged = True
        warnings.warn(f"training diverged (loss {loss:.3g}): {hint}", RuntimeWarning, stacklevel=3)  # past @params
        return True


class History:
    """The record every trainer returns (or carries as ``result.history``): named per-step series, the time spent
    and how training ended - ``interrupted`` (Ctrl-C) or ``diverged`` (a loss beyond :meth:`TrainingLoop.diverging`).

    ``History("loss", "val_accuracy")`` starts empty series; ``h.append(loss=0.3)`` extends them; ``h.loss`` is the
    series as a list, ``h["loss"]`` as an array; :meth:`end` copies the outcome of a :class:`TrainingLoop`.
    """

    @params(seconds=Real(ge=0), interrupted=Flag(), diverged=Flag())
    def __init__(self, *names, seconds: float = 0.0, interrupted: bool = False, diverged: bool = False, **series):
        self.series = {name: [] for name in names} | {k: list(v) for k, v in series.items()}
        self.seconds, self.interrupted, self.diverged = float(seconds), bool(interrupted), bool(diverged)

    def __getattr__(self, name):
        series = self.__dict__.get("series", {})
        if name in series:
            return series[name]
        raise AttributeError(f"History has no series {name!r}; it records {sorted(series)}")

    def __getitem__(self, name) -> np.ndarray:
        if name not in self.series:
            raise KeyError(f"History has no series {name!r}; it records {sorted(self.series)}")
        return np.array(self.series[name])

    def __contains__(self, name) -> bool:
        return name in self.series

    def __len__(self) -> int:
        """The number of recorded steps (of the longest series)."""
        return max((len(v) for v in self.series.values()), default=0)

    def __repr__(self) -> str:
        state = " interrupted" if self.interrupted else " diverged" if self.diverged else ""
        return f"History({', '.join(f'{k}: {len(v)}' for k, v in self.series.items())}; {self.seconds:.1f} s{state})"

    def append(self, **values) -> None:
        for name, value in values.items():
            self.series[name].append(value)

    @params(loop=Instance(TrainingLoop), seconds=Real(ge=0))
    def end(self, loop: "TrainingLoop", *, seconds: float = 0.0) -> "History":
        """Take ``loop``'s outcome (plus ``seconds`` spent before it, in an earlier run that was resumed)."""
        self.seconds, self.interrupted, self.diverged = seconds + loop.seconds, loop.interrupted, loop.diverged
        return self


class Trained:
    """For result dataclasses with a ``history`` (:class:`History`): its time and outcome as attributes."""

    @property
    def seconds(self) -> float:
        return self.history.seconds

    @property
    def interrupted(self) -> bool:
        return self.history.interrupted

    @property
    def diverged(self) -> bool:
        return self.history.diverged


def _unchecked(method):
    """The body of one of the package's declared methods without its parameter checks (``net._backward`` for
    ``net.backward``, ``optimizer._step`` for ``optimizer.step``), for loops whose arguments were checked once before
    the loop; ``method`` itself when it is another model's or has been replaced (a wrapper, a monkeypatch)."""
    private = _UNCHECKED.get(getattr(method, "__func__", None))
    return getattr(method.__self__, private) if private else method


_UNCHECKED = {Network.backward: "_backward", SGD.step: "_step", Adam.step: "_step"}


@params(Rule("labels_val", lambda X_val, labels_val: (X_val is None) == (labels_val is None),
             "X_val and labels_val go together: pass both to record the validation accuracy, or neither"),
        Rule("labels_val", lambda labels_val: _labels_ok(labels_val), _LABELS),
        net=_Model("params", "backward", "_check_XY"), X=Array(shape=("n", None)),
        Y=Array(shape=("n", None), ndim=(1, 2), hint="targets: one row per sample (1-D: one per sample)"),
        epochs=Integer(ge=1, le=1_000_000, typical=(1, 3), hint="train longer runs in chunks of epochs"),
        batch_size=Integer(ge=1, typical=(1, 8)), optimizer=Optional(Instance(SGD, Adam)), rng=Seed(),
        X_val=Optional(Array(shape=("m", None))), labels_val=Optional(_labels("m")), progress=Flag())
def train(net: Network, X, Y, *, epochs: int, batch_size: int = 32, optimizer=None, rng=None,
          X_val=None, labels_val=None, progress: bool = False) -> History:
    """Mini-batch training with back-propagation; returns the per-epoch :class:`History`.

    ``Y``: targets, one row per sample (for a softmax network 1-D integer class labels or 2-D one-hot rows;
    cross-entropy targets are probabilities); ``labels_val``: 1-D class labels or 2-D one-hot rows of ``X_val``,
    whose accuracy is recorded after each epoch. Each epoch visits the samples in a fresh random order from
    ``rng``. Ctrl-C stops training after the current mini-batch and returns what was learned; a loss that
    diverges (NaN, infinite or beyond 1e30) stops it with a warning (``History.diverged``).
    """
    X, Y = net._check_XY(X, Y)
    if X_val is not None:
        _accuracy(net, X_val, labels_val, "labels_val")        # refuse a wrong validation set before training
    optimizer = optimizer or Adam()
    rng = make_rng(rng)
    backward, step = _unchecked(net.backward), _unchecked(optimizer.step)
    hint = f"lower the learning rate (lr={optimizer.lr:g}) or rescale X and Y"
    history = History("loss", "val_accuracy")
    with TrainingLoop(epochs, progress=progress, desc="training") as loop:
        for _ in loop:
            order = rng.permutation(X.shape[0])
            total = 0.0
            for i in range(0, X.shape[0], batch_size):
                batch = order[i:i + batch_size]
                loss, grads = backward(X[batch], Y[batch])
                step(net.params, grads)
                total += loss * len(batch)
            history.loss.append(total / X.shape[0])
            if loop.diverging(history.loss[-1], hint=hint):
                break
            if X_val is not None:
                history.val_accuracy.append(_accuracy(net, X_val, labels_val, "labels_val"))
    return history.end(loop)




# ----------------------------------------------------------------------------- universal approximation

@params(x=Array(shape=("n",)), y=Array(shape=("n",)),
        width=Integer(ge=1, le=100_000, typical=(1, 4), hint="one hidden layer of this many units"),
        activation_name=Choice(*HIDDEN_ACTIVATIONS), restarts=Integer(ge=1, le=10_000, typical=(1, 2)),
        maxiter=Integer(ge=1, le=10_000_000, typical=(1, 30)), rng=Seed())
def fit_one_hidden_layer(x, y, width: int, *, activation_name: str = "tanh", restarts: int = 5,
                         maxiter: int = 5000, rng=None):
    """Least-squares fit of ``y(x)`` by one hidden layer of ``width`` units (Cybenko/Hornik form).

    Minimises the mean squared error with L-BFGS (scipy), using the
    back-propagation gradient, from ``restarts`` random starts; returns the best
    ``(network, mse)`` where ``mse = mean (f(x) - y)^2``.
    """
    from scipy.optimize import minimize

    rng = make_rng(rng)
    X, Y = x[:, None], y[:, None]
    best = (None, np.inf)
    for _ in range(restarts):
        net = Network([1, width, 1], activation=activation_name, output="identity", loss="mse", rng=rng)
        # spread the first layer so the units' transitions cover the data range
        net.params[0] = rng.normal(0, 5.0, net.params[0].shape)
        net.params[1] = -net.params[0][:, 0] * rng.uniform(x.min(), x.max(), width)

        def fun(theta, net=net):
            _set_flat_parameters(net.params, theta)
            loss, grads = net._backward(X, Y)
            return loss, np.concatenate([g.ravel() for g in grads])

        # One BLAS thread: L-BFGS-B's tiny vector operations otherwise wake (and, on a busy machine, wait for)
        # OpenBLAS's threads at every step - up to 50x slower, with the same numbers.
        with threadpool_limits(1):
            res = minimize(fun, net.get_flat(), jac=True, method="L-BFGS-B",
                           options={"maxiter": maxiter, "maxfun": 2 * maxiter, "ftol": 1e-16, "gtol": 1e-12})
        _set_flat_parameters(net.params, res.x)
        mse = float(np.mean((net._forward(X)[1][-1][:, 0] - y) ** 2))
        if mse < best[1]:
            best = (net, mse)
    if best[0] is None:
        raise FloatingPointError("fit_one_hidden_layer: every restart ended with a NaN or infinite mean squared error; "
                                 "rescale x and y to order one, or lower maxiter or width")
    return best
