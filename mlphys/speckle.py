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
from .validate import as_array, integer, positive, rows

KINDS = ("speckle", "gaussian_wells")


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

    def __post_init__(self):
        positive(self.length, "length")
        integer(self.n, "n", minimum=9)
        positive(self.kinetic_prefactor, "kinetic_prefactor")

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

    def integrate(self, f, axis=-1):
        """integral f dx -> dx sum_i f_i (the paper's rule below Eq. 16)."""
        return self.dx * np.sum(f, axis=axis)


@functools.lru_cache(maxsize=8)
def _laplacian(grid: Grid) -> np.ndarray:
    D = grid1d.second_derivative(grid.n, grid.dx, periodic=grid.periodic)
    D.flags.writeable = False
    return D


SPECKLE_GRID = Grid(length=14.0, n=256, periodic=True, kinetic_prefactor=1.0)
WELLS_GRID = Grid(length=6.0, n=256, periodic=False, kinetic_prefactor=0.5)


def grid_for(kind: str) -> Grid:
    """The paper's grid for ``kind`` ("speckle" or "gaussian_wells")."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return SPECKLE_GRID if kind == "speckle" else WELLS_GRID


# ----------------------------------------------------------------------------- potentials

def speckle_harmonics(n_grain: int = 14, *, symmetric: bool = False) -> np.ndarray:
    """Field harmonics m (wave numbers 2 pi m / L) kept by the aperture.

    ``n_grain`` = L / gamma consecutive harmonics -n_grain/2 .. n_grain/2 - 1 put the zeros of the
    intensity autocorrelation exactly at multiples of gamma (Eq. 16); ``symmetric=True`` keeps
    |m| <= n_grain/2, i.e. n_grain + 1 harmonics, which moves the first zero to L / (n_grain + 1).
    """
    n_grain = integer(n_grain, "n_grain", minimum=2)
    half = n_grain // 2
    return np.arange(-half, half + 1) if symmetric else np.arange(-half, n_grain - half)


def speckle_potential(n: int, *, v0: float = 0.5, grid: Grid = SPECKLE_GRID, symmetric: bool = False,
                      rng=None) -> np.ndarray:
    """``n`` speckle potentials on ``grid``, shape (n, grid.n): V = v0 |field|^2 / <|field|^2>.

    The field is a complex Gaussian random field restricted to the aperture's harmonics
    (:func:`speckle_harmonics`, L / gamma = grid.length); each kept Fourier amplitude has variance 1/M,
    so <|field|^2> = 1 exactly, the intensity at each point is exponential with mean v0 (Eq. 15) and the
    intensity autocorrelation is :func:`speckle_autocorrelation` (the periodic form of Eq. 16).
    """
    n = integer(n, "n", minimum=1)
    v0 = positive(v0, "v0")
    if not grid.periodic:
        raise ValueError("grid must be periodic for speckle potentials (use SPECKLE_GRID)")
    n_grain = int(round(grid.length))
    if not np.isclose(grid.length, n_grain):
        raise ValueError(f"grid.length must be a whole number of speckle grains, got {grid.length}")
    m = speckle_harmonics(n_grain, symmetric=symmetric)
    if 2 * np.max(np.abs(m)) >= grid.n:
        raise ValueError(f"grid.n={grid.n} cannot resolve the speckle; use at least {4 * n_grain} points")
    rng = make_rng(rng)
    coeff = np.zeros((n, grid.n), dtype=complex)
    coeff[:, m % grid.n] = (rng.standard_normal((n, m.size)) + 1j * rng.standard_normal((n, m.size))) \
        / np.sqrt(2 * m.size)
    field = np.fft.ifft(coeff, axis=1) * grid.n
    return v0 * np.abs(field) ** 2


def speckle_autocorrelation(x, *, n_grain: int = 14, length: float = 14.0, symmetric: bool = False):
    """<V(x' + x) V(x')> / v0^2 - 1 on the periodic box: |(1/M) sum_m exp(2 pi i m x / L)|^2.

    For the consecutive harmonics this is sin^2(pi x) / (M^2 sin^2(pi x / L)) (x in grains), the periodic
    version of Eq. 16's sinc^2(pi x / gamma), zero at every multiple of gamma.
    """
    x = np.asarray(x, dtype=float)
    m = speckle_harmonics(n_grain, symmetric=symmetric)
    g = np.exp(2j * np.pi * np.multiply.outer(x, m) / length).mean(axis=-1)
    return np.abs(g) ** 2


def gaussian_wells(n: int, *, grid: Grid = WELLS_GRID, rng=None):
    """``n`` Appendix-A potentials V = -sum_{i=1}^3 a_i exp(-(x - b_i)^2 / (2 c_i^2)) (Eq. A2).

    a_i ~ U[1, 40], b_i ~ U[1.8, 4.2], c_i ~ U[0.12, 0.4]. Returns (potentials (n, grid.n), params (n, 3, 3)).
    """
    n = integer(n, "n", minimum=1)
    rng = make_rng(rng)
    a = rng.uniform(1.0, 40.0, (n, 3))
    b = rng.uniform(1.8, 4.2, (n, 3))
    c = rng.uniform(0.12, 0.4, (n, 3))
    x = grid.x
    V = -np.sum(a[..., None] * np.exp(-(x - b[..., None]) ** 2 / (2 * c[..., None] ** 2)), axis=1)
    return V, np.stack([a, b, c], axis=1)


def fourier_resample(V, n_new: int) -> np.ndarray:
    """A band-limited periodic function given on n points, evaluated on ``n_new`` points (exact for speckle)."""
    V = as_array(V, "V")
    n_old = V.shape[-1]
    n_new = integer(n_new, "n_new", minimum=n_old)
    c = np.fft.rfft(V, axis=-1)
    return np.fft.irfft(c, n=n_new, axis=-1) * (n_new / n_old)


# ----------------------------------------------------------------------------- ground states

@dataclass
class GroundStates:
    """Exact ground states: energies e_gs (n,), densities n_gs (n, grid.n) with integral n dx = 1, and
    kinetic energies t_gs = e_gs - integral n V (Eq. 3)."""

    energies: np.ndarray
    densities: np.ndarray
    kinetic: np.ndarray


def exact_ground_states(potentials, grid: Grid, *, progress: bool = False) -> GroundStates:
    """Lowest eigenpair of H = -grid.kinetic_prefactor * Laplacian + diag(V) for each row of ``potentials``.

    :func:`mlphys.grid1d.lowest_eigenpairs` (LAPACK's MRRR solver for the lowest eigenpair only, about 2 ms per
    256-point instance here); psi is made positive and normalised to integral psi^2 = 1.
    """
    V = rows(potentials, "potentials", grid.n, "one potential per row on this grid")
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
            w, U = grid1d.lowest_eigenpairs(H, 1)
            e[k] = w[0]
            dens[k] = U[:, 0] ** 2 / grid.dx
    t = e - grid.integrate(dens * V)
    return GroundStates(energies=e, densities=dens, kinetic=t)


def von_weizsaecker(densities, grid: Grid, *, gradient: bool = False):
    """The exact one-particle kinetic functional T[n] = kinetic_prefactor * integral (d chi / dx)^2, chi = sqrt(n).

    Discretised with the same Laplacian as :func:`exact_ground_states`: T = -kinetic_prefactor dx chi . (D2 chi), so that
    T[n_gs] = t_gs to rounding. With ``gradient=True`` also returns dT/dchi(x) = -2 kinetic_prefactor (D2 chi)(x),
    the functional derivative with respect to chi (Eq. 17: the partial derivative divided by dx).
    """
    n = as_array(densities, "densities")
    if n.shape[-1] != grid.n:
        raise ValueError(f"densities must have {grid.n} points on their last axis, got {n.shape}")
    if np.any(n < 0):
        raise ValueError("densities must be non-negative")
    chi = np.sqrt(n)
    d2 = chi @ grid.laplacian().T
    T = -grid.kinetic_prefactor * grid.integrate(chi * d2)
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

    def subset(self, index) -> "Dataset":
        return Dataset(self.kind, self.grid, self.potentials[index], self.densities[index],
                       self.energies[index], self.kinetic[index])

    def split(self, fractions=(0.81, 0.09, 0.10)):
        """Consecutive train / validation / test parts (the paper's 81/9/10); the data are already random."""
        edges = np.round(np.cumsum(fractions)[:-1] * len(self)).astype(int)
        return [self.subset(slice(a, b)) for a, b in zip(np.r_[0, edges], np.r_[edges, len(self)])]


def dataset(n: int, kind: str = "speckle", *, rng=None, progress: bool = True, cache: bool = True) -> Dataset:
    """``n`` random potentials of ``kind`` with their exact ground states.

    Cached as ``.npz`` in :func:`cache_dir` under a key made of ``kind``, ``n`` and the generator's state;
    a cached call leaves ``rng`` in the same state as a fresh computation, so what follows is unchanged.
    """
    n = integer(n, "n", minimum=1)
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
            return Dataset(kind, grid, saved["potentials"], saved["densities"], saved["energies"], saved["kinetic"])
    V = speckle_potential(n, grid=grid, rng=rng) if kind == "speckle" else gaussian_wells(n, grid=grid, rng=rng)[0]
    gs = exact_ground_states(V, grid, progress=progress)
    data = Dataset(kind, grid, V, gs.densities, gs.energies, gs.kinetic)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, potentials=V, densities=gs.densities, energies=gs.energies, kinetic=gs.kinetic,
                 rng_state=json.dumps(rng.bit_generator.state))
        tmp.replace(path)
    return data
