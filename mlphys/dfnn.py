"""Analytical input and parameter derivatives of deep feed-forward networks (Chapters 7-8, Rodini Sec. 2).

A DFNN with layers ``l = 0..L`` (paper Eqs. 1-2)::

    z^(l) = b^(l) + W^(l) y^(l-1),    y^(l) = sigma_l(z^(l)),    y^(0) = xi (identity input layer),

``sigma_l`` = tanh, sigmoid or softplus for the hidden layers and the identity for
the output layer. Rodini's recursion (Eqs. 3-21) gives, for every point ``xi``,

* the outputs ``O_k``, their input gradient ``d_a O_k`` and Hessian ``d_a d_b O_k``
  (full, or only its diagonal ``d_a d_a O_k``: the cheaper mode of Sec. 5);
* the gradient of each of these with respect to every weight and bias.

How it works, in the paper's notation. The **forward sweep** carries ``y^(l)``,
its input derivatives ``d_a y^(l)`` and ``d_a d_b y^(l)`` (Eqs. 7-8, 17) and the
input derivatives of ``ydot^(l) = sigma_l'(z^(l))`` (Eq. 7 with ``n = 1``, which
needs ``sigma'''`` for the Hessian). The **backward sweep** is the Sigma recursion:
``Sigma^(l)_{ki} = dO_k / dy^(l)_i`` with ``Sigma^(L) = 1`` (Eq. 5),

    G^(l) = Sigma^(l) * ydot^(l)    (= dO/dz^(l): the bias gradient, Eq. 3),
    Sigma^(l-1) = G^(l) W^(l),

and the same recursion differentiated once (Eqs. 12-14) and twice (Eqs. 18-21)
with respect to the inputs, by the product rule:

    d_a G      = d_a Sigma * ydot + Sigma * d_a ydot,
    d_ab G     = d_ab Sigma * ydot + d_a Sigma * d_b ydot + d_b Sigma * d_a ydot + Sigma * d_ab ydot,
    d_a Sigma^(l-1) = d_a G^(l) W^(l),    d_ab Sigma^(l-1) = d_ab G^(l) W^(l).

``G, d_a G, d_ab G`` are the bias gradients of ``O, d_a O, d_ab O``; the weight
gradients follow from ``dO/dW_ij = G_i y_j`` by the product rule (Eqs. 3, 6, 16):

    d(d_a O)/dW_ij  = d_a G_i y_j + G_i d_a y_j,
    d(d_ab O)/dW_ij = d_ab G_i y_j + d_a G_i d_b y_j + d_b G_i d_a y_j + G_i d_ab y_j.

Everything is vectorised over a batch of points. :meth:`DFNN.jacobians` returns
these per point; :meth:`DFNN.vjp` contracts them at once with per-point weights
(what a loss such as an energy functional needs), never forming the per-point
tensors - that is the fast path. :func:`output` is the same network written for
autograd, the oracle of the tests.

Array conventions (B points, N0 inputs, NL outputs): values ``(B, NL)``,
gradients ``(B, NL, N0)``, Hessians ``(B, NL, N0, N0)``, Hessian diagonals ``(B, NL, N0)``.
Weights ``W^(l)`` have shape ``(N_l, N_{l-1})`` as the paper's ``omega^(l)_{kj}``.
"""
from __future__ import annotations

import functools
import importlib.util
import time
import warnings
from dataclasses import dataclass

import numpy as np

from .config import make_rng
from .nn import activation as activation_function, activation_derivatives, flat_parameters, set_flat_parameters
from .validate import (Anything, Array, Choice, Flag, Function, Instance, Integer, Optional, Rule, Seed, Sequence,
                       params, returned)

#: The smooth activations of :data:`mlphys.nn.ACTIVATIONS` (the recursion needs three derivatives).
ACTIVATIONS = ("tanh", "sigmoid", "softplus")
MODES = ("first", "diag", "full")
ENGINES = ("auto", "numpy", "numba")

# points: (B, N0); 1-D is B points of a one-input network, or one point of a network with N0 inputs
POINTS = Array(ndim=(2, 1), min_size=0,     # an empty batch is allowed (a minibatch of nothing)
               hint="points of shape (B, N0); 1-D: B points of a one-input network, or one point")
SIZES = Sequence(Integer(ge=1, typical=(1, 4)), min_length=2,
                 hint="needs at least an input and an output layer, e.g. (1, 10, 1)")
XP = Anything("an array module: numpy, or autograd.numpy for the oracle")


