"""Generalized eigenpairs ``L phi = lambda M phi`` of a Laplacian: the spectral basis.

Method
------
Small problems (``V <= dense_max`` or ``k >= V / 2``) use dense LAPACK (``scipy.linalg.eigh``). Larger ones
use a block Lanczos method on the shift-inverted operator ``(L - sigma M)^-1 M`` with a small *negative* shift
(Weyl's law: ``sigma = -0.01 * 4 pi k / area``), so ``L - sigma M`` is positive definite and factorizes once
without pivoting in a symmetric fill-reducing order (about half the fill of the default ``splu``, and block
solves cost a third per column of single ones). Full re-orthogonalization is done block-wise (matrix-matrix
products): ARPACK, which ``scipy.sparse.linalg.eigsh`` runs, re-orthogonalizes one matrix-vector product at a
time, and that, not the solves, dominated the DiffusionNet recipe's run time here. The null space (one
M-normalized indicator per connected component) is known and locked into the basis, so many components do
not need a large block. Every result is checked by
its true residuals and, because a block method can miss an eigenvalue whose multiplicity exceeds the block size,
by an inertia count (Sylvester) of ``L - tau M`` in the gap after ``lambda_K``. The retry ladder: a four times
larger block (after non-convergence; after a failed inertia count, i.e. a symmetric shape with multiplicities
above the block size, straight to ARPACK), then ARPACK shift-invert on the same factorization idea, then dense
LAPACK for moderate sizes;
otherwise :class:`EigenbasisError` with the residuals of the best attempt.

A disconnected problem is block diagonal by component, and is solved so: components of at most
``_TINY`` vertices in batches of equal size (numpy's batched ``eigh``), larger ones each by the method above
with ``min(k, size)`` pairs; the k smallest of all are kept and their residuals checked together (relative to
at least Weyl's first non-zero eigenvalue ``4 pi / area``, since all k may be zero). Eigenvectors of
different components are M-orthogonal by their disjoint support.

Conventions
-----------
Ascending eigenvalues, ``phi^T M phi = I`` (M-orthonormal), each eigenvector's sign fixed so that its
entry of largest magnitude is positive. One zero eigenvalue per connected component; negative eigenvalues
within rounding (``8 eps lambda_max``) are returned as exactly 0. Isolated vertices (zero
row and column in ``L``, e.g. unreferenced vertices) are left out of the problem: every eigenvector is 0 there.
Residuals are measured as ``||L phi - lambda M phi||_{M^-1} / max(|lambda_K|, tiny)``: a bound on the
eigenvalue error relative to the largest eigenvalue returned.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import MeshError

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


def _residuals(L, M, m_inv: np.ndarray | None, evals, evecs, scale_floor: float = 0.0) -> np.ndarray:
    """(K,) ``||L phi - lambda M phi||_{M^-1}`` relative to ``max(max |lambda|, scale_floor)``."""
    R = L @ evecs - (M @ evecs) * evals
    if m_inv is not None:
        norms = np.sqrt(np.einsum("ij,ij,i->j", R, R, m_inv))
    else:
        norms = np.linalg.norm(R, axis=0) / np.sqrt(M.diagonal().mean())
    scale = max(float(np.abs(evals).max()), scale_floor, np.finfo(float).tiny)
    return norms / scale


def _rounding_floor(L, m_inv_eff: np.ndarray, lam_ref: float) -> tuple[float, float]:
    """``(4 eps lambda_max / lam_ref, lambda_max)``: the relative residual rounding lets us demand.

    ``lambda_max`` is bounded by Gershgorin (``2 L_ii / M_ii``, diagonal M). On meshes with slivers (cotan
    weights near the clamp) next to tiny masses ``lambda_max / lambda_K`` reaches 1e8 and 1e-10 is unattainable.
    Backward-stable solvers (LAPACK's eigh included) leave residuals a small multiple of ``eps lambda_max``:
    the factor 4 keeps them acceptable (at 0.5, ogre's dense per-component solves missed by 1.2x).
    """
    lam_max = float(np.max(2.0 * L.diagonal() * m_inv_eff))
    return 4.0 * np.finfo(float).eps * lam_max / max(lam_ref, np.finfo(float).tiny), lam_max


def _factor(A: sp.csr_matrix):
    """LU of a symmetric positive definite matrix without pivoting, in a symmetric fill-reducing order."""
    return spla.splu(
        A.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
    )


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
    tol : required relative residual (module docstring); checked on every result, whatever the method. Raised to
        the rounding floor ``4 eps lambda_max / lambda_K`` (Gershgorin bound of ``lambda_max``) where that is
        larger: meshes with sliver triangles next to tiny vertex areas cannot reach 1e-10.
    threads : BLAS threads while solving (threadpoolctl); ``None`` leaves the current setting.
    dense_max : problems with at most this many (non-isolated) vertices, or ``k >= V / 2``, go dense.
    block : block size of the block Lanczos method (the null space, one vector per component, is locked in).
    verify : check by an inertia count (one more factorization, of ``L - tau M`` with ``tau`` in the gap after
        ``lambda_K``) that no eigenvalue was missed (a multiplicity above the block size); a failed check moves
        down the retry ladder.
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
    if abs(Ma).sum() - abs(Ma.diagonal()).sum() > 0:
        m_inv = None  # non-diagonal (Galerkin) mass: residuals use the Euclidean norm, scaled
    else:
        m_inv = 1.0 / Ma.diagonal()

    from scipy.sparse.csgraph import connected_components
    from threadpoolctl import threadpool_limits

    n_comp, labels = connected_components(La, directed=False)
    with threadpool_limits(limits=threads):
        if n_comp > 1:
            evals, evecs_a = _solve_components(
                La, Ma, k, n_comp, labels, sigma, tol, dense_max, seed, m_inv, block, verify
            )
        else:
            evals, evecs_a = _solve(La, Ma, k, sigma, tol, dense_max, seed, m_inv, block, verify)
    # L is PSD: a negative eigenvalue within rounding (eps lambda_max, Gershgorin) is a zero (a component's null
    # vector); returned as exactly 0, so that an all-null basis (k <= components) reads as non-negative
    lam_max = float(np.max(2.0 * La.diagonal() / Ma.diagonal()))
    evals = np.where((evals < 0) & (evals >= -8.0 * np.finfo(float).eps * lam_max), 0.0, evals)
    evecs = np.zeros((n, k))
    evecs[idx] = _fix_signs(evecs_a)
    return evals, evecs


def _solve(L, M, k, sigma, tol, dense_max, seed, m_inv, block, verify, scale_floor=0.0):
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

    from scipy.sparse.csgraph import connected_components

    n_comp, labels = connected_components(L, directed=False)
    # the null space is known: one M-normalized indicator per component (locked in the block Lanczos basis)
    null = sp.csr_matrix((np.ones(n), (np.arange(n), labels)), shape=(n, n_comp)).toarray()
    null /= np.sqrt(np.einsum("ij,ij->j", null, M @ null))
    lam_k = _weyl_lambda(M, k, n_comp)
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
    for b in (block, 4 * block):
        b = min(b, max(1, (n - n_comp) // 4))
        name = f"block Lanczos sigma={s0:.3e} block={b}"
        try:
            out = _block_lanczos(Ls, M, k, s0s, b, tol, rng, m_inv_eff, null if n_comp < k else None)
        except RuntimeError as exc:  # factorization failed
            attempts.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        if out is None:
            attempts.append(f"{name}: no convergence within the basis limit")
            continue
        evals, evecs, next_ritz = out
        evals = evals * lam_k
        if not accept(evals, evecs, name):
            continue
        if not verify:
            return evals, evecs
        # the last clear gap at or before the k-th eigenvalue (a cluster may straddle the cut)
        vals = np.append(evals / lam_k, next_ritz)
        gaps = np.flatnonzero(np.diff(vals) > 1e-6 * max(abs(vals[-1]), 1e-300))
        if gaps.size == 0:
            return evals, evecs
        j = int(gaps[-1]) + 1
        count = _count_below(Ls, M, 0.5 * (vals[j - 1] + vals[j]))
        if count == j or count is None:
            return evals, evecs
        attempts.append(f"{name}: inertia check found {count} eigenvalues where {j} were computed")
        break  # a multiplicity above the block size (a symmetric shape): ARPACK next, not a larger block
    diagonal_mass = m_inv is not None
    ladder = [(s0, min(n - 1, k + max(k // 3, 32))), (10.0 * s0, min(n - 1, max(2 * k + 1, 20)))]
    for step, (s_try, ncv) in enumerate(ladder):
        name = f"ARPACK shift-invert sigma={s_try:.3e} ncv={ncv}"
        try:
            evals, evecs = _arpack(Ls, M, k, s_try / lam_k, ncv, tol, diagonal_mass, seed + step)
            evals = evals * lam_k
        except (RuntimeError, spla.ArpackError, spla.ArpackNoConvergence) as exc:
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
        f"eigenbasis: no method reached tol={tol:.1e} for k={k} on V={n} (best max residual {worst}); attempts: "
        + "; ".join(attempts),
        res_best,
        tuple(attempts),
    )


def _block_lanczos(L, M, k, sigma, b, tol, rng, m_inv, null=None, max_dim=None):
    """Block Lanczos on ``A = (L - sigma M)^-1 M`` (self-adjoint in the M inner product), no restarts.

    Each new block is M-orthogonalized against the last two blocks (the three-term recurrence) and then once
    more against the whole basis (full re-orthogonalization, two matrix-matrix products). The projection
    ``T = Q^T M A Q`` comes from those coefficients; convergence is judged by the Lanczos residual estimates
    ``||B_last s_i|| / |mu_i|``; the result is refined by a final Rayleigh-Ritz step on ``(L, M)`` and returned
    once its true residuals meet ``tol`` (else the basis grows on with a stricter estimate threshold).

    ``null`` (V, C): M-orthonormal vectors of the null space of ``L`` (component indicators), locked in the
    basis, so the block size need not exceed the number of components.

    Returns ``(evals (k,), evecs (V, k), next Ritz value)`` or ``None`` when the basis limit is reached.
    """
    n = L.shape[0]
    c = 0 if null is None else null.shape[1]
    max_dim = min(n - b, max_dim or (8 * k + 8 * b + c))
    lu = _factor(L - sigma * M)
    Q = np.empty((n, max_dim + b), order="F")
    MQ = np.empty_like(Q)
    T = np.zeros((max_dim + b, max_dim + b))
    if c:  # locked null space: A z = z / (-sigma); the Krylov space stays M-orthogonal to it
        Q[:, :c], MQ[:, :c] = null, M @ null
        T[np.arange(c), np.arange(c)] = -1.0 / sigma
    W = rng.standard_normal((n, b))
    if c:
        W -= Q[:, :c] @ (MQ[:, :c].T @ W)
    MW = M @ W
    g, U = np.linalg.eigh(W.T @ MW)
    W, MW = W @ (U / np.sqrt(g)), MW @ (U / np.sqrt(g))
    m, check_at = c, min(max_dim, int(2.5 * k))
    est_factor = 0.1
    while True:
        w = W.shape[1]
        Q[:, m : m + w], MQ[:, m : m + w] = W, MW
        start, m = m, m + w
        Z = lu.solve(MW)
        lo = max(0, start - 2 * b)
        C = MQ[:, lo:m].T @ Z
        Z -= Q[:, lo:m] @ C
        T[lo:m, start:m] += C
        C = MQ[:, :m].T @ Z
        Z -= Q[:, :m] @ C
        T[:m, start:m] += C
        MZ = M @ Z
        g, U = np.linalg.eigh(Z.T @ MZ)
        keep = g > 1e-12 * max(g.max(), np.finfo(float).tiny)
        B = (U[:, keep] * np.sqrt(g[keep])).T  # Z = W_next B, W_next M-orthonormal
        scale = U[:, keep] / np.sqrt(g[keep])
        W, MW = Z @ scale, MZ @ scale
        T[m : m + B.shape[0], start:m] = B
        exhausted = W.shape[1] == 0 or m + W.shape[1] > max_dim
        if m < check_at and not exhausted:
            continue
        mu, S = sla.eigh(0.5 * (T[:m, :m] + T[:m, :m].T))
        order = np.argsort(-mu)[: k + 1]
        mu, S = mu[order], S[:, order]
        est = np.linalg.norm(B @ S[start:m, :k], axis=0) / np.abs(mu[:k])
        if est.max() < est_factor * tol and len(mu) > k:
            phi = Q[:, :m] @ S[:, :k]
            H, G = phi.T @ (L @ phi), phi.T @ (M @ phi)
            evals, Y = sla.eigh(0.5 * (H + H.T), 0.5 * (G + G.T))
            phi = phi @ Y
            res = _residuals(L, M, m_inv, evals, phi).max()
            if res <= tol:
                return evals, phi, sigma + 1.0 / mu[k]
            # the estimate was optimistic (it misses the amplification by ||L - sigma M||): calibrate it
            est_factor = min(0.01 * est_factor, 0.3 * est.max() / res)
        if exhausted:
            return None
        check_at = m + 2 * b


def _count_below(L, M, tau: float) -> int | None:
    """Number of eigenvalues of ``L phi = lambda M phi`` below ``tau`` (Sylvester's inertia of ``L - tau M``),
    or ``None`` when the factorization pivoted off the diagonal or hit a zero pivot (inertia not readable).

    COLAMD, not the solver's MMD: the count needs no solves, only the factorization, and there (CPU s, 1 thread)
    COLAMD took 1.0 vs 2.8 on a 40k icosphere (MMD's ordering is slow on subdivision meshes), 0.47 vs 0.34 on
    the bunny, 0.43 vs 0.34 on the ogre."""
    try:
        lu = spla.splu(
            (L - tau * M).tocsc(),
            permc_spec="COLAMD",
            diag_pivot_thresh=0.0,
            options={"SymmetricMode": True},
        )
    except RuntimeError:  # an exactly zero pivot: tau is (numerically) an eigenvalue
        return None
    if not np.array_equal(lu.perm_r, lu.perm_c):
        return None
    return int((lu.U.diagonal() < 0).sum())


def _arpack(L, M, k, sigma, ncv, tol, diagonal_mass, seed):
    """ARPACK shift-invert (mode 3) with our own factorization of ``L - sigma M``.

    With a diagonal M the problem is symmetrized to ``M^-1/2 L M^-1/2 y = lambda y`` (no M products inside
    ARPACK), ``phi = M^-1/2 y``.
    """
    n = L.shape[0]
    lu = _factor(L - sigma * M)
    v0 = np.random.default_rng(seed).uniform(0.5, 1.5, n)
    # ARPACK's tol bounds the Ritz estimate relative to |mu|; tighter than our residual tol
    arp_tol = 0.01 * tol
    if diagonal_mass:
        sq = np.sqrt(M.diagonal())
        isq = 1.0 / sq
        op = spla.LinearOperator((n, n), matvec=lambda x: sq * lu.solve(sq * x), dtype=np.float64)
        A = sp.diags(isq) @ L @ sp.diags(isq)
        evals, Y = spla.eigsh(A, k=k, sigma=sigma, OPinv=op, ncv=ncv, tol=arp_tol, v0=v0, which="LM")
        evecs = Y * isq[:, None]
    else:
        op = spla.LinearOperator((n, n), matvec=lu.solve, dtype=np.float64)
        evals, evecs = spla.eigsh(L, k=k, M=M, sigma=sigma, OPinv=op, ncv=ncv, tol=arp_tol, v0=v0, which="LM")
    order = np.argsort(evals)
    return evals[order], evecs[:, order]


def _fix_signs(evecs: np.ndarray) -> np.ndarray:
    idx = np.abs(evecs).argmax(axis=0)
    s = np.sign(evecs[idx, np.arange(evecs.shape[1])])
    s[s == 0] = 1.0
    return evecs * s


def _weyl_lambda(M, k: int, n_components: int) -> float:
    """Weyl's law estimate of the k-th eigenvalue of a surface of total mass ``sum(M)``."""
    area = float(M.sum())
    return 4.0 * np.pi * max(k - n_components, 1) / max(area, np.finfo(float).tiny)


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
    # groups of candidates: (evals (c * kc,), rows (c, s) vertex indices, vecs (c, s, kc)); flat f -> (f // kc, f % kc)
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
    for comp in np.flatnonzero(sizes > _TINY):
        rows = order[starts[comp] : starts[comp + 1]]
        kc = min(int(sizes[comp]), k)
        Ls, Ms = L[rows][:, rows], M[rows][:, rows]
        m_inv_c = None if m_inv is None else m_inv[rows]
        w, X = _solve(Ls, Ms, kc, sigma, tol, dense_max, seed, m_inv_c, block, verify, scale_floor=lam_ref)
        groups.append((w, rows[None, :], X[None]))
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
            f"eigenbasis: the per-component solution of k={k} on V={n} ({n_comp} components) has max residual "
            f"{res.max():.2e} > tol={tol_eff:.1e} at eigenpair {j} (component {comp} of {sizes[comp]} vertices); "
            f"lambda_max <= {lam_max:.2e}: the problem is too ill-conditioned for double precision",
            res,
            (
                f"{n_comp} components, {int((sizes <= _TINY).sum())} batched dense: max residual {res.max():.2e}",
            ),
        )
    return evals, evecs
