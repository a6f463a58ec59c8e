"""manifoldnet.Mesh: every validator fires with a message naming the element and index; report() detects
each unusual-but-processable fact on generated and hand-made meshes; cached arrays are read-only."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from manifoldnet import Mesh, MeshError, shapes

TRI_V = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]])
TRI_F = np.array([[0, 1, 2], [1, 3, 2]])


@pytest.mark.parametrize(
    "verts,faces,match",
    [
        (TRI_V[:, :2], TRI_F, r"verts must have shape \(V, 3\), got \(4, 2\)"),
        (TRI_V.reshape(-1), TRI_F, r"verts must have shape \(V, 3\)"),
        (TRI_V.astype(str), TRI_F, "verts must be a real numeric array"),
        (TRI_V.astype(complex), TRI_F, "verts must be a real numeric array"),
        (np.array([[0, 0, 0], [1, 0, None]], dtype=object), [[0, 1, 0]], "verts must be a real numeric"),
        (np.zeros((0, 3)), np.zeros((0, 3), int), "verts is empty"),
        (TRI_V, TRI_F[:, :2], r"faces must have shape \(F, 3\) \(triangles\), got \(2, 2\)"),
        (TRI_V, np.c_[TRI_F, TRI_F[:, :1]], r"faces must have shape \(F, 3\)"),
        (TRI_V, TRI_F.astype(float), "faces must be an integer array"),
        (TRI_V, np.zeros((0, 3), int), "faces is empty"),
        (TRI_V, [[0, 1, 2], [1, -3, 2]], r"face 1 has a negative vertex index: \[1, -3, 2\]"),
        (TRI_V, [[0, 1, 2], [1, 3, 2], [0, 4, 1]], r"face 2 has a vertex index out of range for 4 vertices"),
        (TRI_V, [[0, 1, 2], [1, 1, 2]], r"face 1 repeats a vertex: \[1, 1, 2\]"),
        (TRI_V, np.array([[0, 1, 2], [1, 3, 2**63 + 5]], dtype=np.uint64), "too large for int64"),
    ],
)
def test_validators_fire_naming_the_element(verts, faces, match):
    with pytest.raises(MeshError, match=match):
        Mesh(verts, faces)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_vertex_is_named(bad):
    v = TRI_V.copy()
    v[3, 1] = bad
    with pytest.raises(MeshError, match=r"non-finite coordinates; first is vertex 3"):
        Mesh(v, TRI_F)


def test_mesh_error_is_value_error():
    assert issubclass(MeshError, ValueError)


def test_arrays_converted_and_readonly():
    m = Mesh(TRI_V.astype(np.float32), TRI_F.astype(np.int32))
    assert m.verts.dtype == np.float64 and m.faces.dtype == np.int64
    for a in (m.verts, m.faces, m.edges, m.face_areas, m.halfedges, m.edge_face_counts):
        assert not a.flags.writeable
        with pytest.raises(ValueError):
            a.reshape(-1)[0] = 0
    src = TRI_V.copy()
    m2 = Mesh(src, TRI_F)
    src[0, 0] = 99.0  # the mesh holds its own copy
    assert m2.verts[0, 0] == 0.0


def test_clean_mesh_reports_nothing():
    r = shapes.icosphere(2).report()
    assert r.warnings == ()
    assert (r.zero_area_faces, r.duplicate_faces, r.unreferenced_verts) == (0, 0, 0)
    assert (r.nonmanifold_edges, r.nonmanifold_verts) == (0, 0)


def test_report_zero_area_faces():
    v = np.r_[TRI_V, [[2.0, 0, 0]]]  # vertices 0, 1, 4 collinear
    m = Mesh(v, np.r_[TRI_F, [[0, 1, 4]]])
    assert_array_equal(m.zero_area_faces, [2])
    r = m.report()
    assert r.zero_area_faces == 1
    assert any("1 zero-area faces (first: face 2)" in w for w in r.warnings)


def test_report_duplicate_faces_any_order():
    m = Mesh(
        TRI_V, np.r_[TRI_F, [[2, 0, 1]], [[2, 3, 1]]]
    )  # face 2 repeats 0 (rotated), 3 repeats 1 (flipped)
    assert_array_equal(m.duplicate_faces, [2, 3])
    assert any("2 duplicate faces (first: face 2)" in w for w in m.report().warnings)


def test_report_unreferenced_vertices():
    m = Mesh(np.r_[TRI_V, [[5.0, 5, 5], [6.0, 6, 6]]], TRI_F)
    assert_array_equal(m.unreferenced_verts, [4, 5])
    r = m.report()
    assert r.unreferenced_verts == 2 and r.n_components == 1  # unreferenced vertices are no components
    assert any("first: vertex 4" in w for w in r.warnings)
    assert m.euler_characteristic == 1  # counted over referenced vertices


def test_report_nonmanifold_edge_and_vertices():
    m = shapes.nonmanifold_fin()
    r = m.report()
    assert r.nonmanifold_edges == 2 and not r.is_edge_manifold
    assert r.nonmanifold_verts == 3
    assert any("non-manifold edges" in w for w in r.warnings)
    assert any("non-manifold vertices" in w for w in r.warnings)
    # minimal hand-made fin: three triangles on edge (0, 1)
    v = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1]])
    m3 = Mesh(v, [[0, 1, 2], [1, 0, 3], [0, 1, 4]])
    assert_array_equal(m3.edges[m3.nonmanifold_edges], [[0, 1]])
    assert_array_equal(m3.nonmanifold_verts, [0, 1])


def test_report_bowtie_vertex():
    v = np.array([[0.0, 0, 0], [1, 0.5, 0], [1, -0.5, 0], [-1, 0.5, 0], [-1, -0.5, 0]])
    m = Mesh(v, [[0, 2, 1], [0, 3, 4]])
    assert m.is_edge_manifold and not m.is_vertex_manifold
    assert_array_equal(m.nonmanifold_verts, [0])
    assert any("first: vertex 0" in w for w in m.report().warnings)
    assert_array_equal(shapes.bowtie().nonmanifold_verts, [0])


def test_report_inconsistent_orientation():
    ico = shapes.icosphere(1)
    f = ico.faces.copy()
    f[[3, 17]] = f[[3, 17]][:, ::-1]
    m = Mesh(ico.verts, f)
    assert not m.is_oriented and m.is_orientable
    assert_array_equal(m.faces_to_flip, [3, 17])  # the minority is flipped back
    assert any("inconsistent orientation (2 faces to flip)" in w for w in m.report().warnings)
    assert m.genus == 0 and m.n_boundary_loops == 0


def _moebius(n: int = 12) -> Mesh:
    t = 2 * np.pi * np.arange(n) / n
    w = np.array([-0.3, 0.3])
    # centre circle with a segment rotating by half a turn
    c = np.stack([np.cos(t), np.sin(t), 0 * t], 1)
    d = np.stack([np.cos(t / 2) * np.cos(t), np.cos(t / 2) * np.sin(t), np.sin(t / 2)], 1)
    v = (c[:, None, :] + w[None, :, None] * d[:, None, :]).reshape(-1, 3)
    i = np.arange(n)
    a, b = 2 * i, 2 * i + 1
    a1 = np.where(i + 1 < n, 2 * (i + 1), 1)  # the seam swaps the sides
    b1 = np.where(i + 1 < n, 2 * (i + 1) + 1, 0)
    return Mesh(v, np.r_[np.stack([a, a1, b1], 1), np.stack([a, b1, b], 1)])


def test_report_non_orientable_and_one_boundary_loop():
    m = _moebius()
    r = m.report()
    assert not r.is_orientable and not r.is_oriented and r.genus is None
    assert r.euler_characteristic == 0 and r.n_boundary_loops == 1 and r.n_components == 1
    assert len(m.boundary_loops[0]) == 24
    assert "not orientable" in r.warnings


def test_boundary_loops_survive_flipped_faces():
    disk = shapes.flat_disk(3)
    on_bnd = np.isin(disk.faces, disk.boundary_loops[0]).sum(axis=1) >= 2
    f = disk.faces.copy()
    f[on_bnd] = f[on_bnd][:, ::-1]  # every boundary face flipped: half-edges run both ways
    m = Mesh(disk.verts, f)
    assert m.n_boundary_loops == 1 and m.genus == 0
    loop = m.boundary_loops[0]
    assert sorted(loop.tolist()) == sorted(disk.boundary_loops[0].tolist())
    pairs = np.sort(np.stack([loop, np.roll(loop, -1)], 1), axis=1)
    edges = {tuple(e) for e in disk.edges[disk.boundary_edges].tolist()}
    assert all(tuple(p) in edges for p in pairs.tolist())  # consecutive loop vertices share an edge


def test_report_components_and_boundaries():
    r = shapes.two_spheres(1).report()
    assert r.n_components == 2 and any("2 connected components" in w for w in r.warnings)
    c = shapes.open_cylinder(n_around=8, n_height=3)
    assert c.n_boundary_loops == 2 and any("2 boundary loops" in w for w in c.report().warnings)
    loops = sorted(len(x) for x in c.boundary_loops)
    assert loops == [8, 8]


def test_genus_from_euler_characteristic():
    assert shapes.torus(n_major=8, n_minor=5).genus == 1
    assert shapes.genus2(0).genus == 2
    assert shapes.flat_disk(2).genus == 0
    # two tori: total genus 2, chi 0
    t = shapes.torus(n_major=8, n_minor=5)
    m = Mesh(np.r_[t.verts, t.verts + [5.0, 0, 0]], np.r_[t.faces, t.faces + t.n_verts])
    assert (m.n_components, m.euler_characteristic, m.genus) == (2, 0, 2)
