"""Orbital-free DFT with a learned kinetic-energy functional: training T[n], then gradient descent on n.

Costa, Scriva, Fazio and Pilati, Phys. Rev. E 2022 (arXiv:2205.08367), Chapters 10-11.

* :func:`train_functional` fits a :class:`mlphys.cnn.CNN` to (n_gs, t_gs) pairs by Adam on the mean
  squared error (Eq. 4), through :func:`mlphys.nn.train` one epoch at a time, checkpointing to ``.npz``
  (weights, Adam moments, generator state, loss history) so that an interrupted run resumes where it
  stopped and ends with the same weights as an uninterrupted one.
* :func:`descend` minimises E[n] = T[n] + integral n V by gradient descent on chi = sqrt(n) (Eqs. 13-14),
  batched over instances, for any functional with ``value_and_derivative`` - a :class:`LearnedFunctional`
  or the exact :class:`ExactFunctional` (von Weizsaecker), which is the reference curve.
* Metrics (R^2, Eq. 18, is :func:`mlphys.linreg.r2_score`): relative energy and density errors (Eqs. 19-21), the gradient-noise metric of
  Eq. 22, and :func:`descent_force`, the size of the descent step at the exact ground state (not in the
  paper: zero for the exact functional, a direct measure of the noise in a learned functional derivative).
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import cnn, grid1d, nn, speckle
from .config import make_rng, progress_bar
from .speckle import _build
from .validate import (Array, Choice, Constraint, Flag, Instance, Integer, Optional, PathLike, Real, Rule, Seed, Text,
                       WrongType, as_array, params, returned)


class _Functional(Constraint):
    """A kinetic functional: an object with ``value_and_derivative(densities) -> (T, delta T / delta chi)`` and a
    :class:`mlphys.speckle.Grid` as ``grid`` - :class:`ExactFunctional`, :class:`LearnedFunctional` or one's own."""

    what = "a functional (an object with value_and_derivative(densities) and a speckle.Grid as .grid)"

    def check(self, value, name, context):
        if not (callable(getattr(value, "value_and_derivative", None))
                and isinstance(getattr(value, "grid", None), speckle.Grid)):
            shown = type(value).__name__ if not isinstance(value, (int, float, str)) else repr(value)
            raise WrongType(f"{name} must be {self.what}, got {shown}; e.g. dft.ExactFunctional(grid) or a trained "
                            "network's .functional")
        return value

    def bad(self, context):
        return [None, 3, "f", speckle.SPECKLE_GRID]


FUNCTIONAL = _Functional()
#: Densities of a grid-carrying object (``self.grid`` or ``functional.grid``), one per row.
GRID_ROWS = dict(promote=True, hint="one row per instance, one value per grid point")


# ----------------------------------------------------------------------------- functionals

class ExactFunctional:
    """The exact one-particle functional (von Weizsaecker, :func:`mlphys.speckle.von_weizsaecker`)."""

    name = "exact"

    @params(grid=Instance(speckle.Grid))
    def __init__(self, grid: speckle.Grid):
        self.grid = grid

    @params(Rule("densities", lambda self, densities: densities.shape[-1] == self.grid.n,
                 "must have one value per grid point (grid.n) on their last axis"),
            densities=Array(ndim=(1, 2), ge=0, hint="a density is non-negative; one per row"))
    def value_and_derivative(self, densities):
        """(T[n], delta T / delta chi) for each row, chi = sqrt(n)."""
        return self._value_and_derivative(densities)

    def _value_and_derivative(self, densities):
        """The same for checked densities (:func:`descend` calls it at every step)."""
        return speckle._von_weizsaecker(densities, self.grid, True)


