"""Benchmark: Laplacian + mass, robust Laplacian and eigenbasis (ours) against their anchors, one process.

Anchors
-------
* cotan L + M: a plain numpy reference (cotangents from cross and dot products, one COO assembly, lumped mass
  by bincount), libigl (``igl.cotmatrix`` + ``igl.massmatrix`` barycentric, like our default lumped mass) and
  robust-laplacian (its ``mesh_laplacian``, the heavier intrinsic-Delaunay pipeline). Ours includes
  building the validated ``Mesh``.
* robust L + M: ``robust_laplacian.mesh_laplacian`` (ours wraps it: sign, CSR, unreferenced vertices).
* eigenbasis k = 128: scipy ``eigsh`` with the DiffusionNet recipe (``L + 1e-8 I``, ``sigma = 1e-8``, lumped
  M). Accuracy of both is reported: the relative residual
  ``max_i ||L phi_i - lambda_i M phi_i||_{M^-1} / lambda_K`` (against the unshifted L) and the largest
  eigenvalue difference relative to ``lambda_K``.
* frames + transport + gradient: the rows of ``benchmarks/geometry_connection.py`` (owner: connection) when
  that file is present.

Threads: every timing runs inside ``threadpool_limits(1)`` (one BLAS thread) and ``OMP_NUM_THREADS=1``.
Times are medians (``--repeats``, default 3; eigenbasis: one run each). ``ratio`` = anchor / ours on wall
time; ``(cpu)`` is the process CPU time, which is what to trust when the shared machine is loaded.

Usage: ``flock /tmp/mn-bench.lock .venv/bin/python benchmarks/geometry.py [--quick] [--eig-160k]`` prints the
table and saves it to ``benchmarks/results/geometry.txt`` (``--quick``: the bunny only, no connection rows,
not saved unless ``--save``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from threadpoolctl import threadpool_limits

from manifoldnet import Mesh
from manifoldnet.geometry.laplacian import laplacian
from manifoldnet.geometry.spectral import eigenbasis

RESULTS = Path(__file__).resolve().parent / "results" / "geometry.txt"


def _time(fn, repeats: int = 3) -> tuple[tuple[float, float], object]:
    """((median wall s, median process CPU s), last result) over ``repeats`` runs."""
    ws, cs, out = [], [], None
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        ws.append(time.perf_counter() - t0)
        cs.append(time.process_time() - c0)
    return (statistics.median(ws), statistics.median(cs)), out


def _time_pair(fa, fb, repeats: int = 6):
    """``_time`` of two functions run in ABBA order (a, b, b, a, ...): load drift hits both, and so does the
    penalty of running first in a pair (measured here: about 10% on robust_laplacian's 0.3 s)."""
    ta, tb = [], []
    for i in range(repeats):
        order = ((fa, ta), (fb, tb)) if i % 2 == 0 else ((fb, tb), (fa, ta))
        for fn, ts in order:
            ts.append(_time(fn, 1)[0])
    med = lambda ts: (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts))
    return med(ta), med(tb)


def numpy_reference_cotan(verts: np.ndarray, faces: np.ndarray):
    """The plain numpy reference: weak cotan L and lumped mass, no guards, no validation."""
    n = len(verts)
    p = verts[faces]
    cots = []
    for k in range(3):  # the angle at corner k+2, opposite edge (k, k+1)
        a, b, c = p[:, k], p[:, (k + 1) % 3], p[:, (k + 2) % 3]
        u, w = a - c, b - c
        cots.append(0.5 * np.einsum("ij,ij->i", u, w) / np.linalg.norm(np.cross(u, w), axis=1))
    w = np.stack(cots, axis=1).ravel()
    i, j = faces.ravel(), np.roll(faces, -1, axis=1).ravel()
    L = sp.coo_matrix((np.r_[-w, -w, w, w], (np.r_[i, j, i, j], np.r_[j, i, i, j])), shape=(n, n)).tocsr()
    area = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
    M = sp.diags(np.bincount(faces.ravel(), np.repeat(area / 3.0, 3), n)).tocsr()
    return L, M


def diffusionnet_eigsh(L, M, k: int):
    """DiffusionNet's recipe: eigsh shift-invert on ``L + 1e-8 I`` with ``sigma = 1e-8`` (one try)."""
    n = L.shape[0]
    evals, evecs = spla.eigsh((L + 1e-8 * sp.identity(n)).tocsc(), k=k, M=M.tocsc(), sigma=1e-8)
    return evals, evecs


def _accuracy(L, M, evals, evecs) -> float:
    R = L @ evecs - (M @ evecs) * evals
    norms = np.sqrt(np.einsum("ij,ij,i->j", R, R, 1.0 / M.diagonal()))
    return float(norms.max() / np.abs(evals).max())


def _row(mesh_name, V, stage, ours, anchor="", anc=None, note=""):
    return {
        "mesh": mesh_name,
        "V": V,
        "stage": stage,
        "ours_s": ours[0],
        "ours_cpu_s": ours[1],
        "anchor": anchor,
        "anchor_s": None if anc is None else anc[0],
        "anchor_cpu_s": None if anc is None else anc[1],
        "ratio": None if anc is None else anc[0] / ours[0],
        "note": note,
    }


