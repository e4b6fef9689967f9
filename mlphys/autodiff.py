"""Automatic differentiation from scratch: reverse mode (``Value``) and forward mode (``Dual``) (Chapter 3).

The lecture's "Central magic": a program that evaluates a function also knows,
operation by operation, the local derivatives of each step. Chaining them is
automatic differentiation (AD).

* **Reverse mode** (``Value``, as in micrograd): run the function once, recording
  a graph of scalar operations; then walk it backwards from the output,
  accumulating ``dOut/dnode = sum over children of dOut/dchild * dchild/dnode``.
  One backward sweep gives the derivative of one output with respect to *all*
  inputs - back-propagation is reverse-mode AD applied to a network.
* **Forward mode** (``Dual``): carry ``(value, derivative)`` pairs through the
  computation, ``(a, a') * (b, b') = (ab, a'b + ab')``. One sweep gives the
  derivatives of *all* outputs with respect to one input direction.

For ``f: R^n -> R^m`` reverse mode costs about ``m`` sweeps and forward mode ``n``:
a loss (m = 1) of many parameters wants reverse mode.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import nn
from .validate import (Anything, Array, Choice, Flag, Function, Instance, Real, Rule, Sequence, WrongType, _show,
                       finite, params, returned)


# -- the operations' domains: errors in the user's terms (a node of the graph), not Python's ----------------------

def _constant(other, kind: str) -> float:
    """A number combined with a Value or Dual, as float."""
    kind_of = type(other)
    if kind_of is float:                                      # the common cases first: they are on every operation
        value = other
    elif kind_of is int:
        value = float(other)
    elif isinstance(other, (str, bytes)) or not isinstance(other, (numbers.Real, np.ndarray)):
        raise WrongType(f"a {kind} combines with numbers and other {kind}s only, got {_show(other)}")
    else:
        value = float(other)
    if not math.isfinite(value):
        raise ValueError(f"a {kind} was combined with the constant {value}; constants must be finite numbers")
    return value


def _exponent(p, kind: str):
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real):
        raise WrongType(f"{kind} ** exponent supports int or float exponents only (a constant), got {_show(p)}")
    if not math.isfinite(p):
        raise ValueError(f"{kind} ** exponent needs a finite exponent, got {p}")
    return p if isinstance(p, (int, float)) else (int(p) if isinstance(p, numbers.Integral) else float(p))


def _overflow(x, p) -> str:
    return f"({x:g}) ** {p:g} overflows a float at this node; rescale the input"


def _power(x: float, p):
    """``(x ** p, d(x ** p)/dx)``, refusing the points where either is undefined or infinite (the checks cost nothing
    on the way through: Python raises or returns a complex number there)."""
    try:
        value = x**p
    except ZeroDivisionError:
        raise ValueError(f"0 ** {p:g}: a negative power of zero (a division by zero) at this node; the function is "
                         "not defined there") from None
    except OverflowError:
        raise FloatingPointError(_overflow(x, p)) from None
    if type(value) is complex:
        raise ValueError(f"({x:g}) ** {p:g}: a non-integer power of the negative value {x:g} at this node; the "
                         "function is not real there")
    try:
        slope = p * x ** (p - 1)
    except ZeroDivisionError:                                  # x = 0 with p < 1
        if p != 0:
            raise ValueError(f"0 ** {p:g}: the derivative {p:g} x^({p:g} - 1) is infinite at 0 (this node); the "
                             "function is not differentiable there") from None
        slope = 0.0
    except OverflowError:
        raise FloatingPointError(_overflow(x, p)) from None
    if not math.isfinite(slope):
        raise FloatingPointError(_overflow(x, p))
    return value, slope


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise FloatingPointError(f"exp({x:g}) overflows a float at this node (exp(x) > 1.8e308 for x > 709.78); "
                                 "rescale the input, or work with logarithms (log-sum-exp)") from None


def _log(x: float) -> float:
    if x <= 0:
        raise ValueError(f"log of a non-positive value {x:g} at this node; the function is not defined there")
    return math.log(x)


class _Arithmetic:
    """Operators derived from ``__add__``, ``__mul__``, ``__pow__`` and ``_lift`` (shared by Value and Dual)."""

    __slots__ = ()

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-self._lift(other))

    def __truediv__(self, other):
        return self * self._lift(other) ** -1           # a zero denominator: ** -1 says so

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return self._lift(other) - self

    def __rtruediv__(self, other):
        return self._lift(other) / self


class Value(_Arithmetic):
    """A scalar node of a computation graph that can back-propagate its gradient."""

    __slots__ = ("data", "grad", "_parents", "_local_grads", "op")

    @params(data=Real(hint="a Value holds one finite number"))
    def __init__(self, data):
        self.data = data
        self.grad = 0.0
        self._parents = ()
        self._local_grads = ()
        self.op = ""

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def _lift(other):
        return other if isinstance(other, Value) else _node(_constant(other, "Value"))

    # arithmetic: each op stores its local derivatives
    def __add__(self, other):
        other = self._lift(other)
        return _node(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        other = self._lift(other)
        return _node(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __pow__(self, exponent):
        if not (type(exponent) is int or type(exponent) is float) or not math.isfinite(exponent):
            exponent = _exponent(exponent, "Value")
        value, slope = _power(self.data, exponent)
        return _node(value, (self,), (slope,), f"**{exponent}")

    def exp(self):
        e = _exp(self.data)
        return _node(e, (self,), (e,), "exp")

    def log(self):
        return _node(_log(self.data), (self,), (1.0 / self.data,), "log")

    def tanh(self):
        t = math.tanh(self.data)
        return _node(t, (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self):
        s = 0.5 * (1.0 + math.tanh(0.5 * self.data))
        return _node(s, (self,), (s * (1.0 - s),), "sigmoid")

    def relu(self):
        return _node(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,), "relu")

    def identity(self):
        return self

    def backward(self):
        """Set ``.grad`` of every node to d(self)/d(node) by one reverse sweep in topological order."""
        order, seen = [], set()
        stack = [(self, False)]
        while stack:  # iterative depth-first search: deep graphs do not hit the recursion limit
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node._parents if id(p) not in seen)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            for parent, local in zip(node._parents, node._local_grads):
                parent.grad += local * node.grad


class Dual(_Arithmetic):
    """Forward-mode AD number ``value + dot * eps`` with ``eps^2 = 0``."""

    __slots__ = ("value", "dot")

    @params(value=Real(hint="a Dual holds one finite number"), dot=Real(hint="the derivative part"))
    def __init__(self, value, dot=0.0):
        self.value, self.dot = value, dot

    def __repr__(self):
        return f"Dual(value={self.value:.6g}, dot={self.dot:.6g})"

    @staticmethod
    def _lift(other):
        return other if isinstance(other, Dual) else _dual(_constant(other, "Dual"), 0.0)

    def __add__(self, other):
        other = self._lift(other)
        return _dual(self.value + other.value, self.dot + other.dot)

    def __mul__(self, other):
        other = self._lift(other)
        return _dual(self.value * other.value, self.dot * other.value + self.value * other.dot)

    def __pow__(self, exponent):
        if not (type(exponent) is int or type(exponent) is float) or not math.isfinite(exponent):
            exponent = _exponent(exponent, "Dual")
        value, slope = _power(self.value, exponent)
        return _dual(value, slope * self.dot)

    def exp(self):
        e = _exp(self.value)
        return _dual(e, e * self.dot)

    def log(self):
        return _dual(_log(self.value), self.dot / self.value)

    def tanh(self):
        t = math.tanh(self.value)
        return _dual(t, (1 - t * t) * self.dot)

    def sigmoid(self):
        s = 0.5 * (1.0 + math.tanh(0.5 * self.value))
        return _dual(s, s * (1 - s) * self.dot)

    def relu(self):
        return _dual(max(self.value, 0.0), self.dot if self.value > 0 else 0.0)

    def identity(self):
        return self


_new = object.__new__


def _node(data: float, parents=(), local_grads=(), op="") -> Value:
    """A Value made by an operation (undecorated: every operation of a graph makes one)."""
    node = _new(Value)
    node.data = data
    node.grad = 0.0
    node._parents = parents
    node._local_grads = local_grads  # d node / d parent, one per parent
    node.op = op
    return node


def _dual(value: float, dot: float) -> Dual:
    """A Dual made by an operation (undecorated)."""
    d = _new(Dual)
    d.value = value
    d.dot = dot
    return d


F_HINT = "f(nodes) takes the list of scalar nodes (one per entry of x) and returns one node computed from them"
DOMAIN = "f or its derivative is not finite at x: check f's domain"


@params(f=Function(hint=F_HINT), x=Array(ndim=(1, 0)))
def reverse_gradient(f, x):
    """Gradient of scalar ``f`` at ``x`` by reverse mode: one forward run + one backward sweep."""
    nodes = [_node(float(v)) for v in x.ravel()]
    out = f(nodes)
    if not isinstance(out, Value):
        raise WrongType(f"f must return one Value computed from its arguments, got {_show(out)}; {F_HINT}")
    finite(out.data, "f(x)", DOMAIN)
    out.backward()
    return finite(np.array([n.grad for n in nodes]), "the gradient of f(x)", DOMAIN)


@params(f=Function(hint=F_HINT), x=Array(ndim=(1, 0)))
def forward_gradient(f, x):
    """Gradient of scalar ``f`` at ``x`` by forward mode: one run per input direction."""
    x = x.ravel()
    grad = np.empty(x.size)
    for i in range(x.size):
        out = f([_dual(float(v), 1.0 if j == i else 0.0) for j, v in enumerate(x)])
        if not isinstance(out, Dual):
            raise WrongType(f"f must return one Dual computed from its arguments, got {_show(out)}; {F_HINT}")
        finite([out.value, out.dot], "f(x) or its derivative", DOMAIN)
        grad[i] = out.dot
    return grad


def _f_at(f, point, shape):
    """``f(point)``, which must be ``shape`` (one number, or one per row of a batch) and finite."""
    value = f(point)
    if np.shape(value) != shape:
        raise ValueError(f"f must return {'one number per row of x' if shape else 'one number'} (shape {shape}), got "
                         f"shape {np.shape(value)}")
    return returned(value, "f", shape)


@params(Rule("x", lambda x, batched: not batched or x.ndim == 2, "must be (n, d), one point per row, with "
             "batched=True"),
        f=Function(hint="f(x) returns one number (batched=True: one number per row of x)"), x=Array(ndim=(2, 1, 0)),
        h=Real(gt=0), batched=Flag())
def central_differences(f, x, h: float = 1e-6, *, batched: bool = False):
    """Gradient of a scalar function of a float vector by central finite differences, error O(h^2): the package's
    one finite-difference helper for functions (:func:`mlphys.grid1d.central_difference` differentiates samples).

    ``batched=True``: ``x`` is (n, d) and ``f`` maps it row by row to (n,) values; returns the (n, d) gradients.
    """
    if batched:
        grad = np.empty_like(x)
        for a in range(x.shape[1]):
            e = np.zeros(x.shape[1])
            e[a] = h
            grad[:, a] = (_f_at(f, x + e, x.shape[:1]) - _f_at(f, x - e, x.shape[:1])) / (2 * h)
        return grad
    grad = np.empty(x.size)
    flat = x.ravel()
    for i in range(flat.size):
        step = np.zeros_like(flat)
        step[i] = h
        up, down = (flat + step).reshape(x.shape), (flat - step).reshape(x.shape)
        grad[i] = (_f_at(f, up, ()) - _f_at(f, down, ())) / (2 * h)
    return grad


# ----------------------------------------------------------------------------- a network made of Values

def _number(x) -> float:
    """The plain float inside a Value, a Dual, or a number."""
    return x.data if isinstance(x, Value) else x.value if isinstance(x, Dual) else float(x)


def _layers_fit(params, X, Y) -> bool:
    """``params`` is ``[W0, b0, W1, b1, ...]`` with ``W_l`` of shape (len(b_l), inputs), from X's columns to Y's."""
    if len(params) % 2:
        return False
    n_in = X.shape[1]
    for W, b in zip(params[0::2], params[1::2]):
        try:
            rows = [len(row) for row in W]
            n_out = len(b)
        except TypeError:
            return False
        if len(rows) != n_out or any(r != n_in for r in rows):
            return False
        n_in = n_out
    return n_in == Y.shape[1]


@params(Rule("params", lambda params: _holds_nodes(params), "entries must be Value or Dual nodes (e.g. "
             "[[Value(w) for w in row] for row in W]); for plain float arrays use nn.Network.loss_from_params"),
        Rule("params", _layers_fit, "must be [W0, b0, W1, b1, ...] with W_l of shape (len(b_l), inputs): from the "
             "columns of X to the columns of Y"),
        Rule("loss", lambda loss, output: loss != "cross_entropy" or output != "identity",
             "'cross_entropy' needs probabilities: output 'sigmoid' or 'softmax'"),
        params=Sequence(Anything("nested lists or object arrays of numbers, Value or Dual nodes"), min_length=2),
        X=Array(shape=("n", None)), Y=Array(shape=("n", None)), activation=Choice(*nn.HIDDEN_ACTIVATIONS),
        output=Choice(*nn.OUTPUT_ACTIVATIONS), loss=Choice(*nn.LOSSES), l2=Real(ge=0))
def network_loss_scalar(params, X, Y, *, activation: str, output: str, loss: str, l2: float = 0.0):
    """Loss of :class:`mlphys.nn.Network` computed scalar by scalar, so ``params`` may hold Values or Duals.

    ``params`` is the list ``[W0, b0, W1, b1, ...]`` of nested Python lists (or
    object arrays) of scalars; the formulas are those of ``Network.loss_from_params``.
    """
    return _network_loss_scalar(params, X, Y, activation, output, loss, l2)


def _holds_nodes(params):
    try:
        first = np.asarray(params[0], dtype=object).flat[0]
    except (TypeError, ValueError, IndexError):
        return False
    return hasattr(first, "exp") and hasattr(first, "log")


def _network_loss_scalar(params, X, Y, activation, output, loss, l2):
    n_layers = len(params) // 2
    total = 0.0
    for x, y in zip(X, Y):
        a = list(x)
        for l in range(n_layers):
            W, b = params[2 * l], params[2 * l + 1]
            z = [sum((a[i] * W[j][i] for i in range(len(a))), b[j]) for j in range(len(b))]
            name = activation if l < n_layers - 1 else output
            if name == "softmax":
                zmax = max(_number(zj) for zj in z)  # a constant shift: it needs no derivative
                e = [(zj - zmax).exp() for zj in z]
                s = sum(e[1:], e[0])
                a = [ej / s for ej in e]
            else:
                a = [getattr(zj, name)() for zj in z]
        if loss == "mse":
            total = total + sum(((aj - yj) ** 2 for aj, yj in zip(a, y)), 0.0) * 0.5
        elif output == "softmax":
            total = total - sum((yj * aj.log() for aj, yj in zip(a, y) if yj != 0), 0.0)
        else:
            total = total - sum((yj * aj.log() + (1 - yj) * (1 - aj).log() for aj, yj in zip(a, y)), 0.0)
    total = total / len(X)
    if l2:
        total = total + 0.5 * l2 * sum((w * w for W in params[0::2] for row in W for w in row), 0.0)
    return total


#: a network and data it fits: X has the input layer's width, Y one column per output unit (or one entry per row
#: for a single output)
NET = dict(net=Instance(nn.Network), X=Array(shape=("n", None)), Y=Array(shape=("n", None), ndim=(2, 1)))
NET_RULES = (Rule("X", lambda net, X: X.shape[1] == net.sizes[0], "needs one column per input unit of net"),
             Rule("Y", lambda net, Y: (Y.shape[1] if Y.ndim == 2 else 1) == net.sizes[-1],
                  "needs one column per output unit of net"))


def _network_gradients_by_value(net, X, Y):
    nodes = [np.vectorize(lambda v: _node(float(v)), otypes=[object])(p) for p in net.params]
    params = [p.tolist() for p in nodes]
    out = _network_loss_scalar(params, X, Y, net.activation, net.output, net.loss_name, net.l2)
    out.backward()
    return out.data, [np.vectorize(lambda v: v.grad, otypes=[float])(p) for p in nodes]


@params(*NET_RULES, **NET)
def network_gradients_by_value(net, X, Y):
    """Gradients of ``net``'s loss by the scalar reverse-mode AD of :class:`Value`, shaped like ``net.params``."""
    return _network_gradients_by_value(net, X, Y[:, None] if Y.ndim == 1 else Y)


