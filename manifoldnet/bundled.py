"""The bundled generated meshes: their list, their files in ``meshes/`` and their manifest.

The meshes are deterministic (:mod:`manifoldnet.shapes`) and take well under a second to make, so the
repository keeps only ``meshes/MANIFEST.tsv`` (their facts) and regenerates the OBJ files on demand
(``manifoldnet demo``, ``python meshes/generate.py`` or :func:`write_bundled`). A test regenerates every
mesh and checks it against the manifest, so a change in a generator cannot go unnoticed.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path

from . import shapes
from .errors import MeshError
from .io import save_mesh
from .mesh import Mesh
from .paths import meshes_root

__all__ = ["BUNDLED", "MANIFEST_COLUMNS", "bundled_mesh", "manifest_row", "read_manifest", "write_bundled"]

#: name -> (generator, keyword arguments). Fixture families: closed, boundary,
# non-manifold, several components.
BUNDLED: dict[str, tuple[Callable[..., Mesh], dict]] = {
    "icosphere_1": (shapes.icosphere, {"subdivisions": 1}),
    "icosphere_2": (shapes.icosphere, {"subdivisions": 2}),
    "icosphere_3": (shapes.icosphere, {"subdivisions": 3}),
    "icosphere_4": (shapes.icosphere, {"subdivisions": 4}),
    "uv_sphere": (shapes.uv_sphere, {"n_lat": 16, "n_lon": 32}),
    "torus": (shapes.torus, {"R": 1.0, "r": 0.4, "n_major": 32, "n_minor": 16}),
    "ellipsoid": (shapes.ellipsoid, {"a": 1.0, "b": 0.7, "c": 0.5, "subdivisions": 3}),
    "flat_disk": (shapes.flat_disk, {"n_rings": 8}),
    "open_cylinder": (shapes.open_cylinder, {"n_around": 32, "n_height": 16}),
    "genus2": (shapes.genus2, {"subdivisions": 2}),
    "nonmanifold_fin": (shapes.nonmanifold_fin, {}),
    "bowtie": (shapes.bowtie, {}),
    "two_spheres": (shapes.two_spheres, {"subdivisions": 2}),
    "noisy_sphere": (shapes.noisy_sphere, {"subdivisions": 3, "noise": 0.02, "seed": 0}),
}

MANIFEST_COLUMNS = (
    "name", "n_verts", "n_faces", "n_edges", "euler_characteristic", "genus", "n_boundary_loops",
    "n_components", "is_edge_manifold", "is_vertex_manifold", "is_oriented", "total_area", "generator",
)  # fmt: skip


def bundled_mesh(name: str) -> Mesh:
    """The bundled mesh ``name`` (a key of :data:`BUNDLED`), generated afresh."""
    if name not in BUNDLED:
        raise MeshError(f"no bundled mesh {name!r}; known: {', '.join(BUNDLED)}")
    fn, kwargs = BUNDLED[name]
    return fn(**kwargs)


def manifest_row(name: str, mesh: Mesh) -> dict[str, str]:
    """One manifest row (all strings, as written to / read from the TSV)."""
    r = mesh.report()
    fn, kwargs = BUNDLED[name]
    call = f"{fn.__name__}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
    values = {
        "name": name,
        "n_verts": r.n_verts,
        "n_faces": r.n_faces,
        "n_edges": r.n_edges,
        "euler_characteristic": r.euler_characteristic,
        "genus": "" if r.genus is None else r.genus,
        "n_boundary_loops": r.n_boundary_loops,
        "n_components": r.n_components,
        "is_edge_manifold": r.is_edge_manifold,
        "is_vertex_manifold": r.is_vertex_manifold,
        "is_oriented": r.is_oriented,
        "total_area": f"{mesh.total_area:.6g}",
        "generator": call,
    }
    return {k: str(values[k]) for k in MANIFEST_COLUMNS}


def read_manifest(path: str | os.PathLike | None = None) -> list[dict[str, str]]:
    """Rows of ``meshes/MANIFEST.tsv`` (or ``path``)."""
    p = Path(path) if path is not None else meshes_root() / "MANIFEST.tsv"
    with open(p, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def write_bundled(folder: str | os.PathLike | None = None, *, manifest: bool = True) -> list[dict[str, str]]:
    """Write every bundled mesh as ``<folder>/<name>.obj`` (default ``meshes/``) and, if ``manifest``,
    ``<folder>/MANIFEST.tsv``; returns the manifest rows."""
    out = Path(folder) if folder is not None else meshes_root()
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in BUNDLED:
        mesh = bundled_mesh(name)
        save_mesh(out / f"{name}.obj", mesh)
        rows.append(manifest_row(name, mesh))
    if manifest:
        with open(out / "MANIFEST.tsv", "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS, delimiter="\t", lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
    return rows
