"""manifoldnet.io / readers: exact round trips, every format's quirks, polygons, point clouds, conversions,
and bad files raising MeshError with a message saying what is wrong."""

from __future__ import annotations

import re
import types
import warnings

import numpy as np
import pytest
from conftest import shared_data
from numpy.testing import assert_array_equal

from manifoldnet import Mesh, MeshError, shapes
from manifoldnet.io import (
    MeshIOWarning,
    from_pyvista,
    from_trimesh,
    load_mesh,
    load_points,
    save_mesh,
    to_trimesh,
    triangulate_polygons,
    vtk_face_array,
)


def _load_quiet(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MeshIOWarning)
        return load_mesh(path)


def _write(tmp_path, name, content):
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return p


# ------------------------------------------------------------------------------------ round trips
@pytest.mark.parametrize("ext,binary", [(".obj", None), (".off", None), (".ply", False), (".ply", True)])
@pytest.mark.parametrize("scale", [1e-8, 1.0, 1e8])
def test_round_trip_is_exact(tmp_path, ext, binary, scale):
    m = shapes.noisy_sphere(2, noise=0.1, seed=3)
    m = m.with_verts(m.verts * scale + np.array([np.pi, -1 / 3, 0.0]) * scale)
    p = save_mesh(tmp_path / f"m{ext}", m, binary=binary)
    back = load_mesh(p)  # no polygon, no weld: no warning either
    assert_array_equal(back.verts, m.verts)
    assert_array_equal(back.faces, m.faces)


@pytest.mark.parametrize("binary", [True, False])
def test_stl_round_trip_welds_back(tmp_path, binary):
    m = shapes.noisy_sphere(2, noise=0.1, seed=1)
    m = m.with_verts(m.verts.astype(np.float32).astype(np.float64))  # STL stores float32
    p = save_mesh(tmp_path / "m.stl", m, binary=binary)
    with pytest.warns(MeshIOWarning, match=r"STL welded: 960 triangle corners -> 162 vertices"):
        back = load_mesh(p)
    assert back.n_verts == m.n_verts and back.n_faces == m.n_faces
    assert_array_equal(back.verts[back.faces], m.verts[m.faces])  # same triangles, same corner order
    assert back.euler_characteristic == 2 and back.is_oriented


def test_save_rejects_bad_requests_and_leaves_no_temp_files(tmp_path):
    m = shapes.icosphere(0)
    with pytest.raises(MeshError, match="cannot write format '.xyz'"):
        save_mesh(tmp_path / "m.xyz", m)
    with pytest.raises(MeshError, match="OBJ has no binary variant"):
        save_mesh(tmp_path / "m.obj", m, binary=True)
    save_mesh(tmp_path / "sub" / "m.ply", m)
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["m.ply"]


# ------------------------------------------------------------------------------------ OBJ
def test_obj_negative_indices_seams_comments_continuations(tmp_path):
    text = """# comment
v 0 0 0
v 1 0 0 0.5 0.5 0.5
vt 0 0
vt 1 0
vn 0 0 1
v 0 1 0
f 1/1/1 2/2/1 3//1   # trailing comment
v 1 1 0
f -3/1 \\
  -1 -2
l 1 2
"""
    m = load_mesh(_write(tmp_path, "a.obj", text))
    assert_array_equal(m.verts, [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]])  # colours ignored, no splits
    assert_array_equal(m.faces, [[0, 1, 2], [1, 3, 2]])


@pytest.mark.parametrize(
    "text,match",
    [
        ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 0\n", r"OBJ line 4: face index 0 is invalid"),
        ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 x\n", r"OBJ line 4: face index 'x' is not an integer"),
        ("v 0 0\nf 1 2 3\n", r"OBJ line 1: a vertex needs 3 coordinates"),
        ("v 0 0 0\nv 1 0 zz\nv 0 1 0\nf 1 2 3\n", r"OBJ vertex: 'zz' is not a number"),
        ("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\nf 1 2 9\n", r"face 1 \(file order\) references vertex 8"),
        ("v 0 0 0\nv 1 0 0\nf 1 2 -5\n", r"face 0 \(file order\) references vertex -3"),
        ("v 0 0 0\nv 1 0 0\nv 0 1 0\nl 1 2\nl 2 3\n", r"3 vertices and 2 line/point elements but no faces"),
        ("# nothing\n", r"no vertices and no faces \(empty\)"),
        ("v 0 0 0\nv 1 0 nan\nv 0 1 0\nf 1 2 3\n", r"non-finite coordinates; first is vertex 1"),
    ],
)
def test_obj_errors(tmp_path, text, match):
    with pytest.raises(MeshError, match=match):
        load_mesh(_write(tmp_path, "bad.obj", text))


