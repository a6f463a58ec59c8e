"""Reading and writing meshes and point clouds; conversion from and to trimesh and pyvista.

``load_mesh(path)`` reads OBJ, OFF, PLY (ASCII / binary) and STL (ASCII / binary) into a validated
:class:`~manifoldnet.Mesh`. Vertex order and indices are the file's (OBJ vertices are never split on uv or
normal seams), so per-vertex labels and correspondences stay valid. Whatever the loader has to change is
announced with a :class:`MeshIOWarning`: polygons triangulated, STL triangles welded, faces with fewer than
three vertices or repeating a vertex dropped. A file that is not a triangle mesh raises
:class:`~manifoldnet.MeshError` saying why (a point cloud: use :func:`load_points`; empty; truncated; ...).

Conventions
-----------
A polygon ``(v0, ..., vn-1)`` becomes the fan ``(v0, vk, vk+1)``, k = 1..n-2 (orientation kept); a quad
whose fan triangles fold against each other is split along its other diagonal instead. Text output
writes ``%.17g``, so saving and loading gives bit-identical float64 arrays (OBJ, OFF, PLY); binary PLY
stores doubles; STL stores float32 (exact only for float32-representable coordinates).
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order

from .atomic import atomic_write
from .errors import MeshError
from .mesh import Mesh
from .readers import _floats, decode_text, read_obj, read_off, read_ply, read_stl, split_lines
from .repair import weld_vertices

__all__ = [
    "MeshIOWarning",
    "from_pyvista",
    "from_trimesh",
    "load_mesh",
    "load_points",
    "save_mesh",
    "to_trimesh",
    "triangulate_polygons",
    "vtk_face_array",
]

MESH_FORMATS = (".obj", ".off", ".ply", ".stl")
POINT_FORMATS = (".xyz", ".pts", ".txt", ".npy")


class MeshIOWarning(UserWarning):
    """A loader changed what the file holds (triangulated, welded, dropped faces); the message says what."""


def _warn(msg: str) -> None:
    warnings.warn(msg, MeshIOWarning, stacklevel=3)


# ------------------------------------------------------------------------------------------- reading
_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _memory_bytes() -> int:
    """Physical memory of this machine in bytes (a large number where the platform cannot say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return 1 << 62


def _check_regular(path: Path, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _FILE_KINDS if test(st.st_mode)), "not a regular file")
        raise MeshError(f"{path}: is {kind}, not a regular file; meshes are read from regular files only")
    if st.st_size > _memory_bytes():
        raise MeshError(
            f"{path}: the file holds {st.st_size} bytes, more than this machine's memory "
            f"({_memory_bytes()} bytes); it cannot be a mesh this machine can process"
        )