def _n_columns(n_inputs, X):
    """The number of inputs the points ``X`` give (see :data:`POINTS`)."""
    if X.ndim == 2:
        return X.shape[1]
    return 1 if n_inputs == 1 else X.size


def _points(n_inputs, X):
    """``X`` as ``(B, N0)``: a 1-D ``X`` is a column for a one-input network, else one point."""
    if X.ndim == 1:
        X = X[:, None] if n_inputs == 1 else X[None, :]
    return X


COLUMNS = "must have one column per network input (sizes[0]); 1-D: B points of a one-input network, or one point"
INPUTS = Rule("X", lambda self, X: _n_columns(self.sizes[0], X) == self.sizes[0], COLUMNS)


@functools.cache
def compiled_kernel():
    """:mod:`mlphys.dfnn_compiled`, or None when numba is not installed or does not import (then with a warning).

    Looked up once, on first use (importing numba takes ~0.5 s).
    """
    if importlib.util.find_spec("numba") is None:
        return None
    try:
        from . import dfnn_compiled
    except ImportError as error:
        warnings.warn(f"numba is installed but does not import ({error}); DFNN.vjp uses its NumPy engine",
                      RuntimeWarning, stacklevel=2)
        return None
    return dfnn_compiled


def _matmul(A, M):
    """``A @ M`` over the last axis of ``A`` as one 2-D product (numpy's batched matmul of tiny matrices is slow)."""
    return (A.reshape(-1, A.shape[-1]) @ M).reshape(A.shape[:-1] + (M.shape[1],))


def _layers_ok(params):
    """params is an even-length list of (W_k (n_out, n_in), b_k (n_out,)) pairs whose sizes chain."""
    try:
        if len(params) < 2 or len(params) % 2:
            return False
        n_in = None
        for W, b in zip(params[0::2], params[1::2]):
            sw, sb = np.shape(W), np.shape(b)
            if len(sw) != 2 or sb != (sw[0],) or (n_in is not None and sw[1] != n_in):
                return False
            n_in = sw[0]
        return True
    except TypeError:
        return False


PARAMS_LIST = Rule("params", _layers_ok, "must be the even-length list [W1, b1, W2, b2, ...] of (W_k, b_k) pairs, "
                   "W_k of shape (n_out, n_in) with n_in = the previous layer's n_out and b_k of shape (n_out,)")
PARAMS_X = Rule("X", lambda params, X: np.ndim(X) >= 1 and np.shape(X)[-1] == np.shape(params[0])[1],
                "must have as many columns as the first layer's inputs (params[0].shape[1])")


@params(PARAMS_LIST, PARAMS_X,
        params=Anything("the list [W1, b1, W2, b2, ...]; autograd's boxes when differentiated"),
        X=Anything("(B, N0) points, or autograd's box of them"), activation=Choice(*ACTIVATIONS), xp=XP)
def output(params, X, activation: str = "tanh", xp=np):
    """The network value ``O(X)`` from a flat list ``[W1, b1, W2, b2, ...]``, written over ``xp`` for autograd."""
    return _output(params, X, activation, xp)


def _output(params, X, activation="tanh", xp=np):
    y = X
    n_layers = len(params) // 2
    for l in range(n_layers):
        z = xp.dot(y, params[2 * l].T) + params[2 * l + 1]
        y = z if l == n_layers - 1 else activation_function(activation, z, xp)
    return y


@dataclass
class Derivatives:
    """Network outputs and their input derivatives at a batch of points (``hessian`` or ``hessian_diag`` by mode)."""

    value: np.ndarray
    gradient: np.ndarray
    hessian: np.ndarray | None = None
    hessian_diag: np.ndarray | None = None

    @property
    def laplacian(self) -> np.ndarray:
        """``sum_a d_a d_a O_k``, shape ``(B, NL)``."""
        if self.hessian_diag is not None:
            return self.hessian_diag.sum(axis=-1)
        return np.trace(self.hessian, axis1=-2, axis2=-1)


_derivatives_init = Derivatives.__init__


def _derivatives(value, gradient, hessian=None, hessian_diag=None) -> Derivatives:
    """A :class:`Derivatives` of arrays computed here (the sweeps' results go out unchecked and uncopied)."""
    deriv = object.__new__(Derivatives)
    _derivatives_init(deriv, value, gradient, hessian, hessian_diag)
    return deriv


Derivatives.__init__ = params(value=Array(shape=("B", "NL")), gradient=Array(shape=("B", "NL", "N0")),
                              hessian=Optional(Array(shape=("B", "NL", "N0", "N0"))),
                              hessian_diag=Optional(Array(shape=("B", "NL", "N0"))))(Derivatives.__init__)


