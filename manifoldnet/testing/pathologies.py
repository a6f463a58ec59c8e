"""The pathology generator: named messy meshes made from a clean base, each with the facts it claims.

See :mod:`manifoldnet.testing`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..errors import MeshError
from ..geometry.elements import corner_angles
from ..mesh import Mesh
from ..shapes import icosphere

__all__ = [
    "PATHOLOGIES",
    "Pathology",
    "base_mesh",
    "check_pathology",
    "fan_disk",
    "folded_edges",
    "iter_pathologies",
    "make_pathology",
    "pathology_names",
    "sliver_fan_plate",
]


# ============================================================================ pathologies
@dataclass(frozen=True)
class Pathology:
    """A named messy mesh as raw arrays.

    verts : (V, 3) float64, faces : (F, 3) int64 (may be invalid for :class:`Mesh` when ``valid`` is False).
    valid : whether ``Mesh(verts, faces)`` must accept it (else it must raise :class:`MeshError`).
    expect : facts of ``Mesh(...).report()`` (or of the mesh) the pathology produces, e.g.
        ``{"duplicate_faces": 3}``; keys are :class:`MeshReport` fields or ``"min"``-prefixed lower bounds.
    keywords : words one of which a :class:`MeshError` about this pathology should contain.
    """

    name: str
    verts: np.ndarray
    faces: np.ndarray
    valid: bool
    description: str
    expect: dict = field(default_factory=dict)
    keywords: tuple[str, ...] = ()

    def mesh(self) -> Mesh:
        """``Mesh(verts, faces)`` (raises :class:`MeshError` for the invalid ones)."""
        return Mesh(self.verts, self.faces)


def base_mesh(subdivisions: int = 2) -> Mesh:
    """The default base of every pathology: ``shapes.icosphere(subdivisions)``
    (subdivision 2: 162 vertices)."""
    return icosphere(subdivisions)


def sliver_fan_plate(nx: int = 40, ny: int = 4, h: float = 0.1) -> Mesh:
    """The flat unit square tessellated like a CAD part (geodesic distance = straight-line distance).

    A fine ``nx`` x ``ny`` grid on the strip ``y in [1 - h, 1]``; below it a fan of ``nx`` long slivers from
    the corner ``(0, 0)`` to the strip's lower row, and one large triangle ``(0, 0), (1, 0), (1, 1 - h)``.
    Edges up to 13 mean edge lengths long (default sizes), consistently oriented (normals ``+z``), one
    boundary loop. The vertices ``(0, 0, 0)`` and ``(1, 0, 0)`` are the last two.
    """
    xs, ys = np.linspace(0, 1, nx + 1), np.linspace(1 - h, 1, ny + 1)
    X, Y = np.meshgrid(xs, ys)
    idx = np.arange(X.size).reshape(ny + 1, nx + 1)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, 1:].ravel(), idx[1:, :-1].ravel()
    corner0, corner1 = X.size, X.size + 1
    row = idx[0]
    faces = np.concatenate(
        [
            np.c_[a, b, c],
            np.c_[a, c, d],
            np.c_[np.full(nx, corner0), row[1:], row[:-1]],
            [[corner0, corner1, row[-1]]],
        ]
    )
    verts = np.r_[np.c_[X.ravel(), Y.ravel(), np.zeros(X.size)], [[0, 0, 0], [1, 0, 0]]]
    return Mesh(verts, faces)


def fan_disk(valence: int = 2048) -> Mesh:
    """A flat unit disk made of one fan: vertex 0 at the centre, ``valence`` rim vertices (1..valence,
    counter-clockwise), one triangle per rim edge. The centre's valence is ``valence``, every rim vertex's is
    3: the shape that makes anything costing (max degree)^2 blow up. Geodesics are straight
    lines (convex, flat)."""
    t = np.linspace(0.0, 2.0 * np.pi, valence, endpoint=False)
    verts = np.r_[[[0.0, 0.0, 0.0]], np.c_[np.cos(t), np.sin(t), np.zeros(valence)]]
    i = np.arange(valence)
    return Mesh(verts, np.c_[np.zeros(valence, dtype=np.int64), 1 + i, 1 + (i + 1) % valence])


def _arrays(base) -> tuple[np.ndarray, np.ndarray]:
    if base is None:
        base = base_mesh()
    if isinstance(base, Mesh):
        return np.array(base.verts), np.array(base.faces)
    v, f = base
    return np.array(v, dtype=np.float64), np.array(f, dtype=np.int64)


def _spread_faces(faces: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``k`` face indices whose closed vertex stars are pairwise disjoint (random order, greedy)."""
    n = int(faces.max()) + 1
    used = np.zeros(n, dtype=bool)
    r, c = faces.ravel(), np.roll(faces, 1, axis=1).ravel()
    adj = sp.csr_matrix((np.ones(2 * r.size), (np.r_[r, c], np.r_[c, r])), shape=(n, n))
    picked = []
    for f in rng.permutation(len(faces)):  # k is tiny: a short Python loop over candidates is fine here
        ring = np.unique(np.r_[faces[f], adj[faces[f]].indices])
        if used[ring].any():
            continue
        used[ring] = True
        picked.append(int(f))
        if len(picked) == k:
            break
    return np.array(picked, dtype=np.int64)


