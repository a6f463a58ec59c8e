"""Hostile files (issue 18, items 2-5): special files, byte-order marks, 0x85 in comments, repeated PLY
properties, UTF-16 text. Each either reads right or raises a MeshError naming the file and the cause;
never a hang, unbounded memory, a raw OSError or a silently shifted mesh.

The special-file cases run in a subprocess with a timeout and an address-space limit, so a regression
fails the test instead of blocking or exhausting the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from manifoldnet import MeshError, shapes
from manifoldnet.io import MeshIOWarning, load_mesh, load_points, save_mesh

BOUNDED = r"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31))  # 2 GiB: /dev/zero must not fill it
from manifoldnet import MeshError
from manifoldnet.io import load_mesh, load_points
fn = load_points if sys.argv[2] == "points" else load_mesh
try:
    fn(sys.argv[1])
except MeshError as exc:
    print("MeshError:", exc)
except BaseException as exc:
    print(type(exc).__name__ + ":", exc)
"""


def _load_bounded(path, fn="mesh") -> str:
    """What loading ``path`` ends in (one line), under a 20 s timeout and a 2 GiB address space."""
    try:
        proc = subprocess.run(
            [sys.executable, "-c", BOUNDED, str(path), fn],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "timeout"
    return (proc.stdout.strip() or proc.stderr.strip()[-300:]).splitlines()[-1]


def _quiet(fn, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MeshIOWarning)
        return fn(path)


# ------------------------------------------------------------------------- item 2: special files
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.obj"
    os.mkfifo(fifo)
    out = _load_bounded(fifo)
    assert out.startswith("MeshError:") and str(fifo) in out and "FIFO" in out, out
    assert _load_bounded(tmp_path / "pipe.obj", "points").startswith("MeshError:")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
@pytest.mark.parametrize("name", ["zero.obj", "zero.ply", "zero.xyz", "zero.npy"])
def test_symlink_to_a_device_is_refused_without_reading(tmp_path, name):
    link = tmp_path / name
    link.symlink_to("/dev/zero")
    fn = "points" if name.endswith((".xyz", ".npy")) else "mesh"
    out = _load_bounded(link, fn)
    assert out.startswith("MeshError:") and str(link) in out and "character device" in out, out


def test_symlink_loop_is_a_mesh_error(tmp_path):
    a, b = tmp_path / "a.obj", tmp_path / "b.obj"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(MeshError, match=r"a\.obj: cannot be opened .*symbolic links"):
        load_mesh(a)
    with pytest.raises(MeshError, match=r"a\.obj: cannot be opened"):
        load_points(a)


def test_missing_file_is_still_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_mesh(tmp_path / "nope.obj")
    (tmp_path / "dangling.obj").symlink_to(tmp_path / "nope.obj")
    with pytest.raises(FileNotFoundError):
        load_mesh(tmp_path / "dangling.obj")


def test_size_is_checked_before_reading(tmp_path, monkeypatch):
    from manifoldnet import io as mio

    p = save_mesh(tmp_path / "m.obj", shapes.icosphere(1))
    monkeypatch.setattr(mio, "_memory_bytes", lambda: 100)
    with pytest.raises(MeshError, match=r"m\.obj: the file holds \d+ bytes, more than this machine's memory"):
        load_mesh(p)


# ------------------------------------------------------------------------- item 3: byte-order mark
BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize(
    "ext,binary", [(".obj", None), (".off", None), (".ply", False), (".stl", False), (".xyz", None)]
)
def test_utf8_bom_is_ignored_by_every_text_reader(tmp_path, ext, binary):
    m = shapes.noisy_sphere(1, noise=0.1, seed=4)
    if ext == ".xyz":
        plain = tmp_path / "p.xyz"
        np.savetxt(plain, m.verts, fmt="%.17g")
    else:
        plain = save_mesh(tmp_path / f"p{ext}", m, binary=binary)
    bom = tmp_path / f"b{ext}"
    bom.write_bytes(BOM + plain.read_bytes())
    if ext == ".xyz":
        assert_array_equal(load_points(bom), load_points(plain))
        return
    a, b = _quiet(load_mesh, plain), _quiet(load_mesh, bom)
    assert_array_equal(b.verts, a.verts)
    assert_array_equal(b.faces, a.faces)


def test_bom_obj_never_shifts_vertices(tmp_path):
    # 4 vertices, a face on the first three: without BOM handling the first vertex vanished and the
    # face silently used vertices 2, 3, 4
    text = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 5 5 5\nf 1 2 3\n"
    p = tmp_path / "b.obj"
    p.write_bytes(BOM + text.encode())
    m = load_mesh(p)
    assert_array_equal(m.verts[:3], [[0, 0, 0], [1, 0, 0], [0, 1, 0]])
    assert m.n_verts == 4


# ------------------------------------------------------------------------- item 4: only \n, \r\n, \r
def test_0x85_in_an_obj_comment_is_not_a_line_break(tmp_path):
    body = b"v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\n# made by a tool\x85 v 9 9 9\nf 1 2 3 4\t\n"
    p = tmp_path / "q.obj"  # a quad and a tab: the general parser
    p.write_bytes(body)
    m = _quiet(load_mesh, p)
    assert m.n_verts == 4 and m.n_faces == 2


@pytest.mark.parametrize("sep", [b"\n", b"\r\n", b"\r"])
def test_line_endings_still_accepted(tmp_path, sep):
    lines = [b"v 0 0 0", b"v 1 0 0", b"v 1 1 0", b"v 0 1 0", b"f 1 2 3 4"]
    p = tmp_path / "q.obj"
    p.write_bytes(sep.join(lines) + sep)
    assert _quiet(load_mesh, p).n_faces == 2
    off = [b"OFF", b"4 1 0", b"0 0 0", b"1 0 0", b"1 1 0", b"0 1 0", b"4 0 1 2 3"]
    p = tmp_path / "q.off"
    p.write_bytes(sep.join(off) + sep)
    assert _quiet(load_mesh, p).n_faces == 2


def test_0x85_in_off_and_ply_comments(tmp_path):
    off = b"OFF\n# exported\x85 3 3 3\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"
    p = tmp_path / "c.off"
    p.write_bytes(off)
    m = load_mesh(p)
    assert_array_equal(m.verts, [[0, 0, 0], [1, 0, 0], [0, 1, 0]])
    ply = textwrap.dedent("""\
        ply
        format ascii 1.0
        comment exported\x85element junk 7
        element vertex 3
        property float x
        property float y
        property float z
        element face 1
        property list uchar int vertex_indices
        end_header
        0 0 0
        1 0 0
        0 1 0
        3 0 1 2
        """).encode("latin-1")
    p = tmp_path / "c.ply"
    p.write_bytes(ply)
    assert load_mesh(p).n_faces == 1
    p = tmp_path / "c.xyz"
    p.write_bytes(b"# x y z\x85 7 7 7\n1 2 3\n")
    assert_array_equal(load_points(p), [[1, 2, 3]])


# ------------------------------------------------------------------------- item 5: PLY duplicates, UTF-16
PLY_DUP = """\
ply
format ascii 1.0
element vertex 3
property float x
property float y
property float z
property float x
element face 1
property list uchar int vertex_indices
end_header
0 0 0 7
1 0 0 7
0 1 0 7
3 0 1 2
"""


def test_ply_repeated_property_is_refused(tmp_path):
    p = tmp_path / "d.ply"
    p.write_text(PLY_DUP)
    with pytest.raises(MeshError, match=r"d\.ply: PLY header: element 'vertex' declares property 'x' twice"):
        load_mesh(p)
    twice = "ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nelement vertex 0\nend_header\n"
    p.write_text(twice)
    with pytest.raises(MeshError, match=r"declares element 'vertex' twice"):
        load_mesh(p)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
@pytest.mark.parametrize("ext", [".obj", ".off", ".ply", ".stl", ".xyz"])
def test_utf16_text_is_reported_as_an_unsupported_encoding(tmp_path, codec, ext):
    m = shapes.icosphere(0)
    plain = tmp_path / f"p{ext}"
    if ext == ".xyz":
        np.savetxt(plain, m.verts)
    else:
        save_mesh(plain, m, binary=False if ext in (".ply", ".stl") else None)
    p = tmp_path / f"u{ext}"
    p.write_bytes(plain.read_bytes().decode().encode(codec))
    fn = load_points if ext == ".xyz" else load_mesh
    with pytest.raises(MeshError, match=r"u\.\w+: .*UTF-(16|32).*not supported"):
        fn(p)
