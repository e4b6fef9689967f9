"""One-dimensional convolutional networks in NumPy: the standard CNN and the average-channel CNN.

Costa, Scriva, Fazio and Pilati (Phys. Rev. E 2022), Sec. II A and Table I, Chapters 10-11.
A block is convolution (kernel k_f, periodic or zero padding, Eq. 7) -> activation -> average pooling
(k_s); the average-channel CNN adds the inter-channel average of Eq. 8 after each block, so that
every convolution has one input channel (Eq. 9) and the parameter count grows linearly in N_c instead of
quadratically. A flatten and one dense output neuron give the kinetic energy T[n].

Layout: activations are (batch, grid, channels), the batch axis first and channels contiguous, so a
convolution is one matrix product of the shifted copies ("im2col") with the (k * C_in, C_out) kernel.
Back-propagation is written out (:meth:`CNN.backward` for the parameters, :meth:`CNN.input_gradient`
for dT/dn, the discrete functional derivative of Eq. 17 times dx); :meth:`CNN.predict_from_params`
is the same forward pass over an array module ``xp``, so autograd checks both in the tests.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from . import nn
from .config import make_rng
from .validate import Anything, Array, Choice, Flag, Instance, Integer, Real, Rule, Seed, Sequence, as_array, params, \
    rows

PADDINGS = ("periodic", "zero")
#: The activations of :data:`mlphys.nn.ACTIVATIONS` Table I uses.
ACTIVATIONS = ("relu", "softplus")

#: Table I of the paper: the two standard CNNs and the three average-channel CNNs.
ARCHITECTURES = {
    "cnn-relu": dict(channels=30, pools=(2, 2, 2), activation="relu", average=False),
    "cnn-softplus": dict(channels=30, pools=(2, 2, 2), activation="softplus", average=False),
    "avg-60": dict(channels=60, pools=(4, 2), activation="relu", average=True),
    "avg-140": dict(channels=140, pools=(4, 2), activation="relu", average=True),
    "avg-260": dict(channels=260, pools=(4, 2), activation="relu", average=True),
}


#: The largest grid and channel count accepted (the im2col buffers grow as batch * grid * kernel * channels).
MAX_GRID, MAX_CHANNELS = 1 << 16, 4096

#: A batch of densities on the network's grid: one per row (a single density is a batch of one).
DENSITIES = Array(shape=("n", "self.n_grid"), promote=True, hint="one density per row, n_grid points each")
#: One target per density.
TARGETS = Array(shape=("n",), hint="one target per row of X")


def _deepest(n_grid, pools) -> int:
    """The grid points of the last convolutional block."""
    return n_grid // int(np.prod(pools[:-1]))


def _fits(n_grid, pools, kernel=13) -> bool:
    """Whether blocks with these pools and kernel fit an ``n_grid``-point grid (what :class:`CNN` requires): the pools
    divide it and the deepest block still holds the kernel (13, the paper's k_f, by default)."""
    return n_grid % int(np.prod(pools)) == 0 and _deepest(n_grid, pools) >= kernel


class CNN:
    """``len(pools)`` convolutional blocks of ``channels`` filters, then one dense output neuron.

    Parameters: per block a kernel W of shape (kernel, C_in, channels) and a bias (channels,); then the
    dense weights (features,) and bias (). C_in is 1 for the first block and, with ``average=True``,
    for every block. Initialised as PyTorch does: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) from ``rng``.
    """

    @params(Rule("kernel", lambda kernel: kernel % 2 == 1, "must be odd (a centred filter)"),
            Rule("kernel", lambda kernel, n_grid: kernel <= n_grid, "is larger than the grid (n_grid points); use a "
                 "smaller kernel"),
            Rule("n_grid", lambda n_grid, pools: n_grid % int(np.prod(pools)) == 0, "must be divisible by the product "
                 "of pools (one pooling size per block)"),
            Rule("kernel", lambda n_grid, pools, kernel: _deepest(n_grid, pools) >= kernel, "is larger than the grid "
                 "of a deeper block (n_grid over the product of the earlier pools); use fewer or smaller pools, or a "
                 "smaller kernel"),
            n_grid=Integer(ge=1, le=MAX_GRID, typical=(1, 64)),
            channels=Integer(ge=1, le=MAX_CHANNELS, typical=(1, 4), hint=f"at most {MAX_CHANNELS} filters per block"),
            pools=Sequence(Integer(ge=1, le=MAX_GRID, typical=(1, 4)),
                           hint="one pooling size per block, e.g. (2, 2, 2)"),
            kernel=Integer(ge=1, le=MAX_GRID, typical=(1, 5)), activation=Choice(*ACTIVATIONS), average=Flag(),
            padding=Choice(*PADDINGS), rng=Seed())
    def __init__(self, n_grid: int, *, channels: int, pools, kernel: int = 13, activation: str = "relu",
                 average: bool = False, padding: str = "periodic", rng=None):
        self.n_grid, self.channels, self.pools, self.kernel = n_grid, channels, tuple(pools), kernel
        self.activation, self.average, self.padding = activation, average, padding
        self.grid_points = [self.n_grid // int(np.prod(self.pools[:i])) for i in range(len(self.pools) + 1)]
        rng = make_rng(rng)
        self.params = []
        c_in = 1
        for _ in self.pools:
            bound = 1 / np.sqrt(self.kernel * c_in)
            self.params.append(rng.uniform(-bound, bound, (self.kernel, c_in, self.channels)))
            self.params.append(rng.uniform(-bound, bound, self.channels))
            c_in = 1 if self.average else self.channels
        features = self.grid_points[-1] * c_in
        bound = 1 / np.sqrt(features)
        self.params.append(rng.uniform(-bound, bound, features))
        self.params.append(rng.uniform(-bound, bound, ()))
        self.scaling = (1.0, 0.0, 1.0)

    @params(x_scale=Real(gt=0), y_shift=Real(), y_scale=Real(gt=0))
    def set_scaling(self, x_scale: float, y_shift: float, y_scale: float) -> None:
        """Fixed (not trained) affine maps: T = y_shift + y_scale * net(x_scale * n).

        :func:`mlphys.dft.train_functional` sets them from the training data (densities of order one,
        standardised targets), which Adam needs far fewer steps to fit; derivatives include them.
        """
        self.scaling = (x_scale, y_shift, y_scale)

    @classmethod
    @params(name=Choice(*ARCHITECTURES), n_grid=Integer(ge=1, le=MAX_GRID, typical=(1, 64)),
            padding=Choice(*PADDINGS), rng=Seed())
    def from_architecture(cls, name: str, n_grid: int, *, padding: str = "periodic", rng=None) -> "CNN":
        """One of :data:`ARCHITECTURES` (Table I, the architecture ``name``) on an ``n_grid``-point grid."""
        return cls(n_grid, padding=padding, rng=rng, **ARCHITECTURES[name])

    @property
    def n_params(self) -> int:
        return sum(p.size for p in self.params)

    def describe(self) -> str:
        kind = "average-channel CNN" if self.average else "CNN"
        return (f"{kind}: {len(self.pools)} blocks, N_c = {self.channels}, k_f = {self.kernel}, "
                f"k_s = {list(self.pools)}, {self.activation}, {self.padding} padding, {self.n_params} parameters")

    # -- checks (for mlphys.nn.train, which checks the whole data set once) -------
    def _check_X(self, X):
        return rows(X, "X", self.n_grid, "one density per row")

    def _check_XY(self, X, Y):
        X = self._check_X(X)
        Y = as_array(Y, "Y").reshape(-1)
        if Y.shape[0] != X.shape[0]:
            raise ValueError(f"Y must hold one target per row of X ({X.shape[0]}), got {Y.shape[0]}")
        return X, Y

    # -- building blocks --------------------------------------------------------
    def _pad(self, h, xp=np):
        p = self.kernel // 2
        if self.padding == "periodic":
            return xp.concatenate([h[:, h.shape[1] - p:], h, h[:, :p]], axis=1)
        zeros = xp.zeros((h.shape[0], p, h.shape[2]))
        return xp.concatenate([zeros, h, zeros], axis=1)

    def _columns(self, h, xp=np):
        """im2col: (B, N, k, C) with cols[b, i, j] = h_padded[b, i + j], the inputs under filter tap j."""
        hp = self._pad(h, xp)
        B, N, C = h.shape
        if xp is np:
            # the k * C inputs under the filter at site i are one contiguous run of the padded (B, N + 2p, C) array:
            # a strided view of overlapping windows, then one copy (the matrix product needs distinct rows)
            hp = np.ascontiguousarray(hp)
            windows = np.lib.stride_tricks.as_strided(hp, (B, N, self.kernel, C),
                                                      (hp.strides[0], hp.strides[1], hp.strides[1], hp.strides[2]))
            return windows.copy()
        return xp.stack([hp[:, j:j + N] for j in range(self.kernel)], axis=2)

    def _conv(self, h, W):
        """The convolution of Eq. 7 without bias: (B, N, C_in) with W (k, C_in, C_out) -> (B, N, C_out)."""
        cols = self._columns(h)
        B, N, k, C = cols.shape
        return (cols.reshape(B * N, k * C) @ W.reshape(k * C, -1)).reshape(B, N, -1), cols

    def _conv_adjoint(self, dz, W):
        """The gradient with respect to the input of :meth:`_conv`, ``dh[m] = sum_j dz_padded[m + j] W[k - 1 - j]^T``.

        With as many input channels as output channels it is the correlation of ``dz`` with the flipped, transposed
        kernel and the same padding (the adjoint of zero padding is zero padding, of periodic padding periodic
        padding). With fewer input channels (one, in the average-channel CNN) the product ``dz W^T`` is smaller
        than ``dz``'s columns: it is formed first and scattered back onto the sites (col2im).
        """
        k, c_in, c_out = W.shape
        if c_in >= c_out:
            return self._conv(dz, W[::-1].transpose(0, 2, 1))[0]
        B, N, _ = dz.shape
        dcols = (dz.reshape(B * N, c_out) @ W.reshape(k * c_in, c_out).T).reshape(B, N, k, c_in)
        p = k // 2
        dhp = np.zeros((B, N + 2 * p, c_in))
        for j in range(k):
            dhp[:, j:j + N] += dcols[:, :, j]
        dh = dhp[:, p:p + N]
        if self.padding == "periodic":
            dh[:, N - p:] += dhp[:, :p]
            dh[:, :p] += dhp[:, N + p:]
        return dh

    def _act(self, z, xp=np):
        return nn.activation(self.activation, z, xp)

    def _act_and_slope(self, z):
        """``(f(z), f'(z))``, sharing the work: ReLU's slope is the mask ``z > 0``; softplus and its slope, the
        logistic function, come from one exponential (:func:`mlphys.nn.softplus_and_sigmoid`)."""
        if self.activation == "relu":
            return np.maximum(z, 0.0), z > 0
        return nn.softplus_and_sigmoid(z)

    @params(params=Anything("the parameter arrays as the array module xp sees them (autograd traces them)"),
            X=Anything("densities (batch, n_grid) as the array module xp sees them (autograd traces them)"),
            xp=Anything("an array module with NumPy's API: numpy, autograd.numpy"))
    def predict_from_params(self, params, X, xp=np):
        """T[n] for each row of X (B, n_grid) as a pure function of ``params`` over ``xp`` (autograd oracle)."""
        x_scale, y_shift, y_scale = self.scaling
        h = x_scale * X[:, :, None]
        for b, s in enumerate(self.pools):
            W, bias = params[2 * b], params[2 * b + 1]
            cols = self._columns(h, xp)
            B, N, k, C = cols.shape
            z = xp.reshape(xp.dot(xp.reshape(cols, (B * N, k * C)), xp.reshape(W, (k * C, -1))) + bias,
                           (B, N, -1))
            a = self._act(z, xp)
            h = xp.mean(xp.reshape(a, (B, N // s, s, -1)), axis=2)
            if self.average:
                h = xp.mean(h, axis=2, keepdims=True)
        return y_shift + y_scale * (xp.dot(xp.reshape(h, (h.shape[0], -1)), params[-2]) + params[-1])

    # -- forward and back-propagation ---------------------------------------------
    def _forward(self, X):
        cache, h = [], self.scaling[0] * X[:, :, None]
        for b, s in enumerate(self.pools):
            W, bias = self.params[2 * b], self.params[2 * b + 1]
            z, cols = self._conv(h, W)
            z += bias
            B, N = z.shape[:2]
            a, slope = self._act_and_slope(z)
            if self.average:            # pool and average the channels in one pass
                h = a.reshape(B, N // s, -1).mean(axis=2, keepdims=True)
            else:
                h = a.reshape(B, N // s, s, -1).mean(axis=2)
            cache.append((cols, slope))
        flat = h.reshape(h.shape[0], -1)
        return self.scaling[1] + self.scaling[2] * (flat @ self.params[-2] + self.params[-1]), flat, cache

    @params(X=DENSITIES)
    def predict(self, X) -> np.ndarray:
        """The learned functional T[n] for each row of ``X`` (densities on the grid), shape (batch,)."""
        return self._forward(X)[0]

    def _backward(self, dout, flat, cache, *, params: bool, inputs: bool, tangent=None):
        """Back-propagation of ``dout`` (dLoss/dT per row). With ``tangent`` (:meth:`_tangent`'s flat features and
        block inputs) the parameter gradients are those of ``sum_b dout_b * Tdot_b``, the directional derivatives
        of T along the tangent's direction: the same deltas (a ReLU network is linear along a direction, with the
        masks of the primal pass), the tangent's inputs in place of the primal ones, and no bias gradients."""
        grads = [None] * len(self.params)
        dout = self.scaling[2] * dout
        if tangent is not None:
            flat, tangent_cols = tangent
        if params:
            grads[-2] = flat.T @ dout
            grads[-1] = np.sum(dout) if tangent is None else np.zeros(())
        B = dout.shape[0]
        c_last = 1 if self.average else self.channels
        dh = np.multiply.outer(dout, self.params[-2]).reshape(B, self.grid_points[-1], c_last)
        for b in reversed(range(len(self.pools))):
            s, (cols, slope) = self.pools[b], cache[b]
            W = self.params[2 * b]
            # the pooled (and, with the average layer, channel-averaged) gradient, spread back over the pool; with
            # the average layer it is the same for every channel, so it stays (B, N, 1) and broadcasts
            da = np.repeat(dh, s, axis=1) / (s * self.channels if self.average else s)
            dz = np.where(slope, da, 0.0) if self.activation == "relu" else da * slope
            _, N, k, C = cols.shape
            dz2 = dz.reshape(B * N, -1)
            if params:
                source = cols if tangent is None else tangent_cols[b]
                grads[2 * b] = (source.reshape(B * N, k * C).T @ dz2).reshape(W.shape)
                grads[2 * b + 1] = dz2.sum(axis=0) if tangent is None else np.zeros_like(self.params[2 * b + 1])
            if b > 0 or inputs:
                dh = self._conv_adjoint(dz, W)
        return grads, (self.scaling[0] * dh[:, :, 0] if inputs else None)

    @params(X=DENSITIES, Y=TARGETS)
    def backward(self, X, Y):
        """Loss (Eq. 4: mean of (T - t)^2) and its gradients for ``self.params`` (the interface of nn.train)."""
        out, flat, cache = self._forward(X)
        r = out - Y
        grads, _ = self._backward(2 * r / X.shape[0], flat, cache, params=True, inputs=False)
        return float(np.mean(r**2)), grads

    @params(X=DENSITIES)
    def input_gradient(self, X):
        """(T[n], dT/dn_i) for each row: the partial derivatives; divide by dx for delta T / delta n (Eq. 17)."""
        return self._input_gradient(X)

    def _input_gradient(self, X):
        """:meth:`input_gradient` of checked densities (the descent calls it at every step)."""
        out, flat, cache = self._forward(X)
        return out, self._backward(np.ones_like(out), flat, cache, params=False, inputs=True)[1]

    def _tangent(self, R, cache):
        """Forward-mode pass along input directions ``R`` (B, n_grid) with the primal pass's ReLU masks: the flat
        tangent features and each block's tangent input columns (for :meth:`_backward`)."""
        h, cols_list = self.scaling[0] * R[:, :, None], []
        for b, s in enumerate(self.pools):
            z, cols = self._conv(h, self.params[2 * b])
            a = np.where(cache[b][1], z, 0.0)
            B, N = z.shape[:2]
            h = a.reshape(B, N // s, -1).mean(axis=2, keepdims=True) if self.average else \
                a.reshape(B, N // s, s, -1).mean(axis=2)
            cols_list.append(cols)
        return h.reshape(h.shape[0], -1), cols_list

    @params(Rule("weight", lambda self: self.activation == "relu", "derivative training (derivative_backward, any "
                 "weight) needs a ReLU network: a softplus network's slopes depend on the parameters too"),
            X=DENSITIES, Y=TARGETS, dY=Array(shape=("n", "self.n_grid"), promote=True,
                                            hint="one row of derivative targets per density"),
            weight=Real(ge=0))
    def derivative_backward(self, X, Y, dY, *, weight: float):
        """Sobolev training: Eq. 4's loss plus ``weight`` times the mean over rows and grid points of
        (dT/dn_i - dY_i)^2, the error of the input gradient against derivative targets; returns (the two loss
        terms, the gradients of their weighted sum).

        The parameter gradient of the input gradient is a double backward: with r = dT/dn - dY fixed,
        sum_i r_i dT/dn_i is T's directional derivative along r, whose parameter gradient is one more backward pass
        through the forward-mode tangent of the network (:meth:`_tangent`). ReLU networks only (a softplus
        network's slopes depend on the parameters too).
        """
        return self._derivative_backward(X, Y, dY, weight)

    def _derivative_backward(self, X, Y, dY, weight: float):
        """:meth:`derivative_backward` of checked arrays (Sobolev training calls it for every mini-batch)."""
        B = X.shape[0]
        out, flat, cache = self._forward(X)
        r_T = out - Y
        grads, _ = self._backward(2 * r_T / B, flat, cache, params=True, inputs=False)
        _, g = self._backward(np.ones(B), flat, cache, params=False, inputs=True)
        r = g - dY
        loss_d = float(np.mean(r**2))
        if weight:
            tangent = self._tangent(r, cache)
            extra, _ = self._backward(np.full(B, 2 * weight / r.size), flat, cache, params=True, inputs=False,
                                      tangent=tangent)
            grads = [a + b for a, b in zip(grads, extra)]
        return (float(np.mean(r_T**2)), loss_d), grads

    # -- saving (npz, never pickle) -------------------------------------------------
    def state(self) -> dict:
        """Arrays to save with ``np.savez``; :meth:`load_state` restores them."""
        return {f"p{i}": p for i, p in enumerate(self.params)} | {"scaling": np.array(self.scaling)}

    @params(arrays=Instance(Mapping, hint="pass CNN.state() or the np.load of an .npz file it was saved to"))
    def load_state(self, arrays) -> None:
        """Restore the parameters (and scaling) :meth:`state` saved."""
        if sum(k.startswith("p") for k in arrays) != len(self.params):
            raise ValueError("arrays: the saved state does not fit this network (a different number of parameter "
                             "arrays)")
        params = [np.asarray(arrays[f"p{i}"], dtype=float) for i in range(len(self.params))]
        for p, q in zip(params, self.params):
            if p.shape != q.shape:
                raise ValueError(f"arrays: saved parameter of shape {p.shape} does not fit this network ({q.shape})")
        self.params[:] = params
        if "scaling" in arrays:
            self.set_scaling(*np.asarray(arrays["scaling"], dtype=float))
