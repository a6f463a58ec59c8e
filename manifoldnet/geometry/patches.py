"""Geodesic patches for intrinsic convolutions: neighbours within a geodesic radius (or the k nearest), with
geodesic polar coordinates ``(r, theta)`` in the centre's gauge.

Algorithm: a discrete exponential map (Schmidt, Grimm, Wyvill 2006) run for every vertex at once.
Each patch entry ``(i, j)`` holds the position ``z_ij`` of j in i's tangent plane (complex, i's gauge) and
the transport angle ``R_ij`` taking j's gauge to i's (``exp(1j R_ij) z_j`` is ``z_j`` seen at i). A round
joins the frontier entries with the one-ring of their vertex (a sparse join over all patches together):
through the edge (j, k),

    ``z_ik = z_ij + exp(1j R_ij) log_j(k)``,   ``R_ik = R_ij + rho_jk``

with ``log_j(k) = r_jk exp(1j theta_jk)`` and ``rho_jk`` from the one-ring log map and the connection of
:mod:`.logmap` / :mod:`.transport` (rescaled corner angles: the fan of j is unfolded rigidly along the
path, i.e. the angles are unfolded and the transports composed). Of the candidates for a new pair (i, k)
the one nearest to i (smallest ``|z_ik|``) is kept, then the new pairs of a round are relaxed once against
each other (a vertex first reached through a ring neighbour that is itself closer). On a flat mesh the
coordinates are exact.

Conventions
-----------
``edge_index (2, P)``: pairs (i, j) = (centre, neighbour), sorted by (i, j), the centre itself excluded;
``r (P,)`` and ``theta (P,)`` in ``[0, 2 pi)`` are the polar coordinates of j in i's gauge (the gauge of
:func:`~manifoldnet.geometry.logmap.one_ring_logmap` for the same ``frames``); ``transport (P,)`` is
``R_ij``. The one-ring entries equal :func:`~manifoldnet.geometry.logmap.one_ring_logmap` exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import MeshError
from ..mesh import Mesh
from .geodesics import _check_mesh

__all__ = ["GeodesicPatches", "geodesic_patches"]

_TWO_PI = 2.0 * np.pi


@dataclass(frozen=True)
class GeodesicPatches:
    """Sparse geodesic patches: edge_index (2, P) int64, r (P,), theta (P,), transport (P,) float64; n_verts."""

    edge_index: np.ndarray
    r: np.ndarray
    theta: np.ndarray
    transport: np.ndarray
    n_verts: int

    @property
    def sizes(self) -> np.ndarray:
        """(V,) int64 number of neighbours in each vertex's patch."""
        return np.bincount(self.edge_index[0], minlength=self.n_verts)


def _best_per_key(key: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Indices of the smallest ``score`` of each distinct ``key`` (ties: first)."""
    o = np.lexsort((score, key))
    ks = key[o]
    first = np.r_[True, ks[1:] != ks[:-1]]
    return o[first]


def geodesic_patches(
    mesh: Mesh,
    radius: float | None = None,
    k: int | None = None,
    frames=None,
    max_rounds: int = 1000,
) -> GeodesicPatches:
    """Geodesic patches of every vertex (module docstring).

    Parameters
    ----------
    mesh : Mesh
    radius : keep neighbours with ``r <= radius`` (exclusive with ``k``).
    k : keep the k nearest neighbours by ``r`` (fewer on a component with fewer vertices).
    frames : the gauge, as in :func:`~manifoldnet.geometry.logmap.one_ring_logmap`.
    max_rounds : at most this many expansion rounds (a bound on the patch's edge-hop depth).
    """
    from .logmap import one_ring_logmap
    from .transport import edge_transport

    mesh = _check_mesh(mesh)
    if (radius is None) == (k is None):
        raise MeshError("give exactly one of radius= or k=")
    if radius is not None and not (np.isfinite(radius) and radius > 0):
        raise MeshError(f"radius must be a positive finite number, got {radius}")
    if k is not None and (int(k) != k or k < 1):
        raise MeshError(f"k must be a positive integer, got {k}")
    V = mesh.n_verts
    ei, r1, th1 = one_ring_logmap(mesh, frames)
    ei_t, rho = edge_transport(mesh, frames)
    if not np.array_equal(ei, ei_t):
        raise MeshError("one_ring_logmap and edge_transport disagree on the directed edges")
    src, dst = ei
    log1 = r1 * np.exp(1j * th1)
    indptr = np.searchsorted(src, np.arange(V + 1))
    deg = np.diff(indptr)

    erho = np.exp(1j * rho)
    I, J, Z, R = src.copy(), dst.copy(), log1.copy(), erho.copy()  # R: unit complex exp(1j R_ij)
    keys = np.sort(I * V + J)
    front = np.arange(len(I))
    count = np.bincount(I, minlength=V)
    was_short = count < (k if k is not None else 0)
    for _ in range(max_rounds):
        if radius is not None:
            front = front[np.abs(Z[front]) <= radius]
        else:
            short = count < k
            front = front[(short | was_short)[I[front]]]
            was_short = short
        if front.size == 0:
            break
        # join: frontier entry (i, j) x out-edges (j, m)
        cnt = deg[J[front]]
        e = np.repeat(front, cnt)
        base = np.repeat(np.cumsum(cnt) - cnt, cnt)
        d = indptr[J[e]] + (np.arange(len(e)) - base)
        ci, cm = I[e], dst[d]
        ck = ci * V + cm
        pos = np.searchsorted(keys, ck)
        present = keys[np.minimum(pos, len(keys) - 1)] == ck
        new = (cm != ci) & ~present
        if not new.any():
            break
        e, d, ci, cm, ck = e[new], d[new], ci[new], cm[new], ck[new]
        cz = Z[e] + R[e] * log1[d]
        cr = R[e] * erho[d]
        best = _best_per_key(ck, np.abs(cz))
        ni, nm, nz, nr, nk = ci[best], cm[best], cz[best], cr[best], ck[best]
        start = len(I)
        I, J = np.concatenate([I, ni]), np.concatenate([J, nm])
        Z, R = np.concatenate([Z, nz]), np.concatenate([R, nr])
        keys = np.sort(np.concatenate([keys, nk]))
        count += np.bincount(ni, minlength=V)
        front = np.arange(start, len(I))
    r = np.abs(Z)
    if radius is not None:
        keep = np.flatnonzero(r <= radius)
    else:
        o = np.lexsort((r, I))
        rank = np.arange(len(o)) - np.searchsorted(I[o], I[o])
        keep = o[rank < k]
    o = keep[np.lexsort((J[keep], I[keep]))]
    theta = np.mod(np.angle(Z[o]), _TWO_PI)
    transport = np.angle(R[o])
    return GeodesicPatches(np.stack([I[o], J[o]]), r[o], theta, transport, V)
