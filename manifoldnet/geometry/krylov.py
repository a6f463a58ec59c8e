"""Shift-invert Krylov kernels for ``L phi = lambda M phi`` (the machinery behind
:func:`.spectral.eigenbasis`).

``block_lanczos`` (block Lanczos on a power of ``(L - sigma M)^-1 M`` with locked vectors), ``count_below``
(Sylvester inertia), ``has_cluster`` (when to run it), ``arpack_shift_invert`` (the ladder's fallback) and
``residuals`` (the accuracy every result is judged by). The method and its reasons: :mod:`.spectral`.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .factor import SPDFactor

_log = logging.getLogger("manifoldnet.geometry.spectral")

__all__ = [
    "CLUSTER",
    "PowerTooHigh",
    "arpack_shift_invert",
    "block_lanczos",
    "count_below",
    "has_cluster",
    "residuals",
]


def residuals(L, M, m_inv: np.ndarray | None, evals, evecs, scale_floor: float = 0.0) -> np.ndarray:
    """(K,) ``||L phi - lambda M phi||_{M^-1}`` relative to ``max(max |lambda|, scale_floor)``."""
    R = L @ evecs - (M @ evecs) * evals
    if m_inv is not None:
        norms = np.sqrt(np.einsum("ij,ij,i->j", R, R, m_inv))
    else:
        norms = np.linalg.norm(R, axis=0) / np.sqrt(M.diagonal().mean())
    scale = max(float(np.abs(evals).max()), scale_floor, np.finfo(float).tiny)
    return norms / scale


class PowerTooHigh(Exception):
    """Rounding in ``A^p`` caps the attainable residual above ``tol`` (a measured spread
    or a stalled residual)."""


def block_lanczos(L, M, k, sigma, b, tol, rng, m_inv, lu, diagonal_mass, locked=None, power=2, max_dim=None):
    """Block Lanczos on ``A^p``, ``A = (L - sigma M)^-1 M`` (self-adjoint in the M
    inner product), no restarts.

    ``p = power`` solves per block (module docstring). With a diagonal M the iteration runs on the symmetric
    ``M^1/2 A M^-1/2`` in the Euclidean inner product (no M products, no second basis array). Each new block
    is orthogonalized against the last two blocks (the three-term recurrence) and then once more against the
    whole basis (full re-orthogonalization, two matrix-matrix products). The projection ``T = Q^T M A^p Q``
    comes from those coefficients. Convergence: at each check the Lanczos residual estimates
    ``||B_last s_i|| / nu_i`` rank the Ritz vectors; the true residuals of the ``b`` worst are computed (one
    thin product); when they meet ``tol`` the Ritz vectors are refined by a Rayleigh-Ritz step on ``(L, M)``
    and returned if every true residual meets ``tol`` (else the basis grows on).

    ``lu`` : factorization of ``L - sigma M`` (``.solve``). ``locked`` : ``(X (V, c), mu (c,))`` M-orthonormal
    eigenvectors with their values of ``A`` (``mu = 1 / (lambda - sigma)``), kept in the basis: the null space
    (component indicators), or pairs already verified, so the Krylov space searches their M-complement.

    Returns ``(evals (k,), evecs (V, k), next Ritz value)`` (eigenvalues of ``(L, M)``) or ``None`` when the
    basis limit is reached. Raises :class:`PowerTooHigh` when ``eps nu_max / nu_K`` (the rounding of ``A^p``
    relative to the k-th value) leaves less than a factor 10 below ``tol``, or when (``power > 1``) the
    worst true residual fails twice in a row to halve: rounding stalls it.
    """
    n = L.shape[0]
    c = 0 if locked is None else locked[0].shape[1]
    max_dim = min(n - b, max_dim or (8 * k + 8 * b + c))
    if max_dim <= k:
        return None
    if diagonal_mass:
        d = M.diagonal()
        sq = np.sqrt(d)[:, None]

        def apply(X):
            Y = lu.solve(sq * X)
            for _ in range(power - 1):
                Y = lu.solve(d[:, None] * Y)
            return sq * Y

        def to_x(Y):
            return Y / sq
    else:

        def apply(X):
            Y = lu.solve(M @ X)
            for _ in range(power - 1):
                Y = lu.solve(M @ Y)
            return Y

        def to_x(Y):
            return Y

    Q = np.empty((n, max_dim + b), order="F")
    MQ = Q if diagonal_mass else np.empty_like(Q)  # Euclidean inner product in the symmetrized form

    def mdot(X):
        return X if diagonal_mass else M @ X

    T = np.zeros((max_dim + b, max_dim + b))
    if c:
        Q[:, :c] = locked[0] * sq if diagonal_mass else locked[0]
        if not diagonal_mass:
            MQ[:, :c] = M @ locked[0]
        T[np.arange(c), np.arange(c)] = locked[1] ** power
    W = rng.standard_normal((n, b))
    for _ in range(2 if c else 0):
        W -= Q[:, :c] @ (MQ[:, :c].T @ W)
    MW = mdot(W)
    g, U = np.linalg.eigh(W.T @ MW)
    W, MW = W @ (U / np.sqrt(g)), MW @ (U / np.sqrt(g))
    m, kf = c, k - c  # kf: eigenpairs to find outside the locked ones
    check_at = min(max_dim, c + 2 * kf + b)
    best_res, stalled = np.inf, 0

    def converged(m, start, B):
        """``(evals, evecs, next Ritz value)`` once every true residual meets tol, else None."""
        nonlocal best_res, stalled
        mf = m - c
        if mf <= kf:
            return None
        Tf = T[c:m, c:m]
        nu, S = sla.eigh(0.5 * (Tf + Tf.T), subset_by_index=[mf - kf - 1, mf - 1])
        nu, S = nu[::-1], S[:, ::-1]  # largest first: the smallest eigenvalues of (L, M)
        if nu[kf] <= 0:
            return None
        amp = np.finfo(float).eps * nu[0] / nu[kf - 1]
        # measured: the final residual is at most ~8 amp (bunny, faust, ogre), so demand 5 amp <= tol / 2
        if power > 1 and amp > 0.1 * tol:
            raise PowerTooHigh(f"eps nu_max / nu_K = {amp:.1e}")
        lam = sigma + nu ** (-1.0 / power)
        est = np.linalg.norm(B @ S[start - c : mf, :kf], axis=0) / nu[:kf]
        worst = np.argsort(est)[-b:]
        phi = to_x(Q[:, c:m] @ S[:, worst])
        lam_w = np.einsum("ij,ij->j", phi, L @ phi) / np.einsum("ij,ij->j", phi, M @ phi)
        worst_res = residuals(L, M, m_inv, lam_w, phi, scale_floor=lam[kf - 1]).max()
        if worst_res > 0.5 * tol:
            # rounding in A^p can stall the residual above tol (ill-conditioned L - sigma M): two checks
            # without halving the best residual so far send the caller to a lower power
            stalled = stalled + 1 if worst_res > 0.5 * best_res else 0
            best_res = min(best_res, worst_res)
            if power > 1 and stalled >= 2:
                raise PowerTooHigh(f"the residual stalled at {best_res:.1e}")
            return None
        phi = to_x(Q[:, c:m] @ S[:, :kf])
        if c:
            phi = np.hstack([locked[0], phi])
        H, G = phi.T @ (L @ phi), phi.T @ (M @ phi)
        evals, Y = sla.eigh(0.5 * (H + H.T), 0.5 * (G + G.T))
        phi = phi @ Y
        res = residuals(L, M, m_inv, evals, phi).max()
        if res > tol:
            return None
        _log.debug(
            "block Lanczos: basis %d, block %d, power %d, locked %d, residual %.1e", m, b, power, c, res
        )
        return evals, phi, lam[kf]

    while True:
        w = W.shape[1]
        Q[:, m : m + w] = W
        if not diagonal_mass:
            MQ[:, m : m + w] = MW
        start, m = m, m + w
        Z = apply(W)
        lo = max(c, start - 2 * b)
        C = MQ[:, lo:m].T @ Z
        Z -= Q[:, lo:m] @ C
        T[lo:m, start:m] += C
        C = MQ[:, :m].T @ Z
        Z -= Q[:, :m] @ C
        T[c:m, start:m] += C[c:]  # the locked block stays exact (couplings are rounding)
        MZ = mdot(Z)
        g, U = np.linalg.eigh(Z.T @ MZ)
        keep = g > 1e-12 * max(g.max(), np.finfo(float).tiny)
        B = (U[:, keep] * np.sqrt(g[keep])).T  # Z = W_next B, W_next orthonormal
        scale = U[:, keep] / np.sqrt(g[keep])
        W, MW = Z @ scale, MZ @ scale
        T[m : m + B.shape[0], start:m] = B
        exhausted = W.shape[1] == 0 or m + W.shape[1] > max_dim
        if m >= check_at or exhausted:
            check_at = m + max(2 * b, m // 8)
            out = converged(m, start, B)
            if out is not None:
                return out
        if exhausted:
            return None


CLUSTER = 0.02  # relative spread of b computed eigenvalues that triggers the inertia count


def has_cluster(vals: np.ndarray, b: int) -> bool:
    """Whether ``b`` consecutive values of the ascending positive ``vals`` lie within ``CLUSTER`` (relative).

    A block Krylov method with block size b holds at most b vectors of one eigenspace, and the members of a
    tight cluster converge together: a cluster larger than the block, whose missed members the inertia count
    must find, shows as b computed values within a small relative spread. Generic spectra do not: Weyl's law
    spaces them about ``1 / j`` apart (relative) at index j, so b values span about ``b / j`` (6% for b = 8
    at j = 128).
    """
    if vals.size < b or b < 2:
        return vals.size >= 1 and b < 2
    spread = vals[b - 1 :] - vals[: vals.size - b + 1]
    return bool((spread <= CLUSTER * np.abs(vals[b - 1 :])).any())


def count_below(L, M, tau: float) -> int | None:
    """Number of eigenvalues of ``L phi = lambda M phi`` below ``tau`` (Sylvester's inertia of ``L - tau M``),
    or ``None`` when the factorization pivoted off the diagonal or hit a zero pivot (inertia not readable).

    COLAMD, not the solver's MMD: the count needs no solves, only the factorization, and there (CPU s, 1
    thread) COLAMD took 1.0 vs 2.8 on a 40k icosphere (MMD's ordering is slow on subdivision meshes), 0.47 vs
    0.34 on the bunny, 0.43 vs 0.34 on the ogre."""
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


def arpack_shift_invert(L, M, k, sigma, ncv, tol, diagonal_mass, seed, lu=None):
    """ARPACK shift-invert (mode 3) with our own factorization ``lu`` of ``L - sigma M`` (computed if None).

    With a diagonal M the problem is symmetrized to ``M^-1/2 L M^-1/2 y = lambda y`` (no M products inside
    ARPACK), ``phi = M^-1/2 y``.
    """
    n = L.shape[0]
    lu = SPDFactor(L - sigma * M, what="shifted matrix L - sigma M") if lu is None else lu
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