def read_file_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of a regular file, at most the size it had when it was opened.

    A directory, FIFO, device or socket (also behind a symlink) raises MeshError before anything is read,
    so a pipe cannot block and ``/dev/zero`` cannot fill memory; so does a file larger than the machine's
    memory, a symlink loop or any other failure to open it. A missing file raises FileNotFoundError and
    a forbidden one PermissionError, as ``open`` does.
    """
    path = Path(path)
    try:
        _check_regular(path, os.stat(path))  # follows symlinks; nothing opened yet
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except (FileNotFoundError, PermissionError):
        raise
    except OSError as exc:  # ELOOP (symlink loop), ENAMETOOLONG, EIO, ...
        raise MeshError(f"{path}: cannot be opened ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        _check_regular(path, st)  # the path may have been swapped between stat and open
        chunks, left = [], st.st_size
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 26))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise MeshError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


def _read_raw(path: Path):
    path = Path(path)
    suffix = path.suffix.lower()
    reader = {
        ".obj": read_obj,
        ".off": read_off,
        ".ply": read_ply,
        ".stl": read_stl,
    }
    if suffix not in reader:
        raise MeshError(f"{path}: unknown mesh format {suffix!r}; supported: {', '.join(MESH_FORMATS)}")
    data = read_file_bytes(path)  # FileNotFoundError / PermissionError pass through
    try:
        raw = reader[suffix](data)
    except MeshError as exc:
        raise MeshError(f"{path}: {exc}") from None
    except (ValueError, IndexError, OverflowError, TypeError, KeyError) as exc:  # parser safety net
        raise MeshError(
            f"{path}: malformed {suffix[1:].upper()} file ({type(exc).__name__}: {exc})"
        ) from None
    return raw, suffix


def load_mesh(path: str | os.PathLike) -> Mesh:
    """Read a triangle mesh from OBJ, OFF, PLY or STL.

    Returns
    -------
    Mesh : verts (V, 3) float64 in file order, faces (F, 3) int64.

    Raises
    ------
    MeshError
        unknown format, malformed or truncated file, no vertices, no faces (a point cloud: the message
        says to use :func:`load_points`), indices out of range, non-finite coordinates.
    FileNotFoundError
        the path does not exist.
    """
    raw, suffix = _read_raw(Path(path))
    where = str(path)
    nv = len(raw.verts)
    if raw.poly_sizes.size == 0:
        if nv == 0:
            raise MeshError(f"{where}: the file holds no vertices and no faces (empty)")
        extra = f" and {raw.n_lines} line/point elements" if raw.n_lines else ""
        raise MeshError(
            f"{where}: the file holds {nv} vertices{extra} but no faces: it is a point cloud; "
            "use manifoldnet.load_points"
        )
    if nv == 0:
        raise MeshError(f"{where}: the file has {raw.poly_sizes.size} faces but no vertices")
    bad = (raw.poly_flat < 0) | (raw.poly_flat >= nv)
    if raw.strips:
        bad &= raw.poly_flat != -1
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        poly = int(np.searchsorted(np.cumsum(raw.poly_sizes), k, side="right"))
        raise MeshError(
            f"{where}: face {poly} (file order) references vertex {int(raw.poly_flat[k])} "
            f"but the file has {nv} vertices"
        )
    verts = raw.verts
    if raw.strips:
        faces = _strips_to_triangles(raw.poly_sizes, raw.poly_flat)
    else:
        faces = triangulate_polygons(verts, raw.poly_sizes, raw.poly_flat, where=where)
    if suffix == ".stl":
        n_before = len(verts)
        verts, old_to_new = weld_vertices(verts, tol=0.0)
        faces = old_to_new[faces]
        _warn(
            f"{where}: STL welded: {n_before} triangle corners -> {len(verts)} vertices (exact coordinates)"
        )
    faces = _drop_repeated(faces, where)
    if len(faces) == 0:
        raise MeshError(f"{where}: no triangle survives (every face repeats a vertex or has fewer than 3)")
    try:
        return Mesh(verts, faces)
    except MeshError as exc:
        raise MeshError(f"{where}: {exc}") from None


def load_points(path: str | os.PathLike) -> np.ndarray:
    """(N, 3) float64 points: the vertices of any mesh file (faces ignored; STL welded), or a point file
    (``.xyz``, ``.pts``, ``.txt``: whitespace-separated rows whose first 3 columns are x y z; ``.npy``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in POINT_FORMATS:
        pts = _read_point_file(path, suffix)
    else:
        raw, suffix = _read_raw(path)
        pts = raw.verts
        if suffix == ".stl":
            pts = weld_vertices(pts, tol=0.0)[0]
    if len(pts) == 0:
        raise MeshError(f"{path}: the file holds no points")
    finite = np.isfinite(pts).all(axis=1)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise MeshError(f"{path}: point {i} has non-finite coordinates {pts[i].tolist()}")
    return np.ascontiguousarray(pts, dtype=np.float64)


def _read_point_file(path: Path, suffix: str) -> np.ndarray:
    data = read_file_bytes(path)
    if suffix == ".npy":
        try:
            a = np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, EOFError) as exc:
            raise MeshError(f"{path}: not a numeric .npy array ({exc})") from None
        if a.ndim != 2 or a.shape[1] < 3 or a.dtype.kind not in "fiu":
            raise MeshError(f"{path}: expected an (N, >=3) numeric array, got {a.shape} {a.dtype}")
        return a[:, :3].astype(np.float64)
    try:
        text = decode_text(data, "point")
    except MeshError as exc:
        raise MeshError(f"{path}: {exc}") from None
    rows = [ln.split() for ln in split_lines(text)]
    rows = [r for r in rows if r and not r[0].startswith(("#", "//"))]
    short = [i for i, r in enumerate(rows) if len(r) < 3]
    if short:
        raise MeshError(f"{path}: data row {short[0]} has fewer than 3 columns")
    try:
        return _floats([t for r in rows for t in r[:3]], "point").reshape(-1, 3)
    except MeshError as exc:
        raise MeshError(f"{path}: {exc}") from None


