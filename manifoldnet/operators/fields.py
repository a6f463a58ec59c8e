"""The field table: the one place that says what an operator bundle can hold.

Two tables. :data:`FIELD_TABLE` holds the *spec fields*, the names a user asks for in
``OperatorSpec(fields=...)``: which arrays each stores, which other spec fields it needs computed on the
way (not stored unless asked), and whether it needs a triangle mesh. :data:`ARRAY_TABLE` holds the *arrays*,
the attributes of :class:`~manifoldnet.operators.OperatorBundle` and
:class:`~manifoldnet.operators.TorchOperators`: shape rule, kind, and how a batch of meshes concatenates them.

Derived from here: ``spec.FIELDS`` and the spec's dependency checks, the bundle's array lists (and so its
save/load), the torch conversion, the mesh-only check of ``compute_operators`` and the rules of
``manifoldnet.data.collate_operators``. Adding a field is one :class:`Field` entry, its :class:`Array`
entries, their attributes on the two bundle classes (a test checks they match) and the
code that computes them.

Shape symbols: V vertices, F faces, K eigenpairs (``spec.k``), E undirected edges, P patch pairs,
``n_hks`` / ``n_wks`` (the spec's).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "ARRAY_TABLE",
    "BATCH_RULES",
    "FIELD_TABLE",
    "KINDS",
    "Array",
    "Field",
    "providing_field",
    "providing_fields",
    "required_fields",
]

# Kinds: dense float in spec.dtype; dense float64 whatever spec.dtype; dense int64; scipy / torch sparse CSR
# (float values in spec.dtype, scipy's index dtype on disk).
KINDS = ("float", "float64", "int64", "csr")
# How collate_operators joins the per-mesh values of an array (B meshes, vertex offsets o_b):
BATCH_RULES = (
    "vertex",  # first dim is V: concatenated along dim 0
    "pair",  # one value per index pair (edges, patch pairs): concatenated along dim 0
    "index",  # (2, N) vertex indices: shifted by o_b, concatenated along dim 1
    "face",  # (F, 3) vertex indices: shifted by o_b, concatenated along dim 0 (sets face_offsets)
    "sparse",  # (V, V) CSR: block-diagonal
    "stack",  # one row per mesh (evals: (K,) -> (B, K)); every mesh must have the same length
)


@dataclass(frozen=True)
class Array:
    """One array a bundle can hold: ``shape`` rule as text, ``kind`` (:data:`KINDS`), ``batch`` rule
    (:data:`BATCH_RULES`), ``doc`` one line."""

    name: str
    shape: str
    kind: str
    batch: str
    doc: str

    def __post_init__(self):
        if self.kind not in KINDS or self.batch not in BATCH_RULES:
            raise ValueError(f"Array {self.name!r}: kind must be in {KINDS}, batch rule in {BATCH_RULES}")


@dataclass(frozen=True)
class Field:
    """One spec field: the ``arrays`` it stores, the spec fields it ``needs`` computed first (transitively,
    see :func:`required_fields`), and whether it is ``mesh_only`` (no point clouds)."""

    name: str
    arrays: tuple[str, ...]
    needs: tuple[str, ...] = ()
    mesh_only: bool = False


def _table(*entries):
    return MappingProxyType({e.name: e for e in entries})


# In bundle attribute order; the bundle writes dense arrays, then CSR ones, in this order.
ARRAY_TABLE = _table(
    Array("verts", "(V, 3)", "float", "vertex", "vertex positions (every bundle)"),
    Array("faces", "(F, 3)", "int64", "face", "triangles (every bundle built from a mesh)"),
    Array("mass", "(V,)", "float", "vertex", "diagonal of the mass matrix M"),
    Array("laplacian", "(V, V)", "csr", "sparse", "weak PSD Laplacian L"),
    Array("evals", "(K,)", "float64", "stack", "eigenvalues, ascending (batched: (B, K))"),
    Array("evecs", "(V, K)", "float", "vertex", "eigenvectors, M-orthonormal"),
    Array("hks", "(V, n_hks)", "float", "vertex", "heat kernel signature"),
    Array("wks", "(V, n_wks)", "float", "vertex", "wave kernel signature"),
    Array("normals", "(V, 3)", "float", "vertex", "angle-weighted unit vertex normals"),
    Array("frames", "(V, 3, 3)", "float", "vertex", "rows (e1, e2, n) of each vertex gauge"),
    Array("grad_x", "(V, V)", "csr", "sparse", "real part of the complex tangent gradient"),
    Array("grad_y", "(V, V)", "csr", "sparse", "imaginary part of the complex tangent gradient"),
    Array("edge_index", "(2, 2E)", "int64", "index", "directed edges (i, j), both directions"),
    Array("logmap_r", "(2E,)", "float", "pair", "log map of j at i: radius"),
    Array("logmap_theta", "(2E,)", "float", "pair", "log map of j at i: angle in the gauge of i"),
    Array("transport_rho", "(2E,)", "float", "pair", "transport angle from the gauge of j to that of i"),
    Array("patch_index", "(2, P)", "int64", "index", "pairs (i, j), j in the geodesic patch of i"),
    Array("patch_r", "(P,)", "float", "pair", "geodesic polar radius of j around i"),
    Array("patch_theta", "(P,)", "float", "pair", "geodesic polar angle of j in the gauge of i"),
    Array("patch_rho", "(P,)", "float", "pair", "transport angle from j to i along the patch geodesic"),
)

# In the order of OperatorSpec's error messages and help texts.
FIELD_TABLE = _table(
    Field("mass", ("mass",)),
    Field("laplacian", ("laplacian",)),
    Field("eigenbasis", ("evals", "evecs"), needs=("mass", "laplacian")),
    Field("hks", ("hks",), needs=("eigenbasis",)),
    Field("wks", ("wks",), needs=("eigenbasis",)),
    Field("normals", ("normals",), mesh_only=True),
    Field("frames", ("frames",), mesh_only=True),
    Field("gradient", ("grad_x", "grad_y"), needs=("frames",), mesh_only=True),
    Field("logmap", ("edge_index", "logmap_r", "logmap_theta"), needs=("frames",), mesh_only=True),
    Field("transport", ("edge_index", "transport_rho"), needs=("frames",), mesh_only=True),
    Field(
        "patches", ("patch_index", "patch_r", "patch_theta", "patch_rho"), needs=("frames",), mesh_only=True
    ),
)


def required_fields(names) -> frozenset[str]:
    """The spec fields ``names`` plus everything they need, transitively (what must be computed)."""
    todo, seen = list(names), set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(FIELD_TABLE[name].needs)
    return frozenset(seen)


def providing_fields(array: str) -> tuple[str, ...]:
    """The spec fields that store ``array`` (``"edge_index"`` -> ``("logmap", "transport")``); ``()`` for
    ``verts`` and ``faces``, which every (mesh) bundle holds. KeyError for a name not
    in :data:`ARRAY_TABLE`."""
    if array not in ARRAY_TABLE:
        raise KeyError(f"unknown bundle array {array!r}; choose from {list(ARRAY_TABLE)}")
    return tuple(f.name for f in FIELD_TABLE.values() if array in f.arrays)


def providing_field(array: str) -> str | None:
    """The spec field to ask for to get ``array`` (``"evecs"`` -> ``"eigenbasis"``, ``"grad_x"`` ->
    ``"gradient"``; the first in table order where several store it); None for ``verts`` and ``faces``."""
    provided = providing_fields(array)
    return provided[0] if provided else None


def _check_tables():
    """A field stores known arrays and needs known fields; every array but verts/faces
    is stored by a field."""
    for f in FIELD_TABLE.values():
        unknown = [a for a in f.arrays if a not in ARRAY_TABLE] + [n for n in f.needs if n not in FIELD_TABLE]
        if unknown:
            raise ValueError(f"field table: {f.name!r} refers to unknown names {unknown}")
    orphans = set(ARRAY_TABLE) - {a for f in FIELD_TABLE.values() for a in f.arrays} - {"verts", "faces"}
    if orphans:
        raise ValueError(f"field table: arrays {sorted(orphans)} are stored by no field")


_check_tables()
