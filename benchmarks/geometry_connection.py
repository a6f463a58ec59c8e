"""Benchmark: gauge frames + Levi-Civita transport + gradients (ours) against their anchors, one process.

Anchors
-------
* potpourri3d (geometry-central): ``MeshVectorHeatSolver`` build + ``get_tangent_frames`` +
  ``get_connection_laplacian`` (its connection Laplacian, the same object as ours). It refuses
  non-manifold vertices; there it runs on a copy with those vertices split per fan (noted in the row).
* DiffusionNet's gradient construction: a faithful re-implementation of its per-vertex Python loop
  (``build_grad``: per vertex, the edge vectors in the tangent frame, a regularized 2x2 least squares,
  coefficients appended to COO lists), since the package is not installed here.

Usage: ``flock /tmp/mn-bench.lock python benchmarks/geometry_connection.py`` prints the table and saves
it to ``benchmarks/results/geometry_connection.txt``. ``connection_rows(mesh, name)`` returns the rows
for ``benchmarks/geometry.py``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from manifoldnet import Mesh
from manifoldnet.geometry.fans import vertex_fans
from manifoldnet.geometry.frames import vertex_frames
from manifoldnet.geometry.gradient import face_gradient, vertex_gradient
from manifoldnet.geometry.logmap import one_ring_logmap, two_ring_logmap
from manifoldnet.geometry.transport import connection_laplacian, edge_transport

RESULTS = Path(__file__).resolve().parent / "results" / "geometry_connection.txt"


def _fresh(mesh: Mesh) -> Mesh:
    """A new Mesh object on the same arrays: no cached connectivity, no cached fans."""
    return Mesh(mesh.verts, mesh.faces)


def _time(fn, repeats: int = 3) -> tuple[float, float]:
    """Median (wall, process CPU) seconds of ``fn()`` over ``repeats`` runs (fresh inputs made by ``fn``).

    The CPU time of this process is reported next to the wall time because the machine is shared: under
    load, wall time includes waiting for a core."""
    ws, cs = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        ws.append(time.perf_counter() - t0)
        cs.append(time.process_time() - c0)
    return statistics.median(ws), statistics.median(cs)


# ----------------------------------------------------------------------------------- ours
def ours_pipeline(mesh: Mesh, gauge: str = "intrinsic"):
    """Frames, transport, per-vertex and per-face gradients: what a model's operator bundle needs."""
    m = _fresh(mesh)
    fr = vertex_frames(m, gauge)
    _ei, rho = edge_transport(m, gauge if gauge == "intrinsic" else fr)
    gv = vertex_gradient(m, fr)
    gf = face_gradient(m)
    return fr, rho, gv, gf


# ----------------------------------------------------------------------------------- anchors
def anchor_copy(mesh: Mesh) -> tuple[Mesh, str]:
    """A copy the anchors accept (potpourri3d asserts on non-manifold and unreferenced vertices): every fan
    of a non-manifold vertex but the first gets its own vertex, unreferenced vertices are dropped.
    Vectorized over corners. Returns (mesh, note)."""
    fans = vertex_fans(mesh)
    cv = mesh.faces.reshape(-1)
    root = fans.fan_root
    extra = root != fans.reference[cv]
    notes = []
    verts, faces = mesh.verts, cv.copy()
    if extra.any():
        new_roots, inv = np.unique(root[extra], return_inverse=True)
        faces[extra] = mesh.n_verts + inv
        verts = np.vstack([verts, mesh.verts[cv[new_roots]]])
        notes.append(f"{mesh.nonmanifold_verts.size} non-manifold vertices split")
    used = np.zeros(len(verts), dtype=bool)
    used[faces] = True
    if not used.all():
        remap = np.cumsum(used) - 1
        faces, verts = remap[faces], verts[used]
        notes.append(f"{int((~used).sum())} unreferenced vertices dropped")
    if not notes:
        return mesh, ""
    return Mesh(verts, faces.reshape(-1, 3)), "pp3d on a copy: " + ", ".join(notes)


def pp3d_connection(mesh: Mesh):
    import potpourri3d as pp3d

    solver = pp3d.MeshVectorHeatSolver(np.asarray(mesh.verts), np.asarray(mesh.faces))
    frames = solver.get_tangent_frames()
    return frames, solver.get_connection_laplacian()


def diffusionnet_loop_gradient(mesh: Mesh, frames: np.ndarray, eps_reg: float = 1e-5) -> sp.csr_matrix:
    """DiffusionNet's ``build_grad`` recipe: one small least-squares solve per vertex, in a Python loop."""
    e = mesh.edges
    V = mesh.n_verts
    src = np.concatenate([e[:, 0], e[:, 1]])
    dst = np.concatenate([e[:, 1], e[:, 0]])
    order = np.argsort(src, kind="stable")
    src, dst = src[order], dst[order]
    vec = mesh.verts[dst] - mesh.verts[src]
    tangent = np.stack(
        [np.einsum("ij,ij->i", vec, frames[src, 0]), np.einsum("ij,ij->i", vec, frames[src, 1])], 1
    )
    ptr = np.searchsorted(src, np.arange(V + 1))
    rows, cols, vals = [], [], []
    for i in range(V):
        a, b = ptr[i], ptr[i + 1]
        nb = dst[a:b]
        lhs = tangent[a:b]
        rhs = np.zeros((b - a, b - a + 1))
        rhs[:, 0] = -1.0
        rhs[np.arange(b - a), np.arange(1, b - a + 1)] = 1.0
        lhs_t = lhs.T
        lhs_inv = np.linalg.inv(lhs_t @ lhs + eps_reg * np.eye(2)) @ lhs_t
        sol = lhs_inv @ rhs
        coef = sol[0] + 1j * sol[1]
        ids = np.concatenate([[i], nb])
        for k in range(len(ids)):
            rows.append(i)
            cols.append(ids[k])
            vals.append(coef[k])
    return sp.coo_matrix((np.array(vals), (np.array(rows), np.array(cols))), shape=(V, V)).tocsr()