class LearnedFunctional:
    """A trained CNN as a functional: T[n] = net(n), delta T / delta chi = 2 chi (dT/dn_i) / dx (Eq. 17)."""

    @params(Rule("net", lambda net, grid: net.n_grid == grid.n, "must take one input per grid point (net.n_grid == "
                 "grid.n)"),
            net=Instance(cnn.CNN), grid=Instance(speckle.Grid), name=Text(allow_empty=True),
            chunk=Integer(ge=1, typical=(1, 50), hint="densities per network pass"))
    def __init__(self, net: cnn.CNN, grid: speckle.Grid, name: str = "", *, chunk: int = 50):
        self.net, self.grid, self.name, self.chunk = net, grid, name, chunk

    def __call__(self, densities):
        return self.net.predict(densities)

    @params(densities=Array(shape=(None, "self.grid.n"), ge=0, hint="a density is non-negative; one per row"))
    def value_and_derivative(self, densities):
        """(T[n], delta T / delta chi) for each row, chi = sqrt(n)."""
        return self._value_and_derivative(densities)

    def _value_and_derivative(self, n):
        """The same for checked densities (:func:`descend` calls it at every step)."""
        T, dT = np.empty(n.shape[0]), np.empty_like(n)
        for i in range(0, n.shape[0], self.chunk):
            T[i:i + self.chunk], dT[i:i + self.chunk] = self.net._input_gradient(n[i:i + self.chunk])
        return T, 2 * np.sqrt(n) * dT / self.grid.dx


# ----------------------------------------------------------------------------- training

@dataclass
class TrainedFunctional(nn.Trained):
    """Result of :func:`train_functional`: the network as a functional and its :class:`mlphys.nn.History` (per
    epoch: ``loss``, and ``val_loss`` with a validation set).

    ``best_epoch`` is the epoch whose network is kept (the last one, or under the paper's protocol the one with
    the lowest validation loss); ``finished`` says whether all requested epochs ran.
    """

    architecture: str
    functional: LearnedFunctional
    history: nn.History
    best_epoch: int = 0
    finished: bool = True

    @property
    def net(self) -> cnn.CNN:
        return self.functional.net

    @property
    def loss(self) -> list:
        return self.history.loss

    @property
    def val_loss(self) -> list:
        return self.history.val_loss

    @property
    def epochs(self) -> int:
        return len(self.history.loss)


TrainedFunctional.__init__ = params(
    architecture=Choice(*cnn.ARCHITECTURES), functional=Instance(LearnedFunctional), history=Instance(nn.History),
    best_epoch=Integer(ge=0), finished=Flag())(TrainedFunctional.__init__)


#: The two training protocols. "paper": Sec. III as written - raw densities in, T out, the network with the best
#: validation loss kept. "reduced": inputs scaled to order one and targets standardised (fixed affine maps,
#: :meth:`mlphys.cnn.CNN.set_scaling`), the last epoch kept - what a classroom budget of epochs needs.
PROTOCOLS = ("reduced", "paper")


class _DerivativeInformed:
    """The network as :func:`mlphys.nn.train` sees it under Sobolev training: targets are rows (t, dT/dn_1..N)."""

    def __init__(self, net: cnn.CNN, weight: float):
        self.net, self.weight, self.params = net, weight, net.params

    def _check_XY(self, X, Y):
        return self.net._check_X(X), as_array(Y, "Y", ndim=2)

    def backward(self, X, Y):
        (loss_T, loss_d), grads = self.net._derivative_backward(X, Y[:, 0], Y[:, 1:], self.weight)
        return loss_T + self.weight * loss_d, grads


@params(data=Instance(speckle.Dataset))
def euler_lagrange_targets(data: speckle.Dataset) -> np.ndarray:
    """dT/dn_i = dx (e_gs - V_i) for each ground state of ``data``: the Euler-Lagrange equation of one particle
    (delta T / delta n = mu - V with mu = e_gs, Eq. 10), which every training density satisfies exactly - 256
    derivative targets per density, free with the diagonalisation."""
    return data.grid.dx * (data.energies[:, None] - data.potentials)


