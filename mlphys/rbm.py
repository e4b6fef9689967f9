"""Boltzmann machines: binary-binary RBMs trained exactly or by contrastive divergence, and the Gaussian-binary RBM (Chapter 4).

A restricted Boltzmann machine has visible units ``v`` and hidden units ``h``
with no visible-visible or hidden-hidden couplings. For binary units (lecture,
*Binary-Binary RBM*)

    E(v, h) = -a.v - b.h - v.W.h,        p(v, h) = exp(-E(v, h)) / Z .

Because E is linear in each h_j given v (and in each v_i given h), the
conditionals factorise,

    p(h_j = 1 | v) = sigmoid(b_j + sum_i v_i W_ij),    p(v_i = 1 | h) = sigmoid(a_i + sum_j W_ij h_j),

so a whole layer is sampled at once (block Gibbs sampling). Summing out h gives
the free energy ``F(v) = -a.v - sum_j softplus(b_j + (vW)_j)`` with
``p(v) = exp(-F(v)) / Z``. The log-likelihood gradient is the Boltzmann-machine
learning rule ``dW = <v h^T>_data - <v h^T>_model`` (Ackley, Hinton and Sejnowski 1985).

Small models (up to ~20 visible units) are handled exactly by enumerating all
visible states; larger ones by contrastive divergence (CD-k) or persistent CD.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np
from scipy.special import expit, logsumexp

from . import nn
from .config import make_rng
from .validate import as_array, integer, positive

MAX_ENUMERATION_UNITS = 22


def softplus(x):
    """``log(1 + e^x)`` without overflow (the activation of :mod:`mlphys.nn`)."""
    return nn.activation("softplus", x)


def all_states(n: int) -> np.ndarray:
    """All ``2^n`` binary vectors of length n as rows (refuses n > 22: 4 million states)."""
    n = integer(n, "n", minimum=1)
    if n > MAX_ENUMERATION_UNITS:
        raise ValueError(f"enumerating 2^{n} states is too large; exact methods need n <= {MAX_ENUMERATION_UNITS}")
    return np.array(list(product([0.0, 1.0], repeat=n)))


def check_binary(v, name: str = "v") -> np.ndarray:
    v = as_array(v, name)
    if v.ndim == 0:
        raise ValueError(f"{name} must be an array of 0/1 units, got a scalar")
    if not np.all((v == 0) | (v == 1)):
        raise ValueError(f"{name} must contain only 0 and 1 (threshold grey levels first)")
    return v


class BinaryRBM:
    """Binary-binary RBM with visible bias ``a``, hidden bias ``b`` and couplings ``W`` (n_visible x n_hidden)."""

    def __init__(self, n_visible: int, n_hidden: int, *, rng=None, weight_scale: float = 0.01):
        self.n_visible = integer(n_visible, "n_visible", minimum=1)
        self.n_hidden = integer(n_hidden, "n_hidden", minimum=1)
        weight_scale = positive(weight_scale, "weight_scale", allow_zero=True)
        self.W = make_rng(rng).normal(0.0, weight_scale, (self.n_visible, self.n_hidden))
        self.a = np.zeros(self.n_visible)
        self.b = np.zeros(self.n_hidden)

    # -- checks -----------------------------------------------------------------
    def _v(self, v, name="v"):
        v = check_binary(v, name)
        if v.shape[-1] != self.n_visible:
            raise ValueError(f"{name} has {v.shape[-1]} units but the RBM has {self.n_visible} visible units")
        return v

    def _h(self, h):
        h = check_binary(h, "h")
        if h.shape[-1] != self.n_hidden:
            raise ValueError(f"h has {h.shape[-1]} units but the RBM has {self.n_hidden} hidden units")
        return h

    # -- energies and conditionals ----------------------------------------------
    def energy(self, v, h):
        """``E(v, h) = -a.v - b.h - v.W.h`` (batched over leading axes)."""
        v, h = self._v(v), self._h(h)
        return -(v @ self.a) - (h @ self.b) - np.einsum("...i,ij,...j->...", v, self.W, h)

    def free_energy(self, v):
        """``F(v) = -log sum_h exp(-E(v, h)) = -a.v - sum_j softplus(b_j + (vW)_j)``."""
        v = self._v(v)
        return -(v @ self.a) - softplus(self.b + v @ self.W).sum(axis=-1)

    def p_h_given_v(self, v):
        return expit(self.b + self._v(v) @ self.W)

    def p_v_given_h(self, h):
        return expit(self.a + self._h(h) @ self.W.T)

    def sample_h(self, v, *, rng=None):
        p = self.p_h_given_v(v)
        return (make_rng(rng).random(p.shape) < p).astype(float)

    def sample_v(self, h, *, rng=None):
        p = self.p_v_given_h(h)
        return (make_rng(rng).random(p.shape) < p).astype(float)

    def gibbs(self, v, k: int, *, rng=None):
        """``k`` steps of block Gibbs sampling v -> h -> v; returns the final visible states."""
        rng = make_rng(rng)
        for _ in range(k):
            v = self.sample_v(self.sample_h(v, rng=rng), rng=rng)
        return v

    # -- exact quantities (small models) -------------------------------------------
    def log_partition(self) -> float:
        """``log Z`` by enumerating all visible states and summing out h analytically."""
        return float(logsumexp(-self.free_energy(all_states(self.n_visible))))

    def visible_distribution(self):
        """All visible states and their exact probabilities ``p(v) = exp(-F(v)) / Z``."""
        V = all_states(self.n_visible)
        logp = -self.free_energy(V)
        return V, np.exp(logp - logsumexp(logp))

    def log_likelihood(self, data) -> float:
        """Mean ``log p(v)`` of the data rows."""
        return float(np.mean(-self.free_energy(self._v(data, "data"))) - self.log_partition())

    def exact_gradient(self, data):
        """Exact gradient of the mean log-likelihood: ``(<v h>_data - <v h>_model, <v>_d - <v>_m, <h>_d - <h>_m)``."""
        data = self._v(data, "data")
        V, p = self.visible_distribution()
        ph_data, ph_model = self.p_h_given_v(data), self.p_h_given_v(V)
        dW = data.T @ ph_data / len(data) - (V * p[:, None]).T @ ph_model
        da = data.mean(axis=0) - p @ V
        db = ph_data.mean(axis=0) - p @ ph_model
        return dW, da, db

    # -- stochastic gradients ---------------------------------------------------------
    def cd_gradient(self, data, *, k: int = 1, rng=None, chains=None):
        """Contrastive-divergence estimate of the gradient.

        The negative phase starts from the data (CD-k) or, if ``chains`` is given,
        from persistent chains (PCD), which are advanced k steps; returns
        ``(dW, da, db, new_chains)``.
        """
        data = self._v(data, "data")
        k = integer(k, "k", minimum=1)
        rng = make_rng(rng)
        start = data if chains is None else chains
        neg = self.gibbs(start, k, rng=rng)
        ph_data, ph_neg = self.p_h_given_v(data), self.p_h_given_v(neg)
        dW = data.T @ ph_data / len(data) - neg.T @ ph_neg / len(neg)
        da = data.mean(axis=0) - neg.mean(axis=0)
        db = ph_data.mean(axis=0) - ph_neg.mean(axis=0)
        return dW, da, db, neg

    def params(self):
        return np.concatenate([self.W.ravel(), self.a, self.b])

    def set_params(self, theta):
        nW = self.W.size
        self.W = theta[:nW].reshape(self.W.shape).copy()
        self.a = theta[nW:nW + self.n_visible].copy()
        self.b = theta[nW + self.n_visible:].copy()


def kl_divergence(data, rbm: BinaryRBM) -> float:
    """``KL(p_data || p_model)`` for the empirical distribution of the data rows (exact, by enumeration)."""
    data = rbm._v(data, "data")
    patterns, counts = np.unique(data, axis=0, return_counts=True)
    p_data = counts / counts.sum()
    log_p_model = -rbm.free_energy(patterns) - rbm.log_partition()
    return float(np.sum(p_data * (np.log(p_data) - log_p_model)))


def probability_on(patterns, rbm: BinaryRBM) -> float:
    """Total model probability of the given (distinct) visible patterns."""
    patterns = np.unique(rbm._v(patterns, "patterns"), axis=0)
    return float(np.exp(logsumexp(-rbm.free_energy(patterns)) - rbm.log_partition()))


def train(rbm: BinaryRBM, data, *, method: str = "exact", epochs: int = 1000, lr: float = 0.1, k: int = 1,
          batch_size: int | None = None, n_chains: int = 100, rng=None, record_every: int = 0,
          optimizer=None, progress: bool = False) -> nn.History:
    """Train by gradient ascent on the log-likelihood.

    ``method``: ``"exact"`` (full enumeration; small models only), ``"cd"`` (CD-k)
    or ``"pcd"`` (persistent CD with ``n_chains`` chains). With ``record_every > 0``
    the exact KL divergence to the data is recorded every that many epochs
    (small models only). ``optimizer``: one of :mod:`mlphys.nn`'s optimisers, which descend the negative
    log-likelihood (default ``nn.SGD(lr)``: plain gradient ascent). Ctrl-C stops training and keeps what was learned.
    Returns a :class:`mlphys.nn.History` with series ``epochs`` and ``kl`` (the recorded epochs and their KL).
    """
    if method not in ("exact", "cd", "pcd"):
        raise ValueError(f"method={method!r} is unknown; use 'exact', 'cd' or 'pcd'")
    data = rbm._v(data, "data")
    epochs = integer(epochs, "epochs", minimum=1)
    lr = positive(lr, "lr")
    rng = make_rng(rng)
    batch_size = len(data) if batch_size is None else integer(batch_size, "batch_size", minimum=1)
    record_every = integer(record_every, "record_every", minimum=0)
    chains = rng.integers(0, 2, (integer(n_chains, "n_chains", minimum=1), rbm.n_visible)).astype(float)
    history = nn.History("epochs", "kl")
    optimizer = nn.SGD(lr) if optimizer is None else optimizer

    def step(grads):                              # ascent on log p = descent on -log p (in place)
        optimizer.step([rbm.W, rbm.a, rbm.b], [-g for g in grads[:3]])

    if record_every:
        history.append(epochs=0, kl=kl_divergence(data, rbm))
    with nn.TrainingLoop(epochs, progress=progress, desc=f"RBM ({method})") as loop:
        for epoch in loop:
            order = rng.permutation(len(data))
            for i in range(0, len(data), batch_size):
                batch = data[order[i:i + batch_size]]
                if method == "exact":
                    step(rbm.exact_gradient(batch))
                elif method == "cd":
                    step(rbm.cd_gradient(batch, k=k, rng=rng))
                else:
                    grads = rbm.cd_gradient(batch, k=k, rng=rng, chains=chains)
                    chains = grads[3]
                    step(grads)
            if record_every and (epoch + 1) % record_every == 0:
                history.append(epochs=epoch + 1, kl=kl_divergence(data, rbm))
    return history.end(loop)


def bars_and_stripes(n: int) -> np.ndarray:
    """All distinct n x n bars-and-stripes images as rows of 0/1 (2^(n+1) - 2 patterns), for 2 <= n <= 12."""
    n = integer(n, "n", minimum=2)
    if n > 12:
        raise ValueError(f"n={n} gives 2^{n + 1} - 2 images of {n * n} pixels; use n <= 12 "
                         f"(exact RBM training needs n <= 4)")
    patterns = set()
    for bits in product([0, 1], repeat=n):
        rows = np.repeat(np.array(bits, dtype=float)[:, None], n, axis=1)
        patterns.add(tuple(rows.ravel()))
        patterns.add(tuple(rows.T.ravel()))
    return np.array(sorted(patterns))


def sample_model(rbm: BinaryRBM, n_samples: int, *, burn_in: int = 1000, rng=None) -> np.ndarray:
    """Samples from the RBM by block Gibbs sampling from random starts, after ``burn_in`` steps."""
    rng = make_rng(rng)
    v = rng.integers(0, 2, (integer(n_samples, "n_samples", minimum=1), rbm.n_visible)).astype(float)
    return rbm.gibbs(v, integer(burn_in, "burn_in", minimum=1), rng=rng)


# ----------------------------------------------------------------------------- Gaussian-binary RBM

def gaussian_binary_energy(x, h, a, b, W, sigma):
    """Lecture, *Gaussian-Binary RBM*: ``E = sum_i (x_i - a_i)^2 / 2 sigma_i^2 - b.h - sum_ij x_i W_ij h_j / sigma_i^2``."""
    x, h = np.asarray(x, dtype=float), np.asarray(h, dtype=float)
    sigma2 = np.asarray(sigma, dtype=float) ** 2
    return (np.sum((x - a) ** 2 / (2 * sigma2), axis=-1) - h @ b
            - np.einsum("...i,ij,...j->...", x / sigma2, W, h))


def gaussian_binary_log_marginal(x, a, b, W, sigma):
    """``log sum_h exp(-E(x, h))`` in closed form, the unnormalised log of the lecture's ``P_rbm(x)``:

        -sum_i (x_i - a_i)^2 / 2 sigma_i^2 + sum_j log(1 + exp(b_j + sum_i x_i W_ij / sigma_i^2)).

    Chapter 5 uses ``exp`` of this (or of half of it) as a many-body wave function.
    """
    x = np.asarray(x, dtype=float)
    sigma2 = np.asarray(sigma, dtype=float) ** 2
    return -np.sum((x - a) ** 2 / (2 * sigma2), axis=-1) + softplus(b + (x / sigma2) @ W).sum(axis=-1)
