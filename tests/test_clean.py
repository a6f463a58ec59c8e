"""manifoldnet.clean: each repair is done, counted and mapped (old -> new vertex, new -> old face); an already
clean mesh comes back unchanged; per-vertex data can follow the maps."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from manifoldnet import Mesh, MeshError, shapes
from manifoldnet.repair import clean, weld_vertices


def _check_maps(old: Mesh, new: Mesh, rep) -> None:
    """The maps explain the new mesh: positions and kept faces (up to orientation) come from the old one."""
    kept = rep.vert_map >= 0
    assert_array_equal(new.verts[rep.vert_map[kept]].shape, old.verts[kept].shape)
    assert len(rep.face_map) == new.n_faces
    mapped = rep.vert_map[old.faces[rep.face_map]]
    assert (mapped >= 0).all()
    assert_array_equal(np.sort(mapped, axis=1), np.sort(new.faces, axis=1))


def test_clean_mesh_is_unchanged():
    m = shapes.torus(n_major=12, n_minor=6)
    c, rep = clean(m)
    assert not rep.changed and rep.summary() == "nothing changed"
    assert_array_equal(c.verts, m.verts)
    assert_array_equal(c.faces, m.faces)
    assert_array_equal(rep.vert_map, np.arange(m.n_verts))
    assert_array_equal(rep.face_map, np.arange(m.n_faces))
    assert (rep.n_verts_before, rep.n_verts_after, rep.n_faces_before, rep.n_faces_after) == (
        72,
        72,
        144,
        144,
    )


def test_weld_split_seam_restores_closed_surface():
    ico = shapes.icosphere(2)
    # split: every face gets its own three vertices (a triangle soup, like an STL)
    soup = Mesh(ico.verts[ico.faces.reshape(-1)], np.arange(3 * ico.n_faces).reshape(-1, 3))
    assert soup.n_components == ico.n_faces
    c, rep = clean(soup)
    assert rep.welded_verts == 3 * ico.n_faces - ico.n_verts
    assert c.n_verts == ico.n_verts and c.n_faces == ico.n_faces
    assert (c.euler_characteristic, c.n_components, c.genus) == (2, 1, 0)
    assert_array_equal(c.verts[c.faces], ico.verts[ico.faces])  # same triangles, same corner order
    _check_maps(soup, c, rep)
    assert "welded 798 vertices" in rep.summary()


def test_weld_tolerance_and_collapse():
    m = shapes.flat_disk(2)
    v = np.r_[m.verts, m.verts[[0]] + [1e-7, 0, 0]]  # a near-copy of vertex 0 used by a new face
    f = np.r_[m.faces, [[m.n_verts, 1, 2]]]
    mesh = Mesh(v, f)
    exact, rep0 = clean(mesh)
    assert rep0.welded_verts == 0 and exact.n_verts == mesh.n_verts
    c, rep = clean(mesh, weld_tol=1e-6)
    assert rep.welded_verts == 1 and rep.vert_map[m.n_verts] == 0
    assert (np.sort(m.faces, axis=1) == [0, 1, 2]).all(axis=1).sum() == 1  # the welded face is a duplicate
    assert rep.duplicate_faces == 1 and c.n_faces == m.n_faces
    assert_array_equal(c.faces, m.faces)
    # a face whose two corners weld together collapses
    f2 = np.r_[m.faces, [[m.n_verts, 0, 3]]]
    c2, rep2 = clean(Mesh(v, f2), weld_tol=1e-6)
    assert rep2.collapsed_faces == 1 and c2.n_faces == m.n_faces
    assert "dropped 1 faces collapsed by welding" in rep2.changes
    _check_maps(Mesh(v, f2), c2, rep2)


def test_weld_vertices_chains_and_order():
    v = np.array([[0.0, 0, 0], [5, 5, 5], [0.6, 0, 0], [1.2, 0, 0], [5, 5, 5]])
    new, m = weld_vertices(v, tol=0.7)  # 0 - 2 - 3 chain into one group
    assert_array_equal(m, [0, 1, 0, 0, 1])
    assert_array_equal(new, v[[0, 1]])  # the lowest index represents its group
    new0, m0 = weld_vertices(v, tol=0.0)
    assert_array_equal(m0, [0, 1, 2, 3, 1])
    assert_array_equal(new0, v[:4])
    with pytest.raises(MeshError, match="weld tolerance"):
        weld_vertices(v, tol=-1.0)


def test_drop_degenerate_duplicate_unreferenced():
    base = shapes.icosphere(1)
    v = np.r_[base.verts, [[9.0, 9, 9]], 0.5 * (base.verts[[0]] + base.verts[[11]])]
    mid = base.n_verts + 1  # on the segment (0, 11): face (0, 11, mid) has zero area
    f = np.r_[base.faces, base.faces[[4, 7]][:, ::-1], [[0, 11, mid]]]
    mesh = Mesh(v, f)
    r = mesh.report()
    assert (r.duplicate_faces, r.zero_area_faces, r.unreferenced_verts) == (2, 1, 1)
    c, rep = clean(mesh)
    assert (rep.degenerate_faces, rep.duplicate_faces, rep.unreferenced_verts) == (1, 2, 2)
    assert c.n_verts == base.n_verts and c.n_faces == base.n_faces
    assert_array_equal(rep.vert_map[base.n_verts :], [-1, -1])
    assert_array_equal(rep.face_map, np.arange(base.n_faces))
    assert c.report().warnings == ()
    _check_maps(mesh, c, rep)
    # per-vertex data follows the map
    data = np.arange(mesh.n_verts, dtype=float)
    new_data = np.empty(c.n_verts)
    new_data[rep.vert_map[rep.vert_map >= 0]] = data[rep.vert_map >= 0]
    assert_allclose(new_data, np.arange(base.n_verts))


def test_orientation_fixed():
    g = shapes.genus2(1)
    f = g.faces.copy()
    flip = np.arange(0, g.n_faces, 7)
    f[flip] = f[flip][:, ::-1]
    mesh = Mesh(g.verts, f)
    assert not mesh.is_oriented
    c, rep = clean(mesh)
    assert rep.flipped_faces == len(flip) and c.is_oriented
    assert_array_equal(c.faces, g.faces)  # majority orientation restored exactly
    assert f"flipped {len(flip)} faces for a consistent orientation" in rep.changes
    _, rep_no = clean(mesh, orient=False)
    assert rep_no.flipped_faces == 0 and not rep_no.changed


def test_non_orientable_is_reported_not_changed():
    n = 10
    t = 2 * np.pi * np.arange(n) / n
    c = np.stack([np.cos(t), np.sin(t), 0 * t], 1)
    d = np.stack([np.cos(t / 2) * np.cos(t), np.cos(t / 2) * np.sin(t), np.sin(t / 2)], 1)
    v = np.concatenate([c - 0.3 * d, c + 0.3 * d], axis=1).reshape(-1, 3)
    i = np.arange(n)
    a1 = np.where(i + 1 < n, 2 * (i + 1), 1)
    b1 = np.where(i + 1 < n, 2 * (i + 1) + 1, 0)
    moebius = Mesh(v, np.r_[np.stack([2 * i, a1, b1], 1), np.stack([2 * i, b1, 2 * i + 1], 1)])
    out, rep = clean(moebius)
    assert not rep.orientable and rep.flipped_faces == 0 and not rep.changed
    assert rep.notes == ("not orientable: orientation left as it is",)
    assert "not orientable" in rep.summary()
    assert_array_equal(out.faces, moebius.faces)


def test_every_face_dropped_raises():
    v = np.array([[0.0, 0, 0], [1, 0, 0], [2, 0, 0]])
    with pytest.raises(MeshError, match="no face is left after dropping zero-area faces"):
        clean(Mesh(v, [[0, 1, 2]]))
    w = np.array([[0.0, 0, 0], [0, 0, 0], [1, 0, 0]])
    with pytest.raises(MeshError, match="no face is left after welding"):
        clean(Mesh(w, [[0, 1, 2]]))
    with pytest.raises(MeshError, match="expects a manifoldnet.Mesh"):
        clean(np.zeros((3, 3)))


def test_report_dict_and_readonly_maps():
    _, rep = clean(shapes.two_spheres(1))
    d = rep.as_dict()
    assert "vert_map" not in d and d["changes"] == [] and d["n_faces_after"] == 160
    assert not rep.vert_map.flags.writeable and not rep.face_map.flags.writeable


def test_package_level_clean_is_the_function():
    import manifoldnet
    import manifoldnet.repair as repair_module  # importing the module must not rebind manifoldnet.clean

    m = shapes.icosphere(1)
    out, rep = manifoldnet.clean(m)
    assert isinstance(out, Mesh) and not rep.changed
    assert (
        manifoldnet.clean is clean and repair_module.clean is clean and manifoldnet.CleanReport is type(rep)
    )
