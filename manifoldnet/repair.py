"""Repairing a mesh, and saying exactly what was repaired.

``clean(mesh)`` welds coincident vertices, drops faces that collapse, zero-area faces, duplicate faces and
unreferenced vertices, and orients the faces consistently where the surface is orientable. It returns the
new mesh and a :class:`CleanReport` with every count and the index maps (old vertex -> new vertex, new face
-> old face), so that per-vertex data can follow. Nothing changes silently: ``report.changes`` lists each
change in words, and an unchanged mesh gives ``report.changed == False``.

Conventions
-----------
A welded group of vertices is represented by its lowest old index and keeps that vertex's position;
surviving vertices and faces keep their relative order. Orientation: in each face-connected component the
majority orientation wins (:attr:`Mesh.faces_to_flip`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .errors import MeshError
from .mesh import Mesh, readonly

__all__ = ["CleanReport", "clean", "weld_vertices"]


def weld_vertices(verts: np.ndarray, tol: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Merge vertices closer than ``tol`` (``tol = 0``: exactly equal coordinates).

    Parameters
    ----------
    verts : (V, 3) float64.
    tol : float >= 0; groups are the connected components of the "closer than tol" graph (chains merge).

    Returns
    -------
    new_verts : (V', 3) float64, the lowest-index vertex of each group, in old order.
    old_to_new : (V,) int64.
    """
    v = np.asarray(verts, dtype=np.float64)
    tol = float(tol)
    if not np.isfinite(tol) or tol < 0:
        raise MeshError(f"weld tolerance must be a finite number >= 0, got {tol}")
    n = len(v)
    if n == 0:
        return v.reshape(0, 3), np.zeros(0, dtype=np.int64)
    if tol == 0.0:  # sort rows (stable: the lowest index leads each run of equal rows)
        order = np.lexsort((v[:, 2], v[:, 1], v[:, 0]))
        sv = v[order]
        new_run = np.r_[True, (sv[1:] != sv[:-1]).any(axis=1)]
        lead = order[np.flatnonzero(new_run)]
        rep = np.empty(n, dtype=np.int64)
        rep[order] = lead[np.cumsum(new_run) - 1]  # lowest old index with the same coordinates
    else:
        from scipy.spatial import cKDTree

        pairs = cKDTree(v).query_pairs(tol, output_type="ndarray")
        g = sp.csr_matrix((np.ones(len(pairs), np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        _, lab = connected_components(g, directed=False)
        low = np.full(lab.max() + 1, n, dtype=np.int64)
        np.minimum.at(low, lab, np.arange(n))
        rep = low[lab]
    keep = rep == np.arange(n)
    new_index = np.cumsum(keep) - 1
    return v[keep], new_index[rep].astype(np.int64)


@dataclass(frozen=True)
class CleanReport:
    """What :func:`clean` changed. Index maps are read-only int64 arrays.

    vert_map : (V_old,) new index of each old vertex, -1 where it was removed (unreferenced).
    face_map : (F_new,) old index of each kept face.
    """

    n_verts_before: int
    n_verts_after: int
    n_faces_before: int
    n_faces_after: int
    welded_verts: int  # vertices merged into another one
    collapsed_faces: int  # faces that repeated a vertex after welding
    degenerate_faces: int  # zero-area faces dropped
    duplicate_faces: int  # faces repeating an earlier face's vertex set dropped
    unreferenced_verts: int  # vertices dropped because no face uses them
    flipped_faces: int
    orientable: bool
    vert_map: np.ndarray
    face_map: np.ndarray
    changes: tuple[str, ...]
    notes: tuple[str, ...] = ()  # what was found but deliberately left (e.g. not orientable)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def summary(self) -> str:
        return "; ".join(self.changes + self.notes) if self.changes or self.notes else "nothing changed"

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k not in ("vert_map", "face_map")}
        d["changes"], d["notes"] = list(self.changes), list(self.notes)
        return d


def clean(
    mesh: Mesh,
    weld_tol: float = 0.0,
    *,
    weld: bool = True,
    drop_degenerate: bool = True,
    drop_duplicates: bool = True,
    drop_unreferenced: bool = True,
    orient: bool = True,
) -> tuple[Mesh, CleanReport]:
    """Repair ``mesh``; returns ``(cleaned, report)``. Each step can be switched off.

    Steps, in order: weld vertices closer than ``weld_tol`` (absolute; 0 = identical coordinates), drop
    faces that then repeat a vertex, drop zero-area faces (:attr:`Mesh.zero_area_faces`), drop duplicate
    faces (keeping the first), drop unreferenced vertices, flip :attr:`Mesh.faces_to_flip` (orientable
    meshes only; a non-orientable one is reported and left as it is).

    Raises MeshError when nothing would be left (every face dropped).
    """
    if not isinstance(mesh, Mesh):
        raise MeshError(f"clean expects a manifoldnet.Mesh, got {type(mesh).__name__}")
    V0, F0 = mesh.n_verts, mesh.n_faces
    changes, notes = [], []
    verts, faces = mesh.verts, mesh.faces
    vmap = np.arange(V0, dtype=np.int64)
    fmap = np.arange(F0, dtype=np.int64)

    welded = collapsed = 0
    if weld:
        verts, vmap = weld_vertices(verts, weld_tol)
        welded = V0 - len(verts)
        if welded:
            faces = vmap[faces]
            changes.append(f"welded {welded} vertices onto coincident ones (tol {weld_tol:g})")
            rep = (faces[:, 0] == faces[:, 1]) | (faces[:, 1] == faces[:, 2]) | (faces[:, 2] == faces[:, 0])
            collapsed = int(rep.sum())
            if collapsed:
                faces, fmap = faces[~rep], fmap[~rep]
                changes.append(f"dropped {collapsed} faces collapsed by welding")
    _check_left(faces, "welding")
    m = Mesh(verts, faces)

    n_deg = int(m.zero_area_faces.size) if drop_degenerate else 0
    if n_deg:
        faces, fmap = _drop_faces(faces, fmap, m.zero_area_faces, "zero-area", changes)
        _check_left(faces, "dropping zero-area faces")
        m = Mesh(verts, faces)

    n_dup = int(m.duplicate_faces.size) if drop_duplicates else 0
    if n_dup:
        faces, fmap = _drop_faces(faces, fmap, m.duplicate_faces, "duplicate", changes)
        m = Mesh(verts, faces)

    n_unref = 0
    if drop_unreferenced and m.unreferenced_verts.size:
        n_unref = int(m.unreferenced_verts.size)
        used = m.referenced
        renum = np.where(used, np.cumsum(used) - 1, -1)
        old_unref = np.flatnonzero(renum[vmap] < 0)
        vmap = renum[vmap]
        verts, faces = verts[used], renum[faces]
        changes.append(f"dropped {n_unref} unreferenced vertices (first: old vertex {int(old_unref[0])})")
        m = Mesh(verts, faces)

    n_flip, orientable = 0, bool(m.is_orientable)
    if orient:
        if not orientable:
            notes.append("not orientable: orientation left as it is")
        elif m.faces_to_flip.size:
            n_flip = int(m.faces_to_flip.size)
            faces = faces.copy()
            faces[m.faces_to_flip] = faces[m.faces_to_flip][:, ::-1]
            changes.append(f"flipped {n_flip} faces for a consistent orientation")
            m = Mesh(verts, faces)

    report = CleanReport(
        n_verts_before=V0,
        n_verts_after=m.n_verts,
        n_faces_before=F0,
        n_faces_after=m.n_faces,
        welded_verts=welded,
        collapsed_faces=collapsed,
        degenerate_faces=n_deg,
        duplicate_faces=n_dup,
        unreferenced_verts=n_unref,
        flipped_faces=n_flip,
        orientable=orientable,
        vert_map=readonly(np.ascontiguousarray(vmap)),
        face_map=readonly(np.ascontiguousarray(fmap)),
        changes=tuple(changes),
        notes=tuple(notes),
    )
    return m, report


def _drop_faces(faces: np.ndarray, fmap: np.ndarray, drop: np.ndarray, what: str, changes: list[str]):
    """Remove faces ``drop`` from ``faces`` and the face map, recording the change in words."""
    keep = np.ones(len(faces), dtype=bool)
    keep[drop] = False
    changes.append(f"dropped {drop.size} {what} faces (first: old face {int(fmap[drop[0]])})")
    return faces[keep], fmap[keep]


def _check_left(faces: np.ndarray, step: str) -> None:
    if len(faces) == 0:
        raise MeshError(f"clean: no face is left after {step}")
