"""File parsers for OBJ, OFF, PLY (ASCII, binary little/big endian) and STL (ASCII, binary).

Each ``read_<fmt>(data: bytes) -> RawMesh`` returns the file's vertices and polygons exactly as stored
(no welding, no triangulation: that is :mod:`manifoldnet.io`'s job) and raises :class:`MeshError` saying
what is wrong with the file: a truncated body, a malformed number, a header that contradicts the data.

Conventions
-----------
Polygons are ragged: ``poly_sizes (P,)`` and ``poly_flat (sum(poly_sizes),)`` 0-based vertex indices, in
file order. Variable-length records (OFF faces written across lines, binary PLY lists of mixed length)
are walked without a Python loop: every token / byte offset gets the offset of the record that would
follow it, and the records are the path from the first offset (a graph traversal in scipy).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order

from .errors import MeshError

__all__ = ["RawMesh", "decode_text", "read_obj", "read_off", "read_ply", "read_stl", "split_lines"]


@dataclass
class RawMesh:
    """What a file holds. ``verts (V, 3) float64``; polygons ragged (see module Conventions)."""

    verts: np.ndarray
    poly_sizes: np.ndarray
    poly_flat: np.ndarray
    n_lines: int = 0  # wireframe / point elements that are not faces (OBJ ``l`` and ``p``)
    notes: list[str] = field(default_factory=list)
    strips: bool = False  # polygons are triangle strips (PLY ``tristrips``)


# --------------------------------------------------------------------------------------------- text
_BOM_UTF8 = b"\xef\xbb\xbf"
_BOMS_WIDE = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def strip_bom(data: bytes) -> bytes:
    """``data`` without a leading UTF-8 byte-order mark (editors on Windows write one)."""
    return data[3:] if data[:3] == _BOM_UTF8 else data


def check_encoding(data: bytes, what: str) -> None:
    """Raise MeshError when ``data`` is UTF-16 or UTF-32 text (a byte-order mark, or a NUL in every other
    byte of its start): the readers read ASCII, UTF-8 and Latin-1 text only."""
    enc = next((name for bom, name in _BOMS_WIDE if data[: len(bom)] == bom), None)
    head = data[:256]
    head = np.frombuffer(head[: len(head) // 2 * 2], dtype=np.uint8).reshape(-1, 2)
    if enc is None and len(head) >= 2:  # no mark: ASCII text in one byte of each pair, NUL in the other
        text = ((head >= 0x20) & (head < 0x7F)) | ((head >= 0x09) & (head <= 0x0D))
        if any((head[:, 1 - i] == 0).all() and text[:, i].all() for i in (0, 1)):
            enc = "UTF-16"
    if enc is not None:
        raise MeshError(
            f"{what} file is {enc} encoded text; this encoding is not supported (save it as ASCII or UTF-8)"
        )


def decode_text(data: bytes, what: str) -> str:
    """The text of a text mesh file: UTF-16/32 refused, a UTF-8 byte-order mark dropped, bytes decoded as
    Latin-1 (every byte is one character, so ASCII and UTF-8 numbers and keywords read as they are)."""
    check_encoding(data, what)
    return strip_bom(data).decode("latin-1")


def split_lines(text: str) -> list[str]:
    """Lines split on ``\\n``, ``\\r\\n`` and ``\\r`` only. Never ``str.splitlines``: it also breaks on
    0x85, 0x0b, 0x0c, 0x1c-0x1e, which Windows tools write inside comments (0x85 is cp1252's ellipsis)."""
    return _LINE_BREAK.split(text)


def _floats(tokens: list[str], what: str) -> np.ndarray:
    try:
        return np.array(tokens, dtype=np.float64)
    except ValueError:
        bad = next((t for t in tokens if not _is_float(t)), "?")
        raise MeshError(f"{what}: {bad!r} is not a number") from None


def _is_float(t: str) -> bool:
    try:
        float(t)
    except ValueError:
        return False
    return True


def _ints(values: np.ndarray, what: str) -> np.ndarray:
    """Float tokens that must be integers -> int64."""
    if values.size and (not np.isfinite(values).all() or (values != np.round(values)).any()):
        bad = values[~np.isfinite(values) | (values != np.round(values))][0]
        raise MeshError(f"{what}: {bad!r} is not an integer index")
    if values.size and np.abs(values).max() > 2**62:
        raise MeshError(f"{what}: index {values[np.argmax(np.abs(values))]:.0f} is out of any range")
    return values.astype(np.int64)


def _chain(nxt: np.ndarray, start: int, n: int, what: str) -> np.ndarray:
    """First ``n + 1`` offsets of the path ``start, nxt[start], ...`` (``nxt[i] > i``; ``len(nxt)`` ends).

    Raises MeshError when the path leaves the data before ``n`` records: the body is truncated.
    """
    L = len(nxt)
    if n == 0:
        return np.array([start], dtype=np.int64)
    ok = np.flatnonzero(nxt <= L)
    g = sp.csr_matrix((np.ones(ok.size, dtype=np.int8), (ok, nxt[ok])), shape=(L + 1, L + 1))
    order = breadth_first_order(g, start, directed=True, return_predecessors=False)
    if len(order) < n + 1:
        raise MeshError(
            f"{what}: the file ends after {len(order) - 1} of {n} records (truncated or malformed)"
        )
    return order[: n + 1].astype(np.int64)


# --------------------------------------------------------------------------------------------- OBJ
def read_obj(data: bytes) -> RawMesh:
    """Wavefront OBJ: ``v`` (first 3 numbers; colours ignored), ``f`` (``i``, ``i/t``, ``i//n``, ``i/t/n``,
    negative = relative), ``l`` / ``p`` counted. Everything else (vt, vn, g, o, s, usemtl, mtllib) ignored."""
    text = re.sub(r"\\[ \t]*\r?\n", " ", decode_text(data, "OBJ"))  # a trailing backslash continues a line
    fast = _obj_fast(text)
    if fast is not None:
        return fast
    lines = split_lines(text)
    parts = [ln.split("#", 1)[0].split() for ln in lines]
    heads = np.array([p[0] if p else "" for p in parts], dtype=object)
    is_v, is_f = heads == "v", heads == "f"
    n_lines = int(np.count_nonzero((heads == "l") | (heads == "p")))
    vl = np.flatnonzero(is_v)
    vparts = [parts[i] for i in vl]
    short = [i for i, p in zip(vl, vparts, strict=True) if len(p) < 4]
    if short:
        raise MeshError(
            f"OBJ line {short[0] + 1}: a vertex needs 3 coordinates, got {lines[short[0]].strip()!r}"
        )
    verts = _floats([t for p in vparts for t in p[1:4]], "OBJ vertex").reshape(-1, 3)
    fl = np.flatnonzero(is_f)
    fparts = [parts[i][1:] for i in fl]
    sizes = np.array([len(p) for p in fparts], dtype=np.int64)
    toks = [t.split("/", 1)[0] for p in fparts for t in p]
    try:
        idx = np.array(toks, dtype=np.int64)
    except (ValueError, OverflowError):
        bad = next((i for i, t in enumerate(toks) if not t.lstrip("-").isdigit()), 0)
        line = int(fl[np.searchsorted(np.cumsum(sizes), bad, side="right")]) + 1
        raise MeshError(f"OBJ line {line}: face index {toks[bad]!r} is not an integer") from None
    n_before = np.cumsum(is_v)[fl] if fl.size else np.zeros(0, np.int64)  # vertices defined before each f
    nb = np.repeat(n_before, sizes)
    if (idx == 0).any():
        k = int(np.flatnonzero(idx == 0)[0])
        line = int(fl[np.searchsorted(np.cumsum(sizes), k, side="right")]) + 1
        raise MeshError(f"OBJ line {line}: face index 0 is invalid (OBJ indices start at 1)")
    flat = np.where(idx > 0, idx - 1, nb + idx)
    return RawMesh(verts, sizes, flat, n_lines=n_lines)


_OBJ_OTHER = re.compile(r"^[ \t]|^[vf]\t|^[lp][ \t]", re.MULTILINE)  # indented, tab-separated, lines/points
_OBJ_NOT3 = re.compile(r"^[vf] (?![ \t]*\S+[ \t]+\S+[ \t]+\S+[ \t]*\r?$)", re.MULTILINE)  # not 3 tokens
_OBJ_V = re.compile(r"^v (.*)$", re.MULTILINE)
_OBJ_F = re.compile(r"^f (.*)$", re.MULTILINE)


def _fast_numbers(rows: list[str], n: int, dtype) -> np.ndarray | None:
    """Parse whitespace-separated numbers in C; None unless exactly ``n`` clean values come out."""
    text = " ".join(rows)
    if dtype is np.int64 and "/" in text:
        text = re.sub(r"/\S*", "", text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            a = np.fromstring(text, sep=" ", dtype=dtype)
        except (ValueError, DeprecationWarning):
            return None
    return a if a.size == n else None


def _obj_fast(text: str) -> RawMesh | None:
    """The common case in C speed: lines start in column 0, every ``v`` line holds 3 numbers and every
    ``f`` line a positive-index triangle; anything else returns None (the general parser takes over)."""
    if _OBJ_OTHER.search(text) or _OBJ_NOT3.search(text):
        return None
    vrows, frows = _OBJ_V.findall(text), _OBJ_F.findall(text)
    v = _fast_numbers(vrows, 3 * len(vrows), np.float64)
    f = _fast_numbers(frows, 3 * len(frows), np.int64)
    if v is None or f is None or (f.size and f.min() < 1):
        return None
    return RawMesh(v.reshape(-1, 3), np.full(len(frows), 3, dtype=np.int64), f - 1)


# --------------------------------------------------------------------------------------------- OFF
_OFF_HEAD = re.compile(r"^\s*(ST)?(C)?(N)?(4)?(n)?OFF", re.IGNORECASE)


def read_off(data: bytes) -> RawMesh:
    """OFF / COFF / NOFF / STOFF (ASCII). Comments ``#`` anywhere; faces may carry colours or span lines."""
    text = decode_text(data, "OFF")
    lines = [ln.split("#", 1)[0] for ln in split_lines(text)]
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        raise MeshError("OFF file is empty")
    m = _OFF_HEAD.match(lines[0])
    if not m:
        raise MeshError(f"not an OFF file: the first line is {lines[0].strip()[:40]!r}, expected 'OFF'")
    if m.group(4):
        raise MeshError("4OFF (4D vertices) is not supported")
    rest = lines[0][m.end() :].split()
    if rest and rest[0].upper() == "BINARY":
        raise MeshError("binary OFF is not supported; convert it to ASCII OFF, PLY or OBJ")
    body = lines[1:]
    if not rest:
        if not body:
            raise MeshError("OFF file has no counts line")
        rest, body = body[0].split(), body[1:]
    if len(rest) < 2:
        raise MeshError(f"OFF counts line must hold 'n_vertices n_faces [n_edges]', got {' '.join(rest)!r}")
    counts = _ints(_floats(rest[:3], "OFF counts line"), "OFF counts line")
    nv, nf = int(counts[0]), int(counts[1])
    if nv < 0 or nf < 0:
        raise MeshError(f"OFF counts are negative: {nv} vertices, {nf} faces")
    extra = 3 * bool(m.group(3)) + 4 * bool(m.group(2)) + 2 * bool(m.group(1))  # N, C, ST columns
    if len(body) < nv:
        raise MeshError(
            f"OFF header declares {nv} vertices but the file has {len(body)} data lines (truncated)"
        )
    vparts = [ln.split() for ln in body[:nv]]
    if all(len(p) >= 3 for p in vparts):
        verts = _floats([t for p in vparts for t in p[:3]], "OFF vertex").reshape(-1, 3)
        fbody = body[nv:]
    else:  # a token stream: 3 + extra numbers per vertex, lines irrelevant
        toks = " ".join(body).split()
        need = nv * (3 + extra)
        if len(toks) < need:
            raise MeshError(f"OFF header declares {nv} vertices; the file has too few numbers (truncated)")
        verts = _floats(toks[:need], "OFF vertex").reshape(nv, 3 + extra)[:, :3]
        fbody = [" ".join(toks[need:])]
    sizes, flat = _off_faces(fbody, nf)
    return RawMesh(np.ascontiguousarray(verts), sizes, flat)


def _off_faces(lines: list[str], nf: int) -> tuple[np.ndarray, np.ndarray]:
    if nf == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    fparts = [ln.split() for ln in lines[:nf]]
    lens = np.array([len(p) for p in fparts], dtype=np.int64)
    line_based = len(fparts) == nf
    if line_based:
        heads = _floats([p[0] for p in fparts], "OFF face size")
        sizes = _ints(heads, "OFF face size")
        line_based = bool((sizes >= 0).all() and (lens >= sizes + 1).all())
    if line_based:  # one face per line, optional trailing colour columns
        start = np.cumsum(lens) - lens + 1
        toks = [t for p in fparts for t in p]
    else:  # faces written across lines: walk the token stream
        toks = " ".join(lines).split()
        vals = _floats(toks, "OFF face")
        n = np.where((vals >= 0) & (vals == np.round(vals)) & (vals < len(vals)), vals, len(vals)).astype(
            np.int64
        )
        pos = _chain(np.arange(len(vals)) + 1 + n, 0, nf, "OFF faces")
        sizes, start = n[pos[:-1]], pos[:-1] + 1
    total = int(sizes.sum())
    gather = np.repeat(start - np.r_[0, np.cumsum(sizes)[:-1]], sizes) + np.arange(total)
    flat = _ints(_floats([toks[i] for i in gather], "OFF face index"), "OFF face index")
    return sizes, flat


# --------------------------------------------------------------------------------------------- PLY
_PLY_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "i2", "int16": "i2",
    "ushort": "u2", "uint16": "u2", "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}  # fmt: skip


@dataclass
class _Prop:
    name: str
    dtype: str  # scalar type, or the item type of a list
    count_dtype: str | None = None  # list count type; None for a scalar


def _ply_header(data: bytes) -> tuple[str, list[tuple[str, int, list[_Prop]]], int]:
    end = re.search(rb"end_header[ \t]*\r?\n", data[: 1 << 20])
    if end is None:
        if re.search(rb"end_header\s*$", data[: 1 << 20]):
            end_pos = len(data)
        else:
            raise MeshError("PLY header has no 'end_header' line")
    else:
        end_pos = end.end()
    head = split_lines(data[:end_pos].decode("latin-1"))
    if not head or head[0].strip() != "ply":
        raise MeshError("not a PLY file: the first line is not 'ply'")
    fmt, elements = None, []
    for ln in head[1:]:  # header lines only (tens), not data
        p = ln.split()
        if not p or p[0] in ("comment", "obj_info", "end_header"):
            continue
        if p[0] == "format":
            fmt = p[1] if len(p) > 1 else ""
        elif p[0] == "element":
            if len(p) != 3 or not p[2].isdigit():
                raise MeshError(f"PLY header: malformed element line {ln.strip()!r}")
            if any(e[0] == p[1] for e in elements):
                raise MeshError(f"PLY header: declares element {p[1]!r} twice")
            elements.append((p[1], int(p[2]), []))
        elif p[0] == "property":
            if not elements:
                raise MeshError(f"PLY header: property before any element: {ln.strip()!r}")
            if len(p) == 5 and p[1] == "list":
                if p[2] not in _PLY_TYPES or p[3] not in _PLY_TYPES:
                    raise MeshError(f"PLY header: unknown list type in {ln.strip()!r}")
                elements[-1][2].append(_Prop(p[4], _PLY_TYPES[p[3]], _PLY_TYPES[p[2]]))
            elif len(p) == 3 and p[1] in _PLY_TYPES:
                elements[-1][2].append(_Prop(p[2], _PLY_TYPES[p[1]]))
            else:
                raise MeshError(f"PLY header: malformed property line {ln.strip()!r}")
            props = elements[-1][2]
            if props[-1].name in (q.name for q in props[:-1]):
                raise MeshError(
                    f"PLY header: element {elements[-1][0]!r} declares property {props[-1].name!r} twice"
                )
        else:
            raise MeshError(f"PLY header: unknown line {ln.strip()!r}")
    if fmt not in ("ascii", "binary_little_endian", "binary_big_endian"):
        raise MeshError(f"PLY header: unknown format {fmt!r}")
    return fmt, elements, end_pos


def read_ply(data: bytes) -> RawMesh:
    """PLY, ASCII or binary. Vertices from ``element vertex`` (x, y, z); polygons from ``element face``
    (list ``vertex_indices`` or ``vertex_index``) or triangle strips from
    ``element tristrips`` (-1 restarts)."""
    check_encoding(data, "PLY")
    data = strip_bom(data)
    fmt, elements, pos = _ply_header(data)
    names = [e[0] for e in elements]
    if "vertex" not in names:
        raise MeshError("PLY file has no 'vertex' element")
    face_name = "face" if "face" in names else ("tristrips" if "tristrips" in names else None)
    wanted = {"vertex"} | ({face_name} if face_name else set())
    last = max(names.index(n) for n in wanted)
    out = {}
    if fmt == "ascii":
        lines = split_lines(data[pos:].decode("latin-1"))
        lines = [ln for ln in lines if ln.strip()]
        row = 0
        for name, count, props in elements[: last + 1]:
            if len(lines) < row + count:
                raise MeshError(
                    f"PLY element '{name}' declares {count} rows; the file ends after {len(lines) - row}"
                )
            if name in wanted:
                out[name] = _ply_ascii_element(lines[row : row + count], props, name)
            row += count
    else:
        order = "<" if fmt == "binary_little_endian" else ">"
        for name, count, props in elements[: last + 1]:
            values, pos = _ply_binary_element(data, pos, count, props, order, name)
            if name in wanted:
                out[name] = values
    vprops = out["vertex"]
    missing = [c for c in "xyz" if c not in vprops]
    if missing:
        raise MeshError(f"PLY vertex element has no property {missing[0]!r}")
    verts = np.stack([np.asarray(vprops[c], dtype=np.float64) for c in "xyz"], axis=1)
    if face_name is None:
        return RawMesh(verts, np.zeros(0, np.int64), np.zeros(0, np.int64))
    fprops = out[face_name]
    key = next((k for k in ("vertex_indices", "vertex_index") if k in fprops), None)
    if key is None or not isinstance(fprops[key], tuple):
        raise MeshError(f"PLY '{face_name}' element has no list property 'vertex_indices' or 'vertex_index'")
    sizes, flat = fprops[key]
    flat = _ints(np.asarray(flat, dtype=np.float64), "PLY face index")
    return RawMesh(verts, sizes.astype(np.int64), flat, strips=face_name == "tristrips")


def _ply_ascii_element(lines: list[str], props: list[_Prop], name: str) -> dict:
    parts = [ln.split() for ln in lines]
    lens = np.array([len(p) for p in parts], dtype=np.int64)
    vals = _floats([t for p in parts for t in p], f"PLY element '{name}'")
    pos = np.cumsum(lens) - lens  # per row: offset of the next property
    end = pos + lens
    out = {}
    for pr in props:
        if np.any(pos >= end):
            r = int(np.flatnonzero(pos >= end)[0])
            raise MeshError(f"PLY element '{name}' row {r}: too few values for property '{pr.name}'")
        if pr.count_dtype is None:
            out[pr.name] = vals[pos]
            pos = pos + 1
        else:
            n = _ints(vals[pos], f"PLY element '{name}' list size")
            if (n < 0).any() or np.any(pos + 1 + n > end):
                r = int(np.flatnonzero((n < 0) | (pos + 1 + n > end))[0])
                raise MeshError(
                    f"PLY element '{name}' row {r}: list '{pr.name}' runs past the end of its row"
                )
            gather = np.repeat(pos + 1 - np.r_[0, np.cumsum(n)[:-1]], n) + np.arange(int(n.sum()))
            out[pr.name] = (n, vals[gather])
            pos = pos + 1 + n
    return out


def _ply_binary_element(data: bytes, pos: int, count: int, props: list[_Prop], order: str, name: str):
    """Parse ``count`` records from byte ``pos``; returns (property dict, end position)."""
    if count == 0:
        return {
            p.name: ((np.zeros(0, np.int64), np.zeros(0)) if p.count_dtype else np.zeros(0)) for p in props
        }, pos
    buf = np.frombuffer(data, dtype=np.uint8)
    L = len(buf)
    lists = [p for p in props if p.count_dtype]
    if not lists:
        dt = np.dtype([(f"p{i}", order + p.dtype) for i, p in enumerate(props)])
        end = pos + count * dt.itemsize
        if end > L:
            raise MeshError(
                f"PLY element '{name}': {count} records need {end - pos} bytes, the file has {L - pos}"
            )
        rec = np.frombuffer(data, dtype=dt, count=count, offset=pos)
        return {p.name: rec[f"p{i}"] for i, p in enumerate(props)}, end
    fast = _ply_uniform_lists(data, pos, count, props, order, name)
    if fast is not None:
        return fast
    # mixed list lengths: the record starting at each byte offset o ends at cur[o]; follow the chain
    offs = np.arange(pos, L + 1, dtype=np.int64)
    cur = offs.copy()
    starts, ns = [], []
    for p in props:
        starts.append(cur)
        item = np.dtype(p.dtype).itemsize
        if p.count_dtype is None:
            ns.append(None)
            cur = cur + item
            continue
        csz = np.dtype(p.count_dtype).itemsize
        safe = np.minimum(cur, L - csz) if L >= csz else np.zeros_like(cur)
        view = np.ndarray((L - csz + 1,), dtype=order + p.count_dtype, buffer=data, offset=0, strides=(1,))
        n = view[np.maximum(safe, 0)].astype(np.int64)
        n = np.where((cur + csz <= L) & (n >= 0), n, L + 1)
        ns.append(n)
        cur = np.minimum(cur + csz + n * item, L + 1)
    nxt = cur - pos
    chain = _chain(nxt[:-1], 0, count, f"PLY element '{name}'") + pos
    rec_idx = chain[:-1] - pos
    out = {}
    for p, st, n in zip(props, starts, ns, strict=True):
        s = st[rec_idx]
        item = np.dtype(order + p.dtype)
        if n is None:
            out[p.name] = np.ndarray((L - item.itemsize + 1,), dtype=item, buffer=data, strides=(1,))[s]
        else:
            k = n[rec_idx]
            first = s + np.dtype(p.count_dtype).itemsize
            total = int(k.sum())
            byte = (
                np.repeat(first - np.r_[0, np.cumsum(k)[:-1]] * item.itemsize, k)
                + np.arange(total) * item.itemsize
            )
            vals = np.ndarray((max(L - item.itemsize + 1, 0),), dtype=item, buffer=data, strides=(1,))[byte]
            out[p.name] = (k, vals)
    return out, int(chain[-1])


def _ply_uniform_lists(data: bytes, pos: int, count: int, props: list[_Prop], order: str, name: str):
    """Fast path: every record has the list lengths of the first one (all triangles, say); else None."""
    L = len(data)
    fields, cur = [], pos
    for i, p in enumerate(props):
        if p.count_dtype is None:
            fields.append((f"p{i}", order + p.dtype))
            cur += np.dtype(p.dtype).itemsize
            continue
        cdt = np.dtype(order + p.count_dtype)
        if cur + cdt.itemsize > L:
            raise MeshError(f"PLY element '{name}': the file ends inside its first record")
        k = int(np.frombuffer(data, dtype=cdt, count=1, offset=cur)[0])
        if k < 0:
            return None
        fields.append((f"n{i}", cdt))
        fields.append((f"p{i}", order + p.dtype, (k,)))
        cur += cdt.itemsize + k * np.dtype(p.dtype).itemsize
    dt = np.dtype(fields)
    end = pos + count * dt.itemsize
    if end > L:
        return None
    rec = np.frombuffer(data, dtype=dt, count=count, offset=pos)
    out = {}
    for i, p in enumerate(props):
        if p.count_dtype is None:
            out[p.name] = rec[f"p{i}"]
            continue
        n = rec[f"n{i}"].astype(np.int64)
        if (n != n[0]).any():
            return None
        out[p.name] = (n, rec[f"p{i}"].reshape(-1))
    return out, end


# --------------------------------------------------------------------------------------------- STL
_STL_VERTEX = re.compile(rb"vertex\s+(\S+)\s+(\S+)\s+(\S+)", re.IGNORECASE)


def read_stl(data: bytes) -> RawMesh:
    """STL, binary or ASCII (several ``solid`` blocks allowed). Unwelded: 3 vertices per triangle."""
    if len(data) >= 84:
        n = int(np.frombuffer(data, dtype="<u4", count=1, offset=80)[0])
        if 84 + 50 * n == len(data):
            rec = np.dtype([("normal", "<f4", (3,)), ("v", "<f4", (3, 3)), ("attr", "<u2")])
            tri = np.frombuffer(data, dtype=rec, count=n, offset=84)["v"].astype(np.float64)
            return _stl_soup(tri.reshape(-1, 3))
    check_encoding(data, "STL")
    data = strip_bom(data)
    if data.lstrip()[:5].lower() == b"solid":
        found = _STL_VERTEX.findall(data)
        if len(found) % 3:
            raise MeshError(
                f"ASCII STL has {len(found)} 'vertex' lines, not a multiple of 3 (truncated facet)"
            )
        vals = _floats([t.decode("latin-1") for v in found for t in v], "STL vertex").reshape(-1, 3)
        return _stl_soup(vals)
    if len(data) < 84:
        raise MeshError(
            f"not an STL file: {len(data)} bytes, neither 'solid ...' text nor an 84-byte binary header"
        )
    n = int(np.frombuffer(data, dtype="<u4", count=1, offset=80)[0])
    raise MeshError(
        f"binary STL declares {n} triangles ({84 + 50 * n} bytes) but the file has {len(data)} bytes "
        "(truncated?)"
    )


def _stl_soup(v: np.ndarray) -> RawMesh:
    n = len(v) // 3
    return RawMesh(v, np.full(n, 3, dtype=np.int64), np.arange(3 * n, dtype=np.int64))