@params(*NET_RULES, **NET, h=Real(gt=0))
def gradient_agreement(net, X, Y, *, h: float = 1e-6) -> dict:
    """Largest relative deviation of three independent gradients from ``net.backward`` (back-propagation).

    Compares with ``autograd.grad`` of the same loss, the scalar reverse-mode AD
    of :class:`Value`, and central finite differences with step ``h``. The
    deviation is ``max |g - g_backprop| / max |g_backprop|`` over all parameters.
    """
    import autograd
    import autograd.numpy as anp

    _, backprop = net.backward(X, Y)
    flat = np.concatenate([g.ravel() for g in backprop])
    scale = np.max(np.abs(flat))
    if not scale > 0:
        raise ValueError("the back-propagated gradient is zero for this net, X and Y: relative deviations are "
                         "undefined; pick other data or parameters")

    def deviation(grads):
        return float(np.max(np.abs(np.concatenate([np.ravel(g) for g in grads]) - flat)) / scale)

    Y2 = Y[:, None] if np.ndim(Y) == 1 else Y
    by_autograd = autograd.grad(lambda p: net.loss_from_params(p, X, Y2, xp=anp))(net.params)
    _, by_value = _network_gradients_by_value(net, X, Y2)
    theta0 = net.get_flat()

    def loss_at(theta):
        net.set_flat(theta)
        return net.loss(X, Y2)

    try:
        by_fd = central_differences(loss_at, theta0, h=h)
    finally:
        net.set_flat(theta0)
    return {"autograd": deviation(by_autograd), "scalar reverse-mode AD (Value)": deviation(by_value),
            "central finite differences": deviation([by_fd])}
