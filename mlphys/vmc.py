"""Variational Monte Carlo with neural-network quantum states for electrons in a harmonic trap (Chapter 5).

The seams follow NetKet: Hamiltonian | wave function | sampler | optimiser | statistics.

* **Hamiltonian** (:class:`Hamiltonian`): P particles in D dimensions,
  ``H = sum_i (-1/2 nabla_i^2 + omega^2 r_i^2 / 2) + [sum_{i<j} 1/r_ij]``.
* **Wave functions** work in log space on a batch of walkers ``X`` of shape
  ``(W, P, D)``: each factor returns ``log|psi|``, its coordinate gradient
  ``(W, P, D)``, the Laplacian summed over all coordinates ``(W,)``, and the
  parameter derivatives ``O_k = d log|psi| / d theta_k`` ``(W, n_params)``.
  A :class:`Product` of factors adds all four. The local energy is

      E_L = -1/2 sum (nabla^2 log psi + |nabla log psi|^2) + V.

* **Samplers**: random-walk Metropolis and Langevin importance sampling
  (Metropolis-Hastings with drift ``D F dt``, ``F = 2 nabla log psi``, ``D = 1/2``).
* **Optimiser**: the lecture's gradient ``dE/dtheta_k = 2 (<E_L O_k> - <E_L><O_k>)``
  with SGD or Adam from :mod:`mlphys.nn`.
* **Statistics**: :func:`mlphys.stats.blocking` for error bars.
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from itertools import product as iproduct

import numpy as np
from autograd.numpy.numpy_boxes import ArrayBox

from . import nn, stats
from .config import make_rng
from .validate import (AnyOf, Anything, Array, Choice, Flag, Having, Instance, Integer, Mapping, Optional, Real, Rule,
                       Seed, fields, finite, params)

ANSATZE = ("gaussian", "gaussian-jastrow", "rbm", "rbm-jastrow", "slater-rbm", "slater-jastrow")

#: The trap is 1, 2 or 3 dimensional; shells are enumerated over (shell + 1)^dim tuples, so dim also bounds the time.
DIM = Integer(ge=1, le=3, hint="the trap is 1, 2 or 3 dimensional (shells are enumerated over (shell + 1)^dim "
                              "tuples, so a large dim would not return)")


# ============================================================================ declarations this module needs

#: A Hamiltonian: :class:`Hamiltonian` or anything with its attributes (``variational.Trap``).
HAMILTONIAN = Having("n_particles", "dim", "omega", "potential", what="a Hamiltonian (vmc.Hamiltonian or an object "
                      "with n_particles, dim, omega and potential(X))")
#: A wave function for the samplers and local energies: a :class:`Factor` or anything with ``evaluate``.
WAVEFUNCTION = Having("evaluate", what="a wave function (a vmc.Factor, or an object with evaluate(X, ...))")
#: Walker positions (walkers, particles, dim) for a Hamiltonian ``H``.
POSITIONS = Array(shape=(None, "H.n_particles", "H.dim"), hint="positions are (walkers, particles, dim)")


# ============================================================================ Hamiltonian

@fields(n_particles=Integer(ge=1, typical=(1, 4)), dim=DIM, omega=Real(gt=0, hint="a trap frequency"),
                 coulomb=Flag())
@dataclass(frozen=True)
class Hamiltonian:
    """Harmonic trap of frequency ``omega`` with optional Coulomb repulsion (atomic units)."""

    n_particles: int
    dim: int
    omega: float = 1.0
    coulomb: bool = False

    @params(X=Array(shape=(None, "self.n_particles", "self.dim"), hint="positions are (walkers, particles, dim)"),
            xp=Anything("an array module with NumPy's interface: numpy, or autograd.numpy to differentiate"))
    def potential(self, X, xp=np):
        """``sum_i omega^2 r_i^2 / 2 + [sum_{i<j} 1 / r_ij]`` for each walker."""
        return self._potential(X, xp)

    def _potential(self, X, xp=np):
        """:meth:`potential` unchecked, for the samplers' inner loops.

        (Sums over the short particle and coordinate axes are written as ``einsum``: NumPy's ``sum`` over an axis
        of length 2-4 is ten times slower, and this runs on every sample.)
        """
        v = 0.5 * self.omega**2 * xp.einsum("wpd,wpd->w", X, X)
        if self.coulomb and self.n_particles > 1:
            i, j = np.triu_indices(self.n_particles, 1)
            diff = X[:, i, :] - X[:, j, :]
            v = v + xp.einsum("wp->w", 1.0 / xp.sqrt(xp.einsum("wpd,wpd->wp", diff, diff)))
        return v


def _potential(H, X):
    """``H``'s potential, unchecked when ``H`` is a :class:`Hamiltonian` (inner loops)."""
    return H._potential(X) if isinstance(H, Hamiltonian) else H.potential(X)


# ============================================================================ wave-function factors

class Factor:
    """A factor of the wave function.

    Subclasses set ``params`` and provide ``_log_psi(X, xp=np)`` (written over the
    array module ``xp`` so that autograd can check it) and ``_evaluate(X, derivatives=True, param_grad=True)``
    returning ``(log_psi, grad, laplacian, param_grad)``: without ``derivatives`` only ``log_psi`` is computed
    (the Metropolis test), without ``param_grad`` the last entry is None (a local energy, a Langevin drift).
    The public ``log_psi``, ``evaluate`` and ``set_params`` check their arguments and call these; the samplers call
    them directly in their inner loops (a declaration costs ~20 us a call). ``n_particles`` and ``dim`` are those
    the factor is built for, None where it works for any (the Gaussian).
    """

    params: np.ndarray
    n_particles: int | None = None
    dim: int | None = None

    @property
    def n_params(self) -> int:
        return self.params.size

    @params(theta=Array(shape=("self.n_params",), min_size=0, hint="one entry per variational parameter"))
    def set_params(self, theta):
        self._set_params(theta)

    def _set_params(self, theta):
        self.params = theta.copy()

    @params(X=AnyOf(Array(shape=(None, "self.n_particles", "self.dim"),
                          hint="positions are (walkers, particles, dim)"), Instance(ArrayBox)),
            xp=Anything("an array module with NumPy's interface: numpy, or autograd.numpy to differentiate"))
    def log_psi(self, X, xp=np):
        """``log |psi|`` for each walker, written over ``xp`` (``X`` may then be autograd's traced array)."""
        return self._log_psi(X, xp)

    @params(X=Array(shape=(None, "self.n_particles", "self.dim"), hint="positions are (walkers, particles, dim)"),
            derivatives=Flag(), param_grad=Flag())
    def evaluate(self, X, derivatives=True, param_grad=True):
        """``(log_psi, grad, laplacian, param_grad)`` for each walker (see the class docstring)."""
        return self._evaluate(X, derivatives, param_grad)


def _evaluate(wf, X, **options):
    """``wf.evaluate`` unchecked for this module's factors (the samplers' inner loops), as is for others."""
    return (wf._evaluate if isinstance(wf, Factor) else wf.evaluate)(X, **options)


