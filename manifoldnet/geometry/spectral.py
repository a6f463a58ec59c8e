"""Generalized eigenpairs ``L phi = lambda M phi`` of a Laplacian: the spectral basis.

Method
------
Small problems (``V <= dense_max`` or ``k >= V / 2``) use dense LAPACK (``scipy.linalg.eigh``). Larger ones
use a block Lanczos method on ``A^p``, a power of the shift-inverted operator ``A = (L - sigma M)^-1 M``,
with a small *negative* shift (Weyl's law: ``sigma = -0.01 * 4 pi k / area``), so ``L - sigma M`` is positive
definite and factorizes once (CHOLMOD through ``cholespy`` when installed, else SuperLU in symmetric mode).
Why a power: the cost is dominated by the full re-orthogonalization of each new block against the basis
(``O(V m^2)`` for a basis of m vectors), and the basis a Krylov method needs for the k-th eigenvalue shrinks
with the relative gap ``1 - mu_{k+1} / mu_k``, which the power multiplies by p: at k = 128 the basis falls
from about 3.8 k (p = 1) to 2.7 k (p = 2) and 2.4 k (p = 3) vectors, at the price of p cheap blocked solves
per block. The power also raises the spread of the values to the p-th: p is the largest (at most 3) for
which ``10 eps spread^p`` stays within the tolerance (``_power_for``; the shift bounds the spread by about
``1.01 / 0.01``), and when ``eps mu_1^p / mu_K^p`` measured while iterating would still cap the residual
(a ``lambda_K`` far above Weyl's estimate) the method falls back to ``p - 1``. With a diagonal M the iteration
runs on the symmetric ``M^1/2 A M^-1/2`` (Euclidean inner products). Full re-orthogonalization is done
block-wise (matrix-matrix products): ARPACK, which ``scipy.sparse.linalg.eigsh`` runs, re-orthogonalizes one
matrix-vector product at a time, and that, not the solves, dominated the DiffusionNet recipe's run time here.
The null space (one M-normalized indicator per connected component) is known and locked into the basis, so
many components do not need a large block. Every result is checked by its true residuals and, because a
block method can miss an eigenvalue whose multiplicity (or tight cluster) exceeds the block size, by an
inertia count (Sylvester) of ``L - tau M`` in the gap after ``lambda_K``, run when the computed values show a
cluster as large as the block (``_has_cluster``: b values within 2%; generic spectra, spaced about ``1 / j``
apart, do not trigger it, and the count costs a second factorization). When that count finds more
eigenvalues than were computed, the verified pairs below the cut are locked and the M-orthogonal complement
is searched again with a block as wide as the deficit (the symmetric shapes: an icosphere's multiplets).
The retry ladder: power 1 (see above), a four times larger block (after non-convergence), then ARPACK
shift-invert on the same factorization, then dense LAPACK for moderate sizes; otherwise
:class:`EigenbasisError` with the residuals of the best attempt.

A disconnected problem is block diagonal by component, and is solved so: components of at most
``_TINY`` vertices in batches of equal size (numpy's batched ``eigh``), larger ones each by the method above
with as many pairs as Weyl's law expects below the global ``lambda_k`` (its share of the area, with a margin),
and more for any component whose largest computed value falls below the chosen k-th; the k smallest of all
are kept and their residuals checked together (relative to at least Weyl's first non-zero eigenvalue
``4 pi / area``, since all k may be zero). Eigenvectors of different components are M-orthogonal by their
disjoint support.

Conventions
-----------
Ascending eigenvalues, ``phi^T M phi = I`` (M-orthonormal), each eigenvector's sign fixed so that its
entry of largest magnitude is positive. One zero eigenvalue per connected component, returned as exactly 0 (as
are negative values) when within rounding (``8 eps lambda_max``). Isolated vertices (zero
row and column in ``L``, e.g. unreferenced vertices) are left out of the problem: every eigenvector is 0
there. Residuals are measured as ``||L phi - lambda M phi||_{M^-1} / max(|lambda_K|, tiny)``: a bound on the
eigenvalue error relative to the largest eigenvalue returned.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse.csgraph import connected_components

from ..errors import MeshError
from .factor import SPDFactor
from .krylov import PowerTooHigh as _PowerTooHigh
from .krylov import arpack_shift_invert as _arpack
from .krylov import block_lanczos as _block_lanczos
from .krylov import count_below as _count_below
from .krylov import has_cluster as _has_cluster
from .krylov import residuals as _residuals

_log = logging.getLogger(__name__)

__all__ = ["EigenbasisError", "eigenbasis"]


class EigenbasisError(MeshError):
    """The eigensolver did not reach the requested accuracy; ``residuals`` holds the last residuals (K,)."""

    def __init__(self, message: str, residuals: np.ndarray | None = None, attempts: tuple[str, ...] = ()):
        super().__init__(message)
        self.residuals = residuals
        self.attempts = attempts


def _check_matrix(name: str, A, n: int | None = None) -> sp.csr_matrix:
    if not sp.issparse(A):
        raise MeshError(f"{name} must be a scipy sparse matrix, got {type(A).__name__}")
    A = sp.csr_matrix(A, dtype=np.float64)
    if A.shape[0] != A.shape[1]:
        raise MeshError(f"{name} must be square, got shape {A.shape}")
    if n is not None and A.shape[0] != n:
        raise MeshError(f"{name} has shape {A.shape}, expected ({n}, {n}) like L")
    if not np.isfinite(A.data).all():
        raise MeshError(f"{name} has non-finite entries")
    asym = abs(A - A.T)
    if asym.nnz and asym.max() > 1e-10 * max(abs(A).max(), np.finfo(float).tiny):
        raise MeshError(f"{name} is not symmetric (max |A - A^T| = {asym.max():.3e})")
    return A


def _rounding_floor(L, m_inv_eff: np.ndarray, lam_ref: float) -> tuple[float, float]:
    """``(4 eps lambda_max / lam_ref, lambda_max)``: the relative residual rounding lets us demand.

    ``lambda_max`` is bounded by Gershgorin (``2 L_ii / M_ii``, diagonal M). On meshes with slivers (cotan
    weights near the clamp) next to tiny masses ``lambda_max / lambda_K`` reaches 1e8 and 1e-10 is
    unattainable. Backward-stable solvers (LAPACK's eigh included) leave residuals a small multiple of
    ``eps lambda_max``: the factor 4 keeps them acceptable (at 0.5, ogre's dense
    per-component solves missed by 1.2x).
    """
    lam_max = float(np.max(2.0 * L.diagonal() * m_inv_eff))
    return 4.0 * np.finfo(float).eps * lam_max / max(lam_ref, np.finfo(float).tiny), lam_max


def eigenbasis(
    L,
    M,
    k: int,
    *,
    sigma: float | None = None,
    tol: float = 1e-10,
    threads: int | None = None,
    dense_max: int = 1000,
    block: int = 8,
    verify: bool = True,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The k smallest generalized eigenpairs of ``L phi = lambda M phi``.

    Parameters
    ----------
    L : (V, V) sparse symmetric positive semi-definite (the weak Laplacian of :mod:`.laplacian`).
    M : (V, V) sparse symmetric positive definite mass (diagonal or Galerkin).
    k : number of eigenpairs, ``1 <= k <= V`` (isolated vertices excluded).
    sigma : the (negative) shift; default ``-0.01 * lambda_k`` from Weyl's law (``4 pi k / area``).
    tol : required relative residual (module docstring); checked on every result, whatever the method. Raised
        to the rounding floor ``4 eps lambda_max / lambda_K`` (Gershgorin bound of ``lambda_max``) where that
        is larger: meshes with sliver triangles next to tiny vertex areas cannot reach 1e-10.
    threads : BLAS threads while solving (threadpoolctl); ``None`` leaves the current setting.
    dense_max : problems with at most this many (non-isolated) vertices, or ``k >= V / 2``, go dense.
    block : block size of the block Lanczos method (the null space, one vector per component, is locked in).
    verify : when the computed values show a cluster as large as the block (module docstring), check by an
        inertia count (one more factorization, of ``L - tau M`` with ``tau`` in the gap after ``lambda_K``)
        that no eigenvalue was missed; missed ones are then searched with the found ones locked.
    seed : seed of the random start block (results are deterministic for a given seed).

    Returns
    -------
    evals : (K,) float64 ascending; evecs : (V, K) float64, M-orthonormal, 0 at isolated vertices.

    Raises
    ------
    MeshError
        bad inputs (not sparse, shapes, non-finite, asymmetric, k out of range, non-positive mass).
    EigenbasisError
        no method in the ladder reached ``tol``; ``.residuals`` and ``.attempts`` say how close each came.
    """
    L = _check_matrix("L", L)
    n = L.shape[0]
    M = _check_matrix("M", M, n)
    if int(k) != k or k < 1:
        raise MeshError(f"k must be a positive integer, got {k}")
    k = int(k)
    if not tol > 0:
        raise MeshError(f"tol must be positive, got {tol}")
    if sigma is not None and not sigma < 0:
        raise MeshError(f"sigma must be negative (L - sigma M must be positive definite), got {sigma}")
    md = M.diagonal()
    if not (md > 0).all():
        i = int(np.flatnonzero(~(md > 0))[0])
        raise MeshError(f"M must have a positive diagonal; vertex {i} has mass {md[i]}")

    # isolated vertices: no off-diagonal entries and a zero diagonal in L
    L_abs = abs(L)
    active = np.asarray(L_abs.sum(axis=1)).ravel() > 0
    idx = np.flatnonzero(active)
    na = idx.size
    if k > na:
        raise MeshError(f"k={k} exceeds the {na} non-isolated vertices (of {n}) of the problem")
    La, Ma = (L[idx][:, idx], M[idx][:, idx]) if na < n else (L, M)
    # m_inv None: a non-diagonal (Galerkin) mass, and residuals use the Euclidean norm, scaled
    m_inv = None if abs(Ma).sum() - abs(Ma.diagonal()).sum() > 0 else 1.0 / Ma.diagonal()

    from threadpoolctl import threadpool_limits

    n_comp, labels = connected_components(La, directed=False)
    with threadpool_limits(limits=threads):
        if n_comp > 1:
            evals, evecs_a = _solve_components(
                La, Ma, k, n_comp, labels, sigma, tol, dense_max, seed, m_inv, block, verify
            )
        else:
            evals, evecs_a = _solve(La, Ma, k, sigma, tol, dense_max, seed, m_inv, block, verify)
    # L is PSD with one zero eigenvalue per component: the min(k, components) smallest values are those zeros,
    # returned as exactly 0 when within rounding (8 eps lambda_max, Gershgorin) so that they read as zeros
    # (descriptor scales, zero counts); a negative value within rounding elsewhere is a zero as well
    lam_max = float(np.max(2.0 * La.diagonal() / Ma.diagonal()))
    near_zero = np.abs(evals) <= 8.0 * np.finfo(float).eps * lam_max
    null = np.arange(k) < min(k, n_comp)
    evals = np.where((null | (evals < 0)) & near_zero, 0.0, evals)
    evecs = np.zeros((n, k))
    evecs[idx] = _fix_signs(evecs_a)
    return evals, evecs


def _solve(L, M, k, sigma, tol, dense_max, seed, m_inv, block, verify, scale_floor=0.0):
    """The k smallest eigenpairs of a connected problem (the method and ladder of the module docstring)."""
    n = L.shape[0]
    attempts: list[str] = []
    res_best = None
    m_inv_eff = m_inv if m_inv is not None else np.full(n, 1.0 / M.diagonal().mean())

    def accept(evals, evecs, name, tol_eff=None):
        nonlocal res_best
        res = _residuals(L, M, m_inv_eff, evals, evecs, scale_floor)
        attempts.append(f"{name}: max residual {res.max():.2e}")
        if res.max() <= (tol if tol_eff is None else tol_eff):
            return True
        if res_best is None or res.max() < res_best.max():
            res_best = res
        return False

    if n <= dense_max or 2 * k >= n:
        evals, evecs = sla.eigh(L.toarray(), M.toarray(), subset_by_index=[0, k - 1])
        # the same rounding floor as the iterative path, with the true lambda_K
        floor, lam_max = _rounding_floor(L, m_inv_eff, max(float(np.abs(evals).max()), scale_floor))
        if floor > tol:
            msg = f"tol raised from {tol:.1e} to the rounding floor {floor:.1e} (lambda_max <= {lam_max:.2e})"
            attempts.append(msg)
            _log.info("eigenbasis: %s", msg)
            tol = floor
        if accept(evals, evecs, "dense eigh"):
            return evals, evecs
        raise EigenbasisError(
            f"dense eigh did not reach tol={tol:.1e} (max residual {res_best.max():.2e})",
            res_best,
            tuple(attempts),
        )

    # L is connected (the caller splits components): the null space is the M-normalized constant vector,
    # locked in the block Lanczos basis
    null = np.ones((n, 1)) / np.sqrt(M.sum())
    lam_k = _weyl_lambda(M, k, 1)
    s0 = sigma if sigma is not None else -0.01 * lam_k
    # rounding floor: residuals cannot go below ~eps * lambda_max; on meshes with slivers (cotan weights near
    # max_cotan) next to tiny masses lambda_max / lambda_K reaches 1e8 and a fixed 1e-10 is unattainable
    floor, lam_max = _rounding_floor(L, m_inv_eff, lam_k)
    if floor > tol:
        msg = f"tol raised from {tol:.1e} to the rounding floor {floor:.1e} (lambda_max <= {lam_max:.2e})"
        attempts.append(msg)
        _log.info("eigenbasis: %s", msg)
        tol = floor
    # everything below is solved in units of lambda_k: ARPACK's convergence test has an absolute floor
    # (eps^(2/3)) on the shift-inverted Ritz values 1 / (lambda - sigma), which must be O(1) at every scale
    Ls, s0s = L / lam_k, s0 / lam_k
    rng = np.random.default_rng(seed)
    try:
        lu = SPDFactor(Ls - s0s * M, what="shifted matrix L - sigma M")
    except MeshError as exc:  # singular
        attempts.append(f"factorization of L - sigma M, sigma={s0:.3e}: {exc}")
        lu = None
    null_mu = np.full(1, -1.0 / s0s)  # A z = z / (0 - sigma) on the null space
    locked = (null, null_mu) if (k > 1 and lu is not None) else None
    b = min(block, max(1, (n - 1) // 4))
    rounds, power, relocked = 0, _power_for(tol, s0s, floor), False
    while lu is not None and rounds < 4:
        rounds += 1
        name = f"block Lanczos sigma={s0:.3e} block={b}" + (f" locked={locked[0].shape[1]}" if locked else "")
        try:
            out = _block_lanczos(Ls, M, k, s0s, b, tol, rng, m_inv_eff, lu, m_inv is not None, locked, power)
        except _PowerTooHigh as exc:
            attempts.append(f"{name} power={power}: {exc}: power {power - 1} next")
            power -= 1
            continue
        if out is None:
            attempts.append(f"{name}: no convergence within the basis limit")
            if b >= 4 * block:
                break
            b = min(4 * block, max(1, (n - 1) // 4))  # a larger block: clusters wider than the block
            continue
        evals, evecs, next_ritz = out
        if not accept(evals * lam_k, evecs, name):
            break
        if not verify:
            return evals * lam_k, evecs
        vals = np.append(evals, next_ritz)
        if not relocked and not _has_cluster(vals[1:], b):  # after a relock: always count
            return evals * lam_k, evecs
        # the last clear gap at or before the k-th eigenvalue (a cluster may straddle the cut)
        gaps = np.flatnonzero(np.diff(vals) > 1e-6 * max(abs(vals[-1]), 1e-300))
        if gaps.size == 0:
            return evals * lam_k, evecs
        j = int(gaps[-1]) + 1
        count = _count_below(Ls, M, 0.5 * (vals[j - 1] + vals[j]))
        if count is None or count == j:
            return evals * lam_k, evecs
        attempts.append(f"{name}: inertia check found {count} eigenvalues where {j} were computed")
        # eigenvalues whose multiplicity (or tight cluster) exceeds the block were missed: lock the j verified
        # pairs below the cut and search the M-orthogonal complement, where the missed ones are now the
        # largest shift-inverted values, with a block wide enough for the deficit
        locked, relocked = (evecs[:, :j], 1.0 / (evals[:j] - s0s)), True
        b = min(max(b, count - j + 2), max(1, (n - j) // 4))
    diagonal_mass = m_inv is not None
    ladder = [(s0, min(n - 1, k + max(k // 3, 32))), (10.0 * s0, min(n - 1, max(2 * k + 1, 20)))]
    for step, (s_try, ncv) in enumerate(ladder):
        name = f"ARPACK shift-invert sigma={s_try:.3e} ncv={ncv}"
        try:
            reuse = lu if s_try == s0 else None
            evals, evecs = _arpack(Ls, M, k, s_try / lam_k, ncv, tol, diagonal_mass, seed + step, reuse)
            evals = evals * lam_k
        except (MeshError, spla.ArpackError, spla.ArpackNoConvergence) as exc:
            attempts.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        if accept(evals, evecs, name):
            return evals, evecs
    if n <= 8 * dense_max:
        evals, evecs = sla.eigh(L.toarray(), M.toarray(), subset_by_index=[0, k - 1])
        if accept(evals, evecs, "dense eigh"):
            return evals, evecs
    worst = "n/a" if res_best is None else f"{res_best.max():.2e}"
    raise EigenbasisError(
        f"eigenbasis: no method reached tol={tol:.1e} for k={k} on V={n} (best max residual {worst}); "
        "attempts: " + "; ".join(attempts),
        res_best,
        tuple(attempts),
    )


def _fix_signs(evecs: np.ndarray) -> np.ndarray:
    idx = np.abs(evecs).argmax(axis=0)
    s = np.sign(evecs[idx, np.arange(evecs.shape[1])])
    s[s == 0] = 1.0
    return evecs * s


def _weyl_lambda(M, k: int, n_components: int) -> float:
    """Weyl's law estimate of the k-th eigenvalue of a surface of total mass ``sum(M)``."""
    area = float(M.sum())
    return 4.0 * np.pi * max(k - n_components, 1) / max(area, np.finfo(float).tiny)


_MAX_POWER = 3  # at most this many solves per Lanczos block (module docstring)


def _power_for(tol: float, sigma: float, floor: float = 0.0) -> int:
    """The largest power p <= _MAX_POWER of ``A`` whose rounding stays within ``tol``.

    Two limits. The spread of the shift-inverted values over the wanted ones, at most ``(1 - sigma) / -sigma``
    (101 for the default shift; ``sigma`` in units of Weyl's ``lambda_K``), raised to p: ``10 eps spread^p
    <= tol`` (p = 3 for tol >= 2.3e-9, p = 2 for tol >= 2.3e-11). And the conditioning of ``L - sigma M``
    (slivers next to tiny masses), which the rounding floor ``4 eps lambda_max / lambda_K`` measures and each
    further solve amplifies by about the spread: ``floor spread^(p - 1) <= 300 tol`` (measured on an rna
    mesh with floor 1.1e-8: p = 3 stalls at a residual of 7.5e-8, p = 2 reaches 1.6e-9). Whatever these
    estimates miss is caught while iterating (``PowerTooHigh``: a measured spread, or a stalled residual).
    """
    spread = (1.0 - sigma) / -sigma
    eps = np.finfo(float).eps
    ok = (
        p
        for p in range(_MAX_POWER, 1, -1)
        if 10.0 * eps * spread**p <= tol and floor * spread ** (p - 1) <= 300 * tol
    )
    return next(ok, 1)


_TINY = 64  # components up to this size are solved in batches of equal size by numpy's batched eigh


def _solve_components(L, M, k, n_comp, labels, sigma, tol, dense_max, seed, m_inv, block, verify):
    """The k smallest eigenpairs of a block-diagonal (disconnected) problem, component by component.

    ``labels`` (V,): component of each vertex. Each component contributes ``min(k, size)`` candidate pairs;
    the k smallest of all are returned, ascending, M-orthonormal (disjoint supports), residual-checked.
    """
    n = L.shape[0]
    sizes = np.bincount(labels, minlength=n_comp)
    order = np.argsort(labels, kind="stable")  # vertices grouped by component, ascending inside each
    starts = np.concatenate([[0], np.cumsum(sizes)])
    local = np.empty(n, dtype=np.int64)
    local[order] = np.arange(n) - starts[labels[order]]
    m_inv_eff = m_inv if m_inv is not None else np.full(n, 1.0 / M.diagonal().mean())
    # residuals relative to at least Weyl's first non-zero eigenvalue: the k smallest may all be zero
    lam_ref = _weyl_lambda(M, n_comp + 1, n_comp)
    # groups of candidates: (evals (c * kc,), rows (c, s) vertex indices, vecs (c, s, kc));
    # flat f -> (f // kc, f % kc)
    groups: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    Lc, Mc = L.tocoo(), M.tocoo()
    tiny_sizes = np.unique(sizes[sizes <= _TINY])
    for s in tiny_sizes:
        comps = np.flatnonzero(sizes == s)
        c, kc = comps.size, min(int(s), k)
        pos = np.full(n_comp, -1)
        pos[comps] = np.arange(c)
        blocks = []
        for A in (Lc, Mc):
            g = pos[labels[A.row]]
            sel = g >= 0
            B = np.zeros((c, s, s))
            B[g[sel], local[A.row[sel]], local[A.col[sel]]] = A.data[sel]
            blocks.append(B)
        Lb, Mb = blocks
        if m_inv is not None:  # diagonal mass: symmetric scaling
            d = 1.0 / np.sqrt(np.diagonal(Mb, axis1=1, axis2=2))
            w, Y = np.linalg.eigh(Lb * d[:, :, None] * d[:, None, :])
            X = Y * d[:, :, None]
        else:  # Galerkin mass: Cholesky M = C C^T, eigh of C^-1 L C^-T
            Ci = np.linalg.inv(np.linalg.cholesky(Mb))
            A = Ci @ Lb @ np.swapaxes(Ci, 1, 2)
            w, Y = np.linalg.eigh(0.5 * (A + np.swapaxes(A, 1, 2)))
            X = np.swapaxes(Ci, 1, 2) @ Y
        rows = order[starts[comps][:, None] + np.arange(s)]
        groups.append((w[:, :kc].ravel(), rows, X[:, :, :kc]))
    # larger components: as many pairs as Weyl's law expects below the global lambda_k (share of the area,
    # with a margin), then more for any component whose largest computed value falls below the chosen k-th
    big = np.flatnonzero(sizes > _TINY)
    area = np.bincount(labels, np.asarray(M.sum(axis=1)).ravel(), minlength=n_comp)
    want = np.minimum(np.minimum(sizes, k), np.ceil(1.5 * k * area / area.sum()) + 8).astype(np.int64)
    solved: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    while True:
        for comp in big:
            if comp in solved and solved[comp][0].size >= want[comp]:
                continue
            rows = order[starts[comp] : starts[comp + 1]]
            Ls, Ms = L[rows][:, rows], M[rows][:, rows]
            m_inv_c = None if m_inv is None else m_inv[rows]
            kc = int(want[comp])
            w, X = _solve(
                Ls, Ms, kc, sigma, tol, dense_max, seed, m_inv_c, block, verify, scale_floor=lam_ref
            )
            solved[comp] = (w, rows[None, :], X[None])
        cand = np.concatenate([g[0] for g in groups] + [solved[c][0] for c in big])
        lam_star = np.partition(cand, k - 1)[k - 1]
        short = [c for c in big if solved[c][0].size < sizes[c] and solved[c][0][-1] < lam_star]
        if not short:
            break
        for c in short:
            want[c] = min(int(sizes[c]), k, 2 * int(want[c]) + 8)
    groups += [solved[c] for c in big]
    all_w = np.concatenate([g[0] for g in groups])
    gid = np.repeat(np.arange(len(groups)), [g[0].size for g in groups])
    fid = np.concatenate([np.arange(g[0].size) for g in groups])
    pick = np.argsort(all_w, kind="stable")[:k]
    evals = all_w[pick]
    evecs = np.zeros((n, k))
    for g in np.unique(gid[pick]):
        cols = np.flatnonzero(gid[pick] == g)
        _, rows, X = groups[g]
        kc = X.shape[2]
        ci, j = np.divmod(fid[pick][cols], kc)
        evecs[rows[ci], cols[:, None]] = X[ci, :, j]
    res = _residuals(L, M, m_inv_eff, evals, evecs, lam_ref)
    floor, lam_max = _rounding_floor(L, m_inv_eff, max(float(np.abs(evals).max()), lam_ref))
    tol_eff = max(tol, floor)
    if res.max() > tol_eff:
        j = int(np.argmax(res))
        comp = int(labels[np.argmax(np.abs(evecs[:, j]))])
        raise EigenbasisError(
            f"eigenbasis: the per-component solution of k={k} on V={n} ({n_comp} components) has max "
            f"residual {res.max():.2e} > tol={tol_eff:.1e} at eigenpair {j} "
            f"(component {comp} of {sizes[comp]} vertices); "
            f"lambda_max <= {lam_max:.2e}: the problem is too ill-conditioned for double precision",
            res,
            (
                f"{n_comp} components, {int((sizes <= _TINY).sum())} batched dense: "
                + f"max residual {res.max():.2e}",
            ),
        )
    return evals, evecs
