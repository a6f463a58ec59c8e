"""Precompute: manifoldnet's operator bundle against the DiffusionNet recipe, per mesh, in the same run.

Anchor (written here, faithful to DiffusionNet's ``geometry.py``): cotangent Laplacian and vertex areas from
potpourri3d (``denom_eps=1e-10``, mass + 1e-8 * mean), ``scipy.sparse.linalg.eigsh`` in shift-invert mode
(``sigma=1e-8``, ``L + 1e-8 I``, up to 3 retries adding a larger diagonal shift), area-weighted vertex
normals, world-axis tangent frames, and the gradient operator built by a per-vertex least-squares loop over
the outgoing edges of the Laplacian's sparsity pattern.

Ours: :func:`manifoldnet.operators.compute_operators` with every field a DiffusionNet-style model
(mass, laplacian, eigenbasis, gradient, hks) or a GEM-style model (normals, frames, logmap, transport)
needs, k = 128: strictly more than the anchor computes.

Then the cache: every bundle of ours is stored in a temporary :class:`OperatorCache` and read back (a hit);
the hit time is reported per dataset and for one ~20k-vertex bundle.

Run (single-threaded BLAS, under the shared benchmark lock)::

    flock /tmp/mn-bench.lock .venv/bin/python benchmarks/precompute.py --quick
    flock /tmp/mn-bench.lock .venv/bin/python benchmarks/precompute.py \\
        > benchmarks/results/precompute.log 2>&1
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla

FIELDS = ("mass", "laplacian", "eigenbasis", "gradient", "hks", "normals", "frames", "logmap", "transport")


# ------------------------------------------------------------------------------ the anchor (DiffusionNet)
def dn_cotan_laplacian(verts, faces, eps=1e-8):
    """DiffusionNet: ``pp3d.cotan_laplacian(denom_eps=1e-10)`` and ``pp3d.vertex_areas + eps * mean``."""
    import potpourri3d as pp3d

    L = pp3d.cotan_laplacian(verts, faces, denom_eps=1e-10)
    mass = pp3d.vertex_areas(verts, faces)
    mass += eps * np.mean(mass)
    return L.tocsc(), mass


def dn_eigenbasis(L, mass, k, sigma=1e-8):
    """DiffusionNet: eigsh(L + eps I, k, M, sigma=1e-8), retrying with a 10x larger shift up to 3 times."""
    V = L.shape[0]
    eps = 1e-8
    Mmat = sp.diags(mass)
    for attempt in range(4):
        try:
            L_eigsh = (L + sp.identity(V) * eps).tocsc()
            evals, evecs = sla.eigsh(L_eigsh, k=k, M=Mmat, sigma=sigma)
            return np.clip(evals, 0.0, None), evecs
        except Exception:
            if attempt == 3:
                raise
            eps *= 10
    raise RuntimeError("unreachable")


def dn_vertex_normals(verts, faces):
    fn = np.cross(verts[faces[:, 1]] - verts[faces[:, 0]], verts[faces[:, 2]] - verts[faces[:, 0]])
    n = np.zeros_like(verts)
    for k in range(3):
        np.add.at(n, faces[:, k], fn)
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def dn_tangent_frames(normals):
    """World-axis frames: basis X = (1, 0, 0) projected onto the tangent plane (else (0, 1, 0))."""
    cand = np.tile([1.0, 0.0, 0.0], (normals.shape[0], 1))
    bad = np.abs(np.einsum("ij,ij->i", cand, normals)) > 0.9
    cand[bad] = [0.0, 1.0, 0.0]
    bx = cand - np.einsum("ij,ij->i", cand, normals)[:, None] * normals
    bx /= np.linalg.norm(bx, axis=1, keepdims=True)
    by = np.cross(normals, bx)
    return bx, by


def dn_build_grad(verts, edges, edge_tangent_vectors):
    """DiffusionNet's per-vertex least-squares gradient (Python loop over vertices and their out-edges)."""
    N = verts.shape[0]
    vert_edge_outgoing = [[] for _ in range(N)]
    for iE in range(edges.shape[1]):
        tail_ind, tip_ind = edges[0, iE], edges[1, iE]
        if tip_ind != tail_ind:
            vert_edge_outgoing[tail_ind].append(iE)
    row_inds, col_inds, data_vals = [], [], []
    eps_reg = 1e-5
    for iV in range(N):
        n_neigh = len(vert_edge_outgoing[iV])
        lhs_mat = np.zeros((n_neigh, 2))
        rhs_mat = np.zeros((n_neigh, n_neigh + 1))
        ind_lookup = [iV]
        for i_neigh in range(n_neigh):
            iE = vert_edge_outgoing[iV][i_neigh]
            jV = edges[1, iE]
            ind_lookup.append(jV)
            w_e = 1.0
            lhs_mat[i_neigh][:] = w_e * edge_tangent_vectors[iE][:]
            rhs_mat[i_neigh][0] = w_e * (-1)
            rhs_mat[i_neigh][i_neigh + 1] = w_e * 1
        lhs_T = lhs_mat.T
        lhs_inv = np.linalg.inv(lhs_T @ lhs_mat + eps_reg * np.identity(2)) @ lhs_T
        sol_mat = lhs_inv @ rhs_mat
        sol_coefs = (sol_mat[0, :] + 1j * sol_mat[1, :]).T
        for i_neigh in range(n_neigh + 1):
            row_inds.append(iV)
            col_inds.append(ind_lookup[i_neigh])
            data_vals.append(sol_coefs[i_neigh])
    return sp.coo_matrix((data_vals, (row_inds, col_inds)), shape=(N, N)).tocsc()