def test_obj_fast_path_equals_general_parser():
    from manifoldnet import readers

    for path in [shared_data("gc_assets") / "cat_head.obj", shared_data("format_edge_cases") / "fandisk.obj"]:
        data = path.read_bytes()
        fast = readers._obj_fast(data.decode("latin-1"))
        assert fast is not None
        orig = readers._obj_fast
        try:
            readers._obj_fast = lambda text: None
            slow = readers.read_obj(data)
        finally:
            readers._obj_fast = orig
        assert_array_equal(fast.verts, slow.verts)
        assert_array_equal(fast.poly_flat, slow.poly_flat)
        assert_array_equal(fast.poly_sizes, slow.poly_sizes)


# ------------------------------------------------------------------------------------ OFF
def test_off_variants(tmp_path):
    glued = "OFF4 2 0 # counts glued to the keyword\n0 0 0\n1 0 0\n0 1 0\n1 1 0\n3 0 1 2 1 0 0\n3 1 3 2\n"
    m = load_mesh(_write(tmp_path, "a.off", glued))
    assert_array_equal(m.faces, [[0, 1, 2], [1, 3, 2]])
    across = "OFF\n4 1 0\n0 0 0\n1 0 0\n1 1 0\n0 1 0\n4 0\n1\n2\n3\n"  # one quad written across lines
    with pytest.warns(MeshIOWarning, match="triangulated 1 polygons"):
        q = load_mesh(_write(tmp_path, "b.off", across))
    assert_array_equal(q.faces, [[0, 1, 2], [0, 2, 3]])
    coff = "COFF\n3 1 0\n0 0 0 255 0 0 255\n1 0 0 0 255 0 255\n0 1 0 0 0 255 255\n3 0 1 2\n"
    assert_array_equal(load_mesh(_write(tmp_path, "c.off", coff)).verts[:, 0], [0, 1, 0])


@pytest.mark.parametrize(
    "text,match",
    [
        ("OFF\n4 2 0\n0 0 0\n1 0 0\n", r"declares 4 vertices but the file has 2 data lines"),
        ("OFF\n3 2 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n", r"the file ends after 1 of 2 records"),
        ("PLY\n3 1 0\n", r"not an OFF file"),
        ("OFF BINARY\n", r"binary OFF is not supported"),
        ("OFF\n3\n", r"counts line must hold"),
        ("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n", r"face 0 \(file order\) references vertex 7"),
        ("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1.5 2\n", r"not an integer index"),
        (
            "OFF\n3 0 0\n0 0 0\n1 0 0\n0 1 0\n",
            r"3 vertices but no faces: it is a point cloud; use .*load_points",
        ),
        ("", r"OFF file is empty"),
    ],
)
def test_off_errors(tmp_path, text, match):
    with pytest.raises(MeshError, match=match):
        load_mesh(_write(tmp_path, "bad.off", text))


# ------------------------------------------------------------------------------------ PLY
def _ply_mixed(fmt: str) -> bytes:
    """4 vertices; a quad and a triangle (mixed list lengths) plus a trailing per-face list and scalar."""
    head = (
        f"ply\nformat {fmt} 1.0\nelement vertex 5\nproperty float x\nproperty float y\nproperty double z\n"
        "element face 2\nproperty list uchar int vertex_indices\nproperty list ushort float uv\n"
        "property uchar flag\nend_header\n"
    ).encode()
    v = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [2, 0, 0.5]])
    if fmt == "ascii":
        body = "\n".join(" ".join(str(x) for x in r) for r in v) + "\n4 0 1 2 3 2 0.5 0.5 7\n3 1 4 2 0 9\n"
        return head + body.encode()
    o = "<" if fmt.endswith("little_endian") else ">"
    vrec = np.zeros(5, dtype=[("x", o + "f4"), ("y", o + "f4"), ("z", o + "f8")])
    vrec["x"], vrec["y"], vrec["z"] = v.T
    f1 = np.array([4], o + "u1").tobytes() + np.array([0, 1, 2, 3], o + "i4").tobytes()
    f1 += np.array([2], o + "u2").tobytes() + np.array([0.5, 0.5], o + "f4").tobytes() + bytes([7])
    f2 = np.array([3], o + "u1").tobytes() + np.array([1, 4, 2], o + "i4").tobytes()
    f2 += np.array([0], o + "u2").tobytes() + bytes([9])
    return head + vrec.tobytes() + f1 + f2


