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

from itertools import product

import numpy as np
from scipy.special import expit, logsumexp

from . import nn
from .config import make_rng
from .validate import AnyOf, Array, Choice, Flag, Instance, Integer, Optional, Real, Rule, Seed, params

MAX_ENUMERATION_UNITS = 22

#: 0/1 units along the last axis (a single vector, a batch, or a broadcasting stack of batches)
UNITS = Array(ndim=(3, 2, 1), values=(0, 1), hint="units are 0 or 1 (threshold grey levels first)")
#: a batch of visible vectors, one per row (one vector is a batch of one)
ROWS = Array(shape=(None, "self.n_visible"), values=(0, 1), promote=True,
             hint="one visible vector of 0/1 units per row (threshold grey levels first)")
VISIBLE = Rule("v", lambda self, v: v.shape[-1] == self.n_visible,
               "must have the RBM's n_visible units along its last axis")
HIDDEN = Rule("h", lambda self, h: h.shape[-1] == self.n_hidden,
              "must have the RBM's n_hidden units along its last axis")
EXACT_HINT = (f"exact methods enumerate all 2^n_visible visible states: they need n_visible <= "
              f"{MAX_ENUMERATION_UNITS}")
EXACT = Rule("rbm", lambda rbm: rbm.n_visible <= MAX_ENUMERATION_UNITS, EXACT_HINT)


def _broadcast(*shapes) -> bool:
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


def _softplus(x):
    return np.logaddexp(0.0, x)              # nn.activation("softplus", x), without its checks (this is a hot path)


@params(x=Array(ndim=(3, 2, 1, 0)))
def softplus(x):
    """``log(1 + e^x)`` without overflow (the activation of :mod:`mlphys.nn`)."""
    return _softplus(x)


def _all_states(n: int) -> np.ndarray:
    return np.array(list(product([0.0, 1.0], repeat=n)))


@params(n=Integer(ge=1, le=MAX_ENUMERATION_UNITS, typical=(1, 6),
                  hint=f"2^n states are enumerated (4 million at n = {MAX_ENUMERATION_UNITS}); too large beyond"))
def all_states(n: int) -> np.ndarray:
    """All ``2^n`` binary vectors of length n as rows (refuses n > 22: 4 million states)."""
    return _all_states(n)


@params(v=UNITS)
def check_binary(v) -> np.ndarray:
    """``v`` as a float array of 0/1 units (ValueError naming v otherwise)."""
    return v


