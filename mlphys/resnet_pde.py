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
from .validate import Anything, Array, Choice, Flag, Instance, Integer, Optional, Real, Rule, Seed, params

KINDS = ("resnet", "pde", "pde-stable")
_DRIFT_SCALE = {"pde": 1.0, "pde-stable": -1.0 / 8.0}
# the dense shift basis has 9 side^4 entries: side = 40 is 180 MB
SIDE = Integer(ge=2, le=40, typical=(2, 5), hint="the dense 3x3-stencil basis holds 9 side^4 numbers (side=40: 180 MB)")
XP = Anything("an array module: numpy, or autograd.numpy for the oracle")


@params(side=SIDE)
def shift_basis(side: int) -> np.ndarray:
    """``B[s, p, q] = 1`` if pixel ``q`` is the neighbour of pixel ``p`` at stencil offset ``s`` (3x3, row-major)."""
    B = np.zeros((9, side * side, side * side))
    for s, (dy, dx) in enumerate((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)):
        for y in range(side):
            for x in range(side):
                yy, xx = y + dy, x + dx
                if 0 <= yy < side and 0 <= xx < side:
                    B[s, y * side + x, yy * side + xx] = 1.0
    return B


@params(kind=Choice(*_DRIFT_SCALE))
def pde_stencils(kind: str) -> np.ndarray:
    """The five 3x3 stencils multiplying ``alpha^2/2, beta, sigma^2/2, rho, gamma`` (rows: y offset -1..1)."""
    c = _DRIFT_SCALE[kind]
    S = np.zeros((5, 3, 3))
    S[0, 1] = [1.0, -2.0, 1.0]                 # d_xx along a row: offsets x-1, x, x+1
    S[1, 1] = [-0.5 * c, 0.0, 0.5 * c]         # d_x = [1/2, 0, -1/2] on [psi(x+1), psi(x), psi(x-1)]
    S[2, :, 1] = [1.0, -2.0, 1.0]
    S[3, :, 1] = [-0.5 * c, 0.0, 0.5 * c]
    S[4, 1, 1] = 1.0
    return S


def _one_hot_rows(labels, n_classes):
    """2-D: one-hot (or probability) rows, one column per class - as :func:`mlphys.nn.accuracy` reads them."""
    return (labels.ndim == 2 and labels.shape[1] == n_classes and bool(np.all(labels <= 1))
            and bool(np.allclose(labels.sum(axis=1), 1.0, rtol=0, atol=1e-6)))


def _class_labels(labels, n_classes):
    return labels.ndim == 1 and bool(np.all(labels == np.round(labels))) and bool(np.all(labels < n_classes))


# X: one flattened side x side image per row
IMAGES = Array(shape=("n", "self.n_pixels"), hint="one flattened side x side image per row")
# the layer parameters: a 3x3 kernel (resnet) or the five PDE coefficients
LAYER = Rule("p", lambda self, p: p.shape == ((3, 3) if self.kind == "resnet" else (5,)),
             "must be a layer's parameters: a (3, 3) kernel for kind 'resnet', the five coefficients (5,) for the PDE "
             "kinds")