@pytest.mark.parametrize("fmt", ["ascii", "binary_little_endian", "binary_big_endian"])
def test_ply_mixed_lists_all_encodings_agree(tmp_path, fmt):
    with pytest.warns(MeshIOWarning, match="triangulated 1 polygons"):
        m = load_mesh(_write(tmp_path, "m.ply", _ply_mixed(fmt)))
    assert_array_equal(m.faces, [[0, 1, 2], [0, 2, 3], [1, 4, 2]])
    assert_array_equal(m.verts[4], [2, 0, 0.5])


def test_ply_tristrips(tmp_path):
    head = "ply\nformat ascii 1.0\nelement vertex 5\nproperty float x\nproperty float y\nproperty float z\n"
    head += "element tristrips 1\nproperty list int int vertex_indices\nend_header\n"
    body = "0 0 0\n1 0 0\n0 1 0\n1 1 0\n2 1 0\n8 0 1 2 3 -1 1 4 3\n"
    with pytest.warns(MeshIOWarning, match="decoded 2 triangle strips into 3 triangles"):
        m = load_mesh(_write(tmp_path, "s.ply", head + body))
    assert_array_equal(m.faces, [[0, 1, 2], [1, 3, 2], [1, 4, 3]])  # odd strip triangles flipped back
    assert m.is_oriented


@pytest.mark.parametrize(
    "content,match",
    [
        ("ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\n", r"no 'end_header'"),
        ("plx\nend_header\n", r"not a PLY file"),
        ("ply\nformat weird 1.0\nend_header\n", r"unknown format 'weird'"),
        ("ply\nformat ascii 1.0\nelement vertex 1\nproperty flt x\nend_header\n", r"malformed property line"),
        ("ply\nformat ascii 1.0\nelement face 0\nend_header\n", r"no 'vertex' element"),
        ("ply\nformat ascii 1.0\nproperty float x\nend_header\n", r"property before any element"),
        ("ply\nformat ascii 1.0\nelement vertex x\nend_header\n", r"malformed element line"),
        (
            "ply\nformat ascii 1.0\nelement vertex 1\nproperty list uchar big idx\nend_header\n",
            r"unknown list type",
        ),
        ("ply\nformat ascii 1.0\nbogus line\nend_header\n", r"unknown line 'bogus line'"),
        (
            "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
            + "end_header\n0 0\n1 0\n0 1\n",
            r"no property 'z'",
        ),
        (
            (
                "ply\nformat ascii 1.0\nelement vertex 3\n"
                "property float x\nproperty float y\nproperty float z\n"
                "element face 1\nproperty list uchar int vertex_indices\nend_header\n"
                "0 0 0\n1 0 0\n0 1 0\n4 0 1 2\n"
            ),
            r"row 0: list 'vertex_indices' runs past the end of its row",
        ),
        (
            (
                "ply\nformat ascii 1.0\nelement vertex 3\n"
                "property float x\nproperty float y\nproperty float z\n"
                "element face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n"
            ),
            r"element 'vertex' declares 3 rows; the file ends after 2",
        ),
        (
            (
                "ply\nformat ascii 1.0\nelement vertex 3\n"
                "property float x\nproperty float y\nproperty float z\n"
                "element face 1\nproperty list uchar int idx\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"
            ),
            r"no list property 'vertex_indices'",
        ),
    ],
)
def test_ply_errors(tmp_path, content, match):
    with pytest.raises(MeshError, match=match):
        load_mesh(_write(tmp_path, "bad.ply", content))