# ----------------------------------------------------------------------------------- rows
def connection_rows(mesh: Mesh, name: str, repeats: int = 3, loop_anchor: bool = True) -> list[dict]:
    """Rows ``{mesh, V, stage, ours_s, ours_cpu_s, anchor, anchor_s, anchor_cpu_s, ratio, note}``
    (seconds, median of ``repeats``; ratio = anchor_s / ours_s on wall time)."""
    rows = []
    V = mesh.n_verts

    def row(stage, ours, anchor="", anc=None, note=""):
        anchor_s = anc[0] if anc is not None else None
        rows.append(
            {
                "mesh": name,
                "V": V,
                "stage": stage,
                "ours_s": ours[0],
                "ours_cpu_s": ours[1],
                "anchor": anchor,
                "anchor_s": anchor_s,
                "anchor_cpu_s": anc[1] if anc is not None else None,
                "ratio": anchor_s / ours[0] if anc is not None else None,
                "note": note,
            }
        )

    with threadpool_limits(1):
        anchor_mesh, note = anchor_copy(mesh)
        try:
            t_pp = _time(lambda: pp3d_connection(anchor_mesh), repeats)
        except RuntimeError as exc:
            t_pp, note = None, f"pp3d failed: {str(exc)[:60]}"

        row("frames (intrinsic)", _time(lambda: vertex_frames(_fresh(mesh)), repeats))
        row("transport rho (intrinsic)", _time(lambda: edge_transport(_fresh(mesh)), repeats))
        row(
            "connection Laplacian",
            _time(lambda: connection_laplacian(_fresh(mesh)), repeats),
            "pp3d solver+frames+connL",
            t_pp,
            note,
        )
        fr_world = vertex_frames(mesh, "world")
        t_loop = _time(lambda: diffusionnet_loop_gradient(mesh, fr_world), 1) if loop_anchor else None
        row(
            "vertex gradient (world frames)",
            _time(lambda: vertex_gradient(_fresh(mesh), fr_world), repeats),
            "DiffusionNet per-vertex loop" if loop_anchor else "",
            t_loop,
        )
        anchor_all = None
        if t_pp is not None and t_loop is not None:
            anchor_all = (t_pp[0] + t_loop[0], t_pp[1] + t_loop[1])
        row(
            "frames+transport+gradient",
            _time(lambda: ours_pipeline(mesh), repeats),
            "pp3d + DiffusionNet loop" if anchor_all else "",
            anchor_all,
            "goal < 1 s at 62k vertices",
        )
        row("frames+transport+gradient (world)", _time(lambda: ours_pipeline(mesh, "world"), repeats))
        row("one-ring log map", _time(lambda: one_ring_logmap(_fresh(mesh)), repeats))
        row("two-ring log map", _time(lambda: two_ring_logmap(_fresh(mesh)), repeats))
    return rows


def format_table(rows: list[dict]) -> str:
    head = (
        f"{'mesh':<15} {'V':>7}  {'stage':<34} {'ours s':>7} {'(cpu)':>7}  {'anchor':<28} {'anchor s':>8} "
        f"{'(cpu)':>7} {'ratio':>6}  note"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        a = f"{r['anchor_s']:.3f}" if r["anchor_s"] is not None else "-"
        ac = f"{r['anchor_cpu_s']:.3f}" if r["anchor_cpu_s"] is not None else "-"
        q = f"{r['ratio']:.1f}x" if r["ratio"] is not None else "-"
        lines.append(
            f"{r['mesh']:<15} {r['V']:>7}  {r['stage']:<34} {r['ours_s']:>7.3f} {r['ours_cpu_s']:>7.3f}  "
            f"{r['anchor']:<28} {a:>8} {ac:>7} {q:>6}  {r['note']}"
        )
    return "\n".join(lines)


def _benchmark_meshes():
    from manifoldnet import shapes
    from manifoldnet.io import load_mesh
    from manifoldnet.paths import data_root

    out = []
    for rel in ("classic/stanford-bunny.obj", "classic/ogre.obj"):
        path = data_root() / rel
        if path.exists():
            out.append((Path(rel).stem, load_mesh(path)))
        else:
            print(f"skipping {rel}: not found under {data_root()}", file=sys.stderr)
    out.append(("icosphere-160k", shapes.icosphere(7)))
    return out


def main() -> int:
    rows = []
    for name, mesh in _benchmark_meshes():
        rows += connection_rows(mesh, name)
        print(format_table(rows[-8:]).split("\n", 2)[-1], flush=True)
    table = format_table(rows)
    header = (
        "geometry_connection: frames + transport + gradient vs potpourri3d / DiffusionNet loop\n"
        f"(median of 3, 1 BLAS thread, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        "ratio = anchor / ours (wall); (cpu) = process CPU time; machine shared, compare ratios)\n"
    )
    print()
    print(header + table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(header + table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
