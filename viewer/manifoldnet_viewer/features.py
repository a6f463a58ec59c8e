"""The quantities the viewer draws, asked from manifoldnet (the viewer computes no geometry of its own).

Each function takes a :class:`Mesh` and optionally a saved ``OperatorBundle`` (anything with ``evals``,
``evecs``, ``frames`` attributes) whose fields are used instead of recomputing. Only coordinate changes
for drawing live here (a tangent vector in gauge coordinates -> a 3D arrow).
"""

from __future__ import annotations

import numpy as np

from manifoldnet import Mesh, MeshError, geometry

__all__ = [
    "eigenfunctions",
    "eigenpairs",
    "geodesic_distance",
    "heat_kernel_signature",
    "tangent_to_world",
    "transported_field",
    "vertex_frames",
    "vertex_normals",
]


def _bundle_field(bundle, name: str):
    if bundle is None:
        return None
    value = getattr(bundle, name, None)
    if value is None:
        return None
    if hasattr(value, "detach"):  # a torch tensor from a bundle moved with .to(...)
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def eigenpairs(mesh: Mesh, k: int, bundle=None) -> tuple[np.ndarray, np.ndarray]:
    """``(evals (K,), evecs (V, K))`` of the cotan Laplacian (``L phi = lambda M phi``), K >= k.

    From ``bundle`` when it holds at least ``k`` eigenpairs, else from
    :func:`manifoldnet.geometry.laplacian.laplacian` and :func:`manifoldnet.geometry.spectral.eigenbasis`.
    """
    k = int(k)
    if k < 1:
        raise MeshError(f"number of eigenpairs must be >= 1, got {k}")
    evals, evecs = _bundle_field(bundle, "evals"), _bundle_field(bundle, "evecs")
    if evals is not None and evecs is not None and evecs.ndim == 2 and evecs.shape[1] >= k:
        if evecs.shape[0] != mesh.n_verts:
            raise MeshError(
                f"bundle evecs have {evecs.shape[0]} rows but the mesh has {mesh.n_verts} vertices"
            )
        return evals.astype(np.float64), evecs.astype(np.float64)
    if k >= mesh.n_verts:
        raise MeshError(f"asked for {k} eigenpairs on a mesh with only {mesh.n_verts} vertices")
    L, M = geometry.laplacian(mesh)
    return geometry.eigenbasis(L, M, k)


def eigenfunctions(mesh: Mesh, indices, bundle=None) -> np.ndarray:
    """Columns ``indices`` of the eigenbasis, ``(V, len(indices))`` (index 0 is the constant one)."""
    idx = np.atleast_1d(np.asarray(indices, dtype=np.int64))
    if idx.size == 0 or idx.min() < 0:
        raise MeshError(f"eigenfunction indices must be >= 0, got {idx.tolist()}")
    _, evecs = eigenpairs(mesh, int(idx.max()) + 1, bundle)
    return evecs[:, idx]


def heat_kernel_signature(mesh: Mesh, n_times: int = 16, k: int = 128, bundle=None) -> np.ndarray:
    """HKS ``(V, n_times)``: the bundle's when it holds ``n_times`` scales, else
    :func:`manifoldnet.geometry.descriptors.heat_kernel_signature` on ``k`` eigenpairs
    (fewer on a tiny mesh)."""
    stored = _bundle_field(bundle, "hks")
    if stored is not None and stored.ndim == 2 and stored.shape[1] == int(n_times):
        if stored.shape[0] != mesh.n_verts:
            raise MeshError(f"bundle hks has {stored.shape[0]} rows but the mesh has {mesh.n_verts} vertices")
        return stored.astype(np.float64)
    k = int(min(k, mesh.n_verts - 1))
    evals, evecs = eigenpairs(mesh, k, bundle)
    return np.asarray(geometry.heat_kernel_signature(evals, evecs, n_times=int(n_times)))