class BinaryRBM:
    """Binary-binary RBM with visible bias ``a``, hidden bias ``b`` and couplings ``W`` (n_visible x n_hidden)."""

    @params(n_visible=Integer(ge=1, typical=(1, 5)), n_hidden=Integer(ge=1, typical=(1, 5)), rng=Seed(),
            weight_scale=Real(ge=0))
    def __init__(self, n_visible: int, n_hidden: int, *, rng=None, weight_scale: float = 0.01):
        self.n_visible, self.n_hidden = n_visible, n_hidden
        self.W = make_rng(rng).normal(0.0, weight_scale, (self.n_visible, self.n_hidden))
        self.a = np.zeros(self.n_visible)
        self.b = np.zeros(self.n_hidden)

    @property
    def n_params(self) -> int:
        """The length of :meth:`params`: ``W`` (row by row), then ``a``, then ``b``."""
        return self.n_visible * self.n_hidden + self.n_visible + self.n_hidden

    # -- energies and conditionals (the undecorated _forms run inside the training loops) ----------------------------
    def _free_energy(self, v):
        return -(v @ self.a) - _softplus(self.b + v @ self.W).sum(axis=-1)

    def _p_h(self, v):
        return expit(self.b + v @ self.W)

    def _p_v(self, h):
        return expit(self.a + h @ self.W.T)

    def _gibbs(self, v, k, rng):
        for _ in range(k):
            ph = self._p_h(v)
            h = (rng.random(ph.shape) < ph).astype(float)
            pv = self._p_v(h)
            v = (rng.random(pv.shape) < pv).astype(float)
        return v

    def _states(self):
        if self.n_visible > MAX_ENUMERATION_UNITS:
            raise ValueError(f"this RBM has n_visible={self.n_visible}; {EXACT_HINT}")
        return _all_states(self.n_visible)

    @params(VISIBLE, HIDDEN, Rule("h", lambda v, h: _broadcast(v.shape[:-1], h.shape[:-1]),
                                  "its leading (batch) axes must broadcast with those of v"), v=UNITS, h=UNITS)
    def energy(self, v, h):
        """``E(v, h) = -a.v - b.h - v.W.h`` (batched over leading axes)."""
        return -(v @ self.a) - (h @ self.b) - np.einsum("...i,ij,...j->...", v, self.W, h)

    @params(VISIBLE, v=UNITS)
    def free_energy(self, v):
        """``F(v) = -log sum_h exp(-E(v, h)) = -a.v - sum_j softplus(b_j + (vW)_j)``."""
        return self._free_energy(v)

    @params(VISIBLE, v=UNITS)
    def p_h_given_v(self, v):
        return self._p_h(v)

    @params(HIDDEN, h=UNITS)
    def p_v_given_h(self, h):
        return self._p_v(h)

    @params(VISIBLE, v=UNITS, rng=Seed())
    def sample_h(self, v, *, rng=None):
        p = self._p_h(v)
        return (make_rng(rng).random(p.shape) < p).astype(float)

    @params(HIDDEN, h=UNITS, rng=Seed())
    def sample_v(self, h, *, rng=None):
        p = self._p_v(h)
        return (make_rng(rng).random(p.shape) < p).astype(float)

    @params(VISIBLE, v=UNITS, k=Integer(ge=0, typical=(0, 5)), rng=Seed())
    def gibbs(self, v, k: int, *, rng=None):
        """``k`` steps of block Gibbs sampling v -> h -> v; returns the final visible states."""
        return self._gibbs(v, k, make_rng(rng))

    # -- exact quantities (small models) -------------------------------------------
    def log_partition(self) -> float:
        """``log Z`` by enumerating all visible states and summing out h analytically."""
        return float(logsumexp(-self._free_energy(self._states())))

    def visible_distribution(self):
        """All visible states and their exact probabilities ``p(v) = exp(-F(v)) / Z``."""
        V = self._states()
        logp = -self._free_energy(V)
        return V, np.exp(logp - logsumexp(logp))

    @params(data=ROWS)
    def log_likelihood(self, data) -> float:
        """Mean ``log p(v)`` of the data rows."""
        return float(np.mean(-self._free_energy(data)) - self.log_partition())

    def _exact_gradient(self, data):
        V, p = self.visible_distribution()
        ph_data, ph_model = self._p_h(data), self._p_h(V)
        dW = data.T @ ph_data / len(data) - (V * p[:, None]).T @ ph_model
        da = data.mean(axis=0) - p @ V
        db = ph_data.mean(axis=0) - p @ ph_model
        return dW, da, db

    @params(data=ROWS)
    def exact_gradient(self, data):
        """Exact gradient of the mean log-likelihood: ``(<v h>_data - <v h>_model, <v>_d - <v>_m, <h>_d - <h>_m)``."""
        return self._exact_gradient(data)

    # -- stochastic gradients ---------------------------------------------------------
    def _cd_gradient(self, data, *, k, rng, chains=None):
        start = data if chains is None else chains
        neg = self._gibbs(start, k, rng)
        ph_data, ph_neg = self._p_h(data), self._p_h(neg)
        dW = data.T @ ph_data / len(data) - neg.T @ ph_neg / len(neg)
        da = data.mean(axis=0) - neg.mean(axis=0)
        db = ph_data.mean(axis=0) - ph_neg.mean(axis=0)
        return dW, da, db, neg

    @params(data=ROWS, k=Integer(ge=1, typical=(1, 5)), rng=Seed(), chains=Optional(ROWS))
    def cd_gradient(self, data, *, k: int = 1, rng=None, chains=None):
        """Contrastive-divergence estimate of the gradient.

        The negative phase starts from the data (CD-k) or, if ``chains`` is given,
        from persistent chains (PCD), which are advanced k steps; returns
        ``(dW, da, db, new_chains)``.
        """
        return self._cd_gradient(data, k=k, rng=make_rng(rng), chains=chains)

    @params(theta=Array(shape=("self.n_params",), hint="W row by row, then a, then b (see params())"))
    def set_params(self, theta):
        nW = self.W.size
        self.W = theta[:nW].reshape(self.W.shape).copy()
        self.a = theta[nW:nW + self.n_visible].copy()
        self.b = theta[nW + self.n_visible:].copy()

    def params(self):                 # defined after set_params: in the class body it hides validate.params
        return np.concatenate([self.W.ravel(), self.a, self.b])