COTANGENT = ("cotangent(deriv) -> (c0, c1, c2): weights on the values (B, NL), the gradients (B, NL, N0) or None and "
             "the Hessian (diagonal) or None")


class DFNN:
    """Deep feed-forward network ``sizes = (N0, N1, ..., NL)`` with analytic derivatives.

    Parameters live in ``self.params = [W1, b1, ..., WL, bL]`` (the list the
    optimisers of :mod:`mlphys.nn` update in place). Weights are drawn from
    ``N(0, 1/N_{l-1})`` and biases from ``N(0, 0.1^2)`` drawn from ``rng`` (int, None or Generator).
    """

    @params(sizes=SIZES, activation=Choice(*ACTIVATIONS), rng=Seed())
    def __init__(self, sizes, activation: str = "tanh", *, rng=0):
        sizes = tuple(sizes)
        self.sizes, self.activation = sizes, activation
        rng = make_rng(rng)
        self.params = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            self.params += [rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_out, n_in)), rng.normal(0.0, 0.1, n_out)]

    # ------------------------------------------------------------------ parameters
    @property
    def n_layers(self) -> int:
        """``L``: the number of weight layers."""
        return len(self.sizes) - 1

    @property
    def n_params(self) -> int:
        return sum(p.size for p in self.params)

    def get_flat(self) -> np.ndarray:
        return flat_parameters(self.params)

    @params(theta=Array(shape=("self.n_params",), hint="one number per parameter, as get_flat() returns them"))
    def set_flat(self, theta) -> None:
        set_flat_parameters(self.params, theta)

    def _points(self, X):
        return _points(self.sizes[0], X)

    def __call__(self, X) -> np.ndarray:
        """Network values ``(B, NL)``."""
        return _output(self.params, _CALL(self, X), self.activation)

    # ------------------------------------------------------------------ forward sweep (Eqs. 2, 7-9, 17)
    def _forward(self, X, mode):
        B, N0 = X.shape
        y = X
        dy = np.broadcast_to(np.eye(N0), (B, N0, N0))
        d2y = None if mode == "first" else np.zeros((B, N0, N0, N0) if mode == "full" else (B, N0, N0))
        layers = []
        for l in range(self.n_layers):
            W, b = self.params[2 * l], self.params[2 * l + 1]
            name = "identity" if l == self.n_layers - 1 else self.activation
            z = y @ W.T + b
            dz = _matmul(dy, W.T)                                          # (B, N0, N_l): d_a z
            s = activation_derivatives(name, z, 2 if mode == "first" else 3)
            cache = dict(y=y, dy=dy, d2y=d2y, ydot=s[1], dydot=s[2][:, None, :] * dz)
            y = s[0]
            new_dy = s[1][:, None, :] * dz
            if mode != "first":
                d2z = _matmul(d2y, W.T)
                if mode == "full":
                    dzdz = dz[:, :, None, :] * dz[:, None, :, :]
                    d2y = s[2][:, None, None, :] * dzdz + s[1][:, None, None, :] * d2z
                    cache["d2ydot"] = s[3][:, None, None, :] * dzdz + s[2][:, None, None, :] * d2z
                else:
                    d2y = s[2][:, None, :] * dz * dz + s[1][:, None, :] * d2z
                    cache["d2ydot"] = s[3][:, None, :] * dz * dz + s[2][:, None, :] * d2z
            dy = new_dy
            layers.append(cache)
        deriv = _derivatives(y, np.swapaxes(dy, 1, 2))
        if mode == "full":
            deriv.hessian = np.moveaxis(d2y, 3, 1)
        elif mode == "diag":
            deriv.hessian_diag = np.swapaxes(d2y, 1, 2)
        return deriv, layers

    # ------------------------------------------------------------------ backward sweep: the Sigma recursion
    def _backward(self, layers, mode):
        """Yield ``(l, G, dG, d2G)`` from the output layer down (Eqs. 5, 12-14, 18-21)."""
        B = layers[0]["y"].shape[0]
        N0, NL = self.sizes[0], self.sizes[-1]
        sigma = np.broadcast_to(np.eye(NL), (B, NL, NL))             # Sigma^(L) = delta (Eq. 5)
        dsigma = np.zeros((B, N0, NL, NL))                            # Eq. 14
        d2sigma = None
        if mode == "full":
            d2sigma = np.zeros((B, N0, N0, NL, NL))                   # Eq. 21
        elif mode == "diag":
            d2sigma = np.zeros((B, N0, NL, NL))
        for l in range(self.n_layers - 1, -1, -1):
            c = layers[l]
            ydot, dydot = c["ydot"], c["dydot"]
            G = sigma * ydot[:, None, :]
            dG = dsigma * ydot[:, None, None, :] + sigma[:, None] * dydot[:, :, None, :]
            d2G = None
            if mode == "full":
                d2ydot = c["d2ydot"]
                cross = dsigma[:, :, None] * dydot[:, None, :, None, :]      # d_a Sigma * d_b ydot
                d2G = (d2sigma * ydot[:, None, None, None, :] + cross + np.swapaxes(cross, 1, 2)
                       + sigma[:, None, None] * d2ydot[:, :, :, None, :])
            elif mode == "diag":
                d2G = (d2sigma * ydot[:, None, None, :] + 2.0 * dsigma * dydot[:, :, None, :]
                       + sigma[:, None] * c["d2ydot"][:, :, None, :])
            yield l, G, dG, d2G
            if l > 0:
                W = self.params[2 * l]
                sigma, dsigma = _matmul(G, W), _matmul(dG, W)
                d2sigma = None if d2G is None else _matmul(d2G, W)

    # ------------------------------------------------------------------ public API
    @params(INPUTS, X=POINTS, mode=Choice(*MODES))
    def derivatives(self, X, mode: str = "full") -> Derivatives:
        """Values, input gradients and (full or diagonal) Hessians at the points ``X`` (forward sweep only)."""
        return self._forward(self._points(X), mode)[0]

    @params(INPUTS, X=POINTS, mode=Choice(*MODES))
    def jacobians(self, X, mode: str = "full"):
        """Per-point parameter gradients of ``O``, ``d_a O`` and (mode ``diag``/``full``) the Hessian.

        Returns ``(deriv, grads)``; ``grads`` is a list parallel to ``self.params`` of
        dicts with keys ``value`` ``(B, NL, *p.shape)``, ``gradient`` ``(B, NL, N0, *p.shape)``
        and ``hessian`` ``(B, NL, N0, N0, *p.shape)`` or ``hessian_diag`` ``(B, NL, N0, *p.shape)``.
        """
        deriv, layers = self._forward(self._points(X), mode)
        grads = [None] * len(self.params)
        for l, G, dG, d2G in self._backward(layers, mode):
            c = layers[l]
            y, dy = c["y"], c["dy"]
            gW = {"value": G[..., None] * y[:, None, None, :]}
            gb = {"value": G}
            # d(d_a O)/dW_ij = d_a G_i y_j + G_i d_a y_j; stored as (B, NL, N0, i, j)
            dGk = np.swapaxes(dG, 1, 2)                                       # (B, NL, N0, N_l)
            gW["gradient"] = (dGk[..., None] * y[:, None, None, None, :]
                              + G[:, :, None, :, None] * dy[:, None, :, None, :])
            gb["gradient"] = dGk
            if mode == "full":
                d2Gk = np.moveaxis(d2G, 3, 1)                                 # (B, NL, N0, N0, N_l)
                d2y = c["d2y"]
                cross = dGk[:, :, :, None, :, None] * dy[:, None, None, :, None, :]   # d_a G_i d_b y_j
                gW["hessian"] = (d2Gk[..., None] * y[:, None, None, None, None, :] + cross
                                 + np.swapaxes(cross, 2, 3)
                                 + G[:, :, None, None, :, None] * d2y[:, None, :, :, None, :])
                gb["hessian"] = d2Gk
            elif mode == "diag":
                d2Gk = np.swapaxes(d2G, 1, 2)
                d2y = c["d2y"]
                gW["hessian_diag"] = (d2Gk[..., None] * y[:, None, None, None, :]
                                      + 2.0 * dGk[..., None] * dy[:, None, :, None, :]
                                      + G[:, :, None, :, None] * d2y[:, None, :, None, :])
                gb["hessian_diag"] = d2Gk
            grads[2 * l], grads[2 * l + 1] = gW, gb
        return deriv, grads

    @params(INPUTS, Rule("engine", lambda engine: engine != "numba" or compiled_kernel() is not None,
                         'engine="numba" needs numba: pip install "mlphys[fast]", or use engine="numpy"'),
            X=POINTS, cotangent=Function(COTANGENT), mode=Choice(*MODES), engine=Choice(*ENGINES))
    def vjp(self, X, cotangent, mode: str = "diag", *, engine: str = "auto"):
        """See :meth:`vjp_general`; one input and one output (the 1D problems of Sec. 4) take a lean path.

        ``engine`` (for that path; other networks take :meth:`vjp_general`): ``"numpy"`` is :meth:`_vjp_scalar`,
        the reference; ``"numba"`` is the same recursion compiled (:mod:`mlphys.dfnn_compiled`, 2-3x faster on
        two cores, needs ``pip install "mlphys[fast]"``); ``"auto"`` takes numba when it is installed.
        """
        return self._vjp(X, cotangent, mode, engine)

    def _vjp(self, X, cotangent, mode="diag", engine="auto"):
        """:meth:`vjp` without the checks of its arguments (for training loops that checked them once)."""
        compiled = None if engine == "numpy" else compiled_kernel()
        if engine == "numba" and compiled is None:
            raise ValueError('engine="numba" needs numba: pip install "mlphys[fast]", or use engine="numpy"')
        X = self._points(np.asarray(X, dtype=float))
        if self.sizes[0] == 1 and self.sizes[-1] == 1 and mode in ("diag", "full"):
            if compiled is None:
                return self._vjp_scalar(X, cotangent, mode)
            return self._vjp_scalar_compiled(compiled, X, cotangent, mode)
        return self._vjp_general(X, cotangent, mode)

    @staticmethod
    def _scalar_derivatives(value, gradient, second, mode):
        """:class:`Derivatives` of a one-input, one-output network from ``(B,)`` arrays of O, O' and O''."""
        deriv = _derivatives(value[:, None], gradient[:, None, None])
        if mode == "full":
            deriv.hessian = second[:, None, None, None]
        else:
            deriv.hessian_diag = second[:, None, None]
        return deriv

    @staticmethod
    def _scalar_cotangent(cotangents, B):
        """The cotangents on O, O', O'' of a one-input, one-output network as ``(B,)`` arrays (None stays None)."""
        if len(cotangents) != 3 or any(c is not None and np.size(c) != B for c in cotangents):
            raise ValueError(f"cotangent must return (c0, c1, c2), each None or one number per point ({B}), got "
                             f"sizes {[None if c is None else np.size(c) for c in cotangents]}")
        return [None if c is None else np.reshape(c, B) for c in cotangents]

    def _vjp_scalar_compiled(self, kernel, X, cotangent, mode):
        """:meth:`_vjp_scalar` by the compiled ``kernel``: outputs, the cotangent, then the gradient sweep.

        The network keeps the kernel's :class:`~mlphys.dfnn_compiled.Workspace` for the last number of points
        (34 MB for the paper's network at 10^4 points): fresh memory would cost as much as the step saves.
        """
        derivs = []

        def weights(out):
            derivs.append(self._scalar_derivatives(out[0], out[1], out[2], mode))
            c = np.zeros_like(out)
            for k, ck in enumerate(self._scalar_cotangent(cotangent(derivs[0]), out.shape[1])):
                if ck is not None:
                    c[k] = ck
            return c

        ws = self.__dict__.get("_workspace")
        if ws is None or not ws._fits(self.sizes, X.shape[0]):
            ws = self._workspace = kernel.Workspace(self.sizes, X.shape[0])
        _, grads = kernel._vjp(self.params, self.activation, X[:, 0], weights, workspace=ws)
        return derivs[0], grads

    def __getstate__(self):
        """Pickles and copies leave out the compiled engine's scratch memory (``_workspace``)."""
        return {k: v for k, v in self.__dict__.items() if k != "_workspace"}

    def _vjp_scalar(self, X, cotangent, mode):
        """:meth:`vjp_general` for N0 = NL = 1, in feature-major layout with one matrix product per layer.

        Each layer keeps ``Y = [y | y' | y'']`` as one ``(N_l, 3B)`` array, so
        ``W @ Y`` propagates the value and both input derivatives at once; the
        backward sweep stacks ``G = [G | G' | G'']`` the same way and the weight
        gradient of a layer is one product ``[g_z | a_1 | a_2] @ Y^T``.
        """
        B = X.shape[0]
        L = self.n_layers
        Y = np.zeros((1, 3 * B))
        Y[0, :B], Y[0, B:2 * B] = X[:, 0], 1.0
        cache = []
        for l in range(L):
            W, b = self.params[2 * l], self.params[2 * l + 1]
            Z = W @ Y
            Z[:, :B] += b[:, None]
            if l == L - 1:                                             # identity output layer
                cache.append((Y, None))
                Y = Z
                break
            z, dz, d2z = Z[:, :B], Z[:, B:2 * B], Z[:, 2 * B:]
            s0, s1, s2, s3 = activation_derivatives(self.activation, z)
            dz2 = dz * dz
            D = np.empty((3,) + z.shape)                               # ydot and its two input derivatives
            np.multiply(s2, dz, out=D[1])
            np.multiply(s3, dz2, out=D[2])
            D[2] += s2 * d2z
            D[0] = s1
            cache.append((Y, D))
            Y = np.empty_like(Z)
            Y[:, :B] = s0
            np.multiply(s1, dz, out=Y[:, B:2 * B])
            np.multiply(s2, dz2, out=Y[:, 2 * B:])
            Y[:, 2 * B:] += s1 * d2z
        deriv = self._scalar_derivatives(Y[0, :B].copy(), Y[0, B:2 * B].copy(), Y[0, 2 * B:].copy(), mode)
        c0, c1, c2 = self._scalar_cotangent(cotangent(deriv), B)
        c2 = np.zeros(B) if c2 is None else c2
        grads = [None] * len(self.params)
        S = np.zeros((1, 3 * B))                                      # [Sigma | Sigma' | Sigma'']
        S[0, :B] = 1.0
        for l in range(L - 1, -1, -1):
            Yp, D = cache[l]
            if D is None:
                G = S
            else:
                sg, dsg, d2sg = S[:, :B], S[:, B:2 * B], S[:, 2 * B:]
                G = np.empty_like(S)
                np.multiply(sg, D[0], out=G[:, :B])
                np.multiply(dsg, D[0], out=G[:, B:2 * B])
                G[:, B:2 * B] += sg * D[1]
                np.multiply(d2sg, D[0], out=G[:, 2 * B:])
                G[:, 2 * B:] += 2.0 * dsg * D[1]
                G[:, 2 * B:] += sg * D[2]
            g, dg, d2g = G[:, :B], G[:, B:2 * B], G[:, 2 * B:]
            A = np.empty_like(G)                                       # cotangents on [y | y' | y''] of layer l-1
            np.multiply(c0, g, out=A[:, :B])
            A[:, :B] += c2 * d2g
            np.multiply(2.0 * c2, dg, out=A[:, B:2 * B])
            np.multiply(c2, g, out=A[:, 2 * B:])
            if c1 is not None:
                A[:, :B] += c1 * dg
                A[:, B:2 * B] += c1 * g
            grads[2 * l], grads[2 * l + 1] = A @ Yp.T, A[:, :B].sum(axis=1)
            if l > 0:
                S = self.params[2 * l].T @ G
        return deriv, grads

    @params(INPUTS, X=POINTS, cotangent=Function("cotangent(value (B,), gradient (B, N0)) -> (c0 (B,), c1 (B, N0) "
                                                 "or None)"), input_gradient=Flag())
    def vjp_first(self, X, cotangent, *, input_gradient: bool = True):
        """:meth:`vjp_general` in mode ``first`` for one output, the fast path (used by :mod:`mlphys.mpnn`).

        Feature-major like :meth:`vjp`: a layer keeps ``[y | d_1 y | ... | d_N0 y]`` as one
        ``(N_l, (1 + N0) B)`` array, so the forward sweep is one product per layer, and the
        backward sweep is reverse mode through that stacked forward sweep: with adjoints
        ``zbar`` of ``z`` and ``dzbar_a`` of ``d_a z``,

            zbar = ybar sigma' + sum_a dybar_a sigma'' d_a z,   dzbar_a = dybar_a sigma',
            Wbar = [zbar | dzbar_1 | ...] @ [y | d_1 y | ...]^T,   [ybar | dybar] = W^T [zbar | dzbar].

        ``cotangent(value (B,), gradient (B, N0))`` returns ``(c0 (B,), c1 (B, N0) or None)``.
        Returns ``(value, gradient, grads)``. ``input_gradient=False``: plain back-propagation of the value
        alone (no tangents carried, ``1 + N0`` times less work); ``cotangent`` then gets ``gradient=None``
        and must return ``c1=None``, and so is the returned gradient.
        """
        return self._vjp_first(X, cotangent, input_gradient=input_gradient)

    def _vjp_first(self, X, cotangent, *, input_gradient=True):
        """:meth:`vjp_first` without the checks of its arguments (for training loops that checked them once)."""
        X = self._points(np.asarray(X, dtype=float))
        if self.sizes[-1] != 1:
            raise ValueError(f"vjp_first needs one output, the network has {self.sizes[-1]}; use vjp_general")
        B, N0 = X.shape
        nt = N0 if input_gradient else 0                               # tangents carried
        L = self.n_layers
        Y = np.zeros((N0, (1 + nt) * B))
        Y[:, :B] = X.T
        for a in range(nt):
            Y[a, (1 + a) * B:(2 + a) * B] = 1.0
        cache = []
        for l in range(L):
            W, b = self.params[2 * l], self.params[2 * l + 1]
            Z = W @ Y
            Z[:, :B] += b[:, None]
            cache.append(Y)
            if l == L - 1:
                break
            s0, s1, s2 = activation_derivatives(self.activation, Z[:, :B], 2)
            cache[-1] = (Y, Z[:, B:], s1, s2)
            Y = Z                                                      # in place: Z[:, B:] is kept in cache
            cache[-1] = (cache[-1][0], Z[:, B:].copy(), s1, s2)
            Y[:, :B] = s0
            if nt:
                dY = Y[:, B:].reshape(-1, nt, B)
                dY *= s1[:, None, :]
        value = Z[0, :B].copy()
        gradient = Z[0, B:].reshape(N0, B).T.copy() if input_gradient else None
        c0, c1 = cotangent(value, gradient)
        if c1 is not None and not input_gradient:
            raise ValueError("cotangent must return c1=None when input_gradient=False")
        G = np.zeros((1, (1 + nt) * B))
        G[0, :B] = c0
        if c1 is not None:
            G[0, B:] = np.asarray(c1).T.ravel()
        grads = [None] * len(self.params)
        for l in range(L - 1, -1, -1):
            Yin = cache[l] if l == L - 1 else cache[l][0]
            grads[2 * l], grads[2 * l + 1] = G @ Yin.T, G[:, :B].sum(axis=1)
            if l == 0:
                break
            Ybar = self.params[2 * l].T @ G
            _, dZ, s1, s2 = cache[l - 1]
            G = Ybar                                                   # in place
            G[:, :B] *= s1
            if not nt:
                continue
            dG = G[:, B:].reshape(-1, nt, B)
            G[:, :B] += s2 * np.einsum("kab,kab->kb", dG, dZ.reshape(-1, nt, B))
            dG *= s1[:, None, :]
        return value, gradient, grads

    @params(INPUTS, X=POINTS, cotangent=Function(COTANGENT), mode=Choice(*MODES))
    def vjp_general(self, X, cotangent, mode: str = "diag"):
        """``sum over points and outputs`` of cotangent-weighted parameter gradients (the fast path).

        ``cotangent(deriv)`` is called with the :class:`Derivatives` at ``X`` and
        returns ``(c0, c1, c2)``: weights of shape ``(B, NL)`` for the values, ``(B, NL, N0)``
        or None for the gradients, and ``(B, NL, N0)`` (mode ``diag``) / ``(B, NL, N0, N0)``
        (mode ``full``) or None for the Hessian. Returns ``(deriv, grads)`` with
        ``grads[i]`` the gradient of ``sum c0*O + sum c1*dO + sum c2*d2O`` w.r.t. ``params[i]``.
        """
        return self._vjp_general(self._points(X), cotangent, mode)

    def _vjp_general(self, X, cotangent, mode):
        deriv, layers = self._forward(X, mode)
        c0, c1, c2 = cotangent(deriv)
        if c2 is not None and mode == "first":
            raise ValueError("cotangent returned a Hessian cotangent c2: that needs mode='diag' or 'full'")
        B, NL, N0 = X.shape[0], self.sizes[-1], self.sizes[0]
        c0 = returned(c0, "cotangent's c0", (B, NL))
        c1 = None if c1 is None else returned(c1, "cotangent's c1", (B, NL, N0))
        if c2 is not None:
            c2 = returned(c2, "cotangent's c2", (B, NL, N0, N0) if mode == "full" else (B, NL, N0))
        grads = [None] * len(self.params)
        for l, G, dG, d2G in self._backward(layers, mode):
            c = layers[l]
            g = np.einsum("bk,bki->bi", c0, G)                   # cotangent on z^(l)
            A1 = None                                             # ... on d_a y^(l-1)
            A2 = None                                             # ... on d_a d_b y^(l-1)
            if c1 is not None:
                g = g + np.einsum("bka,baki->bi", c1, dG)
                A1 = np.einsum("bka,bki->bai", c1, G)
            if c2 is not None:
                if mode == "full":
                    g = g + np.einsum("bkae,baeki->bi", c2, d2G)
                    a1 = np.einsum("bkae,beki->bai", c2 + np.swapaxes(c2, 2, 3), dG)
                    A2 = np.einsum("bkae,bki->baei", c2, G)
                else:
                    g = g + np.einsum("bka,baki->bi", c2, d2G)
                    a1 = 2.0 * np.einsum("bka,baki->bai", c2, dG)
                    A2 = np.einsum("bka,bki->bai", c2, G)
                A1 = a1 if A1 is None else A1 + a1
            gW = g.T @ c["y"]
            if A1 is not None:
                gW = gW + np.einsum("bai,baj->ij", A1, c["dy"])
            if A2 is not None:
                gW = gW + (np.einsum("baei,baej->ij", A2, c["d2y"]) if mode == "full"
                           else np.einsum("bai,baj->ij", A2, c["d2y"]))
            grads[2 * l], grads[2 * l + 1] = gW, g.sum(axis=0)
        return deriv, grads