@params(Rule("data", lambda data: len(data) > 0, "is empty: pass at least one instance"),
        Rule("architecture", lambda architecture, data: cnn._fits(data.grid.n, cnn.ARCHITECTURES[architecture]["pools"]),
             "does not fit data.grid.n points: Table I's pools must divide it, leaving at least 13 points (the kernel) "
             "in the deepest block"),
        Rule("validation", lambda protocol, validation: protocol != "paper" or validation is not None,
             'protocol="paper" keeps the best network on the validation set: pass validation='),
        Rule("validation", lambda data, validation: validation is None or (validation.grid == data.grid
                                                                            and len(validation) > 0),
             "must hold at least one instance on the grid of data"),
        Rule("derivative_weight", lambda architecture, derivative_weight: not derivative_weight
             or cnn.ARCHITECTURES[architecture]["activation"] == "relu",
             "needs a ReLU architecture (Sobolev training); the softplus network's slopes depend on its parameters"),
        data=Instance(speckle.Dataset, hint="from speckle.dataset"), architecture=Choice(*cnn.ARCHITECTURES),
        epochs=Integer(ge=1, typical=(1, 2)), rng=Seed(), lr=Real(gt=0, typical=(1e-5, 1e-3)),
        batch_size=Integer(ge=1, typical=(1, 20)), validation=Optional(Instance(speckle.Dataset)),
        padding=Optional(Choice(*cnn.PADDINGS)), protocol=Choice(*PROTOCOLS),
        derivative_weight=Real(ge=0, typical=(0, 0.1)), checkpoint=Optional(PathLike()),
        checkpoint_seconds=Real(ge=0), progress=Flag())
def train_functional(data: speckle.Dataset, architecture: str, *, epochs: int, rng=None, lr: float = 1e-4,
                     batch_size: int = 100, validation: speckle.Dataset | None = None, padding: str | None = None,
                     protocol: str = "reduced", derivative_weight: float = 0.0, checkpoint=None,
                     checkpoint_seconds: float = 0.0, progress: bool = True) -> TrainedFunctional:
    """Learn T[n] from ``data`` (densities -> kinetic energies) with a Table-I ``architecture``.

    Adam at rate ``lr`` (the paper: 1e-4) on mini-batches of ``batch_size`` (100) for ``epochs`` (1,200),
    Eq. 4's loss, under ``protocol`` (:data:`PROTOCOLS`; "paper" needs ``validation``). ``padding`` defaults to
    periodic on periodic grids and zero with hard walls (Appendix A). ``derivative_weight`` > 0 (ReLU networks):
    Sobolev training - the loss adds that weight times mean_i (delta T / delta n(x_i) - (e_gs - V(x_i)))^2, the
    error of the functional derivative against the Euler-Lagrange targets (:func:`euler_lagrange_targets`).
    ``checkpoint``: an ``.npz`` path written at
    most every ``checkpoint_seconds`` and after the last epoch; if it exists the run resumes from it (at most the
    epochs since the last write are repeated), so that a run may continue on another machine, days later.
    """
    keep_best = protocol == "paper"
    padding = padding or ("periodic" if data.grid.periodic else "zero")
    rng = make_rng(rng)
    net = cnn.CNN.from_architecture(architecture, data.grid.n, padding=padding, rng=rng)
    if protocol == "reduced":
        net.set_scaling(1 / np.mean(data.densities), np.mean(data.kinetic), np.std(data.kinetic))
    opt = nn.Adam(lr=lr)
    loss, val_loss, seconds = [], [], 0.0
    best = [p.copy() for p in net.params]
    path = Path(checkpoint) if checkpoint is not None else None
    # what the run is computed from (not ``epochs``: a longer run may continue a shorter one)
    run_id = nn.fingerprint(architecture, lr, batch_size, padding, protocol, data.densities, data.kinetic,
                            None if validation is None else validation.densities, net.params,
                            *((derivative_weight,) if derivative_weight else ()))
    model, targets = net, data.kinetic
    if derivative_weight:
        model = _DerivativeInformed(net, derivative_weight / data.grid.dx**2)
        targets = np.column_stack([data.kinetic, euler_lagrange_targets(data)])
    saved = nn.resume_training_state(path, net.params, opt, rng=rng, fingerprint=run_id,
                                     required=("loss", "val_loss", "seconds")
                                     + tuple(f"best{i}" for i in range(len(best)) if keep_best))
    if saved is not None:
        loss, val_loss, seconds = list(saved["loss"]), list(saved["val_loss"]), float(saved["seconds"])
        best = [saved[f"best{i}"] for i in range(len(best))] if keep_best else best

    def save(done):
        extra = {f"best{i}": p for i, p in enumerate(best)} if keep_best else {}
        nn.save_training_state(path, net.params, opt, rng=rng, fingerprint=run_id, loss=np.array(loss),
                               val_loss=np.array(val_loss), seconds=seconds, **extra)

    interrupted = diverged = False
    with nn.TrainingLoop(epochs, done=len(loss), progress=progress, desc=architecture,
                         save=None if path is None else save, save_seconds=checkpoint_seconds) as loop:
        for _ in loop:
            with warnings.catch_warnings():              # a diverging loss is reported below, with what to change
                warnings.filterwarnings("ignore", "training diverged", RuntimeWarning)
                h = nn.train(model, data.densities, targets, epochs=1, batch_size=batch_size, optimizer=opt, rng=rng)
            if h.interrupted:
                interrupted = True
                break
            loss.append(h.loss[0])
            seconds += h.seconds
            if validation is not None:
                val_loss.append(float(np.mean((net.predict(validation.densities) - validation.kinetic) ** 2)))
                if not np.isfinite(val_loss[-1]):
                    diverged = True
                    break
                if keep_best and not h.diverged and (len(val_loss) == 1 or val_loss[-1] < min(val_loss[:-1])):
                    best = [p.copy() for p in net.params]
            if h.diverged:
                diverged = True
                break
    best_epoch = len(loss)
    if keep_best and val_loss:
        usable = val_loss[:-1] if diverged else val_loss          # not the epoch that diverged
        best_epoch = int(np.argmin(usable)) + 1 if usable else 0
        net.params[:] = [p.copy() for p in best]
    if diverged:
        what, value = ("the training loss", loss[-1]) if not np.isfinite(loss[-1]) or abs(loss[-1]) > 1e30 else \
            ("the validation loss", val_loss[-1])
        kept = ("the best network before it (protocol='paper'; the initial one if none)" if keep_best else
                "the last network, which is not usable")
        warnings.warn(f"training diverged ({what} is {value:.3g} at epoch {len(loss)} of {architecture}): lower lr "
                      f"(now {lr:g})" + (f" or derivative_weight (now {derivative_weight:g})" if derivative_weight
                                         else "") + f"; returning {kept}", RuntimeWarning, stacklevel=3)
    history = nn.History(loss=loss, val_loss=val_loss, seconds=seconds, interrupted=loop.interrupted or interrupted,
                         diverged=diverged)
    return _build(TrainedFunctional, architecture, LearnedFunctional(net, data.grid, architecture), history,
                  best_epoch, len(loss) == epochs)