# ------------------------------------------------------------------------------------------- polygons
def triangulate_polygons(
    verts: np.ndarray, sizes: np.ndarray, flat: np.ndarray, where: str = ""
) -> np.ndarray:
    """(F, 3) int64 triangles from ragged polygons (``sizes (P,)``, ``flat (sum(sizes),)``), vectorized.

    Polygons with fewer than 3 vertices are dropped; n-gons become fans (quads: the non-folding diagonal).
    Each change is announced with a :class:`MeshIOWarning`.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    flat = np.asarray(flat, dtype=np.int64)
    prefix = f"{where}: " if where else ""
    if sizes.size and (sizes == 3).all():
        return flat.reshape(-1, 3)
    start = np.cumsum(sizes) - sizes
    small = sizes < 3
    if small.any():
        _warn(
            f"{prefix}dropped {int(small.sum())} faces with fewer than 3 vertices (first: face "
            f"{np.argmax(small)})"
        )
    n_tri = np.maximum(sizes - 2, 0)
    poly = np.repeat(np.arange(len(sizes)), n_tri)
    k = np.arange(int(n_tri.sum())) - np.repeat(np.cumsum(n_tri) - n_tri, n_tri) + 1
    s = start[poly]
    tri = np.stack([flat[s], flat[s + k], flat[s + k + 1]], axis=1)
    quads = np.flatnonzero(sizes == 4)
    if quads.size:  # fan triangles of quad q are rows first[q], first[q] + 1
        first = (np.cumsum(n_tri) - n_tri)[quads]
        q = flat[start[quads][:, None] + np.arange(4)]
        p = verts[q]
        n1 = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
        n2 = np.cross(p[:, 2] - p[:, 0], p[:, 3] - p[:, 0])
        fold = np.einsum("ij,ij->i", n1, n2) < 0
        tri[first[fold]] = q[fold][:, [0, 1, 3]]
        tri[first[fold] + 1] = q[fold][:, [1, 2, 3]]
    big = sizes > 3
    if big.any():
        _warn(
            f"{prefix}triangulated {int(big.sum())} polygons with {int(sizes[big].min())} to "
            f"{int(sizes.max())} vertices "
            f"into {int(n_tri[big].sum())} triangles (fan)"
        )
    return tri


def _strips_to_triangles(sizes: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """Triangles of PLY triangle strips (-1 restarts a strip); odd triangles flipped to keep orientation."""
    flat = np.asarray(flat, dtype=np.int64)
    # strip id per entry: new strip after each -1 and at each list start
    list_start = np.zeros(len(flat), dtype=bool)
    list_start[np.cumsum(sizes)[:-1][np.cumsum(sizes)[:-1] < len(flat)]] = True
    list_start[:1] = True
    restart = np.r_[False, flat[:-1] == -1]
    sid = np.cumsum(list_start | restart)
    valid = flat >= 0
    i = np.arange(len(flat) - 2)
    ok = valid[i] & valid[i + 1] & valid[i + 2] & (sid[i] == sid[i + 2])
    # position of the triangle within its strip decides its parity
    first_of_strip = np.r_[0, np.flatnonzero(np.diff(sid)) + 1]
    pos = np.arange(len(flat)) - first_of_strip[sid - 1]
    i = i[ok]
    odd = (pos[i] % 2) == 1
    tri = np.stack(
        [flat[i], np.where(odd, flat[i + 2], flat[i + 1]), np.where(odd, flat[i + 1], flat[i + 2])], 1
    )
    deg = (tri[:, 0] == tri[:, 1]) | (tri[:, 1] == tri[:, 2]) | (tri[:, 0] == tri[:, 2])
    _warn(
        f"decoded {int(sid[-1]) if len(sid) else 0} triangle strips into {int((~deg).sum())} triangles "
        f"({int(deg.sum())} degenerate strip joints skipped)"
    )
    return tri[~deg]


def _drop_repeated(faces: np.ndarray, where: str) -> np.ndarray:
    rep = (faces[:, 0] == faces[:, 1]) | (faces[:, 1] == faces[:, 2]) | (faces[:, 2] == faces[:, 0])
    if rep.any():
        _warn(
            f"{where}: dropped {int(rep.sum())} triangles that repeat a vertex "
            f"(first: triangle {int(np.argmax(rep))}: {faces[np.argmax(rep)].tolist()})"
        )
        faces = faces[~rep]
    return faces


# ------------------------------------------------------------------------------------------- writing
def save_mesh(path: str | os.PathLike, mesh: Mesh, *, binary: bool | None = None) -> Path:
    """Write ``mesh`` as OBJ, OFF, PLY or STL (by extension), atomically (temp file + rename), with the mode
    the umask gives a new file (:mod:`manifoldnet.atomic`).

    ``binary``: PLY and STL default to binary (PLY: little endian, double vertices, int32 indices);
    ``binary=False`` writes ASCII. OBJ and OFF are ASCII only. Returns the path.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MESH_FORMATS:
        raise MeshError(f"{path}: cannot write format {suffix!r}; supported: {', '.join(MESH_FORMATS)}")
    if binary and suffix in (".obj", ".off"):
        raise MeshError(f"{path}: {suffix[1:].upper()} has no binary variant")
    binary = suffix in (".ply", ".stl") if binary is None else bool(binary)
    v, f = mesh.verts, mesh.faces
    if suffix == ".obj":
        body = _text_rows("v", v, "%.17g") + _text_rows("f", f + 1, "%d")
    elif suffix == ".off":
        body = f"OFF\n{len(v)} {len(f)} {mesh.n_edges}\n".encode() + _text_rows("", v, "%.17g")
        body += _text_rows("3", f, "%d")
    elif suffix == ".ply":
        body = _ply_bytes(v, f, binary)
    else:
        body = _stl_bytes(v, f, mesh.face_normals, binary)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda fh: fh.write(body), suffix="")


