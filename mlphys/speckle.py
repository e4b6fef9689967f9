"""One particle in 1D disorder: speckle potentials, Gaussian wells and their exact ground states.

The testbed of Costa, Scriva, Fazio and Pilati, "Deep learning density functionals for gradient descent
optimization" (Phys. Rev. E 2022, arXiv:2205.08367), Chapters 10-11.

Units. Speckle (Sec. III): lengths in the grain size gamma, energies in the correlation energy
E_c = hbar^2 / (2 m gamma^2), so that H = -d^2/dx^2 + V on a periodic box L = 14. Gaussian wells
(Appendix A): hbar^2 / (m l^2) = 1, so H = -1/2 d^2/dx^2 + V on a box L = 6 with hard walls. A
:class:`Grid` holds the box, the boundary condition and the kinetic prefactor (1 or 1/2).

Exact ground states come from dense diagonalisation with an eighth-order finite-difference Laplacian
(:meth:`Grid.laplacian`); the same matrix defines the discrete von Weizsaecker functional
:func:`von_weizsaecker`, which for one particle *is* the exact kinetic-energy functional
T[n] = kinetic_prefactor * integral (d sqrt(n)/dx)^2 (ground states are nodeless, psi = sqrt(n)).
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from . import grid1d
from .config import cache_dir, cache_key, make_rng, progress_bar, reject_checkpoint
from .validate import AnyOf, Array, Choice, Flag, Instance, Integer, Real, Rule, Seed, Sequence, params

KINDS = ("speckle", "gaussian_wells")
#: The most grid points: exact ground states diagonalise dense (n, n) matrices.
MAX_POINTS = 4096


def _build(cls, *fields):
    """A dataclass instance from arrays this module has just computed (already checked): no copies, no checks."""
    obj = cls.__new__(cls)
    cls.__init__.__wrapped__(obj, *fields)
    return obj


@dataclass(frozen=True)
class Grid:
    """``n`` points on a box of ``length``; H = -kinetic_prefactor d^2/dx^2 + V (hbar^2 / 2m in the chosen units).

    Periodic boxes use x_i = i dx, dx = length / n. Hard walls put the n points strictly inside,
    x_i = (i + 1) dx with dx = length / (n + 1), and psi = 0 on the walls and beyond.
    """

    length: float
    n: int
    periodic: bool
    kinetic_prefactor: float

    @property
    def dx(self) -> float:
        return self.length / self.n if self.periodic else self.length / (self.n + 1)

    @property
    def x(self) -> np.ndarray:
        i = np.arange(self.n)
        return i * self.dx if self.periodic else (i + 1) * self.dx

    def laplacian(self) -> np.ndarray:
        """The (n, n) eighth-order finite-difference d^2/dx^2 (:func:`mlphys.grid1d.second_derivative`: periodic
        wrap, or hard walls); read-only."""
        return _laplacian(self)

    @params(Rule("axis", lambda f, axis: -f.ndim <= axis < f.ndim, "must be an axis of f"),
            Rule("f", lambda self, f, axis: f.shape[axis] == self.n, "must have one sample per grid point (grid.n) "
                 "along axis"),
            f=Array(), axis=Integer(typical=(-1, 0)))
    def integrate(self, f, axis=-1):
        """integral f dx -> dx sum_i f_i (the paper's rule below Eq. 16)."""
        return self._integrate(f, axis)

    def _integrate(self, f, axis=-1):
        return self.dx * np.sum(f, axis=axis)


Grid.__init__ = params(length=Real(gt=0), n=Integer(ge=9, le=MAX_POINTS, typical=(9, 40),
                                                     hint="the eighth-order stencil needs 9 points; ground states "
                                                          f"diagonalise dense (n, n) matrices (at most {MAX_POINTS})"),
                       periodic=Flag(), kinetic_prefactor=Real(gt=0))(Grid.__init__)


# grid1d's solver without its argument checks (a copy and a symmetry test of H, ~20% of a 256-point solve): the
# Hamiltonians of exact_ground_states are built here, symmetric by construction, one solve per instance
_lowest_eigenpairs = grid1d._lowest_eigenpairs


@functools.lru_cache(maxsize=8)
def _laplacian(grid: Grid) -> np.ndarray:
    D = grid1d.second_derivative(grid.n, grid.dx, periodic=grid.periodic)
    D.flags.writeable = False
    return D


SPECKLE_GRID = Grid(length=14.0, n=256, periodic=True, kinetic_prefactor=1.0)
WELLS_GRID = Grid(length=6.0, n=256, periodic=False, kinetic_prefactor=0.5)


@params(kind=Choice(*KINDS))
def grid_for(kind: str) -> Grid:
    """The paper's grid for ``kind`` ("speckle" or "gaussian_wells")."""
    return SPECKLE_GRID if kind == "speckle" else WELLS_GRID


# ----------------------------------------------------------------------------- potentials

N_GRAIN = Integer(ge=2, le=100_000, typical=(2, 30), hint="L / gamma, the box in speckle grains")


@params(n_grain=N_GRAIN, symmetric=Flag())
def speckle_harmonics(n_grain: int = 14, *, symmetric: bool = False) -> np.ndarray:
    """Field harmonics m (wave numbers 2 pi m / L) kept by the aperture.

    ``n_grain`` = L / gamma consecutive harmonics -n_grain/2 .. n_grain/2 - 1 put the zeros of the
    intensity autocorrelation exactly at multiples of gamma (Eq. 16); ``symmetric=True`` keeps
    |m| <= n_grain/2, i.e. n_grain + 1 harmonics, which moves the first zero to L / (n_grain + 1).
    """
    half = n_grain // 2
    return np.arange(-half, half + 1) if symmetric else np.arange(-half, n_grain - half)


def _grains(grid: Grid) -> int:
    return int(round(grid.length))


@params(Rule("grid", lambda grid: grid.periodic, "must be periodic for speckle potentials (use SPECKLE_GRID)"),
        Rule("grid", lambda grid: _grains(grid) >= 2 and np.isclose(grid.length, _grains(grid)),
             "grid.length must be a whole number (at least 2) of speckle grains"),
        Rule("grid", lambda grid: 2 * (_grains(grid) // 2) < grid.n,
             "grid.n cannot resolve the speckle; use at least 4 points per grain (grid.n >= 4 grid.length)"),
        n=Integer(ge=1, typical=(1, 5)), v0=Real(gt=0), grid=Instance(Grid), symmetric=Flag(), rng=Seed())
def speckle_potential(n: int, *, v0: float = 0.5, grid: Grid = SPECKLE_GRID, symmetric: bool = False,
                      rng=None) -> np.ndarray:
    """``n`` speckle potentials on ``grid``, shape (n, grid.n): V = v0 |field|^2 / <|field|^2>.

    The field is a complex Gaussian random field restricted to the aperture's harmonics
    (:func:`speckle_harmonics`, L / gamma = grid.length); each kept Fourier amplitude has variance 1/M,
    so <|field|^2> = 1 exactly, the intensity at each point is exponential with mean v0 (Eq. 15) and the
    intensity autocorrelation is :func:`speckle_autocorrelation` (the periodic form of Eq. 16).
    """
    m = speckle_harmonics(_grains(grid), symmetric=symmetric)
    rng = make_rng(rng)
    coeff = np.zeros((n, grid.n), dtype=complex)
    coeff[:, m % grid.n] = (rng.standard_normal((n, m.size)) + 1j * rng.standard_normal((n, m.size))) \
        / np.sqrt(2 * m.size)
    field = np.fft.ifft(coeff, axis=1) * grid.n
    return v0 * np.abs(field) ** 2


@params(x=Array(ndim=(1, 0), hint="lags in grains: a number or a 1D array"), n_grain=N_GRAIN, length=Real(gt=0),
        symmetric=Flag())
def speckle_autocorrelation(x, *, n_grain: int = 14, length: float = 14.0, symmetric: bool = False):
    """<V(x' + x) V(x')> / v0^2 - 1 on the periodic box: |(1/M) sum_m exp(2 pi i m x / L)|^2.

    For the consecutive harmonics this is sin^2(pi x) / (M^2 sin^2(pi x / L)) (x in grains), the periodic
    version of Eq. 16's sinc^2(pi x / gamma), zero at every multiple of gamma.
    """
    m = speckle_harmonics(n_grain, symmetric=symmetric)
    g = np.exp(2j * np.pi * np.multiply.outer(x, m) / length).mean(axis=-1)
    return np.abs(g) ** 2


@params(n=Integer(ge=1, typical=(1, 5)), grid=Instance(Grid), rng=Seed())
def gaussian_wells(n: int, *, grid: Grid = WELLS_GRID, rng=None):
    """``n`` Appendix-A potentials V = -sum_{i=1}^3 a_i exp(-(x - b_i)^2 / (2 c_i^2)) (Eq. A2).

    a_i ~ U[1, 40], b_i ~ U[1.8, 4.2], c_i ~ U[0.12, 0.4]. Returns (potentials (n, grid.n), params (n, 3, 3)).
    """
    rng = make_rng(rng)
    a = rng.uniform(1.0, 40.0, (n, 3))
    b = rng.uniform(1.8, 4.2, (n, 3))
    c = rng.uniform(0.12, 0.4, (n, 3))
    x = grid.x
    V = -np.sum(a[..., None] * np.exp(-(x - b[..., None]) ** 2 / (2 * c[..., None] ** 2)), axis=1)
    return V, np.stack([a, b, c], axis=1)


@params(Rule("n_new", lambda V, n_new: n_new >= V.shape[-1], "must be at least the number of samples V.shape[-1] "
             "(fewer points would alias)"),
        V=Array(ndim=(2, 1), hint="samples on the last axis: one function, or one per row"),
        n_new=Integer(ge=1, le=1 << 22, typical=(3, 40), hint="the samples of each resampled row"))
def fourier_resample(V, n_new: int) -> np.ndarray:
    """A band-limited periodic function given on n points, evaluated on ``n_new`` points (exact for speckle).

    The trigonometric interpolant of the samples: on an even number of points the Nyquist term c cos(pi x / dx)
    is shared between the wave numbers +-n/2, so its coefficient is split between them (half each) - which keeps
    the interpolant real and makes it pass through the samples: every (n_new / n)-th point is the input.
    """
    n_old = V.shape[-1]
    c = np.fft.rfft(V, axis=-1)
    if n_new > n_old and n_old % 2 == 0:
        c[..., -1] *= 0.5            # irfft would read the Nyquist bin as +n/2 plus its conjugate: twice the term
    return np.fft.irfft(c, n=n_new, axis=-1) * (n_new / n_old)


# ----------------------------------------------------------------------------- ground states

@dataclass
class GroundStates:
    """Exact ground states: energies e_gs (n,), densities n_gs (n, grid.n) with integral n dx = 1, and
    kinetic energies t_gs = e_gs - integral n V (Eq. 3)."""

    energies: np.ndarray
    densities: np.ndarray
    kinetic: np.ndarray


GroundStates.__init__ = params(energies=Array(shape=("b",)), densities=Array(shape=("b", None), ge=0,
                                                                             hint="a density is non-negative"),
                               kinetic=Array(shape=("b",)))(GroundStates.__init__)

#: Potentials on a grid: one per row (a single potential is a batch of one).
POTENTIALS = Array(shape=(None, "grid.n"), promote=True, hint="one potential per row on this grid")


@params(potentials=POTENTIALS, grid=Instance(Grid), progress=Flag())
def exact_ground_states(potentials, grid: Grid, *, progress: bool = False) -> GroundStates:
    """Lowest eigenpair of H = -grid.kinetic_prefactor * Laplacian + diag(V) for each row of ``potentials``.

    :func:`mlphys.grid1d.lowest_eigenpairs` (LAPACK's MRRR solver for the lowest eigenpair only, about 2 ms per
    256-point instance here); psi is made positive and normalised to integral psi^2 = 1.
    """
    V = potentials
    K = -grid.kinetic_prefactor * grid.laplacian()
    idx = np.arange(grid.n)
    e = np.empty(V.shape[0])
    dens = np.empty_like(V)
    # one BLAS thread: for a 256-point matrix it is as fast, and on a busy machine OpenBLAS's waiting threads would
    # make each solve ~50x slower (same numbers either way)
    with threadpool_limits(1):
        for k in progress_bar(range(V.shape[0]), progress, "ground states"):
            H = K.copy()
            H[idx, idx] += V[k]
            w, U = _lowest_eigenpairs(H, 1)
            e[k] = w[0]
            dens[k] = U[:, 0] ** 2 / grid.dx
    t = e - grid._integrate(dens * V)
    return _build(GroundStates, e, dens, t)


@params(Rule("densities", lambda densities, grid: densities.shape[-1] == grid.n,
             "must have one value per grid point (grid.n) on their last axis"),
        densities=Array(ndim=(1, 2), ge=0, hint="a density is non-negative; one per row, grid.n points each"),
        grid=Instance(Grid), gradient=Flag())
def von_weizsaecker(densities, grid: Grid, *, gradient: bool = False):
    """The exact one-particle kinetic functional T[n] = kinetic_prefactor * integral (d chi / dx)^2, chi = sqrt(n).

    Discretised with the same Laplacian as :func:`exact_ground_states`: T = -kinetic_prefactor dx chi . (D2 chi), so that
    T[n_gs] = t_gs to rounding. With ``gradient=True`` also returns dT/dchi(x) = -2 kinetic_prefactor (D2 chi)(x),
    the functional derivative with respect to chi (Eq. 17: the partial derivative divided by dx).
    """
    return _von_weizsaecker(densities, grid, gradient)


def _von_weizsaecker(n, grid: Grid, gradient: bool):
    """:func:`von_weizsaecker` on densities already checked (the descent calls it at every step)."""
    chi = np.sqrt(n)
    d2 = chi @ grid.laplacian().T
    T = -grid.kinetic_prefactor * grid._integrate(chi * d2)
    return (T, -2 * grid.kinetic_prefactor * d2) if gradient else T


# ----------------------------------------------------------------------------- datasets

@dataclass
class Dataset:
    """Potentials, exact ground-state densities, energies and kinetic energies on ``grid``."""

    kind: str
    grid: Grid
    potentials: np.ndarray
    densities: np.ndarray
    energies: np.ndarray
    kinetic: np.ndarray

    def __len__(self):
        return self.potentials.shape[0]

    @params(Rule("index", lambda self, index: _is_index(index, len(self)), "must be a slice, a boolean mask with "
                 "one entry per instance, or instance numbers within range"),
            index=AnyOf(Instance(slice), Array(ndim=1, dtype=None, min_size=0)))
    def subset(self, index) -> "Dataset":
        """The instances ``index`` selects (views of these arrays for a slice)."""
        return self._subset(index)

    @property
    def ground_states(self) -> GroundStates:
        """The exact ground states of these instances (views), as :func:`mlphys.dft.descend` compares with them."""
        return _build(GroundStates, self.energies, self.densities, self.kinetic)

    def _subset(self, index) -> "Dataset":
        return _build(Dataset, self.kind, self.grid, self.potentials[index], self.densities[index],
                      self.energies[index], self.kinetic[index])

    @params(Rule("fractions", lambda fractions: abs(sum(fractions) - 1) <= 1e-9, "must sum to 1 (the parts cover the "
                 "data set: e.g. (0.81, 0.09, 0.10))"),
            Rule("fractions", lambda self, fractions: all(
                b > a for f, a, b in zip(fractions, *_edges(fractions, len(self))) if f > 0),
                 "leave an empty part for this many instances"),
            fractions=Sequence(Real(ge=0, le=1)))
    def split(self, fractions=(0.81, 0.09, 0.10)):
        """Consecutive train / validation / test parts (the paper's 81/9/10); the data are already random."""
        return [self._subset(slice(a, b)) for a, b in zip(*_edges(fractions, len(self)))]


def _edges(fractions, n: int):
    """The (starts, ends) of :meth:`Dataset.split`'s parts."""
    edges = np.round(np.cumsum(fractions)[:-1] * n).astype(int)
    return np.r_[0, edges], np.r_[edges, n]


def _is_index(index, n: int) -> bool:
    if isinstance(index, slice):
        return True
    if index.dtype.kind == "b":
        return index.shape == (n,)
    return index.dtype.kind in "iu" and bool(np.all((index >= -n) & (index < n)))


_BATCH = dict(min_size=0)        # a part of a split may be empty
Dataset.__init__ = params(kind=Choice(*KINDS), grid=Instance(Grid),
                          potentials=Array(shape=("b", "grid.n"), **_BATCH),
                          densities=Array(shape=("b", "grid.n"), ge=0, hint="a density is non-negative", **_BATCH),
                          energies=Array(shape=("b",), **_BATCH),
                          kinetic=Array(shape=("b",), **_BATCH))(Dataset.__init__)


@params(n=Integer(ge=1, typical=(1, 4)), kind=Choice(*KINDS), rng=Seed(), progress=Flag(), cache=Flag())
def dataset(n: int, kind: str = "speckle", *, rng=None, progress: bool = True, cache: bool = True) -> Dataset:
    """``n`` random potentials of ``kind`` with their exact ground states.

    Cached as ``.npz`` in :func:`cache_dir` under a key made of ``kind``, ``n`` and the generator's state;
    a cached call leaves ``rng`` in the same state as a fresh computation, so what follows is unchanged.
    """
    grid = grid_for(kind)
    rng = make_rng(rng)
    path = cache_dir() / f"{kind}-{n}-{cache_key(kind, n, grid, rng.bit_generator.state)}.npz"
    if cache and path.exists():
        try:
            with np.load(path, allow_pickle=False) as f:
                saved = {k: f[k] for k in ("potentials", "densities", "energies", "kinetic", "rng_state")}
            state = json.loads(str(saved["rng_state"]))
            if saved["densities"].shape != (n, grid.n):
                raise ValueError(f"densities of shape {saved['densities'].shape}, not {(n, grid.n)}")
        except Exception as exc:   # damaged, truncated, pickled or another layout: regenerate (and overwrite)
            reject_checkpoint(path, f"{type(exc).__name__}: {exc}")
        else:
            rng.bit_generator.state = state
            return _build(Dataset, kind, grid, saved["potentials"], saved["densities"], saved["energies"],
                          saved["kinetic"])
    V = speckle_potential(n, grid=grid, rng=rng) if kind == "speckle" else gaussian_wells(n, grid=grid, rng=rng)[0]
    gs = exact_ground_states(V, grid, progress=progress)
    data = _build(Dataset, kind, grid, V, gs.densities, gs.energies, gs.kinetic)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, potentials=V, densities=gs.densities, energies=gs.energies, kinetic=gs.kinetic,
                 rng_state=json.dumps(rng.bit_generator.state))
        tmp.replace(path)
    return data
