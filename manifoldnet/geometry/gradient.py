"""Gradient and divergence: per-face gradients, the weak divergence, per-vertex tangent gradients.

Conventions
-----------
* ``face_gradient(mesh)`` is (3F, V): rows ``3f, 3f+1, 3f+2`` are the x, y, z components of the (constant)
  gradient of the piecewise-linear interpolant on face f: ``n x e_k / (2 A)`` for corner k (``e_k`` the edge
  opposite it, ``n`` the unit normal), with ``A`` the Heron area *floored* as in the cotangent Laplacian
  (:func:`~manifoldnet.geometry.elements.floored_face_areas`). Exact wherever ``A`` is above the floor
  (``1e-12`` times the face's mean squared edge length); on a collinear face ``n`` is some unit vector
  normal to the line (the face has no plane), so its rows are finite and nonzero, like its cotangents.
* ``divergence(mesh)`` is the weak (integrated) divergence, (V, 3F): ``D = -G^T diag(s A)`` with ``A`` the
  floored area and ``s`` the Laplacian's degenerate-face factor
  (:func:`~manifoldnet.geometry.laplacian.cotan_guard_scale`: 1 unless the face's largest ``|cot|``
  exceeds ``max_cotan``), repeated per component. Since ``A G_f^T G_f`` is the face's cotangent stiffness
  matrix, ``D @ G = -L`` for the weak PSD cotangent Laplacian ``L = cotan_laplacian(mesh, max_cotan=...)``
  on every mesh, slivers and zero-area faces included (``u^T L u = integral |grad u|^2``, with the guard
  acting as a per-face metric weight ``s``). The strong divergence is ``M^-1 D``.
* ``vertex_gradient(mesh, frames)`` is a complex (V, V) matrix: ``(Gv @ u)[i] = a + 1j b`` where
  ``(a, b)`` are the coordinates of the tangent gradient at i in i's gauge (DiffusionNet-style
  gradient features). Exact for linear functions on flat meshes, with both methods.
"""

from __future__ import annotations

import weakref

import numpy as np
import scipy.sparse as sp

from ..errors import MeshError
from ..mesh import Mesh, readonly
from .elements import floored_face_areas, halfedge_cotans_from_lengths, halfedge_lengths
from .fans import _directed, edges_csr, halfedge_directed_edges
from .frames import vertex_frames
from .inputs import mesh_input
from .laplacian import cotan_guard_scale
from .logmap import _as_frames, _check_cloud, _one_ring, gauge_offsets

__all__ = [
    "VERTEX_GRADIENT_METHODS",
    "divergence",
    "face_gradient",
    "point_cloud_gradient",
    "vertex_gradient",
]

VERTEX_GRADIENT_METHODS = ("lsq", "faces")


_COEF: weakref.WeakKeyDictionary[Mesh, np.ndarray] = weakref.WeakKeyDictionary()


def _face_gradient_coefficients(mesh: Mesh) -> np.ndarray:
    """(F, 3, 3) float64: ``[f, k]`` is the gradient (x, y, z) of the hat function of corner k on face f
    (cached per mesh object, read-only)."""
    c = _COEF.get(mesh)
    if c is None:
        c = readonly(_coefficients(mesh))
        _COEF[mesh] = c
    return c


def _coefficients(mesh: Mesh) -> np.ndarray:
    """(F, 3, 3) hat-function gradients ``n x e_k / (2 A_floored)`` (module docstring), vectorized.

    The frame is built from the face's longest half-edge ``t1`` and the in-plane direction ``t2`` towards the
    third vertex (orthogonalized twice, so ``n = t1 x t2`` is a unit normal exactly orthogonal to the edges
    up to rounding even on slivers, where the cross product of two edges is all rounding). The gradient of
    the corner with the largest vertex index is minus the sum of the other two, so the gradient of a constant
    is exactly 0 when a CSR row is summed in column order (large rows on floored faces would otherwise leave
    rounding far above 1e-12)."""
    F = mesh.n_faces
    lengths = halfedge_lengths(mesh)
    area = floored_face_areas(lengths)
    r = np.arange(F)[:, None]
    m = lengths.argmax(axis=1)[:, None]
    q = mesh.verts[mesh.faces[r, (m + np.arange(3)) % 3]]  # corners rolled so that half-edge 0 is the longest
    q = q - q[:, :1]  # relative to the first corner: no cancellation far from the origin
    t1 = _unit(q[:, 1])
    t1[~np.isfinite(t1).all(axis=1) | (np.abs(t1).sum(axis=1) == 0)] = (1.0, 0.0, 0.0)
    t2 = q[:, 2] - np.einsum("ij,ij->i", q[:, 2], t1)[:, None] * t1
    flat = np.linalg.norm(t2, axis=1) <= 1e-14 * np.linalg.norm(q[:, 2], axis=1)  # residual is rounding
    t2 = _unit(t2)
    t2 = _unit(t2 - np.einsum("ij,ij->i", t2, t1)[:, None] * t1)
    flat |= ~(np.abs(np.einsum("ij,ij->i", t2, t1)) < 1e-8)  # collinear face: any direction normal to t1
    if flat.any():
        axis = np.eye(3)[np.abs(t1[flat]).argmin(axis=1)]
        t2[flat] = _unit(np.cross(t1[flat], axis))
    n = np.cross(t1, t2)
    opp = np.roll(q, -2, axis=1) - np.roll(q, -1, axis=1)  # edge opposite corner k: q_{k+2} - q_{k+1}
    inv = np.divide(0.5, area, out=np.zeros_like(area), where=area > 0)
    g = np.empty_like(q)
    g[r, (m + np.arange(3)) % 3] = np.cross(n[:, None, :], opp) * inv[:, None, None]  # face's corner order
    # the corner with the largest vertex index (summed last in a CSR row) gets minus the sum of the other two
    last = mesh.faces.argmax(axis=1)[:, None]
    rest = g[r, (last + 1) % 3] + g[r, (last + 2) % 3]
    g[r, last] = -rest
    return g


