"""Fuzzing the validator (Mesh) and the loaders (manifoldnet.io) with hypothesis: every outcome is a Mesh or a
MeshError, never another exception, a hang or a NaN. Bounded: few examples in the default suite
(``MANIFOLDNET_FUZZ_EXAMPLES`` raises the count for a long run)."""

from __future__ import annotations

import contextlib
import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from manifoldnet import Mesh, MeshError, shapes

N = int(os.environ.get("MANIFOLDNET_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=N, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FORMATS = (".obj", ".off", ".ply", ".stl")


def _exercise(m: Mesh) -> None:
    """Every derived fact of a mesh computes, and the geometric ones are finite."""
    rep = m.report()
    assert rep.n_verts == m.n_verts and rep.n_faces == m.n_faces
    _ = m.boundary_loops, m.nonmanifold_verts, m.faces_to_flip, m.genus, m.duplicate_faces
    assert np.isfinite(m.face_areas).all() and np.isfinite(m.edge_lengths).all()


def _mesh_or_error(verts, faces):
    try:
        m = Mesh(verts, faces)
    except MeshError as e:
        assert str(e), "a MeshError must say what is wrong"
        return None
    _exercise(m)
    return m


float_dtypes = st.sampled_from([np.float64, np.float32, np.int32, np.int64, np.uint8, np.float16])
int_dtypes = st.sampled_from([np.int64, np.int32, np.uint32, np.int8, np.uint64, np.float64])


@FUZZ
@given(
    verts=hnp.arrays(float_dtypes, st.tuples(st.integers(0, 12), st.sampled_from([3, 3, 3, 2, 4]))),
    faces=hnp.arrays(np.int64, st.tuples(st.integers(0, 12), st.sampled_from([3, 3, 3, 4, 1])),
                     elements=st.integers(-2, 14)),
    face_dtype=int_dtypes,
)
def test_validator_on_random_arrays(verts, faces, face_dtype):
    m = _mesh_or_error(verts, faces.astype(face_dtype))  # negative -> huge for unsigned dtypes
    if m is not None:
        assert m.verts.dtype == np.float64 and m.faces.dtype == np.int64
        assert m.faces.min() >= 0 and m.faces.max() < m.n_verts


@FUZZ
@given(st.one_of(st.none(), st.text(max_size=5), st.lists(st.floats(), max_size=6),
                 st.lists(st.lists(st.integers(-5, 5), max_size=4), max_size=4)),
       st.one_of(st.none(), st.text(max_size=5), st.lists(st.integers(), max_size=6)))
def test_validator_on_arbitrary_python_objects(verts, faces):
    with contextlib.suppress(MeshError):
        Mesh(verts, faces)


@FUZZ
@given(n=st.integers(3, 40), seed=st.integers(0, 2**32 - 1), n_faces=st.integers(1, 60))
def test_random_index_arrays_give_valid_meshes_and_finite_laplacians(n, seed, n_faces):
    """Random triangles on random points: whatever the topology, Mesh accepts it and L is finite, symmetric,
    PSD with L @ 1 = 0 (the weak cotan Laplacian's identities hold on any triangle soup)."""
    rng = np.random.default_rng(seed)
    verts = rng.normal(size=(n, 3))
    faces = np.array([rng.choice(n, 3, replace=False) for _ in range(n_faces)])
    m = _mesh_or_error(verts, faces)
    assert m is not None
    from manifoldnet.geometry.laplacian import laplacian
    from manifoldnet.testing import assert_laplacian_identities

    L, M = laplacian(m)
    assert_laplacian_identities(L, M, m, psd=True)


def _load(tmp_path, ext: str, data: bytes):
    from manifoldnet.io import load_mesh

    p = tmp_path / f"fuzz{ext}"
    p.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            m = load_mesh(p)
        except MeshError as e:
            assert str(e)
            return None
    _exercise(m)
    return m


@pytest.mark.parametrize("ext", FORMATS)
@FUZZ
@given(data=st.binary(max_size=400))
def test_loader_on_random_bytes(tmp_path, ext, data):
    _load(tmp_path, ext, data)


HEADERS = {
    ".obj": b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n",
    ".off": b"OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n",
    ".ply": b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
    b"element face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n",
    ".stl": b"solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\nendloop\n"
            b"endfacet\n"
    b"endsolid t\n",
}


def _valid_bytes(ext: str, binary: bool) -> bytes:
    import tempfile
    from pathlib import Path

    from manifoldnet.io import save_mesh

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f"m{ext}"
        kw = {"binary": binary} if ext in (".ply", ".stl") else {}
        save_mesh(p, shapes.icosphere(0), **kw)
        return p.read_bytes()


@pytest.mark.parametrize("ext,binary", [(".obj", False), (".off", False), (".ply", False), (".ply", True),
                                        (".stl", False), (".stl", True)])
@FUZZ
@given(data=st.data())
def test_loader_on_mutated_valid_files(tmp_path, ext, binary, data):
    """A valid file with random bytes overwritten, a random cut, or a random token inserted."""
    raw = bytearray(_valid_bytes(ext, binary))
    how = data.draw(st.sampled_from(["overwrite", "truncate", "insert"]))
    if how == "overwrite":
        for _ in range(data.draw(st.integers(1, 6))):
            i = data.draw(st.integers(0, len(raw) - 1))
            raw[i] = data.draw(st.integers(0, 255))
    elif how == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    else:
        tok = data.draw(st.sampled_from([b" -1", b" nan", b" inf", b" 1e999", b" 99999999999", b"\n", b" x",
                                         b"\x00", b" 4 0 1 2 3", b"/", b" -7"]))
        i = data.draw(st.integers(0, len(raw)))
        raw[i:i] = tok
    _load(tmp_path, ext, bytes(raw))


@pytest.mark.parametrize("ext", FORMATS)
def test_loader_reads_the_minimal_triangle(tmp_path, ext):
    """Sanity of the fuzz seeds: the minimal files are valid one-triangle meshes."""
    m = _load(tmp_path, ext, HEADERS[ext])
    assert m is not None and m.n_faces == 1 and m.n_verts == 3


@pytest.mark.parametrize("ext", FORMATS)
@FUZZ
@given(data=st.data())
def test_loader_on_mutated_minimal_files(tmp_path, ext, data):
    raw = bytearray(HEADERS[ext])
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.sampled_from(list(b"0123456789 -.\n/exnaif")))
    _load(tmp_path, ext, bytes(raw))
