"""``compute_operators``: build an :class:`OperatorBundle` from a mesh or a point cloud.

Only the fields asked for are stored; their dependencies are computed on the way (the field table,
:data:`manifoldnet.operators.fields.FIELD_TABLE`, says what each field stores and needs). All geometry comes
from :mod:`manifoldnet.geometry` (numpy/scipy, float64); the results are cast to ``spec.dtype`` for storage.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import MeshError
from ..mesh import Mesh
from .bundle import OperatorBundle
from .fields import FIELD_TABLE
from .spec import OperatorSpec

__all__ = ["as_mesh_or_points", "compute_operators", "descriptors_from_eigenbasis"]

_MESH_ONLY = tuple(name for name, f in FIELD_TABLE.items() if f.mesh_only)


def as_mesh_or_points(mesh_or_points) -> Mesh | np.ndarray:
    """A :class:`Mesh` (from a Mesh or a ``(verts, faces)`` pair) or an (N, 3) float64 point array."""
    if isinstance(mesh_or_points, Mesh):
        return mesh_or_points
    if isinstance(mesh_or_points, tuple) and len(mesh_or_points) == 2:
        return Mesh(*mesh_or_points)
    if hasattr(mesh_or_points, "vertices") and hasattr(mesh_or_points, "faces"):  # trimesh.Trimesh
        return Mesh(mesh_or_points.vertices, mesh_or_points.faces)
    from ..geometry.laplacian import _check_points

    return _check_points(mesh_or_points)


def _cast(a, dtype):
    if a is None:
        return None
    if sp.issparse(a):  # index arrays keep scipy's choice (int32 below 2^31 entries: half the bytes on disk)
        a = sp.csr_matrix(a)
        a.sort_indices()
        return sp.csr_matrix((a.data.astype(dtype), a.indices, a.indptr), shape=a.shape)
    a = np.asarray(a)
    if a.dtype.kind == "f":
        return np.ascontiguousarray(a, dtype=dtype)
    if a.dtype.kind in "iu":
        return np.ascontiguousarray(a, dtype=np.int64)
    return a


def descriptors_from_eigenbasis(spec: OperatorSpec, evals, evecs):
    """(hks, wks) as asked for by ``spec`` (None where not asked), cast to ``spec.dtype``."""
    if not (spec.needs("hks") or spec.needs("wks")):
        return None, None
    from ..geometry.descriptors import heat_kernel_signature, wave_kernel_signature

    ev = np.asarray(evals, dtype=np.float64)
    phi = np.asarray(evecs, dtype=np.float64)
    hks = heat_kernel_signature(ev, phi, n_times=spec.n_hks) if spec.needs("hks") else None
    wks = wave_kernel_signature(ev, phi, n_energies=spec.n_wks) if spec.needs("wks") else None
    return _cast(hks, spec.dtype), _cast(wks, spec.dtype)


def compute_operators(
    mesh_or_points, fields=None, spec: OperatorSpec | None = None, **params
) -> OperatorBundle:
    """Compute the operator fields of a mesh or point cloud.

    Parameters
    ----------
    mesh_or_points : Mesh, ``(verts, faces)``, a trimesh, or (N, 3) points (point clouds support the fields
        that are not ``mesh_only`` in the field table; their Laplacian and mass are
        :func:`~manifoldnet.geometry.laplacian.point_cloud_laplacian`'s, ``spec.laplacian``/``spec.mass`` unused).
    fields : names from :data:`~manifoldnet.operators.spec.FIELDS`, the field table (overrides ``spec.fields``).
    spec : a base :class:`OperatorSpec`; ``**params`` override its parameters (``k=64, gauge="world"``).

    Raises
    ------
    MeshError
        invalid mesh, a mesh-only field asked of a point cloud, or any error from the geometry functions.
    """
    if fields is not None:
        params["fields"] = fields
    spec = OperatorSpec.make(spec, **params)
    geom = as_mesh_or_points(mesh_or_points)
    is_mesh = isinstance(geom, Mesh)
    dt = np.dtype(spec.dtype)
    out: dict = {}

    if not is_mesh:
        bad = [f for f in spec.fields if f in _MESH_ONLY]
        if bad:
            ok = ", ".join(name for name in FIELD_TABLE if name not in _MESH_ONLY)
            raise MeshError(f"fields {bad} need a triangle mesh; a point cloud supports {ok}")
        verts = geom
    else:
        verts = geom.verts
        out["faces"] = geom.faces

    L = M = None
    if spec.computes("mass") or spec.computes("laplacian"):  # computed together
        if is_mesh:
            from ..geometry.laplacian import laplacian

            L, M = laplacian(geom, kind=spec.laplacian, mass=spec.mass)
        else:
            from ..geometry.laplacian import point_cloud_laplacian

            L, M = point_cloud_laplacian(geom, n_neighbors=spec.n_neighbors)
        if spec.needs("mass"):
            out["mass"] = _cast(M.diagonal(), dt)
        if spec.needs("laplacian"):
            out["laplacian"] = _cast(L, dt)

    if spec.needs_eigenbasis:
        from ..geometry.spectral import eigenbasis

        kw = {}
        if spec.eig_sigma is not None:
            kw["sigma"] = spec.eig_sigma
        if spec.eig_tol is not None:
            kw["tol"] = spec.eig_tol
        evals, evecs = eigenbasis(L, M, spec.k, **kw)
        if spec.needs("eigenbasis"):
            out["evals"] = np.asarray(evals, dtype=np.float64)
            out["evecs"] = _cast(evecs, dt)
        out["hks"], out["wks"] = descriptors_from_eigenbasis(spec, evals, evecs)

    if is_mesh and spec.needs("normals"):
        from ..geometry.frames import vertex_normals

        out["normals"] = _cast(vertex_normals(geom), dt)

    if is_mesh and spec.needs_frames:
        from ..geometry.frames import vertex_frames

        frames = vertex_frames(geom, gauge=spec.gauge)
        if spec.needs("frames"):
            out["frames"] = _cast(frames, dt)
        if spec.needs("gradient"):
            from ..geometry.gradient import vertex_gradient

            G = sp.csr_matrix(vertex_gradient(geom, frames=frames, method=spec.gradient))
            out["grad_x"] = _cast(G.real, dt)
            out["grad_y"] = _cast(G.imag, dt)
        offsets = None
        if spec.needs("logmap") or spec.needs("transport") or spec.needs("patches"):
            from ..geometry.logmap import gauge_offsets

            offsets = gauge_offsets(
                geom, frames
            )  # once for both (the frames as angles from the reference edges)
        if spec.needs("logmap"):
            from ..geometry.logmap import one_ring_logmap

            ei, r, theta = one_ring_logmap(geom, frames=offsets)
            out["edge_index"] = _cast(ei, dt)
            out["logmap_r"], out["logmap_theta"] = _cast(r, dt), _cast(theta, dt)
        if spec.needs("transport"):
            from ..geometry.transport import edge_transport

            ei, rho = edge_transport(geom, frames=offsets)
            ei = _cast(ei, dt)
            if "edge_index" in out and not np.array_equal(out["edge_index"], ei):
                raise MeshError(
                    "logmap and transport returned different edge orders (geometry contract broken)"
                )
            out["edge_index"] = ei
            out["transport_rho"] = _cast(rho, dt)
        if spec.needs("patches"):
            from ..geometry.patches import geodesic_patches

            p = geodesic_patches(geom, radius=spec.patch_radius, k=spec.patch_k, frames=offsets)
            out["patch_index"] = _cast(p.edge_index, dt)
            out["patch_r"], out["patch_theta"] = _cast(p.r, dt), _cast(p.theta, dt)
            out["patch_rho"] = _cast(p.transport, dt)

    return OperatorBundle(spec=spec, verts=_cast(verts, dt), **out)