def test_ply_binary_truncated(tmp_path):
    data = save_mesh(tmp_path / "m.ply", shapes.icosphere(1), binary=True).read_bytes()
    for cut in (len(data) - 1, len(data) - 40, len(data) // 2):
        p = _write(tmp_path, "t.ply", data[:cut])
        with pytest.raises(MeshError, match=r"truncated|ends|need"):
            load_mesh(p)


# ------------------------------------------------------------------------------------ STL
def test_stl_binary_with_solid_header_and_errors(tmp_path):
    m = shapes.icosphere(0)
    data = save_mesh(tmp_path / "m.stl", m.with_verts(m.verts.astype(np.float32)), binary=True).read_bytes()
    tricky = b"solid pretending to be text".ljust(80, b" ") + data[80:]  # binary despite 'solid'
    assert _load_quiet(_write(tmp_path, "s.stl", tricky)).n_faces == 20
    with pytest.raises(
        MeshError, match=r"binary STL declares 20 triangles \(1084 bytes\) but the file has 1000"
    ):
        load_mesh(_write(tmp_path, "t.stl", data[:1000]))
    ascii_bad = (
        "solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nendloop\nendfacet\nendsolid\n"
    )
    with pytest.raises(MeshError, match=r"2 'vertex' lines, not a multiple of 3"):
        load_mesh(_write(tmp_path, "a.stl", ascii_bad))
    with pytest.raises(MeshError, match=r"not an STL file"):
        load_mesh(_write(tmp_path, "n.stl", b"hello"))


def test_stl_degenerate_triangle_dropped_with_warning(tmp_path):
    tri = "facet normal 0 0 1\nouter loop\nvertex {}\nvertex {}\nvertex {}\nendloop\nendfacet\n"
    text = "solid x\n" + tri.format("0 0 0", "1 0 0", "0 1 0") + tri.format("0 0 0", "0 0 0", "1 0 0")
    with pytest.warns(MeshIOWarning) as caught:
        m = load_mesh(_write(tmp_path, "d.stl", text + "endsolid x\n"))
    assert [str(w.message).split(": ", 1)[1] for w in caught] == [
        "STL welded: 6 triangle corners -> 3 vertices (exact coordinates)",
        "dropped 1 triangles that repeat a vertex (first: triangle 1: [0, 0, 1])",
    ]
    assert m.n_faces == 1


# ------------------------------------------------------------------------------------ general
def test_unknown_missing_directory_and_garbage(tmp_path):
    with pytest.raises(MeshError, match=r"unknown mesh format '.abc'"):
        load_mesh(_write(tmp_path, "m.abc", "x"))
    with pytest.raises(FileNotFoundError):
        load_mesh(tmp_path / "missing.obj")
    (tmp_path / "d.obj").mkdir()
    with pytest.raises(MeshError, match="is a directory"):
        load_mesh(tmp_path / "d.obj")
    rng = np.random.default_rng(0)
    for ext in (".obj", ".off", ".ply", ".stl"):
        for k in range(5):
            p = _write(
                tmp_path,
                f"g{k}{ext}",
                rng.integers(0, 256, size=int(rng.integers(0, 400))).astype(np.uint8).tobytes(),
            )
            with pytest.raises(MeshError) as info:
                load_mesh(p)
            assert "\n" not in str(info.value) and str(p) in str(info.value)


def test_polygons_triangulated_quads_never_fold():
    v = np.array([[0.0, 0, 0], [1, 0.5, 0], [2, 0, 0], [1, 2, 0], [5, 5, 0]])  # vertex 1 is reflex
    with (
        pytest.warns(MeshIOWarning, match=r"dropped 1 faces with fewer than 3 vertices"),
        pytest.warns(MeshIOWarning, match=r"triangulated 1 polygons with 4 to 4 vertices into 2 triangles"),
    ):
        tri = triangulate_polygons(v, np.array([2, 4]), np.array([4, 3, 0, 1, 2, 3]))
    # fan (0, 1, 2) + (0, 2, 3) folds (opposite normals); the other diagonal gives two +z triangles
    n = np.cross(v[tri[:, 1]] - v[tri[:, 0]], v[tri[:, 2]] - v[tri[:, 0]])
    assert (n[:, 2] > 0).all()
    assert_array_equal(np.sort(tri.reshape(-1)), [0, 1, 1, 2, 3, 3])
    with pytest.warns(MeshIOWarning, match="triangulated 1 polygons with 5 to 5 vertices into 3 triangles"):
        pent = triangulate_polygons(v, np.array([5]), np.arange(5))  # fan for larger polygons
    assert_array_equal(pent, [[0, 1, 2], [0, 2, 3], [0, 3, 4]])


def test_file_faces_repeating_a_vertex_are_dropped(tmp_path):
    text = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\nf 1 1 2\n"
    with pytest.warns(MeshIOWarning, match=r"dropped 1 triangles that repeat a vertex \(first: triangle 1"):
        assert load_mesh(_write(tmp_path, "r.obj", text)).n_faces == 1
    with pytest.raises(MeshError, match="no triangle survives"):
        _load_quiet(_write(tmp_path, "r2.obj", "v 0 0 0\nv 1 0 0\nf 1 1 2\n"))


# ------------------------------------------------------------------------------------ points
def test_points(tmp_path):
    ply = "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
    ply += "end_header\n0 0 0\n1 2 3\n4 5 6\n"
    p = _write(tmp_path, "p.ply", ply)
    with pytest.raises(
        MeshError, match=r"3 vertices but no faces: it is a point cloud; use manifoldnet.load_points"
    ):
        load_mesh(p)
    assert_array_equal(load_points(p), [[0, 0, 0], [1, 2, 3], [4, 5, 6]])
    assert_array_equal(
        load_points(_write(tmp_path, "p.xyz", "# x y z\n1 2 3 9\n4 5 6 9\n")), [[1, 2, 3], [4, 5, 6]]
    )
    np.save(tmp_path / "p.npy", np.arange(12.0).reshape(4, 3))
    assert load_points(tmp_path / "p.npy").shape == (4, 3)
    m = shapes.icosphere(1)
    assert_array_equal(load_points(save_mesh(tmp_path / "m.obj", m)), m.verts)
    with pytest.raises(MeshError, match="fewer than 3 columns"):
        load_points(_write(tmp_path, "q.xyz", "1 2\n"))
    with pytest.raises(MeshError, match="holds no points"):
        load_points(_write(tmp_path, "e.xyz", "# nothing\n"))
    with pytest.raises(MeshError, match="point 1 has non-finite"):
        load_points(_write(tmp_path, "n.xyz", "1 2 3\n1 nan 3\n"))
    with pytest.raises(MeshError, match="unknown mesh format '.xyz'"):
        load_mesh(tmp_path / "p.xyz")
    np.save(tmp_path / "b.npy", np.zeros((4, 2)))
    with pytest.raises(MeshError, match=r"expected an \(N, >=3\) numeric array, got \(4, 2\)"):
        load_points(tmp_path / "b.npy")
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(MeshError, match="not a numeric .npy array"):
        load_points(tmp_path / "o.npy")


# ------------------------------------------------------------------------------------ conversions
def test_trimesh_round_trip_keeps_arrays():
    m = shapes.noisy_sphere(1, seed=2)
    t = to_trimesh(m)
    assert_array_equal(t.vertices, m.verts)
    assert_array_equal(t.faces, m.faces)
    back = from_trimesh(t)
    assert_array_equal(back.verts, m.verts)
    assert_array_equal(back.faces, m.faces)
    with pytest.raises(MeshError, match="expects a trimesh.Trimesh"):
        from_trimesh(object())


def test_from_pyvista_duck_typed_mixed_cells():
    v = np.array([[0.0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [2, 0, 0]])
    poly = types.SimpleNamespace(points=v, faces=np.array([4, 0, 1, 2, 3, 3, 1, 4, 2]))
    with pytest.warns(MeshIOWarning, match="triangulated 1 polygons"):
        m = from_pyvista(poly)
    assert_array_equal(m.faces, [[0, 1, 2], [0, 2, 3], [1, 4, 2]])
    tri = types.SimpleNamespace(points=v, faces=vtk_face_array([[0, 1, 2], [1, 4, 2]]))
    assert_array_equal(from_pyvista(tri).faces, [[0, 1, 2], [1, 4, 2]])
    with pytest.raises(MeshError, match="no faces: it is a point cloud"):
        from_pyvista(types.SimpleNamespace(points=v, faces=np.zeros(0, int)))
    with pytest.raises(MeshError, match="cell sizes do not add up"):
        from_pyvista(types.SimpleNamespace(points=v, faces=np.array([3, 0, 1, 2, 5, 1])))
    with pytest.raises(MeshError, match="expects a pyvista.PolyData"):
        from_pyvista(v)


def test_vtk_face_array_layout():
    assert_array_equal(vtk_face_array(np.array([[0, 1, 2], [2, 3, 4]])), [3, 0, 1, 2, 3, 2, 3, 4])


def test_from_pyvista_real_polydata():
    pv = pytest.importorskip("pyvista")
    m = shapes.icosphere(1)
    poly = pv.PolyData(np.array(m.verts), vtk_face_array(m.faces))
    back = from_pyvista(poly)
    assert_array_equal(back.verts, m.verts)
    assert_array_equal(back.faces, m.faces)


def test_messages_name_the_file(tmp_path):
    p = _write(tmp_path, "x.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n")
    with pytest.raises(MeshError, match=re.escape(str(p))):
        load_mesh(p)


def test_loaded_mesh_is_a_mesh(tmp_path):
    assert isinstance(_load_quiet(save_mesh(tmp_path / "a.off", shapes.torus(n_major=6, n_minor=4))), Mesh)