def diffusionnet_operators(verts, faces, k):
    """The anchor: (mass, L, evals, evecs, gradX, gradY) in float32, as DiffusionNet caches them."""
    L, mass = dn_cotan_laplacian(verts, faces)
    evals, evecs = dn_eigenbasis(L, mass, k)
    normals = dn_vertex_normals(verts, faces)
    bx, by = dn_tangent_frames(normals)
    coo = L.tocoo()
    edges = np.stack([coo.row, coo.col])
    ev = verts[edges[1]] - verts[edges[0]]
    etv = np.stack(
        [np.einsum("ij,ij->i", ev, bx[edges[0]]), np.einsum("ij,ij->i", ev, by[edges[0]])], axis=-1
    )
    G = dn_build_grad(verts, edges, etv)
    return [a.astype(np.float32) for a in (mass, evals, evecs)] + [
        sp.csc_matrix(G.real, dtype=np.float32),
        sp.csc_matrix(G.imag, dtype=np.float32),
        L.astype(np.float32),
    ]


# ------------------------------------------------------------------------------------------- the run
def _timed(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0


def _datasets(n_faust: int, n_rna: int):
    from manifoldnet.data.datasets import faust_5k, rna

    return [("faust_5k", faust_5k(split=None), range(n_faust)), ("rna", rna(split=None), range(n_rna))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 faust_5k + 3 rna meshes")
    ap.add_argument("--n-faust", type=int, default=None, help="faust_5k meshes (default 100, --quick 10)")
    ap.add_argument("--n-rna", type=int, default=None, help="rna meshes (default 20, --quick 3)")
    ap.add_argument("--k", type=int, default=128)
    ap.add_argument("--out", default=None, help="also write the table to this file")
    args = ap.parse_args()

    from threadpoolctl import threadpool_limits

    from manifoldnet import shapes
    from manifoldnet.operators import OperatorCache, cache_key, compute_operators

    threadpool_limits(1)
    cache = OperatorCache(tempfile.mkdtemp(prefix="mn-bench-cache-"))
    rows = []
    n_faust = args.n_faust if args.n_faust is not None else (10 if args.quick else 100)
    n_rna = args.n_rna if args.n_rna is not None else (3 if args.quick else 20)
    for dname, ds, idx in _datasets(n_faust, n_rna):
        t_dn, t_ours, t_hit, ratios, ev_err, nv = [], [], [], [], [], []
        failed_dn, failed_ours = [], []
        for n, i in enumerate(idx):
            s = ds[i]
            v, f = s.mesh.verts, s.mesh.faces
            nv.append(s.mesh.n_verts)
            order = ("ours", "dn") if n % 2 == 0 else ("dn", "ours")  # alternate: no systematic warm-up bias
            res = {}
            for who in order:
                try:
                    if who == "dn":
                        res["dn"] = _timed(diffusionnet_operators, v, f, args.k)
                    else:
                        res["ours"] = _timed(compute_operators, s.mesh, fields=FIELDS, k=args.k)
                except Exception as exc:  # noqa: BLE001 - a failing mesh is counted, the run goes on
                    (failed_dn if who == "dn" else failed_ours).append(
                        f"{s.name}: {type(exc).__name__}: {exc}"
                    )
                    print(f"  {dname} {s.name}: {who} FAILED: {exc}", flush=True)
            if "ours" in res:
                bundle, t = res["ours"]
                t_ours.append(t)
                key = cache_key(s.mesh, bundle.spec)
                cache.store(bundle, key)
                _, th = _timed(cache.get, s.mesh, bundle.spec)
                t_hit.append(th)
            if "dn" in res:
                t_dn.append(res["dn"][1])
            if "dn" in res and "ours" in res:
                ratios.append(res["dn"][1] / res["ours"][1])
                e_dn, e_ours = res["dn"][0][1].astype(np.float64), res["ours"][0].evals
                ev_err.append(float(np.max(np.abs(e_ours - e_dn)) / e_dn[-1]))  # relative to lambda_K
            print(
                f"  {dname} {s.name}: V={s.mesh.n_verts} diffusionnet "
                f"{res.get('dn', (0, float('nan')))[1]:.3f} s"
                f"  ours {res.get('ours', (0, float('nan')))[1]:.3f} s",
                flush=True,
            )
        rows.append(
            (dname, len(nv), int(np.median(nv)), t_dn, t_ours, ratios, t_hit, ev_err, failed_dn, failed_ours)
        )

    # one ~20k-vertex bundle: cache-hit load time
    big = shapes.uv_sphere(n_lat=100, n_lon=200)
    b, t_big = _timed(compute_operators, big, fields=FIELDS, k=args.k)
    cache.store(b, cache_key(big, b.spec))
    hits = [_timed(cache.get, big, b.spec)[1] for _ in range(7)]
    size_mb = sum(p.stat().st_size for p in cache.root.glob(f"{cache_key(big, b.spec)}-k*.npz")) / 2**20

    lines = [
        (
            f"precompute, k={args.k}, fields={','.join(FIELDS)} (ours) vs the DiffusionNet recipe (anchor), "
            "1 BLAS thread, seconds per mesh"
        ),
        (
            f"{'dataset':10} {'meshes':>6} {'V med':>6} {'anchor med':>10} {'ours med':>9} "
            f"{'speedup med':>11} {'speedup min':>11} {'hit med ms':>10} {'eval err/l_K':>12} "
            f"{'fail anchor/ours':>16}"
        ),
    ]
    for dname, n, vmed, t_dn, t_ours, ratios, t_hit, ev_err, fdn, fours in rows:
        med = lambda a: float(np.median(a)) if a else float("nan")
        lines.append(
            f"{dname:10} {n:6d} {vmed:6d} {med(t_dn):10.3f} {med(t_ours):9.3f} {med(ratios):10.2f}x "
            f"{(min(ratios) if ratios else float('nan')):10.2f}x {1e3 * med(t_hit):10.1f} "
            f"{(max(ev_err) if ev_err else float('nan')):12.1e} {len(fdn):>8d}/{len(fours):d}"
        )
    lines.append(
        f"cache hit, {big.n_verts}-vertex bundle ({size_mb:.1f} MiB, {b.spec.dtype}): median "
        f"{1e3 * float(np.median(hits)):.1f} ms, min {1e3 * min(hits):.1f} ms (compute {t_big:.1f} s)"
    )
    for dname, *_, fdn, fours in rows:
        lines += [f"FAILED anchor {dname} {x}" for x in fdn] + [f"FAILED ours {dname} {x}" for x in fours]
    table = "\n".join(lines)
    print(table)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