def _text_rows(prefix: str, a: np.ndarray, fmt: str) -> bytes:
    buf = io.StringIO()
    row = " ".join([fmt] * a.shape[1])
    np.savetxt(buf, a, fmt=f"{prefix} {row}" if prefix else row)
    return buf.getvalue().encode()


def _ply_bytes(v: np.ndarray, f: np.ndarray, binary: bool) -> bytes:
    if len(v) >= 2**31:
        raise MeshError(f"PLY output stores int32 indices; {len(v)} vertices is too many")
    fmt = "binary_little_endian" if binary else "ascii"
    head = (
        f"ply\nformat {fmt} 1.0\ncomment manifoldnet\nelement vertex {len(v)}\n"
        "property double x\nproperty double y\nproperty double z\n"
        f"element face {len(f)}\nproperty list uchar int vertex_indices\nend_header\n"
    ).encode()
    if not binary:
        return head + _text_rows("", v, "%.17g") + _text_rows("3", f, "%d")
    rec = np.zeros(len(f), dtype=[("n", "u1"), ("i", "<i4", (3,))])
    rec["n"], rec["i"] = 3, f
    return head + v.astype("<f8").tobytes() + rec.tobytes()


def _stl_bytes(v: np.ndarray, f: np.ndarray, normals: np.ndarray, binary: bool) -> bytes:
    tri = v[f].astype(np.float32)
    if binary:
        rec = np.zeros(len(f), dtype=[("normal", "<f4", (3,)), ("v", "<f4", (3, 3)), ("attr", "<u2")])
        rec["normal"], rec["v"] = normals, tri
        header = b"manifoldnet binary STL".ljust(80, b" ")
        return header + np.uint32(len(f)).astype("<u4").tobytes() + rec.tobytes()
    rows = np.concatenate([normals[:, None, :].astype(np.float32), tri], axis=1).reshape(len(f), 12)
    rows = rows.astype(np.float64)
    # %.17g of the float32 values: reading back (as float64) gives exactly the float32 coordinates
    fmt = "facet normal %.9g %.9g %.9g\nouter loop\nvertex %.17g %.17g %.17g\nvertex %.17g %.17g %.17g\n"
    fmt += "vertex %.17g %.17g %.17g\nendloop\nendfacet"
    buf = io.StringIO()
    np.savetxt(buf, rows, fmt=fmt)
    return b"solid manifoldnet\n" + buf.getvalue().encode() + b"endsolid manifoldnet\n"


