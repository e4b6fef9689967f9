"""One-dimensional grids: the eighth-order second derivative and the lowest eigenpairs of H = -c d^2/dx^2 + V.

The one finite-difference engine behind the package's exact 1D solvers - the Section 4 reference energies of
chapter 8 (:func:`mlphys.variational.reference_energies`) and the speckle and Gaussian-well ground states of
chapters 10-11 (:func:`mlphys.speckle.exact_ground_states`) - and the one finite-difference helper for derivatives
of sampled functions (:func:`central_difference`).

Boundaries. ``periodic``: x_i = i dx on a ring of n points. Hard walls: the n points lie strictly inside, psi = 0 on
the walls one spacing beyond the first and last point, and the stencil's points beyond a wall take the odd mirror
image (psi(-x) = -psi(x) about the wall). A ground state at a hard wall has psi'' = (V - E) psi / c = 0 there, so the
mirror is exact to fourth order for any smooth potential and to the stencil's eighth order for a free particle (the
particle in a box: E_n = c pi^2 n^2 / L^2 with an error ~ h^8). Treating the points beyond the wall as zero instead
would leave an O(h) error (0.2% for a box of 256 points).
"""
from __future__ import annotations

import numpy as np
from scipy import sparse as sp

from .validate import AnyOf, Array, Flag, Instance, Integer, Optional, Real, Rule, params

#: Eighth-order central coefficients of d^2/dx^2 at offsets 0, 1, 2, 3, 4 (times 1/dx^2).
D2_STENCIL = np.array([-205 / 72, 8 / 5, -1 / 5, 8 / 315, -1 / 560])


@params(n=Integer(ge=2 * len(D2_STENCIL) - 1, typical=(9, 40), hint="the stencil reaches 4 points each side"),
        dx=Real(gt=0), periodic=Flag(), sparse=Flag())
def second_derivative(n: int, dx: float, *, periodic: bool, sparse: bool = False):
    """The (n, n) eighth-order finite-difference d^2/dx^2 (see the module's note on the boundaries).

    Dense by default; ``sparse=True`` returns a ``scipy.sparse`` CSC matrix (for large n and a few eigenpairs).
    """
    rows, cols, vals = [], [], []
    i = np.arange(n)
    for k, c in enumerate(D2_STENCIL):
        for offset in ((0,) if k == 0 else (-k, k)):
            j = i + offset
            if periodic:
                rows.append(i), cols.append(j % n), vals.append(np.full(n, c))
                continue
            inside = (j >= 0) & (j < n)
            rows.append(i[inside]), cols.append(j[inside]), vals.append(np.full(inside.sum(), c))
            # beyond a wall: the wall itself is index -1 (or n), psi = 0; index -1 - m mirrors to m - 1 with a minus
            mirrored = np.where(j < -1, -2 - j, np.where(j > n, 2 * n - j, -1))
            ok = mirrored >= 0
            rows.append(i[ok]), cols.append(mirrored[ok]), vals.append(np.full(ok.sum(), -c))
    D = sp.coo_matrix((np.concatenate(vals) / dx**2, (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    return D.tocsc() if sparse else D.toarray()


def _symmetric(H) -> bool:
    """Whether H equals its transpose up to rounding (the eigensolvers read one triangle only)."""
    scale = abs(H).max() if sp.issparse(H) else np.max(np.abs(H))
    gap = abs(H - H.T).max() if sp.issparse(H) else np.max(np.abs(H - H.T))
    return bool(gap <= 1e-10 * scale)


@params(Rule("H", lambda H: not sp.issparse(H) or (H.shape[0] == H.shape[1] and np.all(np.isfinite(H.data))),
             "must be a square matrix with finite entries"),
        Rule("k", lambda H, k: k <= H.shape[0] // 2, "k must be at most n // 2 for an (n, n) Hamiltonian"),
        Rule("H", _symmetric, "must be symmetric (the solvers read one triangle only)"),
        H=AnyOf(Array(shape=("n", "n")), Instance(sp.spmatrix, sp.sparray, hint="a square symmetric matrix")),
        k=Integer(ge=1, typical=(1, 2)), vectors=Flag(), below=Optional(Real()))
def lowest_eigenpairs(H, k: int = 1, *, vectors: bool = True, below: float | None = None):
    """The ``k`` lowest eigenvalues (ascending) of the symmetric matrix ``H``, with the eigenvectors as columns.

    Dense ``H``: LAPACK's MRRR solver for those eigenpairs only. Sparse ``H``: ARPACK in shift-invert mode about
    ``below``, a number below the spectrum (default: Gershgorin's bound minus one), from a fixed start vector (its
    default start is random, which would move the last digits from run to run).
    """
    return _lowest_eigenpairs(H, k, vectors=vectors, below=below)


def _lowest_eigenpairs(H, k: int = 1, *, vectors: bool = True, below: float | None = None):
    """:func:`lowest_eigenpairs` without the checks (for loops over many Hamiltonians of a checked grid)."""
    if sp.issparse(H):
        from scipy.sparse.linalg import eigsh

        if below is None:
            diag = H.diagonal()
            below = float(np.min(diag - (np.asarray(abs(H).sum(axis=1)).ravel() - np.abs(diag)))) - 1.0
        sigma = float(below)
        out = eigsh(H, k=k, sigma=sigma, which="LM", v0=np.ones(H.shape[0]), return_eigenvectors=vectors)
        if not vectors:
            return np.sort(out)
        order = np.argsort(out[0])
        return out[0][order], out[1][:, order]
    from scipy.linalg import eigh

    w, U = eigh(H, subset_by_index=[0, k - 1], driver="evr")
    return (w, U) if vectors else w


@params(Rule("axis", lambda f, axis: -f.ndim <= axis < f.ndim, "must be an axis of f"),
        Rule("f", lambda f, axis, periodic: periodic or f.shape[axis] >= 3,
             "needs at least 3 samples along axis for one-sided second-order ends (periodic=False)"),
        f=Array(ndim=(2, 1)), dx=Real(gt=0), axis=Integer(ge=-2, le=1, typical=(-1, 0)), periodic=Flag())
def central_difference(f, dx: float, *, axis: int = -1, periodic: bool = True) -> np.ndarray:
    """df/dx of samples ``f`` (1-D, or 2-D: one sampled function per row with the default ``axis``) on a uniform
    grid by second-order central differences (periodic wrap, or one-sided second-order differences at the two
    ends)."""
    if periodic:
        return (np.roll(f, -1, axis) - np.roll(f, 1, axis)) / (2 * dx)
    return np.gradient(f, dx, axis=axis, edge_order=2)
