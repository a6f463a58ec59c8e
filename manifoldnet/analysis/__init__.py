"""Shape analysis without learning: keypoints, geodesic sampling, segmentation,
functional maps, direction fields.

Built on :mod:`manifoldnet.geometry`; numpy/scipy only.
"""

from __future__ import annotations

from .direction_fields import (
    n_connection_laplacian,
    power_to_directions,
    shortest_edge_path,
    singularity_indices,
    smoothest_direction_field,
    transport_along_path,
)
from .functional_maps import (
    SpectralShape,
    descriptor_coefficients,
    fmap_from_descriptors,
    fmap_to_p2p,
    multiplication_operators,
    nearest_rows,
    orientation_operators,
    orientation_score,
    p2p_to_fmap,
    spectral_shape,
    zoomout,
)
from .keypoints import Keypoints, hks_keypoints, local_maxima, maxima_persistence, persistent_maxima
from .metrics import geodesic_errors, label_accuracy, match_labels, mean_geodesic_error
from .sampling import FarthestPointSamples, distance_solver, farthest_point_sampling, geodesic_voronoi
from .segmentation import (
    Segmentation,
    kmeans,
    protrusion_segmentation,
    smooth_labels,
    spectral_clustering,
    spectral_embedding,
)

__all__ = [
    "Keypoints",
    "local_maxima",
    "maxima_persistence",
    "persistent_maxima",
    "hks_keypoints",
    "FarthestPointSamples",
    "farthest_point_sampling",
    "geodesic_voronoi",
    "distance_solver",
    "Segmentation",
    "kmeans",
    "spectral_embedding",
    "smooth_labels",
    "spectral_clustering",
    "protrusion_segmentation",
    "SpectralShape",
    "spectral_shape",
    "descriptor_coefficients",
    "multiplication_operators",
    "orientation_operators",
    "fmap_from_descriptors",
    "fmap_to_p2p",
    "p2p_to_fmap",
    "zoomout",
    "nearest_rows",
    "orientation_score",
    "n_connection_laplacian",
    "smoothest_direction_field",
    "power_to_directions",
    "singularity_indices",
    "shortest_edge_path",
    "transport_along_path",
    "geodesic_errors",
    "mean_geodesic_error",
    "label_accuracy",
    "match_labels",
]