# ----------------------------------------------------------------------------- gradient descent

@dataclass
class Descent:
    """Result of :func:`descend`. Histories have one row per recorded step (``steps``), one column per instance.

    ``energies``: E[n_t] with the functional used; ``norms``: integral n_t dx (Eq. 12 asks for 1);
    with ``exact`` given, ``energy_errors`` (e_t - e_gs) / |e_gs| and ``density_errors`` |n_t - n_gs| / |n_gs|.
    """

    steps: np.ndarray
    energies: np.ndarray
    norms: np.ndarray
    densities: np.ndarray
    energy_errors: np.ndarray | None = None
    density_errors: np.ndarray | None = None
    diverged: np.ndarray = field(default=None)
    seconds: float = 0.0


_HISTORY = Array(shape=("t", "b"), finite=False, hint="one row per recorded step, one column per instance (NaN: "
                 "diverged)")
Descent.__init__ = params(
    steps=Array(shape=("t",), dtype=int), energies=_HISTORY, norms=_HISTORY,
    densities=Array(shape=("b", None), ge=0, hint="the final densities, one per instance"),
    energy_errors=Optional(_HISTORY), density_errors=Optional(_HISTORY),
    diverged=Optional(Array(shape=("b",), dtype=bool)), seconds=Real(ge=0))(Descent.__init__)


@params(grid=Instance(speckle.Grid))
def initial_chi(grid: speckle.Grid) -> np.ndarray:
    """The empty box's ground state: uniform on a ring, sqrt(2/L) sin(pi x / L) between hard walls."""
    chi = np.ones(grid.n) if grid.periodic else np.sin(np.pi * grid.x / grid.length)
    return chi / np.sqrt(grid._integrate(chi**2))


def _same_instances(densities, exact) -> bool:
    return exact.densities.shape == densities.shape


def _nonzero(exact) -> bool:
    return bool(np.all(exact.energies != 0) and np.all(np.any(exact.densities > 0, axis=-1)))


