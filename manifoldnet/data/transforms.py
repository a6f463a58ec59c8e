"""Normalisation, augmentation and input features.

Order matters:

1. :func:`center_and_scale` changes the mesh (centroid to the origin, total area 1) and therefore the
   operators (mass scales with area, eigenvalues with 1/area, gradients and log-map radii with
   1/sqrt(area)): apply it **before** the bundle is built (``OperatorDataset(pre_transform=...)``).
2. Rigid augmentations (random rotation, scale) come **after** the bundle is built: they act only on the
   extrinsic input features (xyz and normals rotate; xyz scales). The intrinsic operators (L, M, the
   eigenbasis, gradients in the vertex gauges, log map, transport, HKS/WKS) are unchanged by a rotation, so
   the cached bundle stays valid and nothing is recomputed. (A scale would change them: the scale
   augmentation is a feature augmentation only, as in DiffusionNet.)

:func:`input_features` builds the (V, C) input tensor from features by name: ``"xyz"`` (each mesh's vertex
positions about its area-weighted centroid, divided by the square root of its area, so meshes of any size and
placement give comparable inputs), ``"normals"``, ``"hks"``, ``"wks"``, optionally with one rotation/scale per
mesh of a batch (rotation matrices (B, 3, 3), scales (B,)). :func:`feature_fields` names the bundle fields
the features read, for ``OperatorSpec(fields=model.required_fields + feature_fields(kinds))``.
"""

from __future__ import annotations

import numpy as np

from ..errors import MeshError
from ..mesh import Mesh

__all__ = [
    "FEATURE_KINDS",
    "augment_features",
    "center_and_scale",
    "feature_fields",
    "input_features",
    "normalized_xyz",
    "random_rotations",
]

# feature name -> the bundle fields it reads ("xyz" needs only vertices and faces, which
# every mesh bundle holds)
FEATURE_KINDS = {"xyz": (), "normals": ("normals",), "hks": ("hks",), "wks": ("wks",)}


def feature_fields(kinds) -> tuple[str, ...]:
    """The bundle fields that the input features ``kinds`` read (sorted; see ``FEATURE_KINDS``)."""
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    bad = [k for k in kinds if k not in FEATURE_KINDS]
    if bad:
        raise ValueError(f"unknown feature kinds {bad}; choose from {list(FEATURE_KINDS)}")
    return tuple(sorted({f for k in kinds for f in FEATURE_KINDS[k]}))


def normalized_xyz(ops):
    """(V, 3): each mesh's vertices about its area-weighted centroid, divided by sqrt(its area).

    Areas are the bundle's mass when held, else one third of the incident face areas (the lumped mass).
    Invariant to translating and scaling a mesh; a rotation of the mesh rotates it."""
    import torch

    v = ops.verts
    m = ops.mass
    if m is None:
        if ops.faces is None:
            raise ValueError("feature \"xyz\" of a point cloud needs the bundle field 'mass'; compute it")
        f = ops.faces
        a = 0.5 * torch.linalg.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]]).norm(dim=1)
        m = torch.zeros(v.shape[0], dtype=v.dtype, device=v.device).index_add_(
            0, f.reshape(-1), (a / 3).repeat_interleave(3)
        )
    m = m.to(v.dtype)
    area = torch.zeros(ops.n_meshes, dtype=v.dtype, device=v.device).index_add_(0, ops.batch, m)
    if not bool((area > 0).all()):
        raise ValueError('feature "xyz": a mesh of the batch has zero area')
    centre = torch.zeros(ops.n_meshes, 3, dtype=v.dtype, device=v.device).index_add_(
        0, ops.batch, m[:, None] * v
    )
    centre = centre / area[:, None]
    return (v - centre[ops.batch]) / area.sqrt()[ops.batch, None]


def center_and_scale(mesh: Mesh, area: float = 1.0) -> Mesh:
    """The mesh moved so its area-weighted centroid is the origin and scaled to total area ``area``.

    Apply before computing operators. Raises MeshError for a mesh of zero area.
    """
    A = mesh.face_areas
    total = float(A.sum())
    if not total > 0:
        raise MeshError("center_and_scale: the mesh has zero total area")
    centroid = (A[:, None] * mesh.verts[mesh.faces].mean(axis=1)).sum(0) / total
    return mesh.with_verts((mesh.verts - centroid) * np.sqrt(area / total))