@params(Rule("X", lambda net, X: _n_columns(net.sizes[0], X) == net.sizes[0], COLUMNS), net=Instance(DFNN), X=POINTS,
        mode=Choice(*MODES))
def autograd_reference(net: DFNN, X, mode: str = "full"):
    """:meth:`DFNN.jacobians` computed by autograd, point by point (the oracle; slow)."""
    import autograd.numpy as anp
    from autograd import jacobian

    X = net._points(X)
    params = list(net.params)

    def f(ps, x):
        return _output(ps, x[None, :], net.activation, anp)[0]

    def with_param(fun, i):
        def g(p, x):
            ps = list(params)
            ps[i] = p
            return fun(ps, x)
        return g

    grad_x = jacobian(f, 1)
    hess_x = jacobian(grad_x, 1)
    funcs = {"value": f, "gradient": grad_x}
    if mode != "first":
        funcs["hessian"] = hess_x
    value = np.array([f(params, x) for x in X])
    deriv = _derivatives(value, np.array([grad_x(params, x) for x in X]))
    if mode != "first":
        H = np.array([hess_x(params, x) for x in X])
        if mode == "full":
            deriv.hessian = H
        else:
            deriv.hessian_diag = np.diagonal(H, axis1=2, axis2=3)
    grads = []
    for i in range(len(params)):
        with warnings.catch_warnings():       # the last bias drops out of every derivative: autograd says so
            warnings.filterwarnings("ignore", "Output seems independent of input", UserWarning)
            d = {key: np.array([jacobian(with_param(fun, i), 0)(params[i], x) for x in X])
                 for key, fun in funcs.items()}
        if mode == "diag":
            d["hessian_diag"] = np.diagonal(d.pop("hessian"), axis1=2, axis2=3)
            d["hessian_diag"] = np.moveaxis(d["hessian_diag"], -1, 2)
        grads.append(d)
    return deriv, grads