@params(Rule("exact", _same_instances, "must hold one ground state per row of densities"),
        Rule("exact", _nonzero, "energies and densities must not vanish (the errors are relative to them)"),
        densities=Array(shape=("b", "grid.n"), ge=0, hint="one density per row"), energies=Array(shape=("b",)),
        exact=Instance(speckle.GroundStates), grid=Instance(speckle.Grid))
def relative_errors(densities, energies, exact: speckle.GroundStates, grid: speckle.Grid):
    """((e - e_gs) / |e_gs|, |n - n_gs| / |n_gs|) per instance, Eqs. 19-21 (sign: negative = below e_gs)."""
    return _relative_errors(densities, energies, exact, grid)


def _relative_errors(densities, energies, exact, grid):
    de = (energies - exact.energies) / np.abs(exact.energies)
    dn = np.sqrt(grid._integrate((densities - exact.densities) ** 2)) / np.sqrt(grid._integrate(exact.densities**2))
    return de, dn


def _normalised(functional, chi0) -> bool:
    return chi0 is None or bool(np.all(np.abs(functional.grid._integrate(chi0**2) - 1) <= 1e-6))


@params(Rule("chi0", lambda potentials, chi0: chi0 is None or chi0.shape[0] in (1, potentials.shape[0]),
             "must be one row (for every potential) or one row per potential"),
        Rule("chi0", _normalised, "must be normalised: integral chi0^2 dx = 1 on the grid (Eq. 12)"),
        Rule("exact", lambda potentials, exact: exact is None or (exact.energies.shape == (potentials.shape[0],)
                                                                  and exact.densities.shape == potentials.shape),
             "must hold the ground states of the potentials (one per row)"),
        functional=FUNCTIONAL,
        potentials=Array(shape=(None, "functional.grid.n"), promote=True, hint="one potential per row on this grid"),
        steps=Integer(ge=1, typical=(1, 30)), eta=Real(gt=0, typical=(1e-6, 1e-4)),
        chi0=Optional(Array(shape=(None, "functional.grid.n"), promote=True, ge=0,
                            hint="chi = sqrt(n) is non-negative; one row, or one per potential")),
        exact=Optional(Instance(speckle.GroundStates)), record_every=Integer(ge=1, typical=(1, 10)),
        renormalise=Flag(), progress=Flag())

def descend(functional, potentials, *, steps: int, eta: float = 1e-3, chi0=None, exact=None,
            record_every: int = 10, renormalise: bool = True, progress: bool = True) -> Descent:
    """Gradient descent of E[chi^2] = T[chi^2] + integral chi^2 V on chi (Eqs. 13-14), all instances at once.

    chi <- chi - eta (dT/dchi + 2 chi V - 2 mu chi), mu = integral (chi dT/dchi / 2 + chi^2 V) / integral chi^2,
    from ``chi0`` (default :func:`initial_chi`; must satisfy integral chi^2 dx = 1). ``exact``: the
    :class:`mlphys.speckle.GroundStates` of ``potentials``, to record the errors along the way. An instance
    whose chi stops being finite is frozen and flagged in ``diverged``.

    Eq. 14's mu keeps integral chi^2 = 1 only to first order in eta; ``renormalise`` (default) rescales chi
    after every step, since the second-order drift (1.5e-4 after 10^5 exact-functional steps) would otherwise
    show up as an energy error of the same size.
    """
    grid, V = functional.grid, potentials
    chi = np.broadcast_to(initial_chi(grid) if chi0 is None else chi0, V.shape).copy()
    # the functional's own unchecked evaluation when it has one (ExactFunctional, LearnedFunctional): chi^2 is checked
    value_and_derivative = getattr(functional, "_value_and_derivative", None) or functional.value_and_derivative
    first_bad, bad_derivative = None, 0
    rec_steps, rec_E, rec_norm, rec_de, rec_dn = [], [], [], [], []
    diverged = np.zeros(V.shape[0], bool)
    start = time.perf_counter()

    def record(t, T):
        n = chi**2
        E = T + grid._integrate(n * V)
        rec_steps.append(t)
        rec_E.append(E)
        rec_norm.append(grid._integrate(n))
        if exact is not None:
            de, dn = _relative_errors(n, E, exact, grid)
            rec_de.append(de)
            rec_dn.append(dn)

    for t in progress_bar(range(steps + 1), progress, f"descent {getattr(functional, 'name', '')}".strip()):
        live = ~diverged
        T = np.full(V.shape[0], np.nan)
        c = chi[live]
        T_live, g = value_and_derivative(c ** 2)
        if np.shape(T_live) != (c.shape[0],) or np.shape(g) != c.shape:
            raise ValueError(f"functional.value_and_derivative returned shapes {np.shape(T_live)} and {np.shape(g)} "
                             f"for densities of shape {c.shape}: it must return T (one per row) and delta T / delta "
                             "chi (one row per density)")
        T[live] = T_live
        if t % record_every == 0 or t == steps:
            record(t, T)
        if t == steps:
            break
        v = V[live]
        mu = grid._integrate(0.5 * g * c + c**2 * v) / grid._integrate(c**2)
        new = c - eta * (g + 2 * c * v - 2 * mu[:, None] * c)
        if renormalise:
            new /= np.sqrt(grid._integrate(new**2))[:, None]
        bad = ~np.all(np.isfinite(new), axis=1) | (np.max(np.abs(new), axis=1) > 1e6)
        new[bad] = c[bad]
        chi[live] = new
        diverged[np.flatnonzero(live)[bad]] = True
        if bad.any():
            first_bad = t + 1 if first_bad is None else first_bad
            bad_derivative += int(np.sum(bad & ~np.all(np.isfinite(g), axis=1)))
    stack = lambda rows: np.array(rows) if rows else None  # noqa: E731
    result = _build(Descent, np.array(rec_steps), stack(rec_E), stack(rec_norm), chi**2, stack(rec_de),
                    stack(rec_dn), diverged, time.perf_counter() - start)
    _report(result, functional, eta, first_bad, bad_derivative)
    return result


