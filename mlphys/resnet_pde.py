"""PDE networks vs ResNets on images (Chapter 13, Imchitr Ch. IV).

Single-channel networks on ``n x n`` images. Every hidden layer is a residual block

    psi_{l+1} = ReLU(psi_l + K_l * psi_l)

with a 3x3 convolution ``K_l`` (zero padding), followed by a small fully connected
classifier with softmax (a :class:`mlphys.nn.Network`). The three kinds differ only in ``K_l``:

* ``"resnet"``: a free 3x3 kernel (9 parameters per layer);
* ``"pde"``: the finite-difference operator of the thesis' Eq. 39 (5 parameters per layer),
  ``K = alpha^2/2 D_xx + beta D_x + sigma^2/2 D_yy + rho D_y + gamma``, with
  ``D_xx = [1, -2, 1]``, ``D_x = [1/2, 0, -1/2]`` on ``[psi(x+1), psi(x), psi(x-1)]`` (the same along y);
* ``"pde-stable"``: Eq. 40, the drift terms scaled to ``-beta/8 D_x`` and ``-rho/8 D_y``.

Because the images are small, each convolution is applied as a dense ``n^2 x n^2``
matrix ``M(K) = sum_s K_s B_s`` (``B_s``: the 0/1 shift matrices of the nine stencil
offsets), so a layer is one matrix product on a batch, and its gradient
``dL/dK_s = sum(dL/dM * B_s)`` (for the PDE kinds, the five terms of the operator are
precomputed the same way). Back-propagation is written out; :meth:`PDENet.loss_from_params`
is the same network over ``xp`` for autograd.
"""
from __future__ import annotations

import numpy as np

from . import nn
from .config import make_rng
from .validate import as_array, integer, positive

KINDS = ("resnet", "pde", "pde-stable")
_DRIFT_SCALE = {"pde": 1.0, "pde-stable": -1.0 / 8.0}


def shift_basis(side: int) -> np.ndarray:
    """``B[s, p, q] = 1`` if pixel ``q`` is the neighbour of pixel ``p`` at stencil offset ``s`` (3x3, row-major)."""
    side = integer(side, "side", minimum=2)
    B = np.zeros((9, side * side, side * side))
    for s, (dy, dx) in enumerate((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)):
        for y in range(side):
            for x in range(side):
                yy, xx = y + dy, x + dx
                if 0 <= yy < side and 0 <= xx < side:
                    B[s, y * side + x, yy * side + xx] = 1.0
    return B


def pde_stencils(kind: str) -> np.ndarray:
    """The five 3x3 stencils multiplying ``alpha^2/2, beta, sigma^2/2, rho, gamma`` (rows: y offset -1..1)."""
    if kind not in _DRIFT_SCALE:
        raise ValueError(f"kind must be one of {sorted(_DRIFT_SCALE)}, got {kind!r}")
    c = _DRIFT_SCALE[kind]
    S = np.zeros((5, 3, 3))
    S[0, 1] = [1.0, -2.0, 1.0]                 # d_xx along a row: offsets x-1, x, x+1
    S[1, 1] = [-0.5 * c, 0.0, 0.5 * c]         # d_x = [1/2, 0, -1/2] on [psi(x+1), psi(x), psi(x-1)]
    S[2, :, 1] = [1.0, -2.0, 1.0]
    S[3, :, 1] = [-0.5 * c, 0.0, 0.5 * c]
    S[4, 1, 1] = 1.0
    return S