def geodesic_distance(mesh: Mesh, sources, method: str = "heat") -> np.ndarray:
    """Geodesic distance ``(V,)`` to the nearest of ``sources`` (vertex ids), from
    :func:`manifoldnet.geometry.geodesics.geodesic_distance`."""
    src = np.atleast_1d(np.asarray(sources, dtype=np.int64))
    if src.size == 0:
        raise MeshError("geodesic distance needs at least one source vertex")
    bad = (src < 0) | (src >= mesh.n_verts)
    if bad.any():
        raise MeshError(f"source vertex {int(src[bad][0])} out of range for {mesh.n_verts} vertices")
    return np.asarray(geometry.geodesic_distance(mesh, src, method=method), dtype=np.float64)


def vertex_frames(mesh: Mesh, gauge: str = "intrinsic", bundle=None) -> np.ndarray:
    """Per-vertex frames ``(V, 3, 3)``, rows ``(e1, e2, n)``: the bundle's, else
    :func:`manifoldnet.geometry.frames.vertex_frames`."""
    frames = _bundle_field(bundle, "frames")
    if frames is not None:
        if frames.shape != (mesh.n_verts, 3, 3):
            raise MeshError(f"bundle frames have shape {frames.shape}, expected ({mesh.n_verts}, 3, 3)")
        return frames.astype(np.float64)
    return np.asarray(geometry.vertex_frames(mesh, gauge=gauge), dtype=np.float64)


def vertex_normals(mesh: Mesh) -> np.ndarray:
    """Angle-weighted unit vertex normals ``(V, 3)`` (:func:`manifoldnet.geometry.frames.vertex_normals`)."""
    return np.asarray(geometry.vertex_normals(mesh), dtype=np.float64)


def tangent_to_world(vectors, frames) -> np.ndarray:
    """3D vectors ``(N, 3)`` from gauge coordinates: ``(N, 2)`` real ``(x, y)`` or ``(N,)`` complex
    ``x + iy``, meaning ``x e1 + y e2`` in ``frames`` ``(N, 3, 3)`` (rows e1, e2, n). ``(N, 3)`` input
    is returned as is (already in world coordinates)."""
    v = np.asarray(vectors)
    if np.iscomplexobj(v):
        if v.ndim != 1:
            raise MeshError(f"complex tangent vectors must have shape (N,), got {v.shape}")
        v = np.stack([v.real, v.imag], axis=1)
    v = np.asarray(v, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] not in (2, 3):
        raise MeshError(f"vectors must be (N, 3) world, (N, 2) gauge or (N,) complex, got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        bad = int(np.flatnonzero(~np.isfinite(v).all(axis=1))[0])
        raise MeshError(f"vector {bad} is not finite: {v[bad].tolist()}")
    if v.shape[1] == 3:
        return v
    if frames is None:
        raise MeshError("vectors in gauge coordinates (N, 2) or complex need frames (N, 3, 3)")
    f = np.asarray(frames, dtype=np.float64)
    if f.shape != (v.shape[0], 3, 3):
        raise MeshError(
            f"frames have shape {f.shape}, expected ({v.shape[0]}, 3, 3) for {v.shape[0]} vectors"
        )
    return v[:, :1] * f[:, 0] + v[:, 1:2] * f[:, 1]


def transported_field(mesh: Mesh, source: int, vector=1.0 + 0.0j, frames=None) -> np.ndarray:
    """The tangent vector ``vector`` (complex, in the gauge ``frames`` at ``source``; default e1)
    transported along shortest geodesics to every vertex: ``(V,)`` complex in the same gauge, from
    :func:`manifoldnet.geometry.vector_heat.vector_heat_transport` (0 on components without the source).

    frames : None (intrinsic), a gauge name, or (V, 3, 3) rows (e1, e2, n).
    """
    if not 0 <= int(source) < mesh.n_verts:
        raise MeshError(f"transport source vertex {source} out of range for {mesh.n_verts} vertices")
    z = np.asarray([vector], dtype=np.complex128).reshape(1)
    return np.asarray(geometry.vector_heat_transport(mesh, [int(source)], z, frames=frames))