def _report(d: Descent, functional, eta: float, first_bad, bad_derivative: int) -> None:
    """Warn, saying what to change, when energies leave :func:`descend` NaN or infinite."""
    name = getattr(functional, "name", "") or type(functional).__name__
    n_diverged = int(d.diverged.sum())
    if n_diverged:
        step = f"lower eta (now {eta:g}; Eq. 13 is stable below 1 / the largest eigenvalue of the kinetic operator)"
        cause = ("the functional's derivative was not finite: check the functional" if bad_derivative == n_diverged
                 else f"the functional's derivative was not finite for {bad_derivative} of them (check the "
                      f"functional); for the others {step}" if bad_derivative else step)
        warnings.warn(f"descent with {name}: {n_diverged} of {d.diverged.size} instances diverged (first at step "
                      f"{first_bad}; frozen there, flagged in .diverged, their energies NaN): {cause}",
                      RuntimeWarning, stacklevel=4)
    silent = ~np.isfinite(d.energies[-1]) & ~d.diverged
    if silent.any():
        warnings.warn(f"descent with {name}: the functional returned a non-finite T[n] for {int(silent.sum())} "
                      "instances whose densities stayed finite: check the functional (a trained network's weights)",
                      RuntimeWarning, stacklevel=4)


# ----------------------------------------------------------------------------- diagnostics

@params(Rule("exact", lambda potentials, exact: exact.densities.shape == potentials.shape,
             "must hold the ground states of the potentials (one per row)"),
        Rule("exact", lambda exact: bool(np.all(np.any(exact.densities > 0, axis=-1))), "densities must not vanish"),
        functional=FUNCTIONAL, exact=Instance(speckle.GroundStates),
        potentials=Array(shape=(None, "functional.grid.n"), promote=True, hint="one potential per row on this grid"))
def descent_force(functional, exact: speckle.GroundStates, potentials) -> np.ndarray:
    """|dT/dchi + 2 chi V - 2 mu chi| (L2 norm over x) at the exact ground state, per instance.

    The bracket of Eq. 13: the direction gradient descent would move the exact ground state. For the exact
    functional it vanishes (Euler equation, Eq. 10); for a learned one it is the noise of its functional
    derivative where it matters, measured before any descent.
    """
    grid, V = functional.grid, potentials
    chi = np.sqrt(exact.densities)
    _, g = functional.value_and_derivative(exact.densities)
    g = returned(g, "functional.value_and_derivative", chi.shape)
    mu = grid._integrate(0.5 * g * chi + chi**2 * V) / grid._integrate(chi**2)
    return np.sqrt(grid._integrate((g + 2 * chi * V - 2 * mu[:, None] * chi) ** 2))