def _unit(v: np.ndarray) -> np.ndarray:
    nrm = np.linalg.norm(v, axis=1, keepdims=True)
    return np.divide(v, nrm, out=np.zeros_like(v), where=nrm > 0)


def _check_max_cotan(max_cotan: float) -> None:
    if not max_cotan > 0:
        raise MeshError(f"max_cotan must be positive, got {max_cotan}")


@mesh_input
def face_gradient(mesh: Mesh) -> sp.csr_matrix:
    """(3F, V) float64 CSR: per-face gradient of a vertex function (rows x, y, z of each face).

    Degenerate faces: the area in the denominator is floored exactly as in the cotangent Laplacian (module
    docstring), so rows are finite everywhere and exact wherever the area exceeds ``1e-12`` times the face's
    mean squared edge length. Pairs with :func:`divergence` to give ``-L``.
    """
    F, V = mesh.n_faces, mesh.n_verts
    g = _face_gradient_coefficients(mesh)  # (F, k, xyz)
    rows = (3 * np.arange(F)[:, None, None] + np.arange(3)[None, None, :]).repeat(3, axis=1)
    cols = np.broadcast_to(mesh.faces[:, :, None], (F, 3, 3))
    return sp.csr_matrix((g.reshape(-1), (rows.reshape(-1), cols.reshape(-1))), shape=(3 * F, V))


@mesh_input
def divergence(mesh: Mesh, *, max_cotan: float = 1e5) -> sp.csr_matrix:
    """(V, 3F) float64 CSR weak divergence of a per-face vector field (x, y, z per face).

    ``D = -G^T diag(s_f A_f)``: ``A_f`` the floored face area, ``s_f`` the cotangent Laplacian's guard factor
    for ``max_cotan`` (module docstring; 1 on every face of a good mesh, where ``A_f`` is the face area).
    Hence ``divergence(mesh, max_cotan=c) @ face_gradient(mesh) == -cotan_laplacian(mesh, max_cotan=c)`` on
    every mesh, up to rounding: a sliver's divergence is damped exactly as its cotangents are.
    """
    _check_max_cotan(max_cotan)
    G = face_gradient(mesh)
    lengths = halfedge_lengths(mesh)
    w = floored_face_areas(lengths) * cotan_guard_scale(halfedge_cotans_from_lengths(lengths), max_cotan)
    return sp.csr_matrix(-(G.T @ sp.diags(np.repeat(w, 3))))


