"""require_manifold: the shared manifoldness check of exact geodesics and vector heat names the offender."""

from __future__ import annotations

import numpy as np
import pytest

from manifoldnet import Mesh, MeshError, shapes
from manifoldnet.geometry.exact_geodesics import exact_geodesic_distance
from manifoldnet.geometry.vector_heat import check_vector_heat_input
from manifoldnet.mesh import require_manifold
from manifoldnet.testing import make_pathology


def test_manifold_mesh_passes_through():
    m = shapes.icosphere(1)
    assert require_manifold(m, "anything") is m


def test_fin_edge_named():
    m = make_pathology("nonmanifold_edge").mesh()
    e = int(m.nonmanifold_edges[0])
    msg = rf"^op: the mesh must be edge-manifold, but edge \[{m.edges[e][0]}, {m.edges[e][1]}\] has \d faces"
    with pytest.raises(MeshError, match=msg + r".*more than two.*; try X$"):
        require_manifold(m, "op", "try X")


def test_bowtie_vertex_named():
    # two triangles sharing only vertex 0
    m = Mesh(np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [-1, 0, 0], [0, -1, 0.0]]), [[0, 1, 2], [0, 3, 4]])
    with pytest.raises(
        MeshError, match=r"^op: the mesh must be vertex-manifold, but vertex 0 .*bow-tie.*\)$"
    ):
        require_manifold(m, "op")


@pytest.mark.parametrize(
    "call, what",
    [
        (lambda m: exact_geodesic_distance(m, 0), "exact geodesics"),
        (check_vector_heat_input, "vector heat"),
    ],
)
def test_both_users_share_it(call, what):
    with pytest.raises(MeshError, match=f"^{what}: the mesh must be edge-manifold"):
        call(make_pathology("nonmanifold_edge").mesh())
    with pytest.raises(MeshError, match=f"^{what}: the mesh must be vertex-manifold"):
        call(make_pathology("nonmanifold_vertex").mesh())