def _insert_edge_point(v, f, rng, k, t, lift):
    """Insert a point on edge (a, b) of ``k`` faces (a, b, c) at ``a + t (b - a)`` lifted by ``lift * |ab|``
    along the face normal; the face becomes (a, m, c), (m, b, c) plus a sliver (a, b, m) closing the edge: the
    mesh stays closed and manifold, the sliver has zero area (lift 0) or is a needle / cap."""
    picked = _spread_faces(f, k, rng)
    new_v, new_f = [v], []
    keep = np.ones(len(f), dtype=bool)
    keep[picked] = False
    a, b, c = f[picked, 0], f[picked, 1], f[picked, 2]
    pa, pb, pc = v[a], v[b], v[c]
    n = np.cross(pb - pa, pc - pa)
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    pm = pa + t * (pb - pa) + lift * np.linalg.norm(pb - pa, axis=1, keepdims=True) * n
    m = len(v) + np.arange(len(picked))
    new_v.append(pm)
    new_f += [f[keep], np.c_[a, m, c], np.c_[m, b, c], np.c_[a, b, m]]
    return np.vstack(new_v), np.vstack(new_f), len(picked)


def _p_clean(v, f, rng):
    return {"verts": v, "faces": f, "valid": True, "description": "the base mesh, unchanged (control)"}


def _p_duplicate_faces(v, f, rng):
    idx = rng.choice(len(f), size=3, replace=False)
    dup = f[idx].copy()
    dup[1] = dup[1, ::-1]  # one repeated with the opposite orientation
    return {
        "verts": v,
        "faces": np.vstack([f, dup]),
        "valid": True,
        "description": "3 faces repeated (one reversed)",
        "expect": {"duplicate_faces": 3, "min_nonmanifold_edges": 1},
        "keywords": ("duplicate", "manifold", "more than two"),
    }


def _p_zero_area(v, f, rng):
    v2, f2, n = _insert_edge_point(v, f, rng, 4, 0.5, 0.0)
    return {
        "verts": v2,
        "faces": f2,
        "valid": True,
        "description": f"{n} exactly zero-area slivers (T-junction caps), still closed",
        "expect": {"zero_area_faces": n},
        "keywords": ("zero-area", "degenerate", "area"),
    }


def _p_needles(v, f, rng):
    v2, f2, n = _insert_edge_point(v, f, rng, 4, 1e-7, 1e-7)
    return {
        "verts": v2,
        "faces": f2,
        "valid": True,
        "description": f"{n} needle triangles (an edge 1e-7 of its neighbours)",
        "expect": {"n_faces": len(f) + 2 * n, "smallest_angle_below": 1e-5},
        "keywords": ("degenerate", "needle", "area"),
    }