@mesh_input
def vertex_gradient(mesh: Mesh, frames=None, method: str = "faces") -> sp.csr_matrix:
    """(V, V) complex128 CSR: tangent gradient at every vertex in the vertex gauges.

    Parameters
    ----------
    mesh : Mesh
    frames : None / "intrinsic" | gauge name | (V, 3, 3) frames (rows e1, e2, n) | (V,) gauge angles
        (for ``"faces"``: the intrinsic frames rotated by those angles about the normal).
    method :
        ``"faces"`` (default): area-weighted average of the incident face gradients, projected on the
        3-D frame ``(e1, e2)``. Works on every mesh (zero rows at unreferenced vertices).
        ``"lsq"``: least-squares fit of ``u_j - u_i = <grad, log_i(j)>`` over the one ring, with
        the intrinsic log-map coordinates of :func:`~manifoldnet.geometry.logmap.one_ring_logmap` (so the
        gauge is exactly the one of the log map and the connection). Where the ring is (nearly) collinear
        (``det <= 1e-12 trace^2``) a Tikhonov term ``1e-8 * trace`` keeps the result finite.
        Unreferenced vertices: zero rows.

    Conventions
    -----------
    ``(Gv @ u)[i] = a + 1j b``, the gradient's coordinates in i's frame. On smooth curved meshes ``"faces"``
    is the more accurate of the two (about 2x on spheres, 5x on a latitude-longitude sphere; see
    tests/geometry/test_gradient.py); ``"lsq"`` is intrinsic (edge lengths and the gauge only).
    """
    if method not in VERTEX_GRADIENT_METHODS:
        raise MeshError(
            f"unknown vertex gradient method {method!r}; expected one of {VERTEX_GRADIENT_METHODS}"
        )
    V = mesh.n_verts
    if method == "faces":
        fr = _as_frames(mesh, frames)
        if fr is None:
            fr = vertex_frames(mesh, "intrinsic")
        F = mesh.n_faces
        cv = mesh.faces.reshape(-1)
        w = np.repeat(mesh.face_areas, 3)
        W = np.bincount(cv, weights=w, minlength=V)
        w = (w / np.where(W > 0, W, 1.0)[cv]).reshape(F, 3, 1)
        gco = _face_gradient_coefficients(mesh)  # (F, k, xyz)
        # entry (vertex of corner c, vertex of corner k of the same face) += w_c <e1 + i e2, grad phi_k>
        gco_t = gco.transpose(0, 2, 1)
        re = np.matmul(fr[mesh.faces, 0] * w, gco_t)  # (F, c, k): corner c's row, corner k's column
        im = np.matmul(fr[mesh.faces, 1] * w, gco_t)
        h = np.arange(3 * F)
        kk = h % 3
        prev = h - kk + (kk + 2) % 3
        ei, rev, _ = _directed(mesh)
        d_next = halfedge_directed_edges(mesh)  # corner c -> corner c+1 is half-edge c
        d_prev = rev[d_next[prev]]  # corner c -> corner c+2 is half-edge prev(c) reversed
        E2 = ei.shape[1]
        c = np.arange(3)
        r0, r1, r2 = (re[:, c, (c + s) % 3].reshape(-1) for s in range(3))
        i0, i1, i2 = (im[:, c, (c + s) % 3].reshape(-1) for s in range(3))
        off = np.bincount(d_next, weights=r1, minlength=E2) + np.bincount(d_prev, weights=r2, minlength=E2)
        off = off + 1j * (
            np.bincount(d_next, weights=i1, minlength=E2) + np.bincount(d_prev, weights=i2, minlength=E2)
        )
        diag = np.bincount(cv, weights=r0, minlength=V) + 1j * np.bincount(cv, weights=i0, minlength=V)
        return edges_csr(ei, off, diag)

    fans, r, theta = _one_ring(mesh, gauge_offsets(mesh, frames))
    i = fans.edge_index[0]
    coef, diag = _lsq_coefficients(i, r * np.cos(theta), r * np.sin(theta), V)
    return edges_csr(fans.edge_index, coef, diag)


def _lsq_coefficients(i: np.ndarray, x: np.ndarray, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-pair complex coefficients and diagonal of the 2x2 least-squares gradient (vectorized).

    Fits ``u_j - u_i = gx x_ij + gy y_ij`` over the pairs of each i; a (nearly) collinear neighbourhood
    (``det <= 1e-12 trace^2``) gets a Tikhonov term ``1e-8 * trace``; no neighbours: zero row."""
    sxx = np.bincount(i, weights=x * x, minlength=n)
    sxy = np.bincount(i, weights=x * y, minlength=n)
    syy = np.bincount(i, weights=y * y, minlength=n)
    tr = sxx + syy
    weak = sxx * syy - sxy * sxy <= 1e-12 * tr * tr
    lam = np.where(weak, 1e-8 * tr, 0.0)
    a, b, c = sxx + lam, sxy, syy + lam
    det = a * c - b * b
    ok = det > 0
    inv_det = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    # N^-1 = [[c, -b], [-b, a]] / det applied to (x, y)
    gx = (c[i] * x - b[i] * y) * inv_det[i]
    gy = (a[i] * y - b[i] * x) * inv_det[i]
    diag = -np.bincount(i, weights=gx, minlength=n) - 1j * np.bincount(i, weights=gy, minlength=n)
    return gx + 1j * gy, diag


def point_cloud_gradient(points, edge_index, frames=None, normals=None) -> sp.csr_matrix:
    """(N, N) complex128 CSR tangent gradients on a neighbour graph (point clouds), DiffusionNet-style.

    Least squares of ``u_j - u_i = <grad, proj(p_j - p_i)>`` over the pairs (i, j) of ``edge_index``, with
    the neighbour offsets projected to i's frame (:func:`~manifoldnet.geometry.logmap.point_cloud_logmap`);
    same regularization and output convention as :func:`vertex_gradient` (``a + 1j b`` in i's frame).

    Parameters
    ----------
    points : (N, 3) float; edge_index : (2, P) int, pairs (i, j) (any order; duplicates count twice);
    frames : (N, 3, 3) rows (e1, e2, n), or None with ``normals`` (N, 3) (world gauge frames).
    """
    pts, ei, fr = _check_cloud(points, edge_index, frames, normals)
    N = len(pts)
    i, j = ei
    d = pts[j] - pts[i]
    coef, diag = _lsq_coefficients(
        i, np.einsum("ij,ij->i", d, fr[i, 0]), np.einsum("ij,ij->i", d, fr[i, 1]), N
    )
    rows = np.concatenate([i, np.arange(N)])
    cols = np.concatenate([j, np.arange(N)])
    return sp.csr_matrix((np.concatenate([coef, diag]), (rows, cols)), shape=(N, N))