# ------------------------------------------------------------------------------------------- convert
def from_trimesh(tm) -> Mesh:
    """:class:`Mesh` from a ``trimesh.Trimesh`` (vertices and faces as they are; nothing merged)."""
    if not hasattr(tm, "vertices") or not hasattr(tm, "faces"):
        raise MeshError(f"from_trimesh expects a trimesh.Trimesh, got {type(tm).__name__}")
    return Mesh(np.asarray(tm.vertices), np.asarray(tm.faces))


def to_trimesh(mesh: Mesh):
    """``trimesh.Trimesh`` with the same arrays (``process=False``: no merging or reordering)."""
    import trimesh

    return trimesh.Trimesh(vertices=np.array(mesh.verts), faces=np.array(mesh.faces), process=False)


def vtk_face_array(faces: np.ndarray) -> np.ndarray:
    """(4F,) int64 VTK/pyvista cell array ``[3, i, j, k, 3, ...]`` for ``pyvista.PolyData(verts, cells)``."""
    faces = np.asarray(faces, dtype=np.int64)
    return np.concatenate([np.full((len(faces), 1), 3, dtype=np.int64), faces], axis=1).reshape(-1)


def from_pyvista(poly) -> Mesh:
    """:class:`Mesh` from a ``pyvista.PolyData`` (duck-typed: ``.points`` and the flat ``.faces`` array).

    Polygons are triangulated with a :class:`MeshIOWarning`; a PolyData without faces raises MeshError
    (a point cloud: use its ``.points``).
    """
    if not hasattr(poly, "points") or not hasattr(poly, "faces"):
        raise MeshError(f"from_pyvista expects a pyvista.PolyData, got {type(poly).__name__}")
    pts = np.asarray(poly.points, dtype=np.float64)
    cells = np.asarray(poly.faces, dtype=np.int64).reshape(-1)
    if cells.size == 0:
        raise MeshError(f"PolyData with {len(pts)} points has no faces: it is a point cloud (use .points)")
    if cells.size % 4 == 0 and (cells[0::4] == 3).all():
        return Mesh(pts, cells.reshape(-1, 4)[:, 1:])
    # mixed polygons: each offset points at the next cell's offset; the cells are the path from 0 (no loop)
    L = cells.size
    nxt = np.arange(L) + 1 + np.where((cells >= 0) & (cells < L), cells, L)
    ok = np.flatnonzero(nxt <= L)
    g = sp.csr_matrix((np.ones(ok.size, np.int8), (ok, nxt[ok])), shape=(L + 1, L + 1))
    pos = breadth_first_order(g, 0, directed=True, return_predecessors=False)
    if pos[-1] != L:
        raise MeshError("PolyData faces array is malformed: its cell sizes do not add up to its length")
    sizes = cells[pos[:-1]]
    gather = np.repeat(pos[:-1] + 1 - (np.cumsum(sizes) - sizes), sizes) + np.arange(int(sizes.sum()))
    faces = triangulate_polygons(pts, sizes, cells[gather], "PolyData")
    return Mesh(pts, _drop_repeated(faces, "PolyData"))
