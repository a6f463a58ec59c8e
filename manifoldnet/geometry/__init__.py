"""Geometry on plain arrays (numpy/scipy only; never torch, never the viewer).

One mathematical concept per module; the public functions are re-exported here. Optional or slower
dependencies (potpourri3d, pygeodesic, robust_laplacian) are imported by the functions that use them.
"""

from __future__ import annotations

from .curvature import gaussian_curvature, mean_curvature, principal_curvatures
from .descriptors import heat_kernel_signature, hks_times, wave_kernel_signature, wks_energies
from .elements import (
    corner_angles,
    corner_angles_from_lengths,
    face_areas_from_lengths,
    halfedge_cotans_from_lengths,
    halfedge_lengths,
    vertex_angle_sums,
)
from .exact_geodesics import exact_geodesic_distance
from .factor import SPDFactor
from .fans import VertexFans, directed_edges, vertex_fans
from .frames import face_frames, tangent_frames, vertex_frames, vertex_normals
from .geodesics import HeatMethodSolver, all_pairs_distances, geodesic_distance
from .gradient import divergence, face_gradient, point_cloud_gradient, vertex_gradient
from .laplacian import cotan_laplacian, laplacian, mass_matrix, point_cloud_laplacian, robust_laplacian
from .logmap import gauge_offsets, one_ring_logmap, point_cloud_logmap, two_ring_logmap
from .patches import GeodesicPatches, geodesic_patches
from .refine import split_long_edges
from .spectral import EigenbasisError, eigenbasis
from .transport import (
    connection_face_curvature,
    connection_laplacian,
    edge_transport,
    holonomy,
    point_cloud_transport,
)
from .vector_heat import VectorHeatSolver, vector_heat_logmap, vector_heat_transport

__all__ = [
    "HeatMethodSolver",
    "geodesic_distance",
    "all_pairs_distances",
    "split_long_edges",
    "exact_geodesic_distance",
    "vector_heat_transport",
    "vector_heat_logmap",
    "VectorHeatSolver",
    "geodesic_patches",
    "GeodesicPatches",
    "laplacian",
    "cotan_laplacian",
    "robust_laplacian",
    "mass_matrix",
    "point_cloud_laplacian",
    "eigenbasis",
    "SPDFactor",
    "EigenbasisError",
    "heat_kernel_signature",
    "hks_times",
    "wave_kernel_signature",
    "wks_energies",
    "gaussian_curvature",
    "mean_curvature",
    "principal_curvatures",
    "halfedge_lengths",
    "corner_angles",
    "corner_angles_from_lengths",
    "halfedge_cotans_from_lengths",
    "face_areas_from_lengths",
    "vertex_angle_sums",
    "VertexFans",
    "vertex_fans",
    "directed_edges",
    "vertex_normals",
    "tangent_frames",
    "vertex_frames",
    "face_frames",
    "gauge_offsets",
    "one_ring_logmap",
    "two_ring_logmap",
    "point_cloud_logmap",
    "edge_transport",
    "connection_face_curvature",
    "connection_laplacian",
    "holonomy",
    "point_cloud_transport",
    "face_gradient",
    "divergence",
    "vertex_gradient",
    "point_cloud_gradient",
]
