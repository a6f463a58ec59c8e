"""``compute_operators``: build an :class:`OperatorBundle` from a mesh or a point cloud.

Only the fields asked for are stored; their dependencies are computed on the way (the field table,
:data:`manifoldnet.operators.fields.FIELD_TABLE`, says what each field stores and needs). All geometry comes
from :mod:`manifoldnet.geometry` (numpy/scipy, float64); the results are cast to ``spec.dtype`` for storage.

A cast never passes quietly (issue 18 item 10): a finite value that would become ``inf`` in ``spec.dtype``,
or a non-zero array that would become entirely zero or denormal, raises :class:`MeshError` naming the field
and the mesh's scale. float32 holds about 1e-38 .. 3e38 and the fields scale with the mesh (by ``s``):
coordinates ``s``, vertex areas ``s^2``, eigenvectors and gradients ``1/s``, HKS/WKS ``1/s^2``; so a float32
bundle of a mesh scaled far outside about 1e-18 .. 1e18 is refused (store float64, or rescale the mesh).
Nothing refused reaches the cache.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.sparse as sp

from ..errors import MeshError
from ..geometry.frames import vertex_frames, vertex_normals
from ..geometry.gradient import vertex_gradient
from ..geometry.laplacian import _check_points, laplacian, point_cloud_laplacian
from ..geometry.logmap import gauge_offsets, one_ring_logmap
from ..geometry.patches import geodesic_patches
from ..geometry.spectral import eigenbasis
from ..geometry.transport import edge_transport
from ..mesh import Mesh
from .bundle import OperatorBundle
from .casting import _cast, descriptors_from_eigenbasis
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
    return _check_points(mesh_or_points)


def _scale_of(geom) -> str:
    """The mesh scale for an error message: its area (a mesh) and bounding-box diagonal."""
    v = geom.verts if isinstance(geom, Mesh) else np.asarray(geom)
    diag = float(np.linalg.norm(v.max(axis=0) - v.min(axis=0))) if len(v) else 0.0
    area = f"area {geom.total_area:.3g}, " if isinstance(geom, Mesh) else ""
    return f"{area}bounding-box diagonal {diag:.3g}"


def compute_operators(
    mesh_or_points, fields=None, spec: OperatorSpec | None = None, **params
) -> OperatorBundle:
    """Compute the operator fields of a mesh or point cloud.

    Parameters
    ----------
    mesh_or_points : Mesh, ``(verts, faces)``, a trimesh, or (N, 3) points (point clouds support the fields
        that are not ``mesh_only`` in the field table; their Laplacian and mass are
        :func:`~manifoldnet.geometry.laplacian.point_cloud_laplacian`'s,
        ``spec.laplacian``/``spec.mass`` unused).
    fields : names from :data:`~manifoldnet.operators.spec.FIELDS`, the field table
        (overrides ``spec.fields``).
    spec : a base :class:`OperatorSpec`; ``**params`` override its parameters (``k=64, gauge="world"``).

    Raises
    ------
    MeshError
        invalid mesh, a mesh-only field asked of a point cloud, any error from the geometry functions, or a
        field that does not fit ``spec.dtype`` at this mesh scale (module docstring).
    """
    if fields is not None:
        params["fields"] = fields
    spec = OperatorSpec.make(spec, **params)
    geom = as_mesh_or_points(mesh_or_points)
    is_mesh = isinstance(geom, Mesh)
    dt = np.dtype(spec.dtype)
    out: dict = {}
    scale = functools.partial(_scale_of, geom)  # only evaluated for an error message

    if not is_mesh:
        bad = [f for f in spec.fields if f in _MESH_ONLY]
        if bad:
            ok = ", ".join(name for name in FIELD_TABLE if name not in _MESH_ONLY)
            raise MeshError(f"fields {bad} need a triangle mesh; a point cloud supports {ok}")
        verts = geom
    else:
        verts = geom.verts
        out["faces"] = geom.faces
    # first: a mesh whose coordinates do not fit the dtype gets nothing computed (issue 18 item 10)
    verts_out = _cast(verts, dt, "verts", scale)

    L = M = None
    if spec.computes("mass") or spec.computes("laplacian"):  # computed together
        if is_mesh:
            L, M = laplacian(geom, kind=spec.laplacian, mass=spec.mass)
        else:
            L, M = point_cloud_laplacian(geom, n_neighbors=spec.n_neighbors)
        if spec.needs("mass"):
            out["mass"] = _cast(M.diagonal(), dt, "mass", scale)
        if spec.needs("laplacian"):
            out["laplacian"] = _cast(L, dt, "laplacian", scale)

    if spec.needs_eigenbasis:
        kw = {}
        if spec.eig_sigma is not None:
            kw["sigma"] = spec.eig_sigma
        if spec.eig_tol is not None:
            kw["tol"] = spec.eig_tol
        evals, evecs = eigenbasis(L, M, spec.k, **kw)
        if spec.needs("eigenbasis"):
            out["evals"] = np.asarray(evals, dtype=np.float64)
            out["evecs"] = _cast(evecs, dt, "evecs", scale)
        out["hks"], out["wks"] = descriptors_from_eigenbasis(spec, evals, evecs, scale)

    if is_mesh and spec.needs("normals"):
        out["normals"] = _cast(vertex_normals(geom), dt, "normals", scale)

    if is_mesh and spec.needs_frames:
        frames = vertex_frames(geom, gauge=spec.gauge)
        if spec.needs("frames"):
            out["frames"] = _cast(frames, dt, "frames", scale)
        if spec.needs("gradient"):
            G = sp.csr_matrix(vertex_gradient(geom, frames=frames, method=spec.gradient))
            out["grad_x"] = _cast(G.real, dt, "grad_x", scale)
            out["grad_y"] = _cast(G.imag, dt, "grad_y", scale)
        offsets = None
        if spec.needs("logmap") or spec.needs("transport") or spec.needs("patches"):
            offsets = gauge_offsets(
                geom, frames
            )  # once for both (the frames as angles from the reference edges)
        if spec.needs("logmap"):
            ei, r, theta = one_ring_logmap(geom, frames=offsets)
            out["edge_index"] = _cast(ei, dt)
            out["logmap_r"] = _cast(r, dt, "logmap_r", scale)
            out["logmap_theta"] = _cast(theta, dt, "logmap_theta", scale)
        if spec.needs("transport"):
            ei, rho = edge_transport(geom, frames=offsets)
            ei = _cast(ei, dt)
            if "edge_index" in out and not np.array_equal(out["edge_index"], ei):
                raise MeshError(
                    "logmap and transport returned different edge orders (geometry contract broken)"
                )
            out["edge_index"] = ei
            out["transport_rho"] = _cast(rho, dt, "transport_rho", scale)
        if spec.needs("patches"):
            p = geodesic_patches(
                geom, radius=spec.patch_radius, k=spec.patch_k, rings=spec.patch_rings, frames=offsets
            )
            out["patch_index"] = _cast(p.edge_index, dt)
            out["patch_r"] = _cast(p.r, dt, "patch_r", scale)
            out["patch_theta"] = _cast(p.theta, dt, "patch_theta", scale)
            out["patch_rho"] = _cast(p.transport, dt, "patch_rho", scale)

    return OperatorBundle(spec=spec, verts=verts_out, **out)
