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

import numpy as np

from .validate import positive


class _Arithmetic:
    """Operators derived from ``__add__``, ``__mul__``, ``__pow__`` and ``_lift`` (shared by Value and Dual)."""

    __slots__ = ()

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-self._lift(other))

    def __truediv__(self, other):
        return self * self._lift(other) ** -1

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

    def __init__(self, data, _parents=(), _local_grads=(), op=""):
        self.data = float(data)
        self.grad = 0.0
        self._parents = _parents
        self._local_grads = _local_grads  # d self / d parent, one per parent
        self.op = op

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def _lift(other):
        return other if isinstance(other, Value) else Value(other)

    # arithmetic: each op stores its local derivatives
    def __add__(self, other):
        other = self._lift(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        other = self._lift(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __pow__(self, exponent):
        if not isinstance(exponent, (int, float)):
            raise ValueError("Value ** exponent supports int or float exponents only")
        return Value(self.data**exponent, (self,), (exponent * self.data ** (exponent - 1),), f"**{exponent}")

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,), "exp")

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log of a non-positive number ({self.data})")
        return Value(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self):
        s = 0.5 * (1.0 + math.tanh(0.5 * self.data))
        return Value(s, (self,), (s * (1.0 - s),), "sigmoid")

    def relu(self):
        return Value(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,), "relu")

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

    def __init__(self, value, dot=0.0):
        self.value, self.dot = float(value), float(dot)

    @staticmethod
    def _lift(other):
        return other if isinstance(other, Dual) else Dual(other)

    def __add__(self, other):
        other = self._lift(other)
        return Dual(self.value + other.value, self.dot + other.dot)

    def __mul__(self, other):
        other = self._lift(other)
        return Dual(self.value * other.value, self.dot * other.value + self.value * other.dot)

    def __pow__(self, exponent):
        return Dual(self.value**exponent, exponent * self.value ** (exponent - 1) * self.dot)

    def exp(self):
        e = math.exp(self.value)
        return Dual(e, e * self.dot)

    def log(self):
        return Dual(math.log(self.value), self.dot / self.value)

    def tanh(self):
        t = math.tanh(self.value)
        return Dual(t, (1 - t * t) * self.dot)

    def sigmoid(self):
        s = 0.5 * (1.0 + math.tanh(0.5 * self.value))
        return Dual(s, s * (1 - s) * self.dot)

    def relu(self):
        return Dual(max(self.value, 0.0), self.dot if self.value > 0 else 0.0)

    def identity(self):
        return self


def reverse_gradient(f, x):
    """Gradient of scalar ``f`` at ``x`` by reverse mode: one forward run + one backward sweep."""
    nodes = [Value(v) for v in np.asarray(x, dtype=float).ravel()]
    out = f(nodes)
    out.backward()
    return np.array([n.grad for n in nodes])


def forward_gradient(f, x):
    """Gradient of scalar ``f`` at ``x`` by forward mode: one run per input direction."""
    x = np.asarray(x, dtype=float).ravel()
    grad = np.empty(x.size)
    for i in range(x.size):
        out = f([Dual(v, 1.0 if j == i else 0.0) for j, v in enumerate(x)])
        grad[i] = out.dot
    return grad


def central_differences(f, x, h: float = 1e-6, *, batched: bool = False):
    """Gradient of a scalar function of a float vector by central finite differences, error O(h^2): the package's
    one finite-difference helper for functions (:func:`mlphys.grid1d.central_difference` differentiates samples).

    ``batched=True``: ``x`` is (n, d) and ``f`` maps it row by row to (n,) values; returns the (n, d) gradients.
    """
    x = np.asarray(x, dtype=float)
    h = positive(h, "h")
    if batched:
        if x.ndim != 2:
            raise ValueError(f"batched=True needs x of shape (n, d), got {x.shape}")
        grad = np.empty_like(x)
        for a in range(x.shape[1]):
            e = np.zeros(x.shape[1])
            e[a] = h
            grad[:, a] = (f(x + e) - f(x - e)) / (2 * h)
        return grad
    grad = np.empty(x.size)
    flat = x.ravel()
    for i in range(flat.size):
        step = np.zeros_like(flat)
        step[i] = h
        grad[i] = (f((flat + step).reshape(x.shape)) - f((flat - step).reshape(x.shape))) / (2 * h)
    return grad


# ----------------------------------------------------------------------------- a network made of Values

def _number(x) -> float:
    """The plain float inside a Value, a Dual, or a number."""
    return x.data if isinstance(x, Value) else x.value if isinstance(x, Dual) else float(x)


def network_loss_scalar(params, X, Y, *, activation: str, output: str, loss: str, l2: float = 0.0):
    """Loss of :class:`mlphys.nn.Network` computed scalar by scalar, so ``params`` may hold Values or Duals.

    ``params`` is the list ``[W0, b0, W1, b1, ...]`` of nested Python lists (or
    object arrays) of scalars; the formulas are those of ``Network.loss_from_params``.
    """
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
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


def network_gradients_by_value(net, X, Y):
    """Gradients of ``net``'s loss by the scalar reverse-mode AD of :class:`Value`, shaped like ``net.params``."""
    nodes = [np.vectorize(Value, otypes=[object])(p) for p in net.params]
    params = [p.tolist() for p in nodes]
    out = network_loss_scalar(params, X, Y, activation=net.activation, output=net.output, loss=net.loss_name, l2=net.l2)
    out.backward()
    return out.data, [np.vectorize(lambda v: v.grad, otypes=[float])(p) for p in nodes]


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

    def deviation(grads):
        return float(np.max(np.abs(np.concatenate([np.ravel(g) for g in grads]) - flat)) / scale)

    Y2 = Y[:, None] if np.ndim(Y) == 1 else Y
    by_autograd = autograd.grad(lambda p: net.loss_from_params(p, X, Y2, xp=anp))(net.params)
    _, by_value = network_gradients_by_value(net, X, Y2)
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