def _kl_divergence(data, rbm):
    patterns, counts = np.unique(data, axis=0, return_counts=True)
    p_data = counts / counts.sum()
    log_p_model = -rbm._free_energy(patterns) - rbm.log_partition()
    return float(np.sum(p_data * (np.log(p_data) - log_p_model)))


#: data rows for an RBM passed as the parameter ``rbm``
DATA = Array(shape=(None, "rbm.n_visible"), values=(0, 1), promote=True,
             hint="one visible vector of 0/1 units per row (threshold grey levels first)")


@params(EXACT, data=DATA, rbm=Instance(BinaryRBM))
def kl_divergence(data, rbm: BinaryRBM) -> float:
    """``KL(p_data || p_model)`` for the empirical distribution of the data rows (exact, by enumeration)."""
    return _kl_divergence(data, rbm)


@params(EXACT, patterns=DATA, rbm=Instance(BinaryRBM))
def probability_on(patterns, rbm: BinaryRBM) -> float:
    """Total model probability of the given (distinct) visible patterns."""
    patterns = np.unique(patterns, axis=0)
    return float(np.exp(logsumexp(-rbm._free_energy(patterns)) - rbm.log_partition()))


METHODS = ("exact", "cd", "pcd")


@params(Rule("method", lambda rbm, method, record_every: (method != "exact" and not record_every)
             or rbm.n_visible <= MAX_ENUMERATION_UNITS,
             f"'exact' training and record_every > 0 {EXACT_HINT}; use 'cd' or 'pcd' with record_every=0"),
        rbm=Instance(BinaryRBM), data=Array(shape=(None, "rbm.n_visible"), values=(0, 1),
                                            hint="one training vector of 0/1 units per row"),
        method=Choice(*METHODS), epochs=Integer(ge=1, typical=(1, 5)), lr=Real(gt=0), k=Integer(ge=1, typical=(1, 3)),
        batch_size=Optional(Integer(ge=1, typical=(1, 5))), n_chains=Integer(ge=1, typical=(1, 20)), rng=Seed(),
        record_every=Integer(ge=0, typical=(0, 3)),
        optimizer=Optional(Instance(nn.SGD, nn.Adam, hint="one of mlphys.nn's optimisers")), progress=Flag())
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
    Parameters that become NaN or infinite (a step far too large) raise ``FloatingPointError`` saying so.
    """
    rng = make_rng(rng)
    batch_size = len(data) if batch_size is None else batch_size
    chains = rng.integers(0, 2, (n_chains, rbm.n_visible)).astype(float)
    history = nn.History("epochs", "kl")
    step_size = "lr" if optimizer is None else "the optimizer's lr"
    optimizer = nn.SGD(lr) if optimizer is None else optimizer

    def diverged(what, epoch):
        return FloatingPointError(f"RBM training diverged: {what} became NaN or infinite in epoch {epoch + 1}; lower "
                                  f"{step_size} (each entry of the gradient is at most 1 in size, so a step moves a "
                                  f"weight by up to about {step_size})")

    def step(grads, epoch):                       # ascent on log p = descent on -log p (in place)
        dW, da, db = grads[:3]
        if not np.isfinite(dW.sum() + da.sum() + db.sum()):   # entries are at most 1: only NaN/inf make it so
            raise diverged("the gradient", epoch)
        optimizer.step([rbm.W, rbm.a, rbm.b], [-g for g in grads[:3]])

    def record(epoch):
        kl = _kl_divergence(data, rbm)
        if not np.isfinite(kl):
            raise diverged("the KL divergence to the data", epoch)
        history.append(epochs=epoch + 1, kl=kl)

    if record_every:
        history.append(epochs=0, kl=_kl_divergence(data, rbm))
    with nn.TrainingLoop(epochs, progress=progress, desc=f"RBM ({method})") as loop:
        for epoch in loop:
            order = rng.permutation(len(data))
            for i in range(0, len(data), batch_size):
                batch = data[order[i:i + batch_size]]
                if method == "exact":
                    step(rbm._exact_gradient(batch), epoch)
                elif method == "cd":
                    step(rbm._cd_gradient(batch, k=k, rng=rng), epoch)
                else:
                    grads = rbm._cd_gradient(batch, k=k, rng=rng, chains=chains)
                    chains = grads[3]
                    step(grads, epoch)
            if not (np.isfinite(rbm.W).all() and np.isfinite(rbm.a).all() and np.isfinite(rbm.b).all()):
                raise diverged("the weights", epoch)
            if record_every and (epoch + 1) % record_every == 0:
                record(epoch)
    return history.end(loop)


@params(n=Integer(ge=2, le=12, typical=(2, 4), hint="n gives 2^(n+1) - 2 images of n*n pixels (exact RBM training "
                                                      "needs n <= 4)"))
def bars_and_stripes(n: int) -> np.ndarray:
    """All distinct n x n bars-and-stripes images as rows of 0/1 (2^(n+1) - 2 patterns), for 2 <= n <= 12."""
    patterns = set()
    for bits in product([0, 1], repeat=n):
        rows = np.repeat(np.array(bits, dtype=float)[:, None], n, axis=1)
        patterns.add(tuple(rows.ravel()))
        patterns.add(tuple(rows.T.ravel()))
    return np.array(sorted(patterns))


@params(rbm=Instance(BinaryRBM), n_samples=Integer(ge=1, typical=(1, 20)), burn_in=Integer(ge=1, typical=(1, 20)),
        rng=Seed())
def sample_model(rbm: BinaryRBM, n_samples: int, *, burn_in: int = 1000, rng=None) -> np.ndarray:
    """Samples from the RBM by block Gibbs sampling from random starts, after ``burn_in`` steps."""
    rng = make_rng(rng)
    v = rng.integers(0, 2, (n_samples, rbm.n_visible)).astype(float)
    return rbm._gibbs(v, burn_in, rng)


# ----------------------------------------------------------------------------- Gaussian-binary RBM

#: the Gaussian-binary parameters: visible biases a (n), hidden biases b (m), couplings W (n x m), widths sigma
# no hidden units (m = 0) is allowed: the marginal is then the Gaussian the hidden units reshape
GAUSSIAN_BINARY = dict(a=Array(shape=("n",)), b=Array(shape=("m",), min_size=0), W=Array(shape=("n", "m"), min_size=0),
                       sigma=AnyOf(Real(gt=0), Array(shape=(None,), gt=0)))
SIGMA = Rule("sigma", lambda sigma, W: np.ndim(sigma) == 0 or np.shape(sigma) == W.shape[:1],
             "must be one positive width or one per visible unit (a row of W each)")
X_UNITS = Rule("x", lambda x, W: x.shape[-1] == W.shape[0], "needs one entry per visible unit (a row of W each) "
               "along its last axis")


@params(SIGMA, X_UNITS, Rule("h", lambda h, W: h.shape[-1] == W.shape[1], "needs one entry per hidden unit (a column "
                             "of W each) along its last axis"),
        Rule("h", lambda x, h: _broadcast(x.shape[:-1], h.shape[:-1]), "its leading (batch) axes must broadcast with "
             "those of x"),
        x=Array(ndim=(3, 2, 1)), h=UNITS, **GAUSSIAN_BINARY)
def gaussian_binary_energy(x, h, a, b, W, sigma):
    """Lecture, *Gaussian-Binary RBM*: ``E = sum_i (x_i - a_i)^2 / 2 sigma_i^2 - b.h - sum_ij x_i W_ij h_j / sigma_i^2``."""
    sigma2 = np.asarray(sigma, dtype=float) ** 2
    return (np.sum((x - a) ** 2 / (2 * sigma2), axis=-1) - h @ b
            - np.einsum("...i,ij,...j->...", x / sigma2, W, h))


@params(SIGMA, X_UNITS, x=Array(ndim=(3, 2, 1)), **GAUSSIAN_BINARY)
def gaussian_binary_log_marginal(x, a, b, W, sigma):
    """``log sum_h exp(-E(x, h))`` in closed form, the unnormalised log of the lecture's ``P_rbm(x)``:

        -sum_i (x_i - a_i)^2 / 2 sigma_i^2 + sum_j log(1 + exp(b_j + sum_i x_i W_ij / sigma_i^2)).

    Chapter 5 uses ``exp`` of this (or of half of it) as a many-body wave function.
    """
    sigma2 = np.asarray(sigma, dtype=float) ** 2
    return -np.sum((x - a) ** 2 / (2 * sigma2), axis=-1) + _softplus(b + (x / sigma2) @ W).sum(axis=-1)