def random_rotations(n: int, generator=None, axis=None, dtype=None):
    """(n, 3, 3) torch rotation matrices, uniform on SO(3) (or about ``axis``, e.g. ``(0, 0, 1)``)."""
    import torch

    dtype = dtype or torch.float32
    if axis is None:
        q, r = torch.linalg.qr(torch.randn(n, 3, 3, generator=generator, dtype=torch.float64))
        q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1))[:, None, :]
        det = torch.linalg.det(q)
        q[:, :, 0] *= det[:, None]  # reflections -> rotations (the distribution stays uniform)
        return q.to(dtype)
    a = torch.as_tensor(axis, dtype=torch.float64)
    a = a / a.norm()
    t = torch.rand(n, generator=generator, dtype=torch.float64) * 2 * torch.pi
    K = torch.zeros(3, 3, dtype=torch.float64)
    K[0, 1], K[0, 2], K[1, 0], K[1, 2], K[2, 0], K[2, 1] = -a[2], a[1], a[2], -a[0], -a[1], a[0]
    s, c = torch.sin(t)[:, None, None], torch.cos(t)[:, None, None]
    return (torch.eye(3, dtype=torch.float64) + s * K + (1 - c) * (K @ K)).to(dtype)


def input_features(ops, kinds=("xyz",), rotations=None, scales=None):
    """(V, C) input features of :class:`~manifoldnet.operators.TorchOperators` (one mesh or a batch).

    Parameters
    ----------
    kinds : names from ``FEATURE_KINDS`` (a string for one); concatenated in this order. ``"xyz"`` is
        :func:`normalized_xyz` (centred, unit area) before any rotation or scale.
    rotations : None or (B, 3, 3) (or (3, 3)) applied to xyz and normals of each mesh (``x -> R x``).
    scales : None or (B,) (or a float) applied to xyz.
    """
    import torch

    if isinstance(kinds, str):
        kinds = (kinds,)
    bad = [k for k in kinds if k not in FEATURE_KINDS]
    if bad:
        raise ValueError(f"unknown feature kinds {bad}; choose from {list(FEATURE_KINDS)}")
    parts = []
    for k in kinds:
        x = normalized_xyz(ops) if k == "xyz" else getattr(ops, k)
        if x is None:
            raise ValueError(
                f"feature {k!r} needs the bundle field {k if k != 'xyz' else 'verts'!r}; compute it"
            )
        if k in ("xyz", "normals") and rotations is not None:
            R = torch.as_tensor(rotations, dtype=x.dtype, device=x.device)
            R = R.expand(ops.n_meshes, 3, 3) if R.ndim == 2 else R
            x = torch.einsum("vij,vj->vi", R[ops.batch], x)
        if k == "xyz" and scales is not None:
            s = torch.as_tensor(scales, dtype=x.dtype, device=x.device).reshape(-1)
            x = x * (s.expand(ops.n_meshes) if s.numel() == 1 else s)[ops.batch, None]
        parts.append(x)
    return torch.cat(parts, dim=1)


def augment_features(
    ops, kinds=("xyz",), generator=None, rotation: str | None = "so3", scale_range=(0.9, 1.1)
):
    """Input features with a random rigid augmentation per mesh: ``rotation`` "so3", "z" (about the z axis)
    or None; a uniform random scale in ``scale_range`` (or None). Operators are not
    touched (module docstring)."""
    import torch

    B = ops.n_meshes
    R = None
    if rotation == "so3":
        R = random_rotations(B, generator)
    elif rotation == "z":
        R = random_rotations(B, generator, axis=(0.0, 0.0, 1.0))
    elif rotation is not None:
        raise ValueError(f"rotation must be 'so3', 'z' or None, got {rotation!r}")
    s = None
    if scale_range is not None:
        lo, hi = scale_range
        s = lo + (hi - lo) * torch.rand(B, generator=generator, dtype=torch.float64)
    return input_features(ops, kinds, rotations=R, scales=s)