def laplacian_rows(mesh: Mesh, name: str, repeats: int) -> list[dict]:
    import igl
    import robust_laplacian as rl

    v, f = np.asarray(mesh.verts), np.asarray(mesh.faces)
    V = mesh.n_verts
    rows = []
    with threadpool_limits(1):
        t_ours, (L, _) = _time(lambda: laplacian(Mesh(v, f)), repeats)
        t_np, (Ln, _) = _time(lambda: numpy_reference_cotan(v, f), repeats)
        t_igl, (Li, _) = _time(
            lambda: (igl.cotmatrix(v, f), igl.massmatrix(v, f, igl.MASSMATRIX_TYPE_BARYCENTRIC)), repeats
        )
        t_rl, _ = _time(lambda: rl.mesh_laplacian(v, f), repeats)
        good = np.isfinite(Ln.data).all()
        diff = abs(L + Li).max() / abs(L).max()
        stage = "cotan L+M"
        rows.append(
            _row(name, V, stage, t_ours, "numpy reference", t_np, "" if good else "reference has NaN/inf")
        )
        rows.append(
            _row(name, V, stage, t_ours, "libigl cotmatrix+massmatrix", t_igl, f"max|L+igl|/|L| {diff:.0e}")
        )
        rows.append(_row(name, V, stage, t_ours, "robust_laplacian", t_rl))
        # ours wraps the anchor: alternate the two so that load drift does not decide the ratio
        t_rob, t_rl2 = _time_pair(lambda: laplacian(Mesh(v, f), "robust"), lambda: rl.mesh_laplacian(v, f))
        rows.append(_row(name, V, "robust L+M", t_rob, "robust_laplacian", t_rl2, "ours wraps it; ABBA x6"))
    return rows


def eigen_rows(mesh: Mesh, name: str, k: int = 128) -> list[dict]:
    L, M = laplacian(mesh)
    # the recipe cannot skip unreferenced vertices (their zero rows give spurious zero eigenpairs):
    # both solvers get the referenced part, so they solve the same problem
    keep = mesh.referenced
    La, Ma = L[keep][:, keep].tocsr(), M[keep][:, keep].tocsr()
    with threadpool_limits(1):
        t_ours, (ev, vec) = _time(lambda: eigenbasis(La, Ma, k, threads=1), 1)
        t_ref, (ev0, vec0) = _time(lambda: diffusionnet_eigsh(La, Ma, k), 1)
    res, res0 = _accuracy(La, Ma, ev, vec), _accuracy(La, Ma, ev0, vec0)
    d_ev = float(np.abs(ev - ev0).max() / ev[-1])
    note = f"residual ours {res:.0e} / recipe {res0:.0e}; max|dlambda|/lambda_K {d_ev:.0e}; cpu ratio "
    note += f"{t_ref[1] / t_ours[1]:.2f}x"
    if not keep.all():
        note += f"; {int((~keep).sum())} unreferenced vertices left out"
    V = int(keep.sum())
    rows = [_row(name, V, f"eigenbasis k={k}", t_ours, "eigsh DiffusionNet recipe", t_ref, note)]
    # equal accuracy: ours asked for the residual the recipe reached
    with threadpool_limits(1):
        t_eq, (ev2, vec2) = _time(lambda: eigenbasis(La, Ma, k, threads=1, tol=max(res0, 1e-10)), 1)
    note = f"tol = recipe's residual {res0:.0e}: ours reached {_accuracy(La, Ma, ev2, vec2):.0e}; cpu ratio "
    note += f"{t_ref[1] / t_eq[1]:.2f}x"
    rows.append(
        _row(name, V, f"eigenbasis k={k} eq. accuracy", t_eq, "eigsh DiffusionNet recipe", t_ref, note)
    )
    return rows


def _meshes(quick: bool):
    from manifoldnet import shapes
    from manifoldnet.io import load_mesh
    from manifoldnet.paths import data_root

    rels = ["classic/stanford-bunny.obj"] if quick else ["classic/stanford-bunny.obj", "classic/ogre.obj"]
    out = []
    for rel in rels:
        path = data_root() / rel
        if path.exists():
            out.append((Path(rel).stem, load_mesh(path)))
        else:
            print(f"skipping {rel}: not found under {data_root()}", file=sys.stderr)
    if not quick:
        out.append(("icosphere-160k", shapes.icosphere(7)))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="bunny only, no connection rows")
    ap.add_argument(
        "--eig-160k", action="store_true", help="also the eigenbasis of the 160k icosphere (minutes)"
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--save", action="store_true", help="save the table even with --quick")
    args = ap.parse_args(argv)
    # the connection benchmark (owner: connection) provides the table format and the frames/transport rows
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from geometry_connection import connection_rows, format_table

    if args.quick:
        connection_rows = None
    rows = []
    for name, mesh in _meshes(args.quick):
        new = laplacian_rows(mesh, name, args.repeats)
        if name != "icosphere-160k" or args.eig_160k:
            new += eigen_rows(mesh, name)
        if connection_rows is not None:
            new += [
                r for r in connection_rows(mesh, name) if r["stage"].startswith("frames+transport+gradient")
            ]
        rows += new
        print(format_table(new).split("\n", 2)[-1], flush=True)
    header = (
        "geometry: cotan/robust Laplacian + mass, eigenbasis k=128 (ours vs anchors), "
        "frames+transport+gradient\n"
        f"(1 BLAS thread, OMP_NUM_THREADS=1; median of {args.repeats}, eigenbasis 1 run; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; ratio = anchor / ours (wall); "
        "(cpu) = process CPU time; machine shared, compare ratios)\n"
    )
    table = header + format_table(rows)
    print()
    print(table)
    if not args.quick or args.save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