def _log_psi(wf, X, xp):
    return wf._log_psi(X, xp) if isinstance(wf, Factor) else wf.log_psi(X, xp)


class Gaussian(Factor):
    """``exp(-alpha sum_i r_i^2 / 2)``: exact for non-interacting particles at ``alpha = omega``."""

    @params(alpha=Real(gt=0))
    def __init__(self, alpha: float = 1.0):
        self.params = np.array([alpha])

    def _log_psi(self, X, xp=np):
        return -0.5 * self.params[0] * xp.sum(X**2, axis=(1, 2))

    def _evaluate(self, X, derivatives=True, param_grad=True):
        alpha = self.params[0]
        r2 = np.sum(X**2, axis=(1, 2))
        if not derivatives:
            return -0.5 * alpha * r2, None, None, None
        W, P, D = X.shape
        return (-0.5 * alpha * r2, -alpha * X, np.full(W, -alpha * P * D),
                (-0.5 * r2)[:, None] if param_grad else None)


@params(n_particles=Integer(ge=1, typical=(1, 6)),
        dim=Integer(ge=2, le=3, hint="the Coulomb cusp needs dim >= 2 (1/(D-1)); the trap has at most 3"))
def cusp_matrix(n_particles: int, dim: int) -> np.ndarray:
    """Kato cusp coefficients ``a_ij``: ``1/(D-1)`` for opposite spins, ``1/(D+1)`` for equal spins.

    Particles ``0 .. P/2 - 1`` are spin up, the rest spin down (for P = 2: one of each).
    """
    up = np.arange(n_particles) < (n_particles + 1) // 2
    same = up[:, None] == up[None, :]
    return np.where(same, 1.0 / (dim + 1), 1.0 / (dim - 1))


class PadeJastrow(Factor):
    """``exp(sum_{i<j} a_ij r_ij / (1 + beta r_ij))`` with the cusp ``a_ij`` fixed and ``beta`` variational.

    ``cusp=False`` sets ``a_ij = 0`` (no interaction to correlate: the factor is 1).
    """

    @params(Rule("dim", lambda dim, cusp: dim >= 2 or not cusp, "the Coulomb cusp needs dim >= 2; pass cusp=False "
                 "in 1D"), n_particles=Integer(ge=1, typical=(1, 6)), dim=DIM, beta=Real(gt=0), cusp=Flag())
    def __init__(self, n_particles: int, dim: int, beta: float = 0.5, *, cusp: bool = True):
        self.n_particles, self.dim = n_particles, dim
        self.a = cusp_matrix(n_particles, dim) if cusp else np.zeros((n_particles, n_particles))
        self.pairs = np.triu_indices(n_particles, 1)
        self.params = np.array([beta])
        i, j = self.pairs
        self.incidence = np.zeros((len(i), n_particles))   # +1 for particle i, -1 for j of each pair (i < j)
        self.incidence[np.arange(len(i)), i], self.incidence[np.arange(len(i)), j] = 1.0, -1.0

    def _log_psi(self, X, xp=np):
        i, j = self.pairs
        r = xp.sqrt(xp.sum((X[:, i, :] - X[:, j, :]) ** 2, axis=-1))
        return xp.sum(self.a[i, j] * r / (1.0 + self.params[0] * r), axis=1)

    def _evaluate(self, X, derivatives=True, param_grad=True):
        D = X.shape[2]
        beta = self.params[0]
        i, j = self.pairs
        a = self.a[i, j]                                    # one cusp coefficient per pair i < j
        diff = X[:, i, :] - X[:, j, :]                      # (W, pairs, D): r_i - r_j
        r = np.sqrt(np.einsum("wpd,wpd->wp", diff, diff))   # (W, pairs)
        denom = 1.0 + beta * r
        log_psi = (r / denom) @ a
        if not derivatives:
            return log_psi, None, None, None
        du = a / denom**2                                   # u'(r_ij)
        d2u = -2.0 * beta * du / denom                      # u''(r_ij)
        # grad_k u(r_ij) = u'(r_ij) (r_i - r_j) / r_ij for k = i, the opposite for k = j
        pull = (du / r)[:, :, None] * diff                  # (W, pairs, D)
        grad = np.matmul(self.incidence.T, pull)            # (W, P, D)
        lap = 2.0 * np.einsum("wp->w", d2u + (D - 1) * du / r)   # each pair counts for both of its particles
        dbeta = -((r / denom) ** 2 @ a)[:, None] if param_grad else None
        return log_psi, grad, lap, dbeta


class RBM(Factor):
    """Gaussian-binary RBM wave function on the flattened coordinates ``x`` (M = P D visible units).

    ``F(x) = exp(-sum_m (x_m - a_m)^2 / 2 sigma^2) prod_n (1 + exp(Q_n))``,
    ``Q_n = b_n + sum_m x_m W_mn / sigma^2`` (Chapter 4, Eq. gb-marginal). The
    lecture sets ``|psi|^2 = F``, i.e. ``psi = F^(1/2)`` (``power=0.5``); ``psi = F``
    is ``power=1``. We choose ``sigma^2 = power / omega`` so that ``W = 0``,
    ``a = 0`` is the exact non-interacting ground state. Derivatives of ``log F``:

        d/dx_m   = -(x_m - a_m)/sigma^2 + sum_n W_mn sigmoid(Q_n) / sigma^2
        d2/dx_m2 = -1/sigma^2 + sum_n W_mn^2 sigmoid(Q_n)(1 - sigmoid(Q_n)) / sigma^4
        d/da_m = (x_m - a_m)/sigma^2,   d/db_n = sigmoid(Q_n),   d/dW_mn = x_m sigmoid(Q_n) / sigma^2

    (the last is the one the course codes got wrong), each multiplied by ``power``.
    """

    @params(n_particles=Integer(ge=1, typical=(1, 4)), dim=DIM, n_hidden=Integer(ge=1, typical=(1, 4)),
            omega=Real(gt=0), power=Choice(0.5, 1.0, 1), rng=Seed(), weight_scale=Real(ge=0, typical=(0.0, 0.5)))
    def __init__(self, n_particles: int, dim: int, n_hidden: int, *, omega: float = 1.0, power: float = 0.5,
                 rng=None, weight_scale: float = 0.01):
        """``power``: 0.5 (``|psi|^2 = F``, the lecture) or 1 (``psi = F``)."""
        self.n_particles, self.dim = n_particles, dim
        self.M = n_particles * dim
        self.N = n_hidden
        self.power = power
        self.sigma2 = power / omega
        rng = make_rng(rng)
        self.params = np.concatenate([rng.normal(0, weight_scale, self.M), rng.normal(0, weight_scale, self.N),
                                      rng.normal(0, weight_scale, self.M * self.N)])

    @params(theta=Optional(Array(shape=("self.n_params",), min_size=0, hint="one entry per variational parameter")))
    def unpack(self, theta=None):
        """Visible biases ``a`` (M,), hidden biases ``b`` (N,) and weights ``W`` (M, N) of ``theta`` (default: the
        current parameters)."""
        return self._unpack(theta)

    def _unpack(self, theta=None):
        theta = self.params if theta is None else theta
        a, b = theta[: self.M], theta[self.M: self.M + self.N]
        return a, b, theta[self.M + self.N:].reshape(self.M, self.N)

    def _log_psi(self, X, xp=np):
        a, b, W = self._unpack()
        x = xp.reshape(X, (X.shape[0], self.M))
        Q = b + xp.dot(x, W) / self.sigma2
        return self.power * (-xp.sum((x - a) ** 2, axis=1) / (2 * self.sigma2)
                             + xp.sum(nn.activation("softplus", Q, xp), axis=1))

    def _evaluate(self, X, derivatives=True, param_grad=True):
        a, b, W = self._unpack()
        s2, k = self.sigma2, self.power
        x = X.reshape(X.shape[0], self.M)
        Q = x @ (W / s2) + b
        xa = x - a
        softplus, sig = nn.softplus_and_sigmoid(Q, sigmoid=derivatives)
        log_psi = k * (np.einsum("wn->w", softplus) - np.einsum("wm,wm->w", xa, xa) / (2 * s2))
        if not derivatives:
            return log_psi, None, None, None
        grad = (k / s2) * (sig @ W.T - xa)
        lap = (k / s2**2) * ((sig * (1 - sig)) @ np.sum(W**2, axis=0)) - k * self.M / s2
        if not param_grad:
            return log_psi, grad.reshape(X.shape), lap, None
        dW = (x[:, :, None] * sig[:, None, :] / s2).reshape(len(x), -1)
        return log_psi, grad.reshape(X.shape), lap, k * np.concatenate([xa / s2, sig, dW], axis=1)


