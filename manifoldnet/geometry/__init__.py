"""Geometry on plain arrays (numpy/scipy only; never torch, never the viewer).

One mathematical concept per module; the public functions are re-exported here lazily.
"""

from __future__ import annotations

from ..lazy import lazy_exports

# A function named like its module must be bound eagerly: importing the submodule (``import
# manifoldnet.geometry.laplacian``) would otherwise rebind the package attribute to the module.
from .laplacian import laplacian  # noqa: F401

# public name -> submodule (filled in as modules land)
_LAZY: dict[str, str] = {
    "HeatMethodSolver": "geodesics",
    "geodesic_distance": "geodesics",
    "all_pairs_distances": "geodesics",
    "split_long_edges": "refine",
    "exact_geodesic_distance": "exact_geodesics",
    "vector_heat_transport": "vector_heat",
    "vector_heat_logmap": "vector_heat",
    "VectorHeatSolver": "vector_heat",
    "geodesic_patches": "patches",
    "GeodesicPatches": "patches",
    "laplacian": "laplacian",
    "cotan_laplacian": "laplacian",
    "robust_laplacian": "laplacian",
    "mass_matrix": "laplacian",
    "point_cloud_laplacian": "laplacian",
    "eigenbasis": "spectral",
    "SPDFactor": "factor",
    "EigenbasisError": "spectral",
    "heat_kernel_signature": "descriptors",
    "hks_times": "descriptors",
    "wave_kernel_signature": "descriptors",
    "wks_energies": "descriptors",
    "gaussian_curvature": "curvature",
    "mean_curvature": "curvature",
    "principal_curvatures": "curvature",
    "halfedge_lengths": "elements",
    "corner_angles": "elements",
    "corner_angles_from_lengths": "elements",
    "halfedge_cotans_from_lengths": "elements",
    "face_areas_from_lengths": "elements",
    "vertex_angle_sums": "elements",
    "VertexFans": "fans",
    "vertex_fans": "fans",
    "directed_edges": "fans",
    "vertex_normals": "frames",
    "tangent_frames": "frames",
    "vertex_frames": "frames",
    "face_frames": "frames",
    "gauge_offsets": "logmap",
    "one_ring_logmap": "logmap",
    "two_ring_logmap": "logmap",
    "point_cloud_logmap": "logmap",
    "edge_transport": "transport",
    "connection_face_curvature": "transport",
    "connection_laplacian": "transport",
    "holonomy": "transport",
    "point_cloud_transport": "transport",
    "face_gradient": "gradient",
    "divergence": "gradient",
    "vertex_gradient": "gradient",
    "point_cloud_gradient": "gradient",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
