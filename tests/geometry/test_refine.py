"""split_long_edges: same surface (area, boundary length, orientation), input vertices
kept, conforming, bounded."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from manifoldnet import Mesh, MeshError, shapes
from manifoldnet.geometry.refine import split_long_edges
from manifoldnet.testing import sliver_fan_plate as _fan_plate


def _boundary_length(m: Mesh) -> float:
    return float(m.edge_lengths[m.boundary_edges].sum())


@pytest.mark.parametrize(
    "make, factor", [(_fan_plate, 2.0), (lambda: shapes.noisy_sphere(1, noise=0.1, seed=0), 0.7)]
)
def test_same_surface_refined(make, factor):
    m = make()
    bound = factor * float(m.edge_lengths.mean())
    v, f, parent = split_long_edges(m.verts, m.faces, bound)
    r = Mesh(v, f)
    assert r.n_verts > m.n_verts and r.edge_lengths.max() <= bound
    assert_allclose(r.verts[: m.n_verts], m.verts)  # input vertices keep their index and position
    assert_allclose(r.total_area, m.total_area, rtol=1e-12)
    assert_allclose(
        np.bincount(parent, weights=r.face_areas, minlength=m.n_faces), m.face_areas, rtol=1e-9, atol=1e-15
    )
    # orientation kept: every child's normal is its parent's
    assert_allclose(r.face_normals, m.face_normals[parent], atol=1e-9)
    # conforming: no T-junction opens a crack, so the boundary is the input's (same length, no new loop)
    assert_allclose(_boundary_length(r), _boundary_length(m), rtol=1e-12, atol=1e-15)
    assert len(r.boundary_loops) == len(m.boundary_loops)
    assert r.report().is_edge_manifold and r.report().is_vertex_manifold and r.report().is_oriented
    assert r.report().euler_characteristic == m.report().euler_characteristic


def test_non_manifold_edge_gets_one_midpoint():
    # three triangles on the edge (0, 1) (a fin); the edge is the only long one
    verts = np.array([[0, 0, 0], [4, 0, 0], [2, 1, 0], [2, -1, 0], [2, 0, 1.0]])
    faces = np.array([[0, 1, 2], [1, 0, 3], [0, 1, 4]])
    v, f, parent = split_long_edges(verts, faces, 3.0)
    assert v.shape[0] == 6 and f.shape[0] == 6  # one shared midpoint, each fin face cut in two
    assert_allclose(v[5], [2, 0, 0])
    r = Mesh(v, f)
    assert r.nonmanifold_edges.size == 2  # both halves of the fin edge keep three faces
    assert_allclose(np.bincount(parent), [2, 2, 2])


def test_nothing_to_split_returns_input():
    m = shapes.icosphere(1)
    v, f, parent = split_long_edges(m.verts, m.faces, 10.0)
    assert_allclose(v, m.verts)
    assert (f == m.faces).all() and (parent == np.arange(m.n_faces)).all()


def test_bad_parameters_are_refused():
    m = _fan_plate()
    with pytest.raises(MeshError, match="max_length"):
        split_long_edges(m.verts, m.faces, 0.0)
    with pytest.raises(MeshError, match="max_length"):
        split_long_edges(m.verts, m.faces, np.nan)
    with pytest.raises(MeshError, match="more than 500 triangles"):
        split_long_edges(m.verts, m.faces, 1e-3, max_faces=500)
