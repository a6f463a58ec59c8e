"""A mesh's facts as one flat, JSON-ready dict, and as aligned text: what ``manifoldnet info`` prints.

Every value comes from :class:`~manifoldnet.Mesh` (counts, topology, defects) so the command, the demo
table and ``meshes/MANIFEST.tsv`` can never disagree with the library.
"""

from __future__ import annotations

from .mesh import Mesh

__all__ = ["format_facts", "mesh_facts"]


def mesh_facts(mesh: Mesh) -> dict:
    """Counts, bounding box, area, topology, manifoldness, orientability and defect counts of ``mesh``.

    ``is_manifold`` means edge- and vertex-manifold; ``genus`` is None where it is undefined (non-manifold
    or non-orientable). ``warnings`` repeats :meth:`Mesh.report`'s human-readable lines.
    """
    r = mesh.report()
    lo, hi = mesh.bounding_box
    return {
        "n_verts": r.n_verts,
        "n_faces": r.n_faces,
        "n_edges": r.n_edges,
        "bbox_min": [float(x) for x in lo],
        "bbox_max": [float(x) for x in hi],
        "total_area": float(mesh.total_area),
        "n_components": r.n_components,
        "n_boundary_loops": r.n_boundary_loops,
        "euler_characteristic": r.euler_characteristic,
        "genus": r.genus,
        "is_edge_manifold": r.is_edge_manifold,
        "is_vertex_manifold": r.is_vertex_manifold,
        "is_manifold": r.is_edge_manifold and r.is_vertex_manifold,
        "is_oriented": r.is_oriented,
        "is_orientable": r.is_orientable,
        "zero_area_faces": r.zero_area_faces,
        "duplicate_faces": r.duplicate_faces,
        "unreferenced_verts": r.unreferenced_verts,
        "nonmanifold_edges": r.nonmanifold_edges,
        "nonmanifold_verts": r.nonmanifold_verts,
        "warnings": list(r.warnings),
    }


def format_facts(facts: dict) -> str:
    """Aligned ``key: value`` lines (bounding box on one line, warnings last)."""
    rows = []
    for k, v in facts.items():
        if k in ("bbox_min", "bbox_max", "warnings", "load_warnings"):
            continue
        rows.append((k, f"{v:.6g}" if isinstance(v, float) else str(v)))
    bb = "[" + ", ".join(f"{x:.6g}" for x in facts["bbox_min"]) + "] .. ["
    bb += ", ".join(f"{x:.6g}" for x in facts["bbox_max"]) + "]"
    rows.insert(3, ("bounding_box", bb))
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {v}" for k, v in rows]
    lines += [f"warning: {w}" for w in facts.get("warnings", [])]
    lines += [f"loader: {w}" for w in facts.get("load_warnings", [])]
    return "\n".join(lines)
