"""The 1D variational ground-state problem with a DFNN trial function (Chapter 8, Rodini Secs. 3-4).

The trial function ``phi(x)`` is a :class:`mlphys.dfnn.DFNN` with one input and
one output. On a uniform grid of ``n`` points over ``Omega = [a, b]`` (rectangle
rule, spacing ``h``) the energy functional (paper Eq. 28) is

    E[phi] = sum_i phi_i (H phi)_i / sum_i phi_i^2,    H phi = -phi''/2 + V phi   (hbar = m = 1),

with ``phi''`` from the analytic recursion, and its parameter gradient is one
cotangent-weighted pass of :meth:`mlphys.dfnn.DFNN.vjp` (no autograd):

    dE/dpi = h/N sum_i [(2 V phi - phi''/2 - 2 E phi)_i dphi_i/dpi - phi_i/2 dphi''_i/dpi],   N = h sum phi^2.

A penalty ``mu (N - 1)^2`` fixes the otherwise free scale of ``phi`` so that
``|<phi|phi> - 1|`` is a diagnostic, as in the paper. The minimiser is Adam in
stages of decreasing step size. Diagnostics: ``E - E0``, ``|<phi|phi> - 1|``
and the goodness ``G(N) = 1/N sum (H phi - E phi)^2`` of Eq. 30 on ``N = 10^5`` points.

:func:`reference_energies` is the independent check: exact diagonalisation of
``H`` with an 8th-order finite-difference Laplacian and Dirichlet walls at the
ends of the domain (sparse shift-invert eigensolver of scipy).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import autograd.numpy as anp
import numpy as np
from autograd.numpy.numpy_boxes import ArrayBox
from scipy import sparse

from . import grid1d, nn, validate
from .config import make_rng
from .dfnn import ACTIVATIONS, DFNN, ENGINES, call_times, compiled_kernel, output
from .validate import AnyOf, Array, Choice, Flag, Function, Instance, Integer, Optional, PathLike, Real, \
    Rule, Seed, Sequence, Text, params

# the domain Omega = [a, b] of the 1D problem
DOMAIN = dict(domain=Sequence(Real(), length=2, hint="pass (a, b) with a < b"))
ORDERED = Rule("domain", lambda domain: domain[0] < domain[1], "must be (a, b) with a < b")
V_OF_X = Function("a potential V(x) acting elementwise on an array of points")
# a 1D network phi(x) on a grid x with the potential v there and spacing h
NET = Instance(DFNN, hint="a DFNN with one input and one output, e.g. DFNN((1, 10, 1))")
ONE_IN_ONE_OUT = Rule("net", lambda net: net.sizes[0] == 1 and net.sizes[-1] == 1,
                      "must have one input and one output (phi(x) in 1D)")
ON_GRID = dict(net=NET, x=Array(shape=("n",)), v=Array(shape=("n",)), h=Real(gt=0))
POINTS_1D = Array(ndim=(1, 0), hint="points x (an array or one number)")
# one particle's walkers for the samplers of mlphys.vmc, and the array module (autograd's inside a traced function)
WALKERS = AnyOf(Array(shape=(None, 1, "self.dim"), hint="walkers (n_walkers, 1, dim)"), Instance(ArrayBox))
XP = Choice(np, anp)


@params(ORDERED, **DOMAIN)
def check_domain(domain):
    """``domain = (a, b)`` with finite ``a < b``."""
    a, b = domain
    return a, b


@params(V=V_OF_X, x=Array(ndim=1))
def evaluate_potential(V, x):
    """``V(x)`` as a finite float array of the same shape as ``x`` (ValueError otherwise)."""
    return validate.returned(V(x), "V", x.shape)


@params(ORDERED, **DOMAIN, n_points=Integer(ge=10, typical=(10, 100)))
def grid(domain, n_points: int):
    """Midpoint grid of ``n_points`` on ``[a, b]`` and its spacing (the rectangle rule of Sec. 4)."""
    a, b = domain
    h = (b - a) / n_points
    return a + h * (np.arange(n_points) + 0.5), h


@params(ORDERED, Rule("k", lambda k, n_points: k <= n_points // 2, "k must be at most n_points // 2"),
        V=V_OF_X, **DOMAIN, n_points=Integer(ge=20, typical=(20, 80)), k=Integer(ge=1, typical=(1, 3)))
def reference_energies(V, domain, n_points: int, k: int = 1) -> np.ndarray:
    """The ``k`` lowest eigenvalues of ``-1/2 d^2/dx^2 + V`` on ``domain`` with Dirichlet walls.

    Exact diagonalisation of the 8th-order finite-difference Hamiltonian (:mod:`mlphys.grid1d`) on ``n_points``
    interior points: error ~ h^8 for a free particle between the walls, at least h^4 with a smooth potential;
    independent of any network. The walls sit on the grid: ``h = (b - a) / (n_points + 1)``, the points are
    ``a + h, ..., b - h`` and the walls ``a`` and ``b`` are the points one spacing beyond the ends, about which
    grid1d mirrors the stencil (a particle in a box, ``V = 0``: ``E_n = pi^2 n^2 / (2 (b - a)^2)`` to ~h^8).
    """
    a, b = domain
    h = (b - a) / (n_points + 1)
    x = a + h * np.arange(1, n_points + 1)
    v = evaluate_potential(V, x)
    H = -0.5 * grid1d.second_derivative(n_points, h, periodic=False, sparse=True) + sparse.diags(v, format="csc")
    # -D2 is positive: the spectrum lies above min V
    return grid1d.lowest_eigenpairs(H, k, vectors=False, below=float(v.min()) - 1.0)


@params(ONE_IN_ONE_OUT, **ON_GRID, penalty=Real(ge=0), engine=Choice(*ENGINES))
def energy_and_gradient(net: DFNN, x, v, h, penalty: float = 1.0, *, engine: str = "auto"):
    """``E``, ``<phi|phi>`` and the gradient of ``E + penalty (<phi|phi> - 1)^2`` w.r.t. ``net.params``.

    ``engine``: that of :meth:`DFNN.vjp` (``"auto"``: compiled when numba is installed, else NumPy).
    """
    return _energy_and_gradient(net, x, v, h, penalty, engine=engine)


def _energy_and_gradient(net: DFNN, x, v, h, penalty: float = 1.0, *, engine: str = "auto"):
    """:func:`energy_and_gradient` without the checks (the training loop's step)."""
    out = {}

    def cotangent(d):
        phi, lap = d.value[:, 0], d.hessian_diag[:, 0, 0]
        norm = h * np.dot(phi, phi)
        e = h * np.dot(phi, v * phi - 0.5 * lap) / norm
        out.update(energy=e, norm=norm)
        c0 = (h / norm) * (2.0 * v * phi - 0.5 * lap - 2.0 * e * phi) + penalty * 4.0 * h * (norm - 1.0) * phi
        c2 = (-0.5 * h / norm) * phi
        return c0[:, None], None, c2[:, None, None]

    _, grads = net._vjp(x[:, None], cotangent, "diag", engine)   # checked once by the caller
    return out["energy"], out["norm"], grads


@params(ONE_IN_ONE_OUT, **ON_GRID, penalty=Real(ge=0))
def energy_and_gradient_autograd(net: DFNN, x, v, h, penalty: float = 1.0):
    """:func:`energy_and_gradient` with ``phi''`` and the parameter gradient by autograd (oracle and baseline)."""
    import autograd.numpy as anp
    from autograd import elementwise_grad, value_and_grad

    def loss(params):
        f = lambda xx: output(params, xx[:, None], net.activation, anp)[:, 0]  # noqa: E731
        phi, lap = f(x), elementwise_grad(elementwise_grad(f))(x)
        norm = h * anp.dot(phi, phi)
        e = h * anp.dot(phi, v * phi - 0.5 * lap) / norm
        return e + penalty * (norm - 1.0) ** 2, (e, norm)

    value, grads = value_and_grad(lambda p: loss(p)[0])(list(net.params))
    e, norm = loss(list(net.params))[1]
    return float(e), float(norm), grads


@params(ONE_IN_ONE_OUT, **ON_GRID, repeats=Integer(ge=1, typical=(1, 2)))
def step_times(net: DFNN, x, v, h, *, repeats: int = 5) -> dict:
    """Seconds per :func:`energy_and_gradient` step, {engine: mean of ``repeats`` after one warm-up call}: the
    compiled recursion (when numba is installed), the NumPy recursion and autograd (machine-dependent)."""
    steps = {"NumPy recursion": lambda: _energy_and_gradient(net, x, v, h, engine="numpy"),
             "autograd": lambda: energy_and_gradient_autograd(net, x, v, h)}
    if compiled_kernel() is not None:
        steps = {"compiled recursion": lambda: _energy_and_gradient(net, x, v, h, engine="numba"), **steps}
    times = {}
    for name, step in steps.items():
        step()
        times[name] = float(call_times(step, repeats).mean())
    return times


@params(ONE_IN_ONE_OUT, ORDERED, net=NET, V=V_OF_X, **DOMAIN, energy=Real(),
        n_points=Integer(ge=10, typical=(10, 200)))
def goodness(net: DFNN, V, domain, energy: float, n_points: int = 100_000) -> float:
    """``G(N) = 1/N sum_i (H phi(x_i) - E phi(x_i))^2`` (paper Eq. 30) on ``N`` uniform points."""
    x, _ = grid(domain, n_points)
    d = net.derivatives(x[:, None], mode="diag")
    phi, lap = d.value[:, 0], d.hessian_diag[:, 0, 0]
    return float(np.mean((-0.5 * lap + evaluate_potential(V, x) * phi - energy * phi) ** 2))


#: Adam stages ``(steps, learning rate)``: three stages of decreasing step, as the paper's reference code, at class
#: size (chapter 8 passes the paper's 3 x 4,000 steps at paper scale).
DEFAULT_SCHEDULE = ((600, 1e-2), (600, 1e-3), (300, 1e-4))


@dataclass
class GroundState(nn.Trained):
    """Result of :func:`ground_state` (``phi`` is the raw network output on the grid ``x``)."""

    energy: float
    norm_error: float
    goodness: float
    x: np.ndarray = field(repr=False)
    phi: np.ndarray = field(repr=False)
    history: nn.History = field(repr=False)
    network: DFNN = field(repr=False)

    @property
    def steps(self) -> int:
        return len(self.history)


GroundState.__init__ = params(energy=Real(), norm_error=Real(ge=0), goodness=Real(ge=0), x=Array(shape=("n",)),
                              phi=Array(shape=("n",)), history=Instance(nn.History),
                              network=Instance(DFNN))(GroundState.__init__)

# Adam's stages: (steps, learning rate) pairs
SCHEDULE = Sequence(Sequence(Real(gt=0, hint="a stage is (steps >= 1, learning rate > 0)"), length=2,
                             hint="a stage is a pair (steps, learning_rate)"))
WHOLE_STEPS = Rule("schedule", lambda schedule: all(n == int(n) for n, _ in schedule),
                   "each stage's steps must be a whole number >= 1")


@params(ORDERED, WHOLE_STEPS, V=V_OF_X, **DOMAIN, hidden=Sequence(Integer(ge=1, typical=(1, 4))),
        n_points=Integer(ge=10, typical=(10, 60)), rng=Seed(), schedule=SCHEDULE, penalty=Real(ge=0),
        activation=Choice(*ACTIVATIONS), progress=Flag(), checkpoint=Optional(PathLike()),
        checkpoint_seconds=Real(ge=0))
def ground_state(V, domain, hidden=(10,) * 6, n_points=10_000, *, rng=0, schedule=DEFAULT_SCHEDULE,
                 penalty: float = 1.0, activation: str = "tanh", progress: bool = False, checkpoint=None,
                 checkpoint_seconds: float = 300.0) -> GroundState:
    """Minimise the energy functional of ``V`` on ``domain`` with a ``1-hidden-1`` DFNN trained by Adam.

    ``schedule`` is a sequence of ``(steps, learning_rate)`` stages (default
    :data:`DEFAULT_SCHEDULE`). Ctrl-C stops training and returns the
    current state with ``interrupted=True``. ``checkpoint``: an ``.npz`` path where the
    weights, Adam's state and the history are saved every ``checkpoint_seconds``; a later
    call with the same path and arguments resumes from it and ends with the same weights as
    an uninterrupted run.
    """
    x, h = grid(domain, n_points)
    v = evaluate_potential(V, x)
    schedule = tuple((int(n), lr) for n, lr in schedule)
    net = DFNN((1, *hidden, 1), activation=activation, rng=rng)
    history = nn.History("energy", "norm")
    opt, done, seconds = None, 0, 0.0
    path = None if checkpoint is None else Path(checkpoint)
    run_id = nn.fingerprint(x, v, schedule, penalty, activation, net.params)
    if path is not None:
        opt, done, seconds = _load_state(path, net, schedule, history, run_id)
    starts = np.cumsum([0] + [n for n, _ in schedule])          # first step of each stage
    save = None if path is None else \
        lambda done: _save_state(path, net, opt, done, seconds + loop.elapsed, history, run_id)  # noqa: E731
    with nn.TrainingLoop(int(starts[-1]), done=done, progress=progress, desc="Adam", save=save,
                         save_seconds=checkpoint_seconds) as loop:
        for step in loop:
            stage = int(np.searchsorted(starts, step, side="right")) - 1
            if opt is None or step == starts[stage]:             # a new stage starts with a fresh Adam
                opt = nn.Adam(lr=schedule[stage][1])
            e, norm, grads = _energy_and_gradient(net, x, v, h, penalty)
            if loop.diverging(e if all(np.all(np.isfinite(g)) for g in grads) else np.nan, hint=DIVERGED):
                break
            history.append(energy=e, norm=norm)
            opt.step(net.params, grads)
    history.end(loop, seconds=seconds)
    e, norm, _ = _energy_and_gradient(net, x, v, h, penalty)
    validate.finite((e, norm), "the energy and norm of the trained network", DIVERGED)
    phi = net(x[:, None])[:, 0]
    if phi[np.argmax(np.abs(phi))] < 0:                      # fix the sign: phi and -phi are equally good
        net.params[-2], net.params[-1] = -net.params[-2], -net.params[-1]
        phi = -phi
    return GroundState(energy=float(e), norm_error=float(abs(norm - 1.0)), goodness=goodness(net, V, domain, e),
                       x=x, phi=phi, history=history, network=net)


DIVERGED = ("lower the learning rates in schedule (or the penalty); a potential V near the float limit overflows "
            "the energy")


def _save_state(path: Path, net, opt, done: int, seconds: float, history: nn.History, run_id: str) -> None:
    nn.save_training_state(path, net.params, opt, fingerprint=run_id, done=done, seconds=seconds,
                           energy=history["energy"], norm=history["norm"])


def _load_state(path: Path, net, schedule, history: nn.History, run_id: str):
    """Resume what :func:`_save_state` wrote (if it is there and of this run): (Adam of the current stage or None,
    steps done, seconds so far); (None, 0, 0.0) when there is nothing to resume."""
    opt = nn.Adam(lr=schedule[0][1])
    saved = nn.resume_training_state(path, net.params, opt, fingerprint=run_id,
                                     required=("done", "seconds", "energy", "norm"))
    if saved is None:
        return None, 0, 0.0
    done = int(saved["done"])
    stage = int(np.searchsorted(np.cumsum([n for n, _ in schedule]), done, side="right"))
    if stage < len(schedule):
        opt.lr = schedule[stage][1]
    history.energy.extend(saved["energy"].tolist())
    history.norm.extend(saved["norm"].tolist())
    return (opt if stage < len(schedule) else None), done, float(saved["seconds"])


# ----------------------------------------------------------------------------- Section 4 potentials

@params(x=POINTS_1D)
def harmonic(x):
    return 0.5 * x**2


@params(x=POINTS_1D, lam=Real())
def linear_harmonic(x, lam=0.5):
    return 0.5 * x**2 - lam * x


@params(x=POINTS_1D, lam=Real())
def quartic(x, lam=0.01):
    return 0.5 * x**2 + lam * x**4


@params(x=POINTS_1D)
def exponential(x):
    return np.exp(np.abs(x))


@params(x=POINTS_1D)
def morse(x):
    return np.exp(-2 * x) - 2 * np.exp(-x) + 1


MORSE_E0 = 1.0 - 0.5 * (np.sqrt(2.0) - 0.5) ** 2          # hbar omega (1/2) - (hbar omega)^2 / (16 D), omega = sqrt(2)


@params(x=POINTS_1D)
def morse_psi0(x):
    """Normalised Morse ground state ``~ exp(-lambda e^-x) e^{-(lambda - 1/2) x}``, ``lambda = sqrt 2``."""
    lam = np.sqrt(2.0)
    from scipy.special import gammaln
    s = 2 * lam - 1
    log_norm = 0.5 * (s * np.log(2 * lam) - gammaln(s))     # int psi^2 dx = Gamma(s) / (2 lam)^s
    return np.exp(log_norm - lam * np.exp(-x) - (lam - 0.5) * x)


@params(x=POINTS_1D, center=Real())
def gaussian_psi0(x, center=0.0):
    return np.exp(-0.5 * (x - center) ** 2) / np.pi**0.25


@dataclass(frozen=True)
class Benchmark:
    """One of the paper's Section 4 potentials with its network, domain and published numbers."""

    name: str
    label: str
    V: object
    domain: tuple
    hidden: tuple
    paper: str                          # what the paper prints, in words
    paper_energy: float | None = None   # the paper's E, where it prints one
    paper_bound: float | None = None    # the paper's E - E0, where it prints one
    exact: float | None = None          # closed-form E0 on the whole line, where one exists
    psi0: object = None                 # closed-form ground state, where one exists


Benchmark.__init__ = params(ORDERED, name=Text(), label=Text(), V=V_OF_X, **DOMAIN,
                            hidden=Sequence(Integer(ge=1)), paper=Text(allow_empty=True),
                            paper_energy=Optional(Real()), paper_bound=Optional(Real(gt=0)), exact=Optional(Real()),
                            psi0=Optional(Function("the closed-form ground state psi0(x)")))(Benchmark.__init__)

SECTION4 = (
    Benchmark("harmonic", "x^2/2", harmonic, (-4.0, 4.0), (10,) * 6, "E - E0 < 1e-6", paper_bound=1e-6, exact=0.5,
              psi0=gaussian_psi0),
    Benchmark("linear", "x^2/2 - x/2", linear_harmonic, (-4.0, 4.0), (10,) * 6, "E - E0 = 1e-6", paper_bound=1e-6,
              exact=0.375, psi0=lambda x: gaussian_psi0(x, 0.5)),
    Benchmark("quartic-0.01", "x^2/2 + 0.01 x^4", quartic, (-4.0, 4.0), (10,) * 6,
              "E - E0^(1) ~ 1e-4 with first-order E0^(1) = 0.5075"),
    Benchmark("quartic-1", "x^2/2 + x^4", lambda x: quartic(x, 1.0), (-3.0, 3.0), (20, 20, 10, 10, 10, 10),
              "E = 0.803771", paper_energy=0.803771),
    Benchmark("exponential", "exp|x|", exponential, (-3.0, 3.0), (20, 20, 10, 10, 10, 10), "E = 2.060040",
              paper_energy=2.060040),
    Benchmark("morse", "e^-2x - 2e^-x + 1", morse, (-2.0, 9.0), (20,) * 6, "E - E0 = 2e-6", paper_bound=2e-6,
              exact=MORSE_E0, psi0=morse_psi0),
)


@params(name=Choice(*(c.name for c in SECTION4)))
def benchmark(name: str) -> Benchmark:
    """The Section 4 potential called ``name`` (see :data:`SECTION4`)."""
    return next(c for c in SECTION4 if c.name == name)


# ----------------------------------------------------------------------------- beyond the paper: 2D by Monte Carlo

@dataclass(frozen=True)
class Trap:
    """One particle in ``V = sum_d omega_d^2 x_d^2 / 2`` (duck-types :class:`mlphys.vmc.Hamiltonian`)."""

    omegas: tuple = (1.0, 1.0)
    n_particles: int = 1

    @property
    def dim(self) -> int:
        return len(self.omegas)

    @property
    def omega(self) -> float:          # the samplers start walkers at the width of the softest direction
        return float(min(self.omegas))

    @property
    def exact_energy(self) -> float:
        return 0.5 * float(sum(self.omegas))

    @params(X=WALKERS,
            xp=XP)
    def potential(self, X, xp=np):
        w2 = np.asarray(self.omegas, dtype=float) ** 2
        return 0.5 * xp.sum(w2 * X[:, 0, :] ** 2, axis=1)


TRAP = dict(omegas=Sequence(Real(gt=0, typical=(0.2, 3.0)), hint="positive trap frequencies, one per dimension"))
Trap.__init__ = params(**TRAP, n_particles=Integer(ge=1, le=1, hint="a Trap holds one particle"))(Trap.__init__)


class NetworkState:
    """``psi(x) = exp(N(x) - c |x|^2)`` with a DFNN ``N``: a :class:`mlphys.vmc.Factor` for one particle in D dims.

    A tanh network is bounded, so ``exp(N)`` alone is not normalisable and the
    walkers would drift away; the fixed envelope ``exp(-c |x|^2)`` (default
    ``c = 1/4``, matching neither trap) confines them and the network learns the
    rest. The local energy needs ``grad log psi = grad N - 2 c x`` and
    ``lap log psi = sum_a d_a d_a N - 2 c D`` (the Hessian-diagonal mode of the
    recursion); the VMC gradient needs ``d log psi / d pi = dN / d pi``: all from
    one call to :meth:`mlphys.dfnn.DFNN.jacobians`.
    """

    @validate.params(dim=Integer(ge=1, typical=(1, 3)), hidden=Sequence(Integer(ge=1, typical=(1, 6))), rng=Seed(),
            envelope=Real(gt=0))
    def __init__(self, dim: int = 2, hidden=(10, 10), *, rng=0, envelope: float = 0.25):
        self.net = DFNN((dim, *hidden, 1), rng=rng)
        self.dim, self.envelope = dim, envelope

    @property
    def params(self):
        return self.net.get_flat()

    @property
    def n_params(self) -> int:
        return self.net.n_params

    @validate.params(theta=Array(shape=("self.n_params",)))
    def set_params(self, theta):
        self.net.set_flat(theta)

    @validate.params(X=WALKERS, xp=XP)
    def log_psi(self, X, xp=np):
        x = X[:, 0, :]
        return output(self.net.params, x, self.net.activation, xp)[:, 0] - self.envelope * xp.sum(x * x, axis=1)

    @validate.params(X=WALKERS.options[0], derivatives=Flag(), param_grad=Flag())
    def evaluate(self, X, derivatives=True, param_grad=True):
        x = X[:, 0, :]
        r2 = np.sum(x * x, axis=1)
        if not derivatives:
            return self.net(x)[:, 0] - self.envelope * r2, None, None, None
        d, grads = self.net.jacobians(x, "diag")
        pgrad = np.concatenate([g["value"].reshape(len(x), -1) for g in grads], axis=1) if param_grad else None
        grad = d.gradient[:, 0, :] - 2.0 * self.envelope * x
        lap = d.hessian_diag[:, 0].sum(axis=1) - 2.0 * self.envelope * self.dim
        return d.value[:, 0] - self.envelope * r2, grad[:, None, :], lap, pgrad


@params(**TRAP, hidden=Sequence(Integer(ge=1, typical=(1, 6))), n_iterations=Integer(ge=1, typical=(1, 5)),
        n_walkers=Integer(ge=1, typical=(2, 30)), opt_steps=Integer(ge=1, typical=(1, 5)),
        n_steps=Integer(ge=16, typical=(512, 1024), hint="the blocking error needs at least 16 steps"),
        lr=Real(gt=0, typical=(1e-3, 0.05)), rng=Seed(), progress=Flag())
def monte_carlo_ground_state(omegas=(1.0, 1.0), hidden=(10, 10), *, n_iterations: int = 300, n_walkers: int = 200,
                             opt_steps: int = 5, n_steps: int = 1000, lr: float = 0.02, rng=0, progress=False):
    """Minimise ``<H>`` for ``psi = exp(N(x))`` in a D-dimensional trap by VMC (Metropolis sampling, Adam).

    Sizes: ``n_iterations`` Adam steps (rate ``lr``) of ``opt_steps`` sweeps of ``n_walkers`` walkers, then a production
    run of ``n_steps`` sweeps (the defaults are class-sized; chapter 8's paper scale passes larger ones).
    Returns a :class:`mlphys.vmc.VMCResult`: energy and blocking error of a fresh production run, the optimisation
    history, the trained state and the trap (``result.hamiltonian.exact_energy`` = sum omega_d / 2).
    """
    from . import stats, vmc

    H = Trap(omegas)
    rng = make_rng(rng)
    wf = NetworkState(H.dim, hidden, rng=rng)
    sampler = vmc.Metropolis(step=1.0)
    start = time.perf_counter()
    history, state = vmc.optimise(wf, H, sampler, nn.Adam(lr), n_iterations=n_iterations,
                                  n_walkers=n_walkers, n_steps=opt_steps, rng=rng, progress=progress)
    means, all_e, acc, _, _ = vmc.sample(wf, H, sampler, n_walkers=n_walkers, n_steps=n_steps,
                                         burn_in=100, rng=rng, X0=state.X)
    validate.finite(means, "the local energies of the trained network", "lower lr or raise n_walkers")
    energy, error = stats.blocking(means)
    return vmc.VMCResult(energy=energy, error=error, variance=float(all_e.var()), acceptance=acc, history=history,
                         wavefunction=wf, hamiltonian=H, seconds=time.perf_counter() - start, energy_series=means)
