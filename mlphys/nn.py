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
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from .config import make_rng, progress_bar, reject_checkpoint
from .validate import as_array, integer, positive

#: The package's one activation table: :func:`activation` (any array module), :func:`activation_derivatives` (value
#: and three derivatives) and :func:`activation_derivative` (the slope from the value, for back-propagation) cover
#: these names; each network admits the subset it needs (``mlphys.dfnn``: smooth ones, ``mlphys.cnn``: relu, softplus).
ACTIVATIONS = ("sigmoid", "tanh", "relu", "softplus", "identity")
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")
OUTPUT_ACTIVATIONS = ("identity", "sigmoid", "softmax")
LOSSES = ("mse", "cross_entropy")


# ----------------------------------------------------------------------------- activations

def activation(name: str, z, xp=np):
    """Apply activation ``name`` to ``z`` using array module ``xp``."""
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


def activation_derivatives(name: str, z, order: int = 3):
    """``[sigma(z), sigma'(z), sigma''(z), sigma'''(z)]`` up to ``order``, analytically: the derivative table of
    every activation but softmax (ReLU's derivatives: the step function, then zero)."""
    order = integer(order, "order", minimum=0)
    if order > 3:
        raise ValueError(f"order must be at most 3 (the recursion needs sigma up to its third derivative), got {order}")
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


def softplus_and_sigmoid(z, *, sigmoid: bool = True):
    """``(softplus(z), sigmoid(z))`` from one exponential: ``max(z, 0) + log(1 + e^-|z|)`` and its derivative
    (None for ``sigmoid=False``).

    The fused form for hot paths (the RBM wave function, the softplus CNN): half the time of ``np.logaddexp``
    followed by a separate logistic function, and equal to them to rounding.
    """
    e = np.exp(-np.abs(z))
    return np.maximum(z, 0.0) + np.log1p(e), (np.where(z >= 0, 1.0, e) / (1.0 + e) if sigmoid else None)


def activation_derivative(name: str, z, a):
    """``f'(z)`` for an element-wise activation, given ``z`` and ``a = f(z)``."""
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

def one_hot(labels, n_classes: int) -> np.ndarray:
    """Rows ``e_{label}`` for integer labels ``0 <= label < n_classes``."""
    n_classes = integer(n_classes, "n_classes", minimum=1)
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be a 1D array of class indices, got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.isfinite(labels)) or not np.all(labels == np.round(labels)):
            raise ValueError("labels must be integer class indices")
        labels = labels.astype(int)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1} (n_classes={n_classes}); got values from {labels.min()} "
                         f"to {labels.max()}: raise n_classes or fix the labels")
    out = np.zeros((labels.size, n_classes))
    out[np.arange(labels.size), labels] = 1.0
    return out


# ----------------------------------------------------------------------------- the network


def flat_parameters(params) -> np.ndarray:
    """All arrays of ``params`` (a list) raveled into one vector, in list order."""
    return np.concatenate([p.ravel() for p in params])