def _slopes(densities, grid):
    return np.abs(grid1d.central_difference(densities, grid.dx, periodic=grid.periodic))


@params(Rule("exact", _same_instances, "must hold one ground state per row of densities"),
        Rule("exact", lambda exact, grid: bool(np.all(np.max(_slopes(exact.densities, grid), axis=-1) > 0)),
             "densities must vary (Eq. 22 divides by their slope)"),
        densities=Array(shape=("b", "grid.n"), ge=0, hint="one density per row"), exact=Instance(speckle.GroundStates),
        grid=Instance(speckle.Grid), eps=Real(ge=0, lt=1, hint="the fraction of the largest slope below which points "
                                                              "are skipped"))
def gradient_noise(densities, exact: speckle.GroundStates, grid: speckle.Grid, *, eps: float = 0.0):
    """Eq. 22 per instance: mean_i (|n'_min(x_i) / n'_gs(x_i)| - 1), derivatives by central differences.

    The ratio is unbounded where n'_gs ~ 0 (every extremum of the density); ``eps`` > 0 skips points with
    |n'_gs| < eps * max |n'_gs|. :func:`variation_ratio` is a bounded alternative.
    """
    d = lambda n: grid1d.central_difference(n, grid.dx, periodic=grid.periodic)  # noqa: E731
    a, b = np.abs(d(densities)), np.abs(d(exact.densities))
    keep = b > eps * b.max(axis=-1, keepdims=True)
    ratio = np.where(keep, a / np.where(keep, b, 1.0), 1.0)
    return np.sum(ratio - 1, axis=-1) / np.sum(keep, axis=-1)


def _variation(n):
    return np.sum(np.abs(np.diff(n, axis=-1)), axis=-1)


@params(Rule("exact", _same_instances, "must hold one ground state per row of densities"),
        Rule("exact", lambda exact: bool(np.all(_variation(exact.densities) > 0)), "densities must vary (their total "
             "variation divides)"),
        densities=Array(shape=("b", None), ge=0, hint="one density per row"), exact=Instance(speckle.GroundStates))
def variation_ratio(densities, exact: speckle.GroundStates) -> np.ndarray:
    """sum |n_min(x_i+1) - n_min(x_i)| / sum |n_gs(x_i+1) - n_gs(x_i)| - 1: excess total variation (0 = exact)."""
    return _variation(densities) / _variation(exact.densities) - 1


# ----------------------------------------------------------------------------- why a learned functional fails the descent

@params(potential=Array(shape=("grid.n",), hint="one value per grid point"), grid=Instance(speckle.Grid))
def density_response(potential, grid: speckle.Grid) -> np.ndarray:
    """The static density response R = dn/dV of the ground state of ``potential`` (first-order perturbation theory
    from all eigenpairs of the exact solver): R_ij = (2/dx) sum_{k>0} u0_i u_ki u_kj u0_j / (e_0 - e_k), with u the
    orthonormal eigenvectors, so that n(V + dV) = n(V) + R dV + O(dV^2). Symmetric, negative semi-definite; a
    constant dV does nothing (R 1 = 0)."""
    V = potential
    H = -grid.kinetic_prefactor * grid.laplacian() + np.diag(V)
    e, U = np.linalg.eigh(H)
    u0, Uk = U[:, 0], U[:, 1:]
    A = u0[:, None] * Uk                                     # u0_i u_ki
    return (2 / grid.dx) * (A / (e[0] - e[1:])) @ A.T


N_MODES = Integer(ge=1, typical=(1, 4), hint="potential changes cos and sin(2 pi m x / L), m = 1 .. n_modes")


@params(Rule("n_modes", lambda grid, n_modes: 2 * n_modes < grid.n, "must be below grid.n / 2 (the grid resolves "
             "no shorter wave)"),
        potential=Array(shape=("grid.n",), hint="one value per grid point"), grid=Instance(speckle.Grid),
        n_modes=N_MODES)
