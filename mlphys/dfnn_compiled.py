"""Rodini's one-input, one-output DFNN step (:meth:`mlphys.dfnn.DFNN.vjp`) compiled with numba (optional).

Chapters 7-8 spend their time in one function: ``phi``, ``phi'`` and ``phi''`` of a ``1-(10 x 6)-1``
network at ~10^4 grid points, then the cotangent-weighted gradient of all three w.r.t. every weight.
NumPy (``DFNN._vjp_scalar``) makes ~40 passes over ``(10, 3B)`` arrays per layer and runs at the speed of
memory. Here the same recursion runs on blocks of :data:`BLOCK` points that stay in the L1 cache, with
the loop over the block's points innermost so that LLVM turns it into SIMD instructions, and the blocks
are shared out over the cores.

The names are those of ``DFNN._vjp_scalar``: per neuron ``Y = [y | y' | y'']``, ``Z`` the same for ``z``,
``D = [ydot | ydot' | ydot'']``, ``S`` the Sigma recursion, ``G = S * ydot`` and ``A`` the cotangents on
the layer below. What differs, and why:

* two sweeps: the first is the forward sweep, block by block, kept in a :class:`Workspace` (the cotangent
  needs all the outputs first, e.g. the norm of ``phi``); the second is the backward sweep. The workspace
  is reused from call to call, as fresh memory's page faults cost as much as recomputing the forward sweep;
  past :data:`MAX_CACHE_BYTES` blocks are recomputed in the second sweep instead of kept;
* every block is full (the points are padded with zeros, whose cotangents are zero), so every loop runs
  over :data:`BLOCK` points, a constant the compiler knows;
* a weight gradient is a sum over points; each of :data:`STRIPES` stripes of blocks adds its points to
  its own accumulators ``acc[weight, lane]``, point ``b`` of each block to lane ``b % LANES`` in a fixed
  order (vectorised over the lanes), and NumPy sums them in a fixed order at the end: the result does not
  depend on the number of threads or the CPU's vector width (same bits on every run);
* ``tanh`` (and the logistic function ``(1 + tanh(z/2)) / 2``) is Cephes' algorithm written out, so
  that it vectorises (``math.tanh`` is a scalar libm call, ten times slower); within 3 ulp of NumPy's.

numba is not a dependency: ``pip install "mlphys[fast]"`` adds it (numba 35 MB + llvmlite 175 MB installed).
Without it :func:`mlphys.dfnn.compiled_kernel` returns None and :meth:`~mlphys.dfnn.DFNN.vjp` takes the
NumPy path, the reference this kernel is tested against (``tests/test_dfnn_compiled.py``). The first call
compiles for ~10 s and caches the machine code in ``mlphys/__pycache__``; later processes load it in ~0.3 s.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .validate import Array, Choice, Function, Instance, Integer, Optional, Rule, Sequence, params, returned

BLOCK = 64            # points per block: a neuron's [y | y' | y''] is 3 x 64 doubles = 1.5 kB
LANES = BLOCK // 4    # a weight gradient's partial sums: point b of every block goes to lane b % LANES
STRIPES = 4           # blocks s, s + STRIPES, ... go to stripe s; stripes run in parallel
MAX_CACHE_BYTES = 2**27   # a Workspace keeps the forward sweeps of up to 128 MB of blocks (~4e4 points here)
ACTIVATION_CODES = {"tanh": 0, "sigmoid": 1, "softplus": 2}
# error_model="numpy": x / 0 gives inf instead of raising, so that divisions vectorise. No fastmath, not even
# "contract" (a * b + c as one FMA, 5-10% faster): whether LLVM fuses depends on what it inlines, which differs
# between a fresh compilation and the cached code, and the results then differ in their last bits between the
# first process and the next. cache: compiled once, then loaded from __pycache__.
_KERNEL = dict(error_model="numpy", cache=True)


def _jit(fn):
    return njit(fn, **_KERNEL)


@_jit
def _tanh(x):
    """Cephes ``tanh`` with one division: ``x + x^3 P(x^2)/Q(x^2)`` for ``|x| < 0.625``, else from ``e^-2|x|``."""
    ax = min(abs(x), 20.0)                             # tanh(20) = 1 to double precision
    z = x * x
    P = (-9.64399179425052238628e-1 * z - 9.92877231001918586564e1) * z - 1.61468768441708447952e3
    Q = ((z + 1.12811678491632931402e2) * z + 2.23548839060100448583e3) * z + 4.84406305325125486048e3
    # e^-2|x| = 2^-n e^r, |r| <= ln(2)/2, e^r = (q + p) / (q - p) by Cephes' Pade form, so that
    # tanh|x| = (1 - e^-2|x|) / (1 + e^-2|x|) = (2^n (q - p) - (q + p)) / (2^n (q - p) + (q + p))
    y = -2.0 * ax
    k = np.floor(y * 1.4426950408889634 + 0.5)
    r = (y - k * 6.93145751953125e-1) - k * 1.42860682030941723212e-6
    r2 = r * r
    p = r * ((1.26177193074810590878e-4 * r2 + 3.02994407707441961300e-2) * r2 + 9.99999999999999999910e-1)
    q = ((3.00198505138664455042e-6 * r2 + 2.52448340349684104192e-3) * r2 + 2.27265548208155028766e-1) * r2 \
        + 2.00000000000000000009e0
    two_n = np.float64(np.int64(1) << np.int64(-k))      # exact: n = -k in [0, 58]
    small = ax < 0.625
    num = x * Q + x * z * P if small else two_n * (q - p) - (q + p)
    den = Q if small else two_n * (q - p) + (q + p)
    return num / den if small or x >= 0.0 else -num / den


@njit(inline="always", **_KERNEL)
def _tanh_derivatives(z):
    """``tanh(z)`` and its first three derivatives (as :func:`mlphys.nn.activation_derivatives`)."""
    s = _tanh(z)
    d1 = 1.0 - s * s
    return s, d1, -2.0 * s * d1, d1 * (6.0 * s * s - 2.0)


@njit(inline="always", **_KERNEL)
def _sigmoid_derivatives(z):
    """The logistic function ``p = (1 + tanh(z/2)) / 2`` and its first three derivatives."""
    p = 0.5 * (1.0 + _tanh(0.5 * z))
    d1 = p * (1.0 - p)
    return p, d1, d1 * (1.0 - 2.0 * p), d1 * (1.0 - 6.0 * d1)


@njit(inline="always", **_KERNEL)
def _softplus_derivatives(z):
    """``log(1 + e^z)`` and its first three derivatives (the logistic function and its first two)."""
    p, d1, d2, _ = _sigmoid_derivatives(z)
    return max(z, 0.0) + np.log1p(np.exp(-abs(z))), p, d1, d2


@_jit
def _forward_block(Wf, bf, sizes, woff, boff, code, x, start, Ycache, Dcache, Z):
    """One block's forward sweep: each layer's input ``Y = [y | y' | y'']`` into ``Ycache[l]``,
    ``D = [ydot | ydot' | ydot'']`` into ``Dcache[l]``; returns the output layer's ``Z = [z | z' | z'']``."""
    y = Ycache[0, 0]                                   # the input: [x | 1 | 0]
    for b in range(BLOCK):
        y[0, b] = x[start + b]
        y[1, b] = 1.0
        y[2, b] = 0.0
    L = sizes.size - 1
    for l in range(L):
        n_in, n_out, wo, Y = sizes[l], sizes[l + 1], woff[l], Ycache[l]
        for i in range(n_out):                          # Z = W @ Y (+ b on the value row)
            w = Wf[wo + i * n_in:wo + (i + 1) * n_in]
            for k in range(3):
                _row_product(w, Y, k, Z[i, k], bf[boff[l] + i] if k == 0 else 0.0)
        if l == L - 1:
            return Z
        for i in range(n_out):
            _activate(code, Z[i], Ycache[l + 1, i], Dcache[l, i])
    return Z


@_jit
def _row_product(w, Y, k, z, start):
    """``z = start + sum_j w[j] Y[j, k]``: one row of a matrix product, vectorised over the block's points."""
    for b in range(BLOCK):
        z[b] = start
    for j in range(w.size):
        wj, y = w[j], Y[j, k]
        for b in range(BLOCK):
            z[b] += wj * y[b]


@_jit
def _activate(code, Z, Y, D):
    """One neuron: ``Y = [y | y' | y'']`` and ``D = [ydot | ydot' | ydot'']`` from ``Z = [z | z' | z'']`` (Eqs. 7-8).

    The activation's loop is written once per activation, with its derivatives inlined: a branch or a call
    returning a tuple inside the loop stops LLVM from vectorising it (2x slower). The product rules are
    loops of their own, one per output row, as in :func:`_sigma_times_ydot`.
    """
    z0, z1, z2, y0, y1, y2, d0, d1, d2 = Z[0], Z[1], Z[2], Y[0], Y[1], Y[2], D[0], D[1], D[2]
    if code == 0:                                      # sigma and its three derivatives
        for b in range(BLOCK):
            y0[b], d0[b], d1[b], d2[b] = _tanh_derivatives(z0[b])
    elif code == 1:
        for b in range(BLOCK):
            y0[b], d0[b], d1[b], d2[b] = _sigmoid_derivatives(z0[b])
    else:
        for b in range(BLOCK):
            y0[b], d0[b], d1[b], d2[b] = _softplus_derivatives(z0[b])
    for b in range(BLOCK):                             # the product rules, one output row per loop (see below)
        y1[b] = d0[b] * z1[b]
    for b in range(BLOCK):
        y2[b] = d1[b] * (z1[b] * z1[b]) + d0[b] * z2[b]
    for b in range(BLOCK):
        d2[b] = d2[b] * (z1[b] * z1[b]) + d1[b] * z2[b]
    for b in range(BLOCK):                             # last: the rows above use sigma'' from d1
        d1[b] = d1[b] * z1[b]


@_jit
def _sigma_times_ydot(S, D, G):
    """``G = [Sigma ydot | (Sigma ydot)' | (Sigma ydot)'']`` by the product rule (Eqs. 3, 12-13, 18-20).

    One loop per output row: a loop writing one array and reading a few is vectorised at once, one writing
    three has to check at run time that nine arrays do not overlap (measured 5-10% slower over the step).
    """
    s0, s1, s2, d0, d1, d2, g0, g1, g2 = S[0], S[1], S[2], D[0], D[1], D[2], G[0], G[1], G[2]
    for b in range(BLOCK):
        g0[b] = s0[b] * d0[b]
    for b in range(BLOCK):
        g1[b] = s1[b] * d0[b] + s0[b] * d1[b]
    for b in range(BLOCK):
        g2[b] = s2[b] * d0[b] + 2.0 * s1[b] * d1[b] + s0[b] * d2[b]


@_jit
def _cotangents(G, c, A, ab):
    """``A``, the cotangents on ``[y | y' | y'']`` of the layer below, from ``G`` and the cotangents ``c`` on
    ``[O | O' | O'']``; adds ``A[0]`` (the bias gradient) to ``ab``. One loop per output row."""
    g0, g1, g2, c0, c1, c2, a0, a1, a2 = G[0], G[1], G[2], c[0], c[1], c[2], A[0], A[1], A[2]
    for b in range(BLOCK):
        a0[b] = c0[b] * g0[b] + c1[b] * g1[b] + c2[b] * g2[b]
    for b in range(BLOCK):
        a1[b] = 2.0 * c2[b] * g1[b] + c1[b] * g0[b]
    for b in range(BLOCK):
        a2[b] = c2[b] * g0[b]
    for b in range(BLOCK):
        ab[b] += a0[b]


@_jit
def _a_dot_y(A, Y, b):
    """``A . Y`` at the block's point ``b``: one point's term of a weight gradient."""
    return A[0, b] * Y[0, b] + A[1, b] * Y[1, b] + A[2, b] * Y[2, b]


@_jit
def _slot(block, stripe, n_cached):
    """Where a block's forward sweep is kept: its own slot, or (past the cache) its stripe's, recomputed."""
    return block if block < n_cached else n_cached + stripe


@_jit
def _outputs_stripe(Wf, bf, sizes, woff, boff, code, x, out, stripe, Ycache, Dcache, n_cached, Z):
    """First sweep over the blocks ``stripe, stripe + STRIPES, ...``: ``out[block] = [O | O' | O'']``."""
    for block in range(stripe, out.shape[0], STRIPES):
        s = _slot(block, stripe, n_cached)
        _copy(_forward_block(Wf, bf, sizes, woff, boff, code, x, block * BLOCK, Ycache[s], Dcache[s], Z)[0],
              out[block])


@_jit
def _copy(a, out):
    """``out[:] = a``, for ``(3, BLOCK)`` arrays."""
    for k in range(3):
        for b in range(BLOCK):
            out[k, b] = a[k, b]


@_jit
def _gradients_stripe(Wf, bf, sizes, woff, boff, code, x, c, stripe, aW, ab, Ycache, Dcache, n_cached, Z, S, G, A):
    """Second sweep over the same blocks: the cotangent-weighted parameter gradients, added to ``aW``, ``ab``."""
    L = sizes.size - 1
    for block in range(stripe, c.shape[0], STRIPES):
        s = _slot(block, stripe, n_cached)
        Yc, Dc = Ycache[s], Dcache[s]
        if block >= n_cached:                          # not kept by the first sweep: recompute
            _forward_block(Wf, bf, sizes, woff, boff, code, x, block * BLOCK, Yc, Dc, Z)
        for b in range(BLOCK):                         # Sigma^(L) = 1, its input derivatives 0 (Eq. 5)
            S[0, 0, b] = 1.0
            S[0, 1, b] = 0.0
            S[0, 2, b] = 0.0
        for l in range(L - 1, -1, -1):
            n_in, n_out, wo = sizes[l], sizes[l + 1], woff[l]
            for i in range(n_out):
                if l == L - 1:                         # identity output layer: G = Sigma
                    _copy(S[i], G[i])
                else:
                    _sigma_times_ydot(S[i], Dc[l, i], G[i])
                _cotangents(G[i], c[block], A[i], ab[boff[l] + i])
                for j in range(n_in):                  # dW_ij += A_i . Y_j: point b to lane b % LANES
                    acc, Ai, Yj = aW[wo + i * n_in + j], A[i], Yc[l, j]
                    for b in range(LANES):
                        acc[b] += ((_a_dot_y(Ai, Yj, b) + _a_dot_y(Ai, Yj, b + LANES))
                                   + (_a_dot_y(Ai, Yj, b + 2 * LANES) + _a_dot_y(Ai, Yj, b + 3 * LANES)))
            if l > 0:                                  # Sigma^(l-1) = W^T G (Eqs. 5, 14, 21)
                for j in range(n_in):
                    for k in range(3):
                        _row_product(Wf[wo + j:wo + n_out * n_in:n_in], G, k, S[j, k], 0.0)


@njit(parallel=True, **_KERNEL)
def _outputs(Wf, bf, sizes, woff, boff, code, x, out, Ycache, Dcache, n_cached, Z):
    """:func:`_outputs_stripe` for every stripe, in parallel."""
    for stripe in prange(STRIPES):
        _outputs_stripe(Wf, bf, sizes, woff, boff, code, x, out, stripe, Ycache, Dcache, n_cached, Z[stripe])


@njit(parallel=True, **_KERNEL)
def _gradients(Wf, bf, sizes, woff, boff, code, x, c, accW, accb, Ycache, Dcache, n_cached, Z, S, G, A):
    """:func:`_gradients_stripe` for every stripe, in parallel (each with its own scratch and accumulators)."""
    for stripe in prange(STRIPES):
        _gradients_stripe(Wf, bf, sizes, woff, boff, code, x, c, stripe, accW[stripe], accb[stripe], Ycache, Dcache,
                          n_cached, Z[stripe], S[stripe], G[stripe], A[stripe])


SIZES = Sequence(Integer(ge=1, typical=(1, 4)), min_length=2, hint="the layer sizes (1, N1, ..., 1)")


def _one_in_one_out(params) -> bool:
    """Whether ``params`` is ``[W1, b1, ..., WL, bL]`` of a network with one input and one output."""
    if len(params) % 2 or not params:
        return False
    n_in = 1
    for W, b in zip(params[0::2], params[1::2]):
        if W.ndim != 2 or b.ndim != 1 or W.shape[1] != n_in or b.shape != (W.shape[0],):
            return False
        n_in = W.shape[0]
    return n_in == 1


class Workspace:
    """The memory of :func:`vjp` for one network shape and number of points, allocated once and reused.

    Most of it keeps every block's forward sweep (``Ycache``, ``Dcache``: ``2 L x width x 3`` doubles per
    point, 34 MB for the ``1-(10 x 6)-1`` network at 10^4 points) from the first sweep to the second, which
    then does not recompute it. Fresh memory costs page faults, which take as long as the recomputation it
    saves, hence the reuse: :class:`mlphys.dfnn.DFNN` keeps one per network. Blocks past ``max_bytes`` are
    recomputed, as are all of them when ``max_bytes=0``.

    Layout: ``Ycache[slot, l, i, k, b]`` is the ``k``-th input derivative of layer ``l``'s ``i``-th input (the
    output of neuron ``i`` below it; ``l = 0``: ``x``) at the block's point ``b``, ``Dcache[slot, l, i, k, b]`` that of
    ``ydot`` of layer ``l``'s neuron ``i``, so every neuron's ``(3, BLOCK)`` is contiguous;
    ``Z``, ``S``, ``G``, ``A`` are per-stripe ``(width, 3, BLOCK)``, ``accW``/``accb`` the per-stripe partial sums.
    """

    @params(sizes=SIZES, n_points=Integer(ge=1, typical=(1, 300)),
            max_bytes=Integer(ge=0, typical=(0, 2**20), hint="the most memory kept for the forward sweeps"))
    def __init__(self, sizes, n_points: int, max_bytes: int = MAX_CACHE_BYTES):
        self.sizes, self.n_points = tuple(int(n) for n in sizes), int(n_points)
        L, width, n_blocks = len(self.sizes) - 1, max(self.sizes), _blocks(self.n_points)
        per_block = 2 * L * width * 3 * BLOCK * 8
        self.n_cached = min(n_blocks, int(max_bytes) // per_block)
        self.Ycache, self.Dcache = (np.zeros((self.n_cached + STRIPES, L, width, 3, BLOCK)) for _ in range(2))
        self.Z, self.S, self.G, self.A = (np.zeros((STRIPES, width, 3, BLOCK)) for _ in range(4))
        n_weights = sum(a * b for a, b in zip(self.sizes[:-1], self.sizes[1:]))
        self.accW, self.accb = np.zeros((STRIPES, n_weights, LANES)), np.zeros((STRIPES, sum(self.sizes[1:]), BLOCK))

    @params(sizes=SIZES, n_points=Integer(ge=1, typical=(1, 300)))
    def fits(self, sizes, n_points: int) -> bool:
        """Whether this workspace is for a network of these layer ``sizes`` at ``n_points`` points."""
        return self._fits(sizes, n_points)

    def _fits(self, sizes, n_points):
        return tuple(sizes) == self.sizes and n_points == self.n_points


def _pack(params):
    """The weights and biases as two flat arrays, with the layer sizes and each layer's offsets into them."""
    sizes = np.array([params[0].shape[1]] + [W.shape[0] for W in params[0::2]], dtype=np.int64)
    Wf = np.concatenate([W.ravel() for W in params[0::2]])
    bf = np.concatenate([np.ravel(b) for b in params[1::2]])
    woff = np.concatenate([[0], np.cumsum(sizes[1:] * sizes[:-1])]).astype(np.int64)
    boff = np.concatenate([[0], np.cumsum(sizes[1:])]).astype(np.int64)
    return Wf, bf, sizes, woff, boff


def _blocks(B):
    """The number of blocks of ``B`` points."""
    return -(-B // BLOCK)


@params(Rule("params", _one_in_one_out, "must be [W1, b1, ..., WL, bL] of a network with one input and one output "
             "(W of shape (n_out, n_in), b of shape (n_out,))"),
        params=Sequence(Array(ndim=(2, 1)), min_length=2), activation=Choice(*ACTIVATION_CODES),
        x=Array(shape=(None,), finite=False, hint="the points; NaN and inf propagate as in NumPy"),
        cotangent=Function("cotangent(out (3, B)) -> c (3, B)"), workspace=Optional(Instance(Workspace)))
def vjp(params, activation, x, cotangent, workspace=None):
    """The step for one input and one output: ``(out, grads)``.

    ``out`` ``(3, B)`` is ``phi, phi', phi''`` at the points ``x`` ``(B,)``; ``cotangent(out)`` returns the weights
    ``c`` ``(3, B)``, and ``grads`` (a list like ``params``) is the gradient of
    ``sum_b c[0, b] phi_b + c[1, b] phi'_b + c[2, b] phi''_b`` with respect to ``params``. ``workspace``: a
    :class:`Workspace` for this network's shape and ``B`` to reuse (a new one when None or another shape).
    """
    return _vjp(params, activation, x, lambda out: returned(cotangent(out), "cotangent", out.shape), workspace)


def _vjp(params, activation, x, cotangent, workspace=None):
    """:func:`vjp` without the checks of its arguments (the training step: :meth:`mlphys.dfnn.DFNN.vjp`)."""
    Wf, bf, sizes, woff, boff = packed = _pack(params)
    code, x = ACTIVATION_CODES[activation], np.asarray(x, dtype=float)
    B = x.size
    ws = workspace if workspace is not None and workspace._fits(sizes, B) else Workspace(sizes, B)
    L, n_blocks = sizes.size - 1, _blocks(B)
    xp = np.zeros(n_blocks * BLOCK)                    # every block full: the padding's cotangent is zero
    xp[:B] = x
    out = np.empty((n_blocks, 3, BLOCK))
    _outputs(*packed, code, xp, out, ws.Ycache, ws.Dcache, ws.n_cached, ws.Z)
    out = out.transpose(1, 0, 2).reshape(3, -1)[:, :B]
    c = np.zeros((3, n_blocks * BLOCK))
    c[:, :B] = cotangent(out)
    c = np.ascontiguousarray(c.reshape(3, n_blocks, BLOCK).transpose(1, 0, 2))
    ws.accW[:] = 0.0
    ws.accb[:] = 0.0
    _gradients(*packed, code, xp, c, ws.accW, ws.accb, ws.Ycache, ws.Dcache, ws.n_cached, ws.Z, ws.S, ws.G, ws.A)
    gW, gb = ws.accW.sum(axis=(0, 2)), ws.accb.sum(axis=(0, 2))
    grads = []
    for l in range(L):
        grads += [gW[woff[l]:woff[l + 1]].reshape(sizes[l + 1], sizes[l]), gb[boff[l]:boff[l + 1]]]
    return out, grads