def _p_caps(v, f, rng):
    v2, f2, n = _insert_edge_point(v, f, rng, 4, 0.5, 1e-6)
    return {
        "verts": v2,
        "faces": f2,
        "valid": True,
        "description": f"{n} cap triangles (an angle within 1e-6 rad of pi)",
        "expect": {"n_faces": len(f) + 2 * n, "largest_angle_above": np.pi - 1e-5, "zero_area_faces": 0},
        "keywords": ("degenerate", "cap", "area"),
    }


def _p_coincident_vertices(v, f, rng):
    """Split the fan of one vertex into two halves using two coincident copies: a crack
    (boundary) at one point."""
    centre = int(rng.integers(len(v)))
    inc = np.flatnonzero((f == centre).any(axis=1))
    nrm = v[centre] / max(np.linalg.norm(v[centre]), 1e-300)
    e1 = np.cross(nrm, [0.0, 0.0, 1.0] if abs(nrm[2]) < 0.9 else [1.0, 0.0, 0.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(nrm, e1)
    d = v[f[inc]].mean(axis=1) - v[centre]
    ang = np.arctan2(d @ e2, d @ e1)
    half = inc[ang >= np.median(ang)]
    f2 = f.copy()
    new = len(v)
    f2[half] = np.where(f2[half] == centre, new, f2[half])
    return {
        "verts": np.vstack([v, v[centre]]),
        "faces": f2,
        "valid": True,
        "description": (
            f"vertex {centre} duplicated at the same position, half of its fan moved to the copy {new}"
        ),
        "expect": {"n_boundary_loops": 1},
        "keywords": ("coincident", "boundary"),
    }


def _unreferenced(where):
    def make(v, f, rng):
        pos = {"first": 0, "middle": len(v) // 2, "last": len(v)}[where]
        p = rng.normal(size=(1, 3))
        v2 = np.vstack([v[:pos], p, v[pos:]])
        f2 = np.where(f >= pos, f + 1, f)
        return {
            "verts": v2,
            "faces": f2,
            "valid": True,
            "description": f"one unreferenced vertex at index {pos} ({where})",
            "expect": {"unreferenced_verts": 1, "unreferenced_index": pos},
            "keywords": ("unreferenced",),
        }

    return make


def _p_fin(v, f, rng):
    i = int(rng.integers(len(f)))
    a, b, c = f[i]
    n = np.cross(v[b] - v[a], v[c] - v[a])
    tip = 0.5 * (v[a] + v[b]) + n / np.linalg.norm(n) * np.linalg.norm(v[b] - v[a])
    return {
        "verts": np.vstack([v, tip]),
        "faces": np.vstack([f, [a, b, len(v)]]),
        "valid": True,
        "description": f"a fin: a third face on edge ({a}, {b})",
        "expect": {"nonmanifold_edges": 1},
        "keywords": ("manifold", "more than two"),
    }


def _p_bowtie(v, f, rng):
    """A second copy of the base touching the first at one vertex (a non-manifold
    vertex, edges all manifold)."""
    vi = int(np.argmax(v[:, 0]))
    wi = int(np.argmin(v[:, 0]))
    shift = v[vi] - v[wi]
    v2 = v + shift
    f2 = f + len(v)
    f2 = np.where(f2 == wi + len(v), vi, f2)
    v2[wi] = np.nan  # removed below
    keep = np.ones(len(v2), dtype=bool)
    keep[wi] = False
    remap = np.cumsum(keep) - 1 + len(v)
    f2 = np.where(f2 >= len(v), remap[np.maximum(f2 - len(v), 0)], f2)
    return {
        "verts": np.vstack([v, v2[keep]]),
        "faces": np.vstack([f, f2]),
        "valid": True,
        "description": f"two copies sharing vertex {vi} only (a bow-tie vertex)",
        "expect": {"nonmanifold_verts": 1, "nonmanifold_edges": 0, "n_components": 1},
        "keywords": ("manifold", "bow-tie", "bowtie"),
    }


def _p_flipped(v, f, rng):
    idx = _spread_faces(f, 5, rng)
    f2 = f.copy()
    f2[idx] = f2[idx, ::-1]
    return {
        "verts": v,
        "faces": f2,
        "valid": True,
        "description": f"{len(idx)} faces with reversed orientation",
        "expect": {"is_oriented": False, "faces_to_flip": len(idx)},
        "keywords": ("orient",),
    }


def _p_components(v, f, rng):
    span = np.ptp(v, axis=0).max()
    vs = [v + [k * 1.5 * span, 0.0, 0.0] for k in range(3)]
    fs = [f + k * len(v) for k in range(3)]
    return {
        "verts": np.vstack(vs),
        "faces": np.vstack(fs),
        "valid": True,
        "description": "three disjoint copies",
        "expect": {"n_components": 3},
        "keywords": ("component",),
    }


def _p_tiny_component(v, f, rng):
    span = np.ptp(v, axis=0).max()
    tri = v.min(axis=0) - span + np.array([[0.0, 0, 0], [0.1, 0, 0], [0, 0.1, 0]]) * span
    return {
        "verts": np.vstack([v, tri]),
        "faces": np.vstack([f, len(v) + np.array([[0, 1, 2]])]),
        "valid": True,
        "description": "the base plus a separate single triangle",
        "expect": {"n_components": 2, "n_boundary_loops": 1},
        "keywords": ("component",),
    }


def _p_holes(v, f, rng):
    idx = _spread_faces(f, 3, rng)
    keep = np.ones(len(f), dtype=bool)
    keep[idx] = False
    return {
        "verts": v,
        "faces": f[keep],
        "valid": True,
        "description": f"{len(idx)} triangular holes",
        "expect": {"n_boundary_loops": len(idx)},
        "keywords": ("boundary",),
    }


def _p_folded(v, f, rng):
    """Drag one vertex across its one-ring, past a neighbour: part of its fan folds over its neighbours."""
    i = int(rng.integers(len(v)))
    nb = np.unique(f[(f == i).any(axis=1)])
    nb = nb[nb != i]
    c = v[nb].mean(axis=0)
    u = v[nb[0]]
    v2 = v.copy()
    v2[i] = c + 2.0 * (u - c)
    return {
        "verts": v2,
        "faces": f,
        "valid": True,
        "description": f"vertex {i} dragged across its one-ring: a folded fan",
        "expect": {"min_folded_edges": 1},
        "keywords": ("fold", "flip"),
    }


def _scaled(s):
    def make(v, f, rng):
        return {
            "verts": v * s,
            "faces": f,
            "valid": True,
            "description": f"coordinates scaled by {s:g}",
            "expect": {},
        }

    return make


def _p_far(v, f, rng):
    return {
        "verts": v + 1e6,
        "faces": f,
        "valid": True,
        "description": "translated by 1e6 (cancellation)",
        "expect": {},
    }


def _nonfinite(value):
    def make(v, f, rng):
        v2 = v.copy()
        i = int(rng.integers(len(v)))
        v2[i, int(rng.integers(3))] = value
        return {
            "verts": v2,
            "faces": f,
            "valid": False,
            "description": f"vertex {i} has a {value} coordinate",
            "keywords": ("finite", "nan", "inf"),
        }

    return make


def _p_out_of_range(v, f, rng):
    f2 = f.copy()
    i = int(rng.integers(len(f)))
    f2[i, 1] = len(v) + 7
    return {
        "verts": v,
        "faces": f2,
        "valid": False,
        "description": f"face {i} indexes vertex {len(v) + 7} of {len(v)}",
        "keywords": ("range", "index"),
    }


def _p_negative_index(v, f, rng):
    f2 = f.copy()
    i = int(rng.integers(len(f)))
    f2[i, 2] = -1
    return {
        "verts": v,
        "faces": f2,
        "valid": False,
        "description": f"face {i} holds index -1",
        "keywords": ("negative", "index"),
    }


def _p_repeated_index(v, f, rng):
    f2 = f.copy()
    i = int(rng.integers(len(f)))
    f2[i, 2] = f2[i, 0]
    return {
        "verts": v,
        "faces": f2,
        "valid": False,
        "description": f"face {i} repeats a vertex",
        "keywords": ("repeat",),
    }


def _p_no_faces(v, f, rng):
    return {
        "verts": v,
        "faces": np.zeros((0, 3), dtype=np.int64),
        "valid": False,
        "description": "vertices but no faces",
        "keywords": ("empty", "faces"),
    }


def _p_single_triangle(v, f, rng):
    return {
        "verts": v[f[0]],
        "faces": np.array([[0, 1, 2]]),
        "valid": True,
        "description": "one triangle alone",
        "expect": {"n_faces": 1, "n_boundary_loops": 1},
    }


def _p_soup(v, f, rng):
    return {
        "verts": v[f].reshape(-1, 3),
        "faces": np.arange(3 * len(f)).reshape(-1, 3),
        "valid": True,
        "description": "triangle soup: every face has its own 3 vertices (unwelded, like STL)",
        "expect": {"n_components": len(f), "n_boundary_loops": len(f)},
        "keywords": ("component", "boundary", "soup"),
    }


def _p_fan(v, f, rng):
    m = fan_disk(max(1024, 4 * len(v)))  # the base only sets the size: valence >> anything it holds
    return {
        "verts": m.verts,
        "faces": m.faces,
        "valid": True,
        "description": f"a flat disk of one fan: a vertex of valence {m.n_verts - 1}",
        "expect": {"n_boundary_loops": 1, "n_components": 1},
    }


PATHOLOGIES: dict[str, Callable] = {
    "clean": _p_clean,
    "duplicate_faces": _p_duplicate_faces,
    "zero_area_faces": _p_zero_area,
    "needle_faces": _p_needles,
    "cap_faces": _p_caps,
    "coincident_vertices": _p_coincident_vertices,
    "unreferenced_first": _unreferenced("first"),
    "unreferenced_middle": _unreferenced("middle"),
    "unreferenced_last": _unreferenced("last"),
    "nonmanifold_edge": _p_fin,
    "nonmanifold_vertex": _p_bowtie,
    "flipped_faces": _p_flipped,
    "several_components": _p_components,
    "tiny_component": _p_tiny_component,
    "holes": _p_holes,
    "folded_region": _p_folded,
    "huge_scale": _scaled(1e8),
    "tiny_scale": _scaled(1e-8),
    "extreme_huge_scale": _scaled(1e20),  # float32 bundles: areas overflow (issue 18 item 10)
    "extreme_tiny_scale": _scaled(1e-20),  # float32 bundles: areas underflow
    "far_from_origin": _p_far,
    "single_triangle": _p_single_triangle,
    "triangle_soup": _p_soup,
    "high_valence_fan": _p_fan,
    "nan_coordinate": _nonfinite(np.nan),
    "inf_coordinate": _nonfinite(np.inf),
    "out_of_range_index": _p_out_of_range,
    "negative_index": _p_negative_index,
    "repeated_index": _p_repeated_index,
    "no_faces": _p_no_faces,
}


def pathology_names(valid: bool | None = None) -> list[str]:
    """All pathology names (``valid=True``: only those ``Mesh`` accepts; ``False``: only the invalid ones)."""
    if valid is None:
        return list(PATHOLOGIES)
    return [n for n in PATHOLOGIES if make_pathology(n, _tiny_base()).valid == valid]


def _tiny_base():
    """An octahedron: enough to learn a pathology's validity cheaply."""
    v = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], dtype=float)
    f = np.array([[0, 2, 4], [2, 1, 4], [1, 3, 4], [3, 0, 4], [2, 0, 5], [1, 2, 5], [3, 1, 5], [0, 3, 5]])
    return v, f


def make_pathology(name: str, base=None, seed: int = 0) -> Pathology:
    """The pathology ``name`` applied to ``base`` (a :class:`Mesh` or ``(verts, faces)``; default
    :func:`base_mesh`), deterministic from ``seed``. Raises ``KeyError`` listing the names when unknown."""
    if name not in PATHOLOGIES:
        raise KeyError(f"unknown pathology {name!r}; known: {', '.join(PATHOLOGIES)}")
    v, f = _arrays(base)
    rng = np.random.default_rng([seed, sum(map(ord, name))])
    out = PATHOLOGIES[name](v, f, rng)
    return Pathology(
        name=name,
        verts=np.asarray(out["verts"], dtype=np.float64),
        faces=np.asarray(out["faces"], dtype=np.int64),
        valid=out["valid"],
        description=out["description"],
        expect=out.get("expect", {}),
        keywords=tuple(out.get("keywords", ())),
    )


def iter_pathologies(names=None, base=None, seed: int = 0):
    """Yield :class:`Pathology` for each name (default: all)."""
    for n in names or PATHOLOGIES:
        yield make_pathology(n, base, seed)


def folded_edges(mesh: Mesh, cos_max: float = -0.5) -> np.ndarray:
    """(N,) indices of interior edges whose two face normals point nearly opposite (dot
    < ``cos_max``): folds."""
    e = mesh.halfedge_edges
    hs = np.flatnonzero(mesh.edge_face_counts[e] == 2)
    hs = hs[np.argsort(e[hs], kind="stable")]
    a, b = hs[0::2] // 3, hs[1::2] // 3
    n = mesh.face_normals
    dots = np.einsum("ij,ij->i", n[a], n[b])
    return e[hs[0::2]][dots < cos_max]


def check_pathology(p: Pathology) -> Mesh | None:
    """Assert that ``p`` produces what it claims: ``Mesh`` raises :class:`MeshError` for an invalid one
    (naming it by one of ``p.keywords``), or accepts it and its report shows ``p.expect``.
    Returns the mesh (or None)."""
    if not p.valid:
        try:
            Mesh(p.verts, p.faces)
        except MeshError as e:
            msg = str(e).lower()
            if p.keywords and not any(k in msg for k in p.keywords):
                raise AssertionError(f"{p.name}: MeshError does not name the problem: {e}") from None
            return None
        raise AssertionError(f"{p.name}: Mesh accepted an invalid mesh ({p.description})")
    mesh = Mesh(p.verts, p.faces)
    rep = mesh.report().as_dict()
    for key, want in p.expect.items():
        if key == "unreferenced_index":
            got = int(mesh.unreferenced_verts[0])
        elif key == "faces_to_flip":
            got = int(mesh.faces_to_flip.size)
        elif key in ("smallest_angle_below", "largest_angle_above"):
            ang = corner_angles(mesh)
            ok = ang.min() < want if key == "smallest_angle_below" else ang.max() > want
            if not ok:
                raise AssertionError(
                    f"{p.name}: corner angles in [{ang.min():.3g}, {ang.max():.6g}], want {key} {want}"
                )
            continue
        elif key == "min_folded_edges":
            got = int(folded_edges(mesh).size)
            if got < want:
                raise AssertionError(f"{p.name}: expected at least {want} folded edges, got {got}")
            continue
        elif key.startswith("min_"):
            got = rep[key[4:]]
            if got < want:
                raise AssertionError(f"{p.name}: expected {key[4:]} >= {want}, got {got}")
            continue
        else:
            got = rep[key]
        if got != want:
            raise AssertionError(f"{p.name}: expected {key} == {want}, got {got}")
    return mesh