def manifold_directions(potential, grid: speckle.Grid, n_modes: int = 13):
    """The tangent space of the ground-state manifold at the ground state of ``potential``: dn = R dV for the
    potential changes dV = cos and sin(2 pi m x / L), m = 1 .. ``n_modes`` (the speckle ensemble's potentials
    span |m| <= 13: 26 directions). Returns (directions, unit norm, as rows; the exact second variation of T along
    each, d^T (d^2 T/dn^2) d = -dx dV^T R dV / |R dV|^2, since d^2 T/dn^2 R dV = -dx dV + const on the manifold)."""
    R = density_response(potential, grid)
    k = 2 * np.pi * np.arange(1, n_modes + 1)[:, None] * grid.x / grid.length
    dV = np.concatenate([np.cos(k), np.sin(k)])
    dn = dV @ R                                              # R is symmetric: rows R dV
    norm = np.linalg.norm(dn, axis=1)
    return dn / norm[:, None], -grid.dx * np.sum(dV * dn, axis=1) / norm**2


#: A density at which derivatives are taken: positive (the derivative in n divides by sqrt(n)).
_POSITIVE = Array(shape=("functional.grid.n",), gt=0, hint="a positive density, one value per grid point")
STEP = Real(gt=0, typical=(1e-4, 1e-3), hint="the secant's half-width relative to |n|")


@params(Rule("step", lambda density, directions, step: bool(np.all(
            density[None] - step * np.linalg.norm(density) * np.abs(directions) > 0)),
             "is too large: the perturbed density turns negative; lower step"),
        functional=FUNCTIONAL, density=_POSITIVE,
        directions=Array(shape=(None, "functional.grid.n"), hint="one direction per row"), step=STEP)
def second_variation(functional, density, directions, *, step: float = 1e-3) -> np.ndarray:
    """d^T (d^2 T/dn^2) d along each row ``d`` of ``directions`` at ``density``: the secant of the gradient
    dT/dn_i over +-``step`` * |n| (central; exact for a quadratic T, and for a piecewise-linear ReLU network the
    average curvature of its kinks within the step). ``functional``: anything with ``value_and_derivative``."""
    n, D, grid = density, directions, functional.grid
    h = step * np.linalg.norm(n)

    def partial(m):                                          # dT/dn_i from the derivative with respect to chi
        _, g = functional.value_and_derivative(m)
        return grid.dx * returned(g, "functional.value_and_derivative", m.shape) / (2 * np.sqrt(m))

    up, down = partial(n[None] + h * D), partial(n[None] - h * D)
    return np.sum(D * (up - down), axis=1) / (2 * h)


@params(functional=FUNCTIONAL, potential=Array(shape=("functional.grid.n",), hint="one value per grid point"),
        density=_POSITIVE, n_modes=N_MODES, step=STEP)
def curvature_ratios(functional, potential, density, *, n_modes: int = 13, step: float = 1e-3):
    """The learned functional's second variation over the exact one along the manifold's tangent directions
    (:func:`manifold_directions`), softest direction first: (ratios, exact curvatures). 1 everywhere for the
    exact functional; a learned functional that flattens the stiff directions lets the descent slide along them."""
    D, exact = manifold_directions(potential, functional.grid, n_modes)
    order = np.argsort(exact)
    return second_variation(functional, density, D[order], step=step) / exact[order], exact[order]


@params(Rule("net", lambda net: net.activation == "relu", "must be a ReLU network (relu_activity counts how its "
             "channels use the ReLU)"),
        net=Instance(cnn.CNN), densities=Array(shape=(None, "net.n_grid"), promote=True, hint="one density per row"))
def relu_activity(net: cnn.CNN, densities) -> list[dict]:
    """Per convolutional block, how its channels use the ReLU on ``densities``: the fraction of channels active at
    every site of every density (``always_on``: linear there), never active (``always_off``: dead), and the mean
    fraction of active units (``active``). A network whose channels are all always on or off is linear."""
    _, _, cache = net._forward(densities)
    out = []
    for _, slope in cache:
        on = slope.reshape(-1, slope.shape[-1])
        out.append(dict(always_on=float(np.mean(on.all(axis=0))), always_off=float(np.mean(~on.any(axis=0))),
                        active=float(on.mean())))
    return out