def _shell_quantum_numbers(n_orbitals: int, dim: int):
    """Harmonic-oscillator quantum numbers ``(n_1..n_D)`` of the lowest orbitals, filled shell by shell."""
    numbers, shell = [], 0
    while len(numbers) < n_orbitals:
        numbers += sorted(q for q in iproduct(range(shell + 1), repeat=dim) if sum(q) == shell)
        shell += 1
    return numbers[:n_orbitals], shell


@params(dim=DIM, max_particles=Integer(ge=0, le=100_000, hint="one loop per shell: in 1D a shell holds 2 particles"))
def closed_shell_numbers(dim: int, max_particles: int = 100):
    """Particle numbers that fill harmonic-oscillator shells with both spins (2D: 2, 6, 12, 20, ...).

    Shell ``s`` holds ``2 C(s + D - 1, D - 1)`` particles: the number of ``(n_1..n_D) >= 0`` with sum ``s``, twice.
    """
    out, total, shell = [], 0, 0
    while True:
        total += 2 * math.comb(shell + dim - 1, dim - 1)
        if total > max_particles:
            return out
        out.append(total)
        shell += 1


class Slater(Factor):
    """Slater determinants (spin up, spin down) of the polynomial parts of harmonic-oscillator orbitals.

    Orbital ``k`` is ``prod_d H_{n_d}(sqrt(omega) x_d)`` (Hermite polynomials); the
    Gaussian ``exp(-alpha r^2 / 2)`` common to all orbitals is a separate
    :class:`Gaussian` factor. No variational parameters. Closed shells only.
    """

    @params(Rule("n_particles", lambda n_particles, dim: n_particles in closed_shell_numbers(dim),
                 "does not fill closed shells (both spins) in this dim; use one of closed_shell_numbers(dim): "
                 "1D 2, 4, 6, ...; 2D 2, 6, 12, 20, ...; 3D 2, 8, 20, 40, ..."),
            n_particles=Integer(ge=1, le=100, typical=(1, 8)), dim=DIM, omega=Real(gt=0))
    def __init__(self, n_particles: int, dim: int, omega: float = 1.0):
        self.n_particles, self.dim = n_particles, dim
        self.n_half = n_particles // 2
        self.quanta, _ = _shell_quantum_numbers(self.n_half, dim)
        self.Q = np.array(self.quanta)                      # (K, D) quantum numbers
        self.sqrt_omega = np.sqrt(omega)
        self.params = np.zeros(0)

    def _orbitals(self, Xs):
        """Values, gradients and Laplacians of the orbital polynomials: shapes (W, n, k), (W, n, k, D), (W, n, k)."""
        c = self.sqrt_omega
        xi = c * Xs                                         # (W, n, D)
        max_n = int(self.Q.max())
        H = [np.ones_like(xi), 2.0 * xi]                    # Hermite recursion H_{m+1} = 2 xi H_m - 2 m H_{m-1}
        for m in range(1, max_n + 1):
            H.append(2.0 * xi * H[m] - 2.0 * m * H[m - 1])
        H = np.stack(H[: max_n + 2], axis=-1)               # (W, n, D, max_n + 2)
        m = np.arange(H.shape[-1])
        dH = np.zeros_like(H)
        dH[..., 1:] = 2 * m[1:] * H[..., :-1]               # H_m' = 2 m H_{m-1}
        d2H = np.zeros_like(H)
        d2H[..., 2:] = 4 * m[2:] * (m[2:] - 1) * H[..., :-2]
        dims = np.arange(Xs.shape[2])
        HQ = H[:, :, dims, self.Q]                          # (W, n, K, D): H_{q_d}(xi_d) for orbital k
        dHQ = c * dH[:, :, dims, self.Q]
        d2HQ = c * c * d2H[:, :, dims, self.Q]
        ones = np.ones_like(HQ[..., :1])
        prefix = np.cumprod(np.concatenate([ones, HQ[..., :-1]], axis=-1), axis=-1)
        suffix = np.cumprod(np.concatenate([ones, HQ[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = prefix * suffix                            # product over the other dimensions
        return HQ.prod(axis=-1), dHQ * others, np.sum(d2HQ * others, axis=-1)

    def _orbital_values(self, Xs, xp=np):
        """Orbital polynomials by the Hermite recursion ``H_{m+1} = 2 xi H_m - 2 m H_{m-1}`` (autograd-friendly)."""
        xi = self.sqrt_omega * Xs
        max_n = max(max(q) for q in self.quanta)
        H = [xp.ones_like(xi), 2.0 * xi]
        for m in range(1, max_n):
            H.append(2.0 * xi * H[m] - 2.0 * m * H[m - 1])
        cols = []
        for q in self.quanta:
            col = 1.0
            for d, n in enumerate(q):
                col = col * H[n][..., d]
            cols.append(col)
        return xp.stack(cols, axis=-1)

    def _log_psi(self, X, xp=np):
        return (xp.linalg.slogdet(self._orbital_values(X[:, : self.n_half], xp))[1]
                + xp.linalg.slogdet(self._orbital_values(X[:, self.n_half:], xp))[1])

    def _evaluate(self, X, derivatives=True, param_grad=True):
        log_psi = np.zeros(X.shape[0])
        grad = np.zeros_like(X) if derivatives else None
        lap = np.zeros(X.shape[0]) if derivatives else None
        for part in (slice(0, self.n_half), slice(self.n_half, 2 * self.n_half)):
            vals, grads, laps = self._orbitals(X[:, part])
            sign, logdet = np.linalg.slogdet(vals)
            log_psi += logdet
            if derivatives:
                inv = np.linalg.inv(vals)                   # (W, k, n): D^-1
                g = np.einsum("wikd,wki->wid", grads, inv)  # grad_i log det = sum_k grad phi_k(r_i) D^-1_ki
                grad[:, part] = g
                lap += np.einsum("wik,wki->w", laps, inv) - np.sum(g**2, axis=(1, 2))
        return log_psi, grad, lap, (np.zeros((X.shape[0], 0)) if derivatives and param_grad else None)


_ROW = Rule("i", lambda i, inverse: i < inverse.shape[1], "must index a row of the n x n matrices (i < n)")
INVERSES = dict(inverse=Array(shape=("w", "n", "n"), hint="a batch of square inverse matrices (walkers, n, n)"),
                i=Integer(ge=0), new_row=Array(shape=("w", "n"), hint="one row of n orbital values per walker"))


@params(_ROW, **INVERSES)
def determinant_ratio(inverse, i, new_row):
    """``det D' / det D`` when row ``i`` of D is replaced by ``new_row``: ``sum_k new_row_k (D^-1)_{k i}``.

    Costs O(n) instead of O(n^3): with a single-particle move only particle i's
    orbitals change. Batched over a leading walker axis: ``inverse`` (W, n, n), ``new_row`` (W, n).
    """
    return np.einsum("wk,wk->w", new_row, inverse[:, :, i])


@params(_ROW, Rule("ratio", lambda ratio: np.all(ratio != 0), "must be nonzero (a zero determinant ratio leaves a "
                                                                  "singular matrix without an inverse)"),
        **INVERSES, ratio=Array(shape=("w",)))
def inverse_update(inverse, i, new_row, ratio):
    """Sherman-Morrison update of ``D^-1`` after replacing row ``i`` of D by ``new_row`` (O(n^2)).

    ``(D'^-1)_{kj} = (D^-1)_{kj} - (D^-1)_{ki} sum_l new_row_l (D^-1)_{lj} / R`` for ``j != i``, and
    ``(D'^-1)_{ki} = (D^-1)_{ki} / R``, with ``R`` from :func:`determinant_ratio`.
    """
    inv = inverse.copy()
    s = np.einsum("wl,wlj->wj", new_row, inverse)          # (W, n)
    col = inverse[:, :, i] / ratio[:, None]               # new column i
    inv -= col[:, :, None] * s[:, None, :]
    inv[:, :, i] = col
    return inv


class Product(Factor):
    """Product of factors: logs, gradients and Laplacians add; parameters are concatenated."""

    def __init__(self, *factors):
        for k, f in enumerate(factors):
            WAVEFUNCTION.check(f, f"factors[{k}]", {})
        self.factors = list(factors)

    @property
    def params(self):
        return np.concatenate([f.params for f in self.factors]) if self.factors else np.zeros(0)

    @property
    def n_particles(self):
        return next((f.n_particles for f in self.factors if getattr(f, "n_particles", None) is not None), None)

    @property
    def dim(self):
        return next((f.dim for f in self.factors if getattr(f, "dim", None) is not None), None)

    def _set_params(self, theta):
        i = 0
        for f in self.factors:
            (f._set_params if isinstance(f, Factor) else f.set_params)(theta[i:i + f.n_params])
            i += f.n_params

    @property
    def n_params(self):
        return sum(f.n_params for f in self.factors)

    def _log_psi(self, X, xp=np):
        return sum(_log_psi(f, X, xp) for f in self.factors)

    def _evaluate(self, X, derivatives=True, param_grad=True):
        parts = [_evaluate(f, X, derivatives=derivatives, param_grad=param_grad) for f in self.factors]
        log_psi = sum(p[0] for p in parts)
        if not derivatives:
            return log_psi, None, None, None
        return (log_psi, sum(p[1] for p in parts), sum(p[2] for p in parts),
                np.concatenate([p[3] for p in parts], axis=1) if param_grad else None)


#: The wave function is for the Hamiltonian's particles and dimensions (where it knows them: an RBM does, a Gaussian
#: not).
_SAME_SYSTEM = Rule("wf", lambda wf, H: getattr(wf, "n_particles", None) in (None, H.n_particles)
                    and getattr(wf, "dim", None) in (None, H.dim),
                    "is built for another number of particles or dimensions than H (compare wf.n_particles, wf.dim "
                    "with H.n_particles, H.dim)")


@params(_SAME_SYSTEM, wf=WAVEFUNCTION, H=HAMILTONIAN, X=POSITIONS, return_param_grad=Flag())
def local_energy(wf: Factor, H: Hamiltonian, X, *, return_param_grad: bool = False):
    """``E_L = -1/2 sum(nabla^2 log psi + |nabla log psi|^2) + V`` for each walker (analytic derivatives)."""
    return _local_energy(wf, H, X, return_param_grad)


def _local_energy(wf, H, X, return_param_grad=False):
    """:func:`local_energy` unchecked, for the inner loops of :func:`sample` and :func:`optimise`."""
    log_psi, grad, lap, pgrad = _evaluate(wf, X, param_grad=return_param_grad)
    e = -0.5 * (lap + np.einsum("wpd,wpd->w", grad, grad)) + _potential(H, X)
    return (e, pgrad) if return_param_grad else e


@params(_SAME_SYSTEM, wf=Having("log_psi", what="a wave function with log_psi(X, xp) (a vmc.Factor)"),
        H=HAMILTONIAN, X=POSITIONS)
def local_energy_autograd(wf: Factor, H: Hamiltonian, X):
    """The same local energy with all derivatives taken by autograd (the oracle, and the slow way)."""
    import autograd.numpy as anp
    from autograd import elementwise_grad

    W, P, D = X.shape
    flat = X.reshape(W, P * D)

    def logpsi(flat_x):
        return wf.log_psi(anp.reshape(flat_x, (W, P, D)), xp=anp)

    first = elementwise_grad(logpsi)
    g = first(flat)
    lap = np.zeros(W)
    for m in range(P * D):
        lap += elementwise_grad(lambda z, m=m: first(z)[:, m])(flat)[:, m]
    return -0.5 * (lap + np.sum(g**2, axis=1)) + H.potential(X)


# ============================================================================ samplers

@fields(X=Array(shape=("w", "p", "d"), hint="positions are (walkers, particles, dim)"),
                 log_psi=Array(shape=("w",), finite=False, hint="one log|psi| per walker (-inf on a node)"),
                 grad=Optional(Array(shape=("w", "p", "d"), finite=False, hint="grad log psi, shaped like X")))
@dataclass
class WalkerState:
    """Positions of all walkers with their cached ``log psi`` and gradient."""

    X: np.ndarray
    log_psi: np.ndarray
    grad: np.ndarray | None = None


class Metropolis:
    """Random-walk Metropolis: move all particles of each walker by ``step * N(0, 1)``; accept with ``|psi'/psi|^2``."""

    @params(step=Real(gt=0, typical=(0.1, 2.0)))
    def __init__(self, step: float = 1.0):
        self.step = step

    @params(wf=WAVEFUNCTION, X=Array(shape=(None, "wf.n_particles", "wf.dim"), hint="positions are (walkers, "
                                     "particles, dim)"))
    def init(self, wf, X):
        """The walkers at ``X`` (a copy: sweeps move the state's positions, never the caller's array)."""
        return self._init(wf, X)

    def _init(self, wf, X):
        return WalkerState(X, _evaluate(wf, X, derivatives=False)[0])

    @params(wf=WAVEFUNCTION, state=Instance(WalkerState), rng=Seed())
    def sweep(self, wf, state, *, rng=None):
        """One move of every walker (in place in ``state``); returns the fraction accepted."""
        return self._sweep(wf, state, make_rng(rng))

    def _sweep(self, wf, state, rng):
        Xn = state.X + self.step * rng.standard_normal(state.X.shape)
        lp = _evaluate(wf, Xn, derivatives=False)[0]
        accept = np.log(rng.random(len(lp))) < 2.0 * (lp - state.log_psi)
        state.X[accept] = Xn[accept]
        state.log_psi[accept] = lp[accept]
        return accept.mean()


class Langevin:
    """Importance sampling: ``X' = X + D F dt + sqrt(dt) xi`` with ``F = 2 grad log psi``, ``D = 1/2``.

    The drift *adds* ``D F dt`` to the position; the Metropolis-Hastings ratio
    includes the Green's functions ``G(y|x) ~ exp(-(y - x - drift(x))^2 / (4 D dt))``.
    Near a node of psi the drift ``D F dt = v dt`` (``v = grad_i log psi``) diverges
    and a walker that lands there proposes only enormous jumps: it is stuck, and
    the run is biased for any practical length. As in Umrigar, Nightingale and
    Runge (J. Chem. Phys. 99, 2865 (1993)) the drift of each particle is
    therefore limited, ``v dt -> v dt (sqrt(1 + 2 a v^2 dt) - 1) / (a v^2 dt)`` with
    ``a = 1/2``; the same limited drift enters both Green's functions, so the
    sampling stays exact. Without nodes and for small ``v^2 dt`` this is the plain drift.
    """

    D = 0.5
    drift_limit = 0.5

    @params(dt=Real(gt=0, typical=(0.01, 0.5)))
    def __init__(self, dt: float = 0.05):
        self.dt = dt

    @params(wf=WAVEFUNCTION, X=Array(shape=(None, "wf.n_particles", "wf.dim"), hint="positions are (walkers, "
                                     "particles, dim)"))
    def init(self, wf, X):
        """The walkers at ``X`` (a copy: sweeps move the state's positions, never the caller's array)."""
        return self._init(wf, X)

    def _init(self, wf, X):
        lp, g, _, _ = _evaluate(wf, X, param_grad=False)
        return WalkerState(X, lp, g)

    @params(grad=Array(ndim=3, hint="grad log psi of shape (walkers, particles, dim)"))
    def drift(self, grad):
        """Displacement ``D F dt = v dt``, limited per particle near nodes (see class docstring)."""
        return self._drift(grad)

    def _drift(self, grad):
        dt, a = self.dt, self.drift_limit
        v2 = np.sum(grad**2, axis=-1, keepdims=True)
        x = a * v2 * dt
        factor = np.where(x > 1e-8, (np.sqrt(1.0 + 2.0 * x) - 1.0) / np.where(x > 1e-8, x, 1.0), 1.0 - 0.5 * x)
        return factor * grad * dt

    @params(Rule("state", lambda state: state.grad is not None, "has no gradient: start it with Langevin.init"),
            wf=WAVEFUNCTION, state=Instance(WalkerState), rng=Seed())
    def sweep(self, wf, state, *, rng=None):
        """One move of every walker (in place in ``state``); returns the fraction accepted."""
        return self._sweep(wf, state, make_rng(rng))

    def _sweep(self, wf, state, rng):
        dt, D = self.dt, self.D
        shift = self._drift(state.grad)
        Xn = state.X + shift + np.sqrt(dt) * rng.standard_normal(state.X.shape)
        lpn, gn, _, _ = _evaluate(wf, Xn, param_grad=False)
        log_g_forward = -np.sum((Xn - state.X - shift) ** 2, axis=(1, 2)) / (4 * D * dt)
        log_g_backward = -np.sum((state.X - Xn - self._drift(gn)) ** 2, axis=(1, 2)) / (4 * D * dt)
        log_ratio = 2.0 * (lpn - state.log_psi) + log_g_backward - log_g_forward
        accept = np.log(rng.random(len(lpn))) < log_ratio
        state.X[accept] = Xn[accept]
        state.log_psi[accept] = lpn[accept]
        state.grad[accept] = gn[accept]
        return accept.mean()


@fields(means=Array(shape=("t",)), local_energies=Array(shape=("t", "w")), acceptance=Real(ge=0, le=1),
                 state=Instance(WalkerState), positions=Optional(Array(ndim=3)))
@dataclass
class Samples:
    """What :func:`sample` returns. Unpacks in field order, ``means, local_energies, acceptance, state, positions``.

    ``means``: walker-averaged local energy per step (n_steps,); ``local_energies``: (n_steps, n_walkers), one
    column per independent chain; ``acceptance``: mean acceptance rate; ``state``: the sampler's final state;
    ``positions``: kept walker positions (samples, particles, dim) or None.
    """

    means: np.ndarray
    local_energies: np.ndarray
    acceptance: float
    state: object
    positions: np.ndarray | None = None

    def __iter__(self):
        return iter((self.means, self.local_energies, self.acceptance, self.state, self.positions))

    def energy(self):
        """``(mean, error)`` with the error from the independent chains (:func:`mlphys.stats.chain_mean_error`)."""
        return stats.chain_mean_error(self.local_energies, chain_axis=1)


def _apart(X0):
    """No two particles of a walker at the same point (where 1/r_ij and the Jastrow gradient are singular)."""
    if X0 is None or X0.shape[1] < 2:
        return True
    i, j = np.triu_indices(X0.shape[1], 1)
    return bool(np.all(np.any(X0[:, i, :] != X0[:, j, :], axis=-1)))


_APART = Rule("X0", _apart, "has two particles of a walker at the same point: the Coulomb energy and the Jastrow "
              "factor's gradient are singular there and the local energies come out NaN; start from distinct "
              "positions (X0=None draws them from the trap's Gaussian)")
_ENERGY_HINT = ("a walker sits where the wave function or the potential is singular (coincident particles, a node "
                "of psi) or the parameters diverged: start from distinct positions (X0), lower the sampler's step or "
                "dt, or the optimizer's lr (settings['dt'], settings['lr'] in ground_state)")
#: Below this acceptance rate a sampler "accepts (almost) nothing": the chains do not move and the samples repeat.
#: Judged from at least 200 proposals (a sampler accepting 5% accepts fewer than 1% of 200 with probability 4e-3).
MIN_ACCEPTANCE = 0.01
SAMPLER = Instance(Metropolis, Langevin)


def _warn_if_stuck(sampler, acceptance, proposals, where):
    if proposals >= 200 and acceptance < MIN_ACCEPTANCE:
        knob = "step" if isinstance(sampler, Metropolis) else "dt"
        warnings.warn(f"{where}: the sampler accepted {acceptance:.2%} of its moves (below {MIN_ACCEPTANCE:.0%}) with "
                      f"{knob}={getattr(sampler, knob):g}: the walkers barely move and the samples repeat; lower "
                      f"{knob}", RuntimeWarning, stacklevel=4)


@params(_SAME_SYSTEM, _APART, wf=WAVEFUNCTION, H=HAMILTONIAN, sampler=SAMPLER,
        n_walkers=Integer(ge=1, typical=(1, 6)), n_steps=Integer(ge=1, typical=(1, 8)),
        burn_in=Integer(ge=0, typical=(0, 8)), rng=Seed(),
        X0=Optional(Array(shape=("n_walkers", "H.n_particles", "H.dim"), hint="starting positions (walkers, "
                          "particles, dim), one walker per chain")), keep_positions=Integer(ge=0, typical=(0, 4)))
def sample(wf, H, sampler, *, n_walkers: int, n_steps: int, burn_in: int = 100, rng=None, X0=None,
           keep_positions: int = 0) -> Samples:
    """Run ``n_walkers`` chains after ``burn_in`` sweeps; returns :class:`Samples`.

    ``keep_positions`` > 0 stores the positions of every walker at that many
    evenly spaced steps (for one-body densities). Non-finite local energies raise ``FloatingPointError``; an
    acceptance below :data:`MIN_ACCEPTANCE` warns.
    """
    rng = make_rng(rng)
    X = rng.normal(0, 1 / np.sqrt(H.omega), (n_walkers, H.n_particles, H.dim)) if X0 is None else X0
    state = sampler._init(wf, X)
    for _ in range(burn_in):
        sampler._sweep(wf, state, rng)
    means, acc, kept = np.empty(n_steps), 0.0, []
    all_e = np.empty((n_steps, n_walkers))
    keep_at = set(np.linspace(0, n_steps - 1, keep_positions).astype(int)) if keep_positions else set()
    for t in range(n_steps):
        acc += sampler._sweep(wf, state, rng)
        e = _local_energy(wf, H, state.X)
        all_e[t] = e
        means[t] = e.mean()
        if t in keep_at:
            kept.append(state.X.copy())
    positions = np.concatenate(kept) if kept else None
    finite(all_e, "sample: the local energies", _ENERGY_HINT)
    _warn_if_stuck(sampler, acc / n_steps, n_steps * n_walkers, "sample")
    return Samples(means, all_e, acc / n_steps, state, positions)


# ============================================================================ optimiser and driver

@params(e_local=Array(shape=("n",), hint="one local energy per sample"),
        param_grad=Array(shape=("n", None), hint="O_k = d log psi / d theta_k: one row per sample"))
def energy_gradient(e_local, param_grad):
    """The lecture's ``dE/dtheta_k = 2 (<E_L O_k> - <E_L><O_k>)`` from samples."""
    return _energy_gradient(e_local, param_grad)


def _energy_gradient(e_local, param_grad):
    return 2.0 * (np.mean(e_local[:, None] * param_grad, axis=0) - np.mean(e_local) * np.mean(param_grad, axis=0))


@params(_SAME_SYSTEM, wf=Having("evaluate", "params", "n_params", "set_params", what="a trainable wave function "
                                  "(a vmc.Factor, or an object with evaluate, params, n_params and set_params)"),
        H=HAMILTONIAN, sampler=SAMPLER, optimizer=Instance(nn.Adam, nn.SGD, hint="pass nn.Adam(lr) or nn.SGD(lr)"),
        n_iterations=Integer(ge=0, typical=(0, 3)), n_walkers=Integer(ge=1, typical=(1, 6)),
        n_steps=Integer(ge=1, typical=(1, 4)), burn_in=Integer(ge=0, typical=(0, 8)), rng=Seed(), progress=Flag())
def optimise(wf, H, sampler, optimizer, *, n_iterations: int, n_walkers: int, n_steps: int, burn_in: int = 50,
             rng=None, progress: bool = False):
    """Stochastic-gradient optimisation of ``wf``; returns the :class:`mlphys.nn.History` (per iteration: ``energy``,
    ``variance``, ``acceptance``) and the walker state.

    ``optimizer`` is :class:`mlphys.nn.Adam` or :class:`mlphys.nn.SGD` (the same optimisers that train networks).
    Non-finite local energies raise ``FloatingPointError`` naming the iteration (before they reach the parameters).
    """
    rng = make_rng(rng)
    X = rng.normal(0, 1 / np.sqrt(H.omega), (n_walkers, H.n_particles, H.dim))
    state = sampler._init(wf, X)
    for _ in range(burn_in):
        sampler._sweep(wf, state, rng)
    history = nn.History("energy", "variance", "acceptance")
    set_params = wf._set_params if isinstance(wf, Factor) else wf.set_params
    with nn.TrainingLoop(n_iterations, progress=progress, desc="VMC optimisation") as loop:
        for iteration in loop:
            acc, es, gs = 0.0, [], []
            for _ in range(n_steps):
                acc += sampler._sweep(wf, state, rng)
                e, g = _local_energy(wf, H, state.X, return_param_grad=True)
                es.append(e)
                gs.append(g)
            e, g = np.concatenate(es), np.concatenate(gs)
            finite(e, f"optimise: the local energies of iteration {iteration}", _ENERGY_HINT)
            history.append(energy=float(e.mean()), variance=float(e.var()), acceptance=acc / n_steps)
            if wf.n_params:
                params = [wf.params]                # mlphys.nn optimisers update a list of arrays in place
                optimizer.step(params, [_energy_gradient(e, g)])
                set_params(finite(params[0], f"optimise: the parameters after iteration {iteration}", _ENERGY_HINT))
                state = sampler._init(wf, state.X)  # cached log psi and gradient belong to the old parameters
    if len(history["acceptance"]):
        _warn_if_stuck(sampler, float(np.mean(history["acceptance"])), len(history["acceptance"]) * n_steps * n_walkers,
                       "optimise")
    return history.end(loop), state


@fields(energy=Real(), error=Real(ge=0), variance=Real(ge=0), acceptance=Real(ge=0, le=1),
                 history=Instance(nn.History), wavefunction=WAVEFUNCTION, hamiltonian=HAMILTONIAN,
                 positions=Optional(Array(ndim=3, hint="kept walker positions (samples, particles, dim)")),
                 seconds=Real(ge=0), energy_series=Optional(Array(ndim=1)))
@dataclass
class VMCResult:
    """Outcome of :func:`ground_state`: energy with blocking error, variance of E_L, acceptance, history."""

    energy: float
    error: float
    variance: float
    acceptance: float
    history: nn.History
    wavefunction: Factor
    hamiltonian: Hamiltonian
    positions: np.ndarray | None = None
    seconds: float = 0.0
    energy_series: np.ndarray = field(default=None, repr=False)


@params(Rule("result", lambda result: result.positions is not None, "has no kept positions; run ground_state (it "
             "keeps 20 snapshots of the walkers)"), result=Instance(VMCResult))
def energy_components(result: VMCResult) -> dict:
    """``<H>``, ``<T>``, ``<V_trap>`` and ``<V_int>`` of a :func:`ground_state` run (its kept positions).

    The potentials are averaged over the sampled positions; ``<T> = <H> - <V_trap> - <V_int>``. For an
    eigenstate the virial theorem (trap of degree 2, Coulomb of degree -1) gives
    ``2<T> = 2<V_trap> - <V_int>``; ``virial`` is ``(2<V_trap> - <V_int>) / (2<T>)``, 1 for an exact state and for
    any trial function whose length scale is optimised.
    """
    X = result.positions
    H = result.hamiltonian
    trap = float(np.mean(0.5 * H.omega**2 * np.sum(X**2, axis=(1, 2))))
    interaction = float(np.mean(H.potential(X)) - trap)
    kinetic = result.energy - trap - interaction
    return dict(energy=result.energy, kinetic=kinetic, trap=trap, interaction=interaction,
                virial=(2 * trap - interaction) / (2 * kinetic))


@params(ansatz=Choice(*ANSATZE), n_particles=Integer(ge=1, typical=(1, 4)), dim=DIM, omega=Real(gt=0),
        n_hidden=Integer(ge=1, typical=(1, 4)), rng=Seed(), power=Choice(0.5, 1.0, 1), coulomb=Flag())
def build_wavefunction(ansatz: str, n_particles: int, dim: int, *, omega: float = 1.0, n_hidden: int = 4,
                       rng=None, power: float = 0.5, coulomb: bool = False):
    """Construct one of :data:`ANSATZE` at its natural starting point.

    The Pade-Jastrow factor carries the Coulomb cusp only if ``coulomb`` (default False, as for :class:`Hamiltonian`
    and :func:`ground_state`).
    """
    rng = make_rng(rng)
    cusp = coulomb and n_particles > 1 and dim > 1

    def jastrow():
        return PadeJastrow(n_particles, dim, cusp=cusp)

    if ansatz == "gaussian":
        return Product(Gaussian(0.9 * omega))
    if ansatz == "gaussian-jastrow":
        return Product(Gaussian(0.9 * omega), jastrow())
    if ansatz == "rbm":
        return Product(RBM(n_particles, dim, n_hidden, omega=omega, power=power, rng=rng))
    if ansatz == "rbm-jastrow":
        return Product(RBM(n_particles, dim, n_hidden, omega=omega, power=power, rng=rng), jastrow())
    slater = Slater(n_particles, dim, omega)
    if ansatz == "slater-jastrow":
        return Product(slater, Gaussian(omega), jastrow())
    return Product(slater, RBM(n_particles, dim, n_hidden, omega=omega, power=power, rng=rng), jastrow())


@params(n_particles=Integer(ge=1))
def default_settings(n_particles: int = 2) -> dict:
    """The settings of :func:`ground_state` when not given: a class-sized run (chapter 6 passes the paper's at paper
    scale). ``n_iterations`` Adam steps (rate ``lr``) of ``opt_steps`` sweeps of ``n_walkers`` walkers, ``burn_in``
    sweeps before each phase, ``n_steps`` production sweeps, Langevin step ``dt / omega``."""
    heavy = n_particles > 2
    return dict(n_iterations=100 if heavy else 300, n_walkers=300 if heavy else 1000, opt_steps=5,
                n_steps=800 if heavy else 2000, burn_in=500 if heavy else 200, lr=0.02, dt=0.1 if heavy else 0.05)


#: The sizes of a :func:`ground_state` run (:func:`default_settings` lists their defaults).
SETTINGS = dict(n_iterations=Integer(ge=1), n_walkers=Integer(ge=1), opt_steps=Integer(ge=1),
                n_steps=Integer(ge=16, hint="the blocking error bars need at least 16 production steps"),
                burn_in=Integer(ge=0), lr=Real(gt=0), dt=Real(gt=0))


@params(n_particles=Integer(ge=1, typical=(1, 3)), dim=DIM, omega=Real(gt=0), coulomb=Flag(),
        ansatz=Choice(*ANSATZE), n_hidden=Integer(ge=1, typical=(1, 4)), settings=Optional(Mapping(SETTINGS)),
        rng=Seed())
def ground_state(n_particles, dim, omega=1.0, coulomb=False, ansatz="rbm", n_hidden=4, *, settings=None, rng=0):
    """Optimise a trial wave function by VMC and measure its energy with blocking error bars.

    ``ansatz``: "gaussian", "gaussian-jastrow", "rbm", "rbm-jastrow", or for
    closed-shell fermions "slater-rbm" / "slater-jastrow". Importance (Langevin)
    sampling with ``dt = 0.05 / omega`` (0.1 / omega beyond two particles). The
    production run uses fresh samples after optimisation; ``error`` is the
    blocking standard error of the per-step walker-averaged energy. ``settings`` overrides some of
    :func:`default_settings`.
    """
    H = Hamiltonian(n_particles, dim, omega, coulomb)
    given, settings = settings or {}, default_settings(n_particles)
    settings.update(given)
    rng = make_rng(rng)
    wf = build_wavefunction(ansatz, n_particles, dim, omega=omega, n_hidden=n_hidden, rng=rng, coulomb=coulomb)
    sampler = Langevin(dt=settings["dt"] / omega)
    start = time.perf_counter()
    history, state = optimise(wf, H, sampler, nn.Adam(settings["lr"]), n_iterations=settings["n_iterations"],
                              n_walkers=settings["n_walkers"], n_steps=settings["opt_steps"],
                              burn_in=settings["burn_in"], rng=rng)
    means, all_e, acc, _, positions = sample(wf, H, sampler, n_walkers=settings["n_walkers"],
                                             n_steps=settings["n_steps"], burn_in=settings["burn_in"], rng=rng,
                                             X0=state.X, keep_positions=20)
    energy, error = stats.blocking(finite(means, "ground_state: the production energies", _ENERGY_HINT))
    return VMCResult(energy=energy, error=error, variance=float(all_e.var()), acceptance=acc, history=history,
                     wavefunction=wf, hamiltonian=H, positions=positions, seconds=time.perf_counter() - start,
                     energy_series=means)


# ============================================================================ teaching helpers

@params(omega=Real(gt=0))
def wigner_separation(omega: float) -> float:
    """``r0 = (2 / omega^2)^(1/3)``: the minimum of the relative potential ``omega^2 r^2 / 4 + 1/r`` of two
    electrons in a trap, their separation in the low-density (Wigner) limit."""
    return (2.0 / omega**2) ** (1.0 / 3.0)


@params(omega=Real(ge=1e-12, typical=(1e-3, 3.0), hint="below 1e-12 the box (the electrons' separation ~ omega^(-2/3)) "
                   "holds too few cells per oscillator length (~ omega^(-1/2)) for n_points cells"),
        n_points=Integer(ge=100, le=10_000_000, typical=(100, 400), hint="the cost grows linearly with n_points"))
def two_electron_energy_2d(omega: float = 1.0, *, n_points: int = 16_000) -> float:
    """Exact ground-state energy of two electrons in a 2D harmonic trap (Coulomb repulsion), by diagonalisation.

    The centre of mass contributes ``omega``; the relative motion (reduced mass 1/2, ``m = 0``) solves
    ``-(R'' + R'/r) + (omega^2 r^2 / 4 + 1/r) R = e R``, discretised with the symmetric (flux-conserving)
    second-order scheme on the cell centres ``r_i = (i + 1/2) h`` of ``[0, L]`` and Richardson-extrapolated from
    ``n_points/2`` and ``n_points`` cells. Taut's analytic solutions (J. Phys. A 27, 1045 (1994)) give 3 at
    ``omega = 1`` and 2/3 at ``omega = 1/6``.

    The box must hold the electrons' separation. At high density the relative wave function spreads over a few
    oscillator lengths ``1/sqrt(omega)``, and ``L = 14/sqrt(omega)``; at low density the electrons localise at
    the separation ``r0 = (2/omega^2)^(1/3)`` (:func:`wigner_separation`), which exceeds ``7/sqrt(omega)`` below
    ``omega ~ 3e-5``: there ``L = 2 r0``, which reaches more than 6 widths of the localised state beyond r0.
    ``L = max(14/sqrt(omega), 2 r0)``. The low-density limit is (:func:`wigner_energy_2d`)
    ``E ~ (3/2)(omega^2/2)^(1/3) + (1 + sqrt(3)/2) omega``.
    """
    from scipy.linalg import eigh_tridiagonal

    box = max(14.0 / np.sqrt(omega), 2.0 * wigner_separation(omega))

    def lowest(n):
        h = box / n
        r = h * (np.arange(n) + 0.5)
        rp, rm = r + h / 2, r - h / 2
        s = 1.0 / np.sqrt(r)                       # symmetrise the weight r of the radial measure
        diag = ((rp + rm) / h**2 + r * (omega**2 * r**2 / 4 + 1.0 / r)) * s * s
        off = -rp[:-1] / h**2 * s[:-1] * s[1:]
        return eigh_tridiagonal(diag, off, select="i", select_range=(0, 0))[0][0]

    coarse, fine = lowest(n_points // 2), lowest(n_points)
    return float(omega + fine + (fine - coarse) / 3.0)


@params(omega=Real(gt=0))
def wigner_energy_2d(omega: float) -> float:
    """Low-density (Wigner) limit of the ground-state energy of two electrons in a 2D harmonic trap.

    Relative motion (reduced mass 1/2): ``V(r) = omega^2 r^2 / 4 + 1/r`` is minimal at ``r0 = (2/omega^2)^(1/3)``
    where ``V(r0) = 3 / (2 r0) = (3/2)(omega^2/2)^(1/3)``; the radial vibration about r0 has
    ``V''(r0) = omega^2/2 + 2/r0^3 = 3 omega^2 / 2`` and frequency ``sqrt(V''/mu) = sqrt(3) omega``, zero-point
    energy ``(sqrt(3)/2) omega``; the m = 0 rotation adds no zero-point energy. The centre of mass (mass 2,
    frequency omega, 2D) contributes ``omega``. So ``E = (3/2)(omega^2/2)^(1/3) + (1 + sqrt(3)/2) omega +
    O(omega^(4/3))`` (the neglected terms: anharmonicity and the 2D centrifugal term ``-1/(4 r0^2)``). The leading
    terms of a low-density expansion: relative error 1e-3 at ``omega = 0.01``, 1e-7 at ``1e-8``.
    """
    return 1.5 * (omega**2 / 2.0) ** (1.0 / 3.0) + (1.0 + np.sqrt(3.0) / 2.0) * omega


@params(alpha=Array(ndim=(0, 1), gt=0, hint="one or several Gaussian widths"), n_particles=Integer(ge=1),
        dim=Integer(ge=1), omega=Real(gt=0))
def gaussian_energy_exact(alpha, n_particles: int, dim: int, omega: float = 1.0):
    """Closed form for non-interacting particles (all in the lowest orbital) and ``psi = exp(-alpha r^2 / 2)``:

    ``E(alpha) = P D (alpha / 4 + omega^2 / (4 alpha))``, minimal (``P D omega / 2``) at ``alpha = omega``,
    with ``Var(E_L) = P D (alpha^2 - omega^2)^2 / (8 alpha^2)``.
    """
    PD = n_particles * dim
    return PD * (alpha / 4 + omega**2 / (4 * alpha)), PD * (alpha**2 - omega**2) ** 2 / (8 * alpha**2)


@params(alphas=Array(shape=(None,), gt=0, hint="the Gaussian widths to scan"),
        n_particles=Integer(ge=1, typical=(1, 3)), dim=DIM, omega=Real(gt=0), coulomb=Flag(),
        n_walkers=Integer(ge=2, typical=(2, 6), hint="the error comes from the spread of >= 2 independent chains"),
        n_steps=Integer(ge=1, typical=(1, 6)), rng=Seed())
def gaussian_scan(alphas, n_particles: int, dim: int, *, omega: float = 1.0, coulomb: bool = False,
                  n_walkers: int = 500, n_steps: int = 400, rng=None):
    """VMC energy, its error and the variance of ``E_L`` for the Gaussian trial function at each alpha.

    The error comes from the ``n_walkers`` independent chains (:func:`mlphys.stats.chain_mean_error`): with
    only a few hundred steps per chain, blocking the walker-averaged series cannot see the slow decorrelation
    at small alpha and reports errors up to 1.7x too small.
    """
    H = Hamiltonian(n_particles, dim, omega, coulomb)
    rng = make_rng(rng)
    out = []
    for alpha in alphas:
        run = sample(Product(Gaussian(alpha)), H, Langevin(0.05 / omega), n_walkers=n_walkers, n_steps=n_steps,
                     burn_in=100, rng=rng)
        out.append((*run.energy(), float(run.local_energies.var())))
    return np.array(out)


@params(_SAME_SYSTEM, wf=WAVEFUNCTION, H=HAMILTONIAN, samplers=Mapping(item=SAMPLER, min_length=1),
        n_walkers=Integer(ge=1, typical=(1, 6)),
        n_steps=Integer(ge=16, typical=(64, 128), hint="the blocking error bars need at least 16 steps"), rng=Seed())
def compare_samplers(wf, H, samplers: dict, *, n_walkers: int = 200, n_steps: int = 4096, rng=None):
    """Run each sampler on the same wave function; report acceptance, energy, blocking and naive errors, time.

    The *efficiency* ``1 / (error^2 x seconds)`` compares samplers fairly: it is
    the inverse of the CPU time needed for a given error bar.
    """
    rng = make_rng(rng)
    rows = {}
    for name, sampler in samplers.items():
        start = time.perf_counter()
        means, all_e, acc, _, _ = sample(wf, H, sampler, n_walkers=n_walkers, n_steps=n_steps, burn_in=200, rng=rng)
        seconds = time.perf_counter() - start
        energy, error = stats.blocking(means)
        rows[name] = dict(acceptance=acc, energy=energy, error=error, naive_error=stats.naive_error(all_e.ravel()),
                          seconds=seconds, series=means, autocorrelation=stats.autocorrelation(all_e[:, 0], 50))
    return rows
