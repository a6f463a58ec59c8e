"""Shape analysis without learning: keypoints, geodesic sampling, segmentation,
functional maps, direction fields.

Built on :mod:`manifoldnet.geometry`; numpy/scipy only. Public names load lazily on first use.
"""

from __future__ import annotations

from ..lazy import lazy_exports

# public name -> submodule
_LAZY: dict[str, str] = {
    # keypoints
    "Keypoints": "keypoints",
    "local_maxima": "keypoints",
    "maxima_persistence": "keypoints",
    "persistent_maxima": "keypoints",
    "hks_keypoints": "keypoints",
    # sampling
    "FarthestPointSamples": "sampling",
    "farthest_point_sampling": "sampling",
    "geodesic_voronoi": "sampling",
    "distance_solver": "sampling",
    # segmentation
    "Segmentation": "segmentation",
    "kmeans": "segmentation",
    "spectral_embedding": "segmentation",
    "smooth_labels": "segmentation",
    "spectral_clustering": "segmentation",
    "protrusion_segmentation": "segmentation",
    # functional maps
    "SpectralShape": "functional_maps",
    "spectral_shape": "functional_maps",
    "descriptor_coefficients": "functional_maps",
    "multiplication_operators": "functional_maps",
    "orientation_operators": "functional_maps",
    "fmap_from_descriptors": "functional_maps",
    "fmap_to_p2p": "functional_maps",
    "p2p_to_fmap": "functional_maps",
    "zoomout": "functional_maps",
    "nearest_rows": "functional_maps",
    "orientation_score": "functional_maps",
    # direction fields and transport
    "n_connection_laplacian": "direction_fields",
    "smoothest_direction_field": "direction_fields",
    "power_to_directions": "direction_fields",
    "singularity_indices": "direction_fields",
    "shortest_edge_path": "direction_fields",
    "transport_along_path": "direction_fields",
    # metrics
    "geodesic_errors": "metrics",
    "mean_geodesic_error": "metrics",
    "label_accuracy": "metrics",
    "match_labels": "metrics",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