# ----------------------------------------------------------------------------- Section 5: evaluation time

@params(sizes=SIZES, mode=Choice(*MODES), n_points=Integer(ge=1, typical=(1, 5)), repeats=Integer(ge=1, typical=(1, 2)),
        engine=Choice("recursion", "autograd"), rng=Seed())
def evaluation_time(sizes, mode: str, *, n_points: int = 1000, repeats: int = 3, engine: str = "recursion",
                    rng=0) -> float:
    """Seconds per point to get the outputs, input derivatives (``mode``) and all their parameter gradients.

    ``engine="recursion"`` times :meth:`DFNN.jacobians` on a batch of ``n_points``;
    ``engine="autograd"`` times :func:`autograd_reference` (point by point) on
    ``n_points`` points. The best of ``repeats`` runs is returned (timings are machine-dependent).
    """
    net = DFNN(sizes, rng=rng)
    X = make_rng(rng).normal(size=(n_points, net.sizes[0]))
    run = net.jacobians if engine == "recursion" else (lambda X, mode: autograd_reference(net, X, mode))
    return call_times(lambda: run(X, mode), repeats).min() / n_points


@params(run=Function("called with no arguments"), repeats=Integer(ge=1, typical=(1, 3)))
def call_times(run, repeats: int) -> np.ndarray:
    """Seconds taken by each of ``repeats`` calls of ``run()`` (machine-dependent: for timing cells)."""
    times = np.empty(repeats)
    for k in range(times.size):
        start = time.perf_counter()
        run()
        times[k] = time.perf_counter() - start
    return times


@params(x=Array(shape=("n",), ge=0, min_size=3, hint="at least three sizes (a, b and c are fitted)"),
        seconds=Array(shape=("n",), gt=0, min_size=3))
def fit_log_time(x, seconds):
    """Least-squares fit of paper Eq. 43, ``log(t / 1 s) = a x + b sqrt(x) + c``; returns ``(a, b, c)``."""
    t = seconds
    A = np.column_stack([x, np.sqrt(x), np.ones_like(x)])
    return tuple(np.linalg.lstsq(A, np.log(t), rcond=None)[0])


_CALL = params(INPUTS, X=POINTS)(lambda self, X: self._points(X))