class PDENet:
    """``depth`` residual blocks of one ``kind`` on ``side x side`` images, then ``side^2 -> hidden -> n_classes``."""

    def __init__(self, kind: str = "pde", depth: int = 5, *, side: int = 8, hidden: int = 32, n_classes: int = 10,
                 rng=None, basis=None):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.kind, self.depth, self.side = kind, integer(depth, "depth", minimum=0), integer(side, "side", minimum=2)
        rng = make_rng(rng)
        self.B = shift_basis(side) if basis is None else basis
        if self.B.shape != (9, side * side, side * side):
            raise ValueError(f"basis must have shape (9, {side * side}, {side * side}); build it with shift_basis(side)")
        self._B2 = self.B.reshape(9, -1)                       # stencil weights -> flattened operator
        if kind == "resnet":
            layers = [rng.normal(0.0, 0.1, (3, 3)) for _ in range(self.depth)]
        else:
            self.stencils = pde_stencils(kind)
            self._A = self.stencils.reshape(5, 9) @ self._B2      # the five PDE terms as flattened operators
            layers = [np.concatenate([rng.normal(0.0, 0.1, 4), [0.0]]) for _ in range(self.depth)]
        self._head = nn.Network([side * side, hidden, n_classes], activation="relu", output="softmax",
                                loss="cross_entropy", rng=rng)
        self.params = layers + self._head.params

    @property
    def head(self) -> nn.Network:
        """The classifier, with the current parameters (a restored checkpoint replaces the arrays in ``params``)."""
        self._head.params = self.params[self.depth:]
        return self._head

    # ------------------------------------------------------------------ kernels
    def _coefficients(self, p, xp=np):
        """``[alpha^2/2, beta, sigma^2/2, rho, gamma]`` multiplying the five stencils."""
        return xp.stack([0.5 * p[0] * p[0], p[1], 0.5 * p[2] * p[2], p[3], p[4]])

    def kernel(self, p, xp=np):
        """The 3x3 kernel of a layer from its parameters."""
        if self.kind == "resnet":
            return p
        return xp.tensordot(self._coefficients(p, xp), self.stencils, 1)

    def operator(self, p, xp=np):
        """The dense ``side^2 x side^2`` convolution matrix of a layer."""
        n = self.side * self.side
        flat = xp.dot(xp.reshape(p, (9,)), self._B2) if self.kind == "resnet" else xp.dot(self._coefficients(p, xp), self._A)
        return xp.reshape(flat, (n, n))

    def _param_grad(self, p, dM):
        """Gradient of a layer's parameters from ``dL/dM`` (chain rule through :meth:`operator`)."""
        if self.kind == "resnet":
            return (self._B2 @ dM.ravel()).reshape(3, 3)
        proj = self._A @ dM.ravel()                                   # dL/d(coefficient_i)
        return np.array([p[0] * proj[0], proj[1], p[2] * proj[2], proj[3], proj[4]])

    # ------------------------------------------------------------------ forward / backward
    def _check_X(self, X):
        X = as_array(X, "X", ndim=2)
        if X.shape[1] != self.side**2:
            raise ValueError(f"X must have {self.side**2} columns ({self.side}x{self.side} images), got {X.shape}")
        return X

    def hidden_states(self, X):
        """``[psi_0, ..., psi_depth]``: the image after each block (the thesis' Fig. 4.5)."""
        psi = self._check_X(X)
        states = [psi]
        for p in self.params[:self.depth]:
            psi = np.maximum(psi + psi @ self.operator(p).T, 0.0)
            states.append(psi)
        return states

    def predict(self, X):
        """Class probabilities ``(n, n_classes)``."""
        return self.head.predict(self.hidden_states(X)[-1])

    def accuracy(self, X, labels) -> float:
        return nn.accuracy(self, X, labels)

    def _check_XY(self, X, Y):
        X = self._check_X(X)
        return X, self.head._check_XY(np.zeros((len(X), self.side**2)), Y)[1]

    def backward(self, X, Y):
        """Cross-entropy loss and gradients for ``self.params`` (blocks, then the classifier)."""
        X = self._check_X(X)
        psi, pres, inputs, ops = X, [], [], []
        for p in self.params[:self.depth]:
            M = self.operator(p)
            pre = psi + psi @ M.T
            inputs.append(psi)
            pres.append(pre)
            ops.append(M)
            psi = np.maximum(pre, 0.0)
        loss, head_grads, g = self.head.backward(psi, Y, input_gradient=True)
        grads = [None] * self.depth
        for l in range(self.depth - 1, -1, -1):
            g = g * (pres[l] > 0)
            grads[l] = self._param_grad(self.params[l], g.T @ inputs[l])
            g = g + g @ ops[l]
        return loss, grads + head_grads

    def loss_from_params(self, params, X, Y, xp=np):
        """The same loss as a pure function of ``params`` over the array module ``xp`` (autograd oracle)."""
        psi = X
        for p in params[:self.depth]:
            psi = xp.maximum(psi + xp.dot(psi, self.operator(p, xp).T), 0.0)
        return self.head.loss_from_params(params[self.depth:], psi, Y, xp)


def train(model: PDENet, X, labels, *, epochs: int, batch_size: int = 32, lr: float = 1e-3, rng=None,
          X_test=None, labels_test=None, progress: bool = False) -> nn.History:
    """Adam (learning rate ``lr``, the thesis' 1e-3) on mini-batches, by :func:`mlphys.nn.train`.

    Returns its :class:`mlphys.nn.History` (``val_accuracy``: the test accuracy after each epoch);
    Ctrl-C stops and keeps what was learned.
    """
    Y = nn.one_hot(np.asarray(labels), model.head.sizes[-1])
    return nn.train(model, X, Y, epochs=epochs, batch_size=batch_size, optimizer=nn.Adam(positive(lr, "lr")),
                    rng=rng, X_val=X_test, labels_val=labels_test, progress=progress)
