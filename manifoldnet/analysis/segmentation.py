"""Unsupervised segmentation: spectral clustering of the Laplace-Beltrami eigenbasis, with region smoothing.

Each vertex is embedded by the low eigenfunctions (``phi_1 .. phi_m``, the constant ``phi_0`` dropped),
scaled by ``1 / sqrt(lambda)`` (the commute-time embedding: distances approximate diffusion distances, so
parts joined by narrow necks fall apart) or by ``exp(-t lambda)`` (heat), or unscaled; optionally each row
is normalised (Ng-Jordan-Weiss). A mass-weighted k-means (k-means++ seeding, several restarts) groups the
rows; the labels are then smoothed by diffusing their indicator functions, ``(M + tau L) U = M onehot``,
and taking the largest per vertex, which removes speckle and straightens region borders.

:func:`protrusion_segmentation` is the alternative for shapes made of a body with limbs, where k-means
splits the big body and merges limbs: the ``n_clusters - 1`` most persistent maxima of the heat kernel
signature at a small time (:func:`manifoldnet.analysis.keypoints.hks_keypoints`, the tips) and the body
centre (the vertex nearest the origin of the commute-time embedding, i.e. with the smallest mean commute
distance to the rest) seed a Voronoi partition in the commute-time embedding; the body seed is then moved
to the centroid of its cell (tips fixed) until the cells settle, and the labels are smoothed the same way.

Conventions
-----------
labels : (V,) int64 in ``[0, n_clusters)``; clusters are numbered by decreasing area. Unreferenced vertices
(zero rows) take the label of cluster 0 after smoothing and should be ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from ..errors import MeshError
from ..geometry.laplacian import laplacian
from ..geometry.spectral import eigenbasis
from ..mesh import Mesh
from .keypoints import hks_keypoints

__all__ = [
    "Segmentation",
    "kmeans",
    "protrusion_segmentation",
    "smooth_labels",
    "spectral_clustering",
    "spectral_embedding",
]

EMBEDDINGS = ("commute", "heat", "eigen")


@dataclass(frozen=True)
class Segmentation:
    """labels (V,) int64 after smoothing; raw_labels (V,) before; embedding (V, m); inertia of k-means."""

    labels: np.ndarray
    raw_labels: np.ndarray
    embedding: np.ndarray
    inertia: float


def kmeans(
    X,
    k: int,
    *,
    weights=None,
    n_init: int = 8,
    max_iter: int = 100,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted k-means (Lloyd) with k-means++ seeding: ``(labels (N,), centers (k, d), inertia)``.

    X : (N, d) float. weights : (N,) non-negative (e.g. vertex areas), default 1. The best of ``n_init``
    seeded restarts (lowest weighted inertia) is returned; deterministic for a given ``seed``.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise MeshError(f"X must be a non-empty (N, d) array, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise MeshError(
            f"X has non-finite values (first at row {int(np.flatnonzero(~np.isfinite(X).all(1))[0])})"
        )
    N = X.shape[0]
    if int(k) != k or not 1 <= k <= N:
        raise MeshError(f"k must be an integer in [1, {N}], got {k}")
    k = int(k)
    w = np.ones(N) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape != (N,) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise MeshError(f"weights must be (N,) = ({N},) finite, non-negative, not all zero")
    rng = np.random.default_rng(seed)
    xn = np.einsum("ij,ij->i", X, X)

    def sqdist(C):
        return np.maximum(xn[:, None] - 2.0 * X @ C.T + np.einsum("ij,ij->i", C, C)[None, :], 0.0)

    best = None
    for _ in range(max(1, int(n_init))):
        # k-means++: each next centre drawn with probability proportional to w * (distance to nearest)^2
        C = np.empty((k, X.shape[1]))
        C[0] = X[rng.choice(N, p=w / w.sum())]
        d2 = sqdist(C[:1])[:, 0]
        for c in range(1, k):
            p = w * d2
            C[c] = X[rng.choice(N, p=p / p.sum())] if p.sum() > 0 else X[rng.integers(N)]
            d2 = np.minimum(d2, sqdist(C[c : c + 1])[:, 0])
        labels = np.full(N, -1)
        for _it in range(max_iter):
            new = np.argmin(sqdist(C), axis=1)
            if np.array_equal(new, labels):
                break
            labels = new
            mass = np.bincount(labels, weights=w, minlength=k)
            sums = np.zeros_like(C)
            np.add.at(sums, labels, X * w[:, None])
            empty = mass <= 0
            C = np.where(empty[:, None], C, sums / np.where(empty, 1.0, mass)[:, None])
            if empty.any():  # re-seed an empty cluster at the worst-served point
                far = np.argsort(-(w * sqdist(C).min(axis=1)))[: int(empty.sum())]
                C[empty] = X[far]
        inertia = float((w * sqdist(C)[np.arange(N), labels]).sum())
        if best is None or inertia < best[2]:
            best = (labels.astype(np.int64), C, inertia)
    return best


def spectral_embedding(
    evals, evecs, n_dims: int, *, kind: str = "commute", t: float | None = None, normalize_rows: bool = False
) -> np.ndarray:
    """(V, n_dims) rows ``phi_i(v) * s(lambda_i)`` for i = 1..n_dims (module docstring for ``kind``).

    t : heat time for ``kind="heat"`` (default ``1 / lambda_1``).
    """
    evals = np.asarray(evals, dtype=np.float64)
    evecs = np.asarray(evecs, dtype=np.float64)
    if evecs.ndim != 2 or evals.shape != (evecs.shape[1],):
        raise MeshError(f"evals must be (K,) and evecs (V, K); got {evals.shape} and {evecs.shape}")
    if int(n_dims) != n_dims or not 1 <= n_dims <= evals.size - 1:
        raise MeshError(
            f"n_dims must be in [1, {evals.size - 1}] (eigenpairs after the constant), got {n_dims}"
        )
    if kind not in EMBEDDINGS:
        raise MeshError(f"unknown embedding {kind!r}; expected one of {EMBEDDINGS}")
    lam = evals[1 : n_dims + 1]
    phi = evecs[:, 1 : n_dims + 1]
    if kind != "eigen" and not (lam > 0).all():
        raise MeshError(
            f"eigenvalue {lam.min():.3g} after the first is not positive: the mesh has several components; "
            "segment each component, or use kind='eigen'"
        )
    if kind == "commute":
        Y = phi / np.sqrt(lam)
    elif kind == "heat":
        t = 1.0 / lam[0] if t is None else float(t)
        if not (np.isfinite(t) and t > 0):
            raise MeshError(f"t must be a positive finite number, got {t}")
        Y = phi * np.exp(-t * lam)
    else:
        Y = phi.copy()
    if normalize_rows:
        n = np.linalg.norm(Y, axis=1, keepdims=True)
        Y = Y / np.where(n > 0, n, 1.0)
    return Y


def smooth_labels(L, M, labels, tau: float, n_labels: int | None = None) -> np.ndarray:
    """(V,) int64: labels after diffusing their indicators for time ``tau``: argmax of ``(M + tau L)^-1 M U``.

    L : (V, V) weak PSD Laplacian, M : (V, V) mass (sparse). tau >= 0 (0 returns the labels unchanged).
    """
    lab = np.asarray(labels)
    V = lab.shape[0] if lab.ndim == 1 else -1
    if lab.ndim != 1 or lab.dtype.kind not in "iu" or (lab.size and lab.min() < 0):
        raise MeshError("labels must be a 1-D array of non-negative integers")
    if L.shape != (V, V) or M.shape != (V, V):
        raise MeshError(f"L and M must be ({V}, {V}) for {V} labels, got {L.shape} and {M.shape}")
    if not (np.isfinite(tau) and tau >= 0):
        raise MeshError(f"tau must be finite and >= 0, got {tau}")
    if tau == 0:
        return lab.astype(np.int64)
    n = int(lab.max()) + 1 if n_labels is None else int(n_labels)
    U = sp.csr_matrix((np.ones(V), (np.arange(V), lab)), shape=(V, n))
    A = (sp.csr_matrix(M) + tau * sp.csr_matrix(L)).tocsc()
    S = splu(A).solve(np.asarray((M @ U).todense()))
    return np.argmax(S, axis=1).astype(np.int64)


def _operators(mesh: Mesh, n_eig: int, L, M, evals, evecs):
    if L is None or M is None:
        L, M = laplacian(mesh)
    if evals is None or evecs is None:
        evals, evecs = eigenbasis(L, M, min(n_eig, mesh.n_verts))
    return L, M, evals, evecs


def _finish(L, M, m, raw, n_clusters: int, smoothing: float, Y, inertia: float) -> Segmentation:
    """Smooth ``raw`` labels and number the clusters by decreasing area (deterministic output)."""
    tau = (smoothing * np.sqrt(float(m.sum()))) ** 2
    lab = smooth_labels(L, M, raw, tau, n_labels=n_clusters) if tau > 0 else raw
    areas = np.bincount(lab, weights=m, minlength=n_clusters)
    rename = np.empty(n_clusters, dtype=np.int64)
    rename[np.lexsort((np.arange(n_clusters), -areas))] = np.arange(n_clusters)
    return Segmentation(rename[lab], rename[raw], Y, inertia)


def _check_common(mesh, n_clusters, smoothing) -> None:
    if not isinstance(mesh, Mesh):
        raise MeshError(f"expected a manifoldnet.Mesh, got {type(mesh).__name__}")
    if int(n_clusters) != n_clusters or not 1 <= n_clusters <= mesh.n_verts:
        raise MeshError(f"n_clusters must be an integer in [1, {mesh.n_verts}], got {n_clusters}")
    if not (np.isfinite(smoothing) and smoothing >= 0):
        raise MeshError(f"smoothing must be finite and >= 0, got {smoothing}")


def spectral_clustering(
    mesh: Mesh,
    n_clusters: int,
    *,
    n_dims: int | None = None,
    kind: str = "commute",
    normalize_rows: bool = False,
    smoothing: float = 0.02,
    n_init: int = 8,
    seed: int = 0,
    features=None,
    feature_weight: float = 1.0,
    L=None,
    M=None,
    evals=None,
    evecs=None,
) -> Segmentation:
    """Segment ``mesh`` into ``n_clusters`` parts (module docstring).

    n_dims : eigenfunctions in the embedding (default ``n_clusters``). smoothing : smoothing length as a
    fraction of ``sqrt(area)``; ``tau = (smoothing * sqrt(area))^2`` (0 disables). L, M, evals, evecs :
    precomputed operators (default: cotan Laplacian, lumped mass, ``n_dims + 1`` eigenpairs).
    features : optional (V, C) per-vertex features (e.g. log HKS) appended to the embedding: each block
    (embedding, features) is centred and scaled to unit total RMS (area-weighted), the features then
    multiplied by ``feature_weight``.
    """
    _check_common(mesh, n_clusters, smoothing)
    n_dims = int(n_clusters) if n_dims is None else int(n_dims)
    L, M, evals, evecs = _operators(mesh, n_dims + 1, L, M, evals, evecs)
    Y = spectral_embedding(evals, evecs, n_dims, kind=kind, normalize_rows=normalize_rows)
    m = np.asarray(M.diagonal()) if sp.issparse(M) else np.asarray(M).reshape(-1)
    if features is not None:
        Fe = np.asarray(features, dtype=np.float64)
        Fe = Fe[:, None] if Fe.ndim == 1 else Fe
        if Fe.shape[0] != mesh.n_verts or Fe.ndim != 2 or not np.isfinite(Fe).all():
            raise MeshError(f"features must be finite (V, C) with V = {mesh.n_verts}, got shape {Fe.shape}")
        if not (np.isfinite(feature_weight) and feature_weight >= 0):
            raise MeshError(f"feature_weight must be finite and >= 0, got {feature_weight}")

        def unit(X):
            X = X - (m @ X) / m.sum()
            rms = np.sqrt((m @ (X**2)).sum() / m.sum())
            return X / rms if rms > 0 else X

        Y = np.concatenate([unit(Y), feature_weight * unit(Fe)], axis=1)
    raw, _, inertia = kmeans(Y, n_clusters, weights=m, n_init=n_init, seed=seed)
    return _finish(L, M, m, raw, int(n_clusters), smoothing, Y, inertia)


def protrusion_segmentation(
    mesh: Mesh,
    n_clusters: int,
    *,
    n_dims: int = 30,
    time: float | None = None,
    centre_steps: int = 20,
    smoothing: float = 0.02,
    L=None,
    M=None,
    evals=None,
    evecs=None,
) -> Segmentation:
    """Body + protrusions: Voronoi cells, in the commute-time embedding, of HKS tips and the body centre.

    n_clusters : tips + 1 (the body). n_dims : eigenfunctions in the commute-time embedding (clipped to the
    eigenpairs available). time : HKS time of the tips (default that of :func:`hks_keypoints`, a small scale).
    centre_steps : at most this many one-sided Lloyd steps: the body seed moves to the area-weighted
    centroid of its cell while the tips stay fixed (0 keeps the centre vertex); stops when the cells settle.
    smoothing, L, M : as in :func:`spectral_clustering`. evals, evecs : precomputed eigenbasis (default
    ``max(n_dims + 1, 60)`` pairs). Returns a :class:`Segmentation` whose ``inertia`` is the area-weighted
    squared distance of each vertex to its seed. If ``f`` has fewer than ``n_clusters - 1`` local maxima,
    fewer clusters are non-empty.

    Conventions
    -----------
    Seeds are the tips by decreasing persistence, then the centre; labels are renumbered by decreasing area.
    """
    _check_common(mesh, n_clusters, smoothing)
    if int(n_dims) != n_dims or n_dims < 1:
        raise MeshError(f"n_dims must be a positive integer, got {n_dims}")
    if int(centre_steps) != centre_steps or centre_steps < 0:
        raise MeshError(f"centre_steps must be a non-negative integer, got {centre_steps}")
    L, M, evals, evecs = _operators(mesh, max(int(n_dims) + 1, 60), L, M, evals, evecs)
    n_dims = min(int(n_dims), np.asarray(evals).size - 1)
    Y = spectral_embedding(evals, evecs, n_dims, kind="commute")
    m = np.asarray(M.diagonal()) if sp.issparse(M) else np.asarray(M).reshape(-1)
    k = int(n_clusters)
    tips = np.empty(0, dtype=np.int64)
    if k > 1:
        tips = hks_keypoints(mesh, time, n=k - 1, min_persistence=0.0, evals=evals, evecs=evecs)[0].vertices
    y2 = np.einsum("ij,ij->i", Y, Y)
    centre = int(np.argmin(np.where(m > 0, y2, np.inf)))
    seeds = np.concatenate([tips[tips != centre], [centre]]).astype(np.int64)
    S = Y[seeds]
    b = S.shape[0] - 1  # the body's cell
    raw = np.full(Y.shape[0], -1, dtype=np.int64)
    for _ in range(int(centre_steps) + 1):
        d2 = np.maximum(y2[:, None] - 2.0 * Y @ S.T + np.einsum("ij,ij->i", S, S)[None, :], 0.0)
        new = np.argmin(d2, axis=1).astype(np.int64)
        if np.array_equal(new, raw):
            break
        raw = new
        body = raw == b
        if m[body].sum() > 0:  # the tips stay anchored; the body seed moves to its cell's centroid
            S[b] = (m[body] @ Y[body]) / m[body].sum()
    inertia = float(m @ d2[np.arange(raw.size), raw])
    return _finish(L, M, m, raw, k, smoothing, Y, inertia)