class PDENet:
    """``depth`` residual blocks of one ``kind`` on ``side x side`` images, then ``side^2 -> hidden -> n_classes``."""

    @params(Rule("basis", lambda basis, side: basis is None or (basis.shape == (9, side * side, side * side)
                                                                 and basis.dtype == float),
                 "must be a float array of shape (9, side^2, side^2); build it with shift_basis(side)"),
            kind=Choice(*KINDS), depth=Integer(ge=0, typical=(0, 3)), side=SIDE, hidden=Integer(ge=1, typical=(1, 8)),
            n_classes=Integer(ge=2, typical=(2, 5)), rng=Seed(),
            basis=Optional(Instance(np.ndarray, hint="shift_basis(side): kept by reference, so that networks share it")))
    def __init__(self, kind: str = "pde", depth: int = 5, *, side: int = 8, hidden: int = 32, n_classes: int = 10,
                 rng=None, basis=None):
        self.kind, self.depth, self.side = kind, depth, side
        rng = make_rng(rng)
        self.B = shift_basis(side) if basis is None else basis
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

    @property
    def n_pixels(self) -> int:
        """``side^2``: the inputs of the network (one flattened image)."""
        return self.side * self.side

    @property
    def n_classes(self) -> int:
        """The outputs of the classifier."""
        return self._head.sizes[-1]

    # ------------------------------------------------------------------ kernels
    def _coefficients(self, p, xp=np):
        """``[alpha^2/2, beta, sigma^2/2, rho, gamma]`` multiplying the five stencils."""
        return xp.stack([0.5 * p[0] * p[0], p[1], 0.5 * p[2] * p[2], p[3], p[4]])

    @params(LAYER, p=Array(ndim=(2, 1)), xp=XP)
    def kernel(self, p, xp=np):
        """The 3x3 kernel of a layer from its parameters."""
        if self.kind == "resnet":
            return p
        return xp.tensordot(self._coefficients(p, xp), self.stencils, 1)

    @params(LAYER, p=Array(ndim=(2, 1)), xp=XP)
    def operator(self, p, xp=np):
        """The dense ``side^2 x side^2`` convolution matrix of a layer."""
        return self._operator(p, xp)

    def _operator(self, p, xp=np):
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
    @params(X=IMAGES)
    def hidden_states(self, X):
        """``[psi_0, ..., psi_depth]``: the image after each block (the thesis' Fig. 4.5)."""
        return self._hidden_states(X)

    def _hidden_states(self, X):
        psi = X
        states = [psi]
        for p in self.params[:self.depth]:
            psi = np.maximum(psi + psi @ self._operator(p).T, 0.0)
            states.append(psi)
        return states

    @params(X=IMAGES)
    def predict(self, X):
        """Class probabilities ``(n, n_classes)``."""
        return self._predict(X)

    def _predict(self, X):
        return self.head.predict(self._hidden_states(X)[-1])

    @params(Rule("labels", lambda self, labels: _class_labels(labels, self.n_classes)
                 or _one_hot_rows(labels, self.n_classes),
                 "must be class labels 0..n_classes-1 of shape (n,), or one-hot (probability) rows of shape "
                 "(n, n_classes)"),
            X=IMAGES, labels=Array(shape=("n",), ndim=(1, 2), ge=0, hint="1-D: class labels; 2-D: one-hot rows"))
    def accuracy(self, X, labels) -> float:
        """Fraction of images whose most probable class is the label: ``labels`` 1-D are class labels, 2-D are
        one-hot rows (the convention of :func:`mlphys.nn.accuracy`), decided by ``ndim`` and never by the shape."""
        classes = np.argmax(labels, axis=1) if labels.ndim == 2 else labels
        return float(np.mean(np.argmax(self._predict(X), axis=1) == classes))

    def _check_XY(self, X, Y):
        """For :func:`mlphys.nn.train`: the images and their one-hot rows, checked."""
        return _CHECK_XY(self, X, Y)

    @params(X=IMAGES, Y=Array(shape=("n", "self.n_classes"), hint="one-hot rows (nn.one_hot(labels, n_classes))"))
    def backward(self, X, Y):
        """Cross-entropy loss and gradients for ``self.params`` (blocks, then the classifier)."""
        return self._backward(X, Y)

    def _backward(self, X, Y):
        psi, pres, inputs, ops = X, [], [], []
        for p in self.params[:self.depth]:
            M = self._operator(p)
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

    @params(params=Anything("the parameter list; autograd's boxes when differentiated"),
            X=Anything("(n, side^2) images, or autograd's box of them"),
            Y=Anything("(n, n_classes) one-hot rows"), xp=XP)
    def loss_from_params(self, params, X, Y, xp=np):
        """The same loss as a pure function of ``params`` over the array module ``xp`` (autograd oracle)."""
        psi = X
        for p in params[:self.depth]:
            psi = xp.maximum(psi + xp.dot(psi, self._operator(p, xp).T), 0.0)
        head = self.head
        # the head's undecorated loss: autograd passes the parameter list as its own box, not a list
        loss = getattr(head, "_loss_from_params", head.loss_from_params)
        return loss(params[self.depth:], psi, Y, xp)


_CHECK_XY = params(X=IMAGES, Y=Array(shape=("n", "self.n_classes"), hint="one-hot rows"))(lambda self, X, Y: (X, Y))


@params(Rule("labels", lambda model, labels: bool(np.all(labels < model.n_classes)),
             "must be class labels 0..n_classes-1 of the model"),
        Rule("labels_test",
             lambda model, labels_test: labels_test is None or bool(np.all(labels_test < model.n_classes)),
             "must be class labels 0..n_classes-1 of the model"),
        Rule("labels_test", lambda X_test, labels_test: (X_test is None) == (labels_test is None),
             "X_test and labels_test go together: pass both to record the test accuracy, or neither"),
        model=Instance(PDENet), X=Array(shape=("n", "model.n_pixels")),
        labels=Array(shape=("n",), dtype=int, ge=0, hint="class labels 0..n_classes-1"),
        epochs=Integer(ge=1, typical=(1, 2)), batch_size=Integer(ge=1, typical=(1, 8)),
        lr=Real(gt=0, typical=(1e-4, 1e-2)),
        rng=Seed(), X_test=Optional(Array(shape=("m", "model.n_pixels"))),
        labels_test=Optional(Array(shape=("m",), dtype=int, ge=0, hint="class labels 0..n_classes-1")), progress=Flag())
def train(model: PDENet, X, labels, *, epochs: int, batch_size: int = 32, lr: float = 1e-3, rng=None,
          X_test=None, labels_test=None, progress: bool = False) -> nn.History:
    """Adam (learning rate ``lr``, the thesis' 1e-3) on mini-batches, by :func:`mlphys.nn.train`.

    Returns its :class:`mlphys.nn.History` (``val_accuracy``: the test accuracy after each epoch);
    Ctrl-C stops and keeps what was learned.
    """
    Y = nn.one_hot(labels, model.n_classes)
    return nn.train(model, X, Y, epochs=epochs, batch_size=batch_size, optimizer=nn.Adam(lr),
                    rng=rng, X_val=X_test, labels_val=labels_test, progress=progress)