def set_flat_parameters(params, theta) -> None:
    """Inverse of :func:`flat_parameters`: overwrite the arrays of the list ``params`` in place from ``theta``."""
    theta = as_array(theta, "theta", ndim=1)
    n_params = sum(p.size for p in params)
    if theta.size != n_params:
        raise ValueError(f"theta has {theta.size} entries; this network has {n_params} parameters")
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
    """

    def __init__(self, sizes, *, activation: str = "sigmoid", output: str = "identity", loss: str = "mse",
                 l2: float = 0.0, rng=None):
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least an input and an output layer, got {list(sizes)}")
        self.sizes = [integer(s, "sizes", minimum=1) for s in sizes]
        if activation not in HIDDEN_ACTIVATIONS:
            raise ValueError(f"activation={activation!r} is unknown; use one of {HIDDEN_ACTIVATIONS}")
        if output not in OUTPUT_ACTIVATIONS:
            raise ValueError(f"output={output!r} is unknown; use one of {OUTPUT_ACTIVATIONS}")
        if loss not in LOSSES:
            raise ValueError(f"loss={loss!r} is unknown; use one of {LOSSES}")
        if output == "softmax" and loss != "cross_entropy":
            raise ValueError("a softmax output needs loss='cross_entropy'")
        if loss == "cross_entropy" and output == "identity":
            raise ValueError("cross-entropy needs probabilities: use output='softmax' or 'sigmoid'")
        self.activation, self.output, self.loss_name = activation, output, loss
        self.l2 = positive(l2, "l2", allow_zero=True)
        rng = make_rng(rng)
        self.params = []
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]):
            # Glorot-normal weights, drawn column by column (the order of the book's computed examples)
            self.params.append(rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), (n_in, n_out)).T.copy())
            self.params.append(np.zeros(n_out))

    # -- shape checks --------------------------------------------------------
    def _check_X(self, X):
        X = as_array(X, "X", ndim=2)
        if X.shape[1] != self.sizes[0]:
            raise ValueError(f"X has {X.shape[1]} features per row but the input layer has {self.sizes[0]} units")
        return X

    def _check_XY(self, X, Y):
        X = self._check_X(X)
        Y = as_array(Y, "Y", ndim=(1, 2))
        if Y.ndim == 1:
            Y = Y[:, None]
        if Y.shape != (X.shape[0], self.sizes[-1]):
            raise ValueError(f"Y has shape {Y.shape}; expected ({X.shape[0]}, {self.sizes[-1]}) "
                             "(one row per sample, one column per output unit; one_hot() for class labels)")
        return X, Y

    # -- forward pass, shared with autograd ------------------------------------
    def loss_from_params(self, params, X, Y, xp=np):
        """Loss (data term + L2) as a pure function of the parameter list ``[W0, b0, W1, b1, ...]``."""
        a = X
        n_layers = len(params) // 2
        for l in range(n_layers):
            z = xp.dot(a, params[2 * l].T) + params[2 * l + 1]
            a = activation(self.activation if l < n_layers - 1 else self.output, z, xp)
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

    def forward(self, X):
        """Return the lists ``zs`` (pre-activations, layers 1..L) and ``activations`` (layers 0..L)."""
        a = self._check_X(X)
        zs, activations = [], [a]
        n_layers = len(self.params) // 2
        for l in range(n_layers):
            z = a @ self.params[2 * l].T + self.params[2 * l + 1]
            a = activation(self.activation if l < n_layers - 1 else self.output, z)
            zs.append(z)
            activations.append(a)
        return zs, activations

    def predict(self, X) -> np.ndarray:
        """Network output ``a^L`` for each row of ``X``."""
        return self.forward(X)[1][-1]

    def loss(self, X, Y) -> float:
        X, Y = self._check_XY(X, Y)
        return float(self.loss_from_params(self.params, X, Y))

    # -- back-propagation ----------------------------------------------------------
    def backward(self, X, Y, *, input_gradient: bool = False):
        """Loss and gradients ``[dW0, db0, dW1, db1, ...]`` by back-propagation (equations above).

        With ``input_gradient=True`` also returns ``dLoss/dX`` (to back-propagate into layers before this network).
        """
        X, Y = self._check_XY(X, Y)
        zs, acts = self.forward(X)
        n = X.shape[0]
        aL = acts[-1]
        if self.loss_name == "cross_entropy":
            delta = (aL - Y) / n  # softmax/sigmoid + cross-entropy: f'(z) cancels
        else:
            delta = (aL - Y) * activation_derivative(self.output, zs[-1], aL) / n
        grads = [None] * len(self.params)
        for l in reversed(range(len(self.params) // 2)):
            W = self.params[2 * l]
            # delta^T a, formed as (a^T delta)^T: the products of the book's computed examples (BLAS sums delta.T @ a in
            # another order for some shapes, which moves the last bits of a trained number)
            grads[2 * l] = (acts[l].T @ delta).T + self.l2 * W
            grads[2 * l + 1] = delta.sum(axis=0)
            if l > 0:
                delta = (delta @ W) * activation_derivative(self.activation, zs[l - 1], acts[l])
        loss = float(self._loss_of_output(aL, Y, self.params))
        if input_gradient:
            return loss, grads, delta @ self.params[0]
        return loss, grads

    # -- flat parameter vector (for optimisers from scipy and gradient checks) ---
    def get_flat(self) -> np.ndarray:
        return flat_parameters(self.params)

    def set_flat(self, theta) -> None:
        set_flat_parameters(self.params, theta)

    @property
    def n_params(self) -> int:
        return sum(p.size for p in self.params)


def layer_gradient_norms(net: Network, X, Y) -> np.ndarray:
    """Frobenius norm of dC/dW^l for every weight matrix, input side first: how fast each layer learns here.

    Back-propagation multiplies by ``f'(z)`` once per layer (Eq. eq-ch3-backprop); with sigmoid, ``f' <= 1/4``,
    so in a deep stack the layers near the input receive ever smaller gradients (vanishing gradients).
    """
    _, grads = net.backward(X, Y)
    return np.array([np.linalg.norm(g) for g in grads[0::2]])


def accuracy(net: Network, X, labels) -> float:
    """Fraction of rows whose largest output is the true class ``labels``."""
    return float(np.mean(np.argmax(net.predict(X), axis=1) == np.asarray(labels)))


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


class SGD:
    """Stochastic gradient descent with optional (heavy-ball) momentum: ``v <- mu v - lr g; p <- p + v``."""

    def __init__(self, lr: float = 0.1, momentum: float = 0.0):
        self.lr = positive(lr, "lr")
        self.momentum = positive(momentum, "momentum", allow_zero=True)
        if self.momentum >= 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self._v = None

    def step(self, params, grads):
        _check_state(self, params)
        if self._v is None:
            self._v = [np.zeros_like(p) for p in params]
        for k, (p, g) in enumerate(zip(params, grads)):
            self._v[k] = self.momentum * self._v[k] - self.lr * g
            p += self._v[k]


class Adam:
    """Adam (Kingma and Ba 2015) with bias-corrected first and second moments."""

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr = positive(lr, "lr")
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0 <= beta < 1:
                raise ValueError(f"{name} must be in [0, 1), got {beta}")
        self.beta1, self.beta2, self.eps = beta1, beta2, positive(eps, "eps")
        self._m = self._s = None
        self._t = 0

    def step(self, params, grads):
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

    def diverging(self, loss, *, hint: str = "lower the learning rate") -> bool:
        if np.isfinite(loss) and abs(loss) <= 1e30:
            return False
        self.diverged = True
        warnings.warn(f"training diverged (loss {loss:.3g}): {hint}", RuntimeWarning, stacklevel=2)
        return True


class History:
    """The record every trainer returns (or carries as ``result.history``): named per-step series, the time spent
    and how training ended - ``interrupted`` (Ctrl-C) or ``diverged`` (a loss beyond :meth:`TrainingLoop.diverging`).

    ``History("loss", "val_accuracy")`` starts empty series; ``h.append(loss=0.3)`` extends them; ``h.loss`` is the
    series as a list, ``h["loss"]`` as an array; :meth:`end` copies the outcome of a :class:`TrainingLoop`.
    """

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


def train(net: Network, X, Y, *, epochs: int, batch_size: int = 32, optimizer=None, rng=None,
          X_val=None, labels_val=None, progress: bool = False) -> History:
    """Mini-batch training with back-propagation; returns the per-epoch :class:`History`.

    Each epoch visits the samples in a fresh random order from ``rng``. Ctrl-C
    stops training after the current mini-batch and returns what was learned.
    """
    X, Y = net._check_XY(X, Y)
    if (X_val is None) != (labels_val is None):
        raise ValueError("X_val and labels_val go together: pass both to record the validation accuracy, or neither")
    epochs = integer(epochs, "epochs", minimum=1)
    batch_size = integer(batch_size, "batch_size", minimum=1)
    optimizer = optimizer or Adam()
    rng = make_rng(rng)
    history = History("loss", "val_accuracy")
    with TrainingLoop(epochs, progress=progress, desc="training") as loop:
        for _ in loop:
            order = rng.permutation(X.shape[0])
            total = 0.0
            for i in range(0, X.shape[0], batch_size):
                batch = order[i:i + batch_size]
                loss, grads = net.backward(X[batch], Y[batch])
                optimizer.step(net.params, grads)
                total += loss * len(batch)
            history.loss.append(total / X.shape[0])
            if loop.diverging(history.loss[-1]):
                break
            if X_val is not None:
                history.val_accuracy.append(accuracy(net, X_val, labels_val))
    return history.end(loop)


# ----------------------------------------------------------------------------- universal approximation

def fit_one_hidden_layer(x, y, width: int, *, activation_name: str = "tanh", restarts: int = 5,
                         maxiter: int = 5000, rng=None):
    """Least-squares fit of ``y(x)`` by one hidden layer of ``width`` units (Cybenko/Hornik form).

    Minimises the mean squared error with L-BFGS (scipy), using the
    back-propagation gradient, from ``restarts`` random starts; returns the best
    ``(network, mse)`` where ``mse = mean (f(x) - y)^2``.
    """
    from scipy.optimize import minimize

    x = as_array(x, "x", ndim=1)
    y = as_array(y, "y", ndim=1)
    if x.shape != y.shape:
        raise ValueError(f"x has {x.size} points but y has {y.size}")
    width = integer(width, "width", minimum=1)
    restarts = integer(restarts, "restarts", minimum=1)
    rng = make_rng(rng)
    X, Y = x[:, None], y[:, None]
    best = (None, np.inf)
    for _ in range(restarts):
        net = Network([1, width, 1], activation=activation_name, output="identity", loss="mse", rng=rng)
        # spread the first layer so the units' transitions cover the data range
        net.params[0] = rng.normal(0, 5.0, net.params[0].shape)
        net.params[1] = -net.params[0][:, 0] * rng.uniform(x.min(), x.max(), width)

        def fun(theta, net=net):
            net.set_flat(theta)
            loss, grads = net.backward(X, Y)
            return loss, np.concatenate([g.ravel() for g in grads])

        # One BLAS thread: L-BFGS-B's tiny vector operations otherwise wake (and, on a busy machine, wait for)
        # OpenBLAS's threads at every step - up to 50x slower, with the same numbers.
        with threadpool_limits(1):
            res = minimize(fun, net.get_flat(), jac=True, method="L-BFGS-B",
                           options={"maxiter": maxiter, "maxfun": 2 * maxiter, "ftol": 1e-16, "gtol": 1e-12})
        net.set_flat(res.x)
        mse = float(np.mean((net.predict(X)[:, 0] - y) ** 2))
        if mse < best[1]:
            best = (net, mse)
    return best
