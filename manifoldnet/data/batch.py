"""Batching meshes of different sizes without padding.

:func:`collate_operators` concatenates the operators of B meshes into one
:class:`~manifoldnet.operators.TorchOperators`, each array by its batch rule in the field table
(:data:`~manifoldnet.operators.fields.ARRAY_TABLE`, rules in ``BATCH_RULES``):

- ``vertex`` arrays (verts, mass, evecs, ...) and ``pair`` arrays (one value per edge or patch pair) are
  concatenated along dim 0;
- ``sparse`` operators (laplacian, grad_x, grad_y) become block-diagonal sparse CSR, so ``L @ x`` on the batch
  is one sparse product and equals the per-mesh products stacked;
- ``index`` arrays ((2, N): edge_index, patch_index) and ``face`` arrays (faces) are shifted by each mesh's
  vertex offset;
- ``stack`` arrays get one row per mesh: ``evals`` is (B, K), so every mesh must hold the same K. With
  ``evecs`` concatenated row-wise ((sum V, K)) the eigenbases stay per mesh: spectral operations
  (:mod:`manifoldnet.nn.functional`) apply mesh by
  mesh on these row blocks, never mixing meshes;
- ``offsets`` (B + 1,) marks where each mesh's vertices start, ``batch`` (V,) says which mesh owns a vertex,
  ``face_offsets`` (B + 1,) the same for faces.

:func:`collate` does the same for dataset samples (dicts with an ``"ops"`` entry and per-vertex tensors), and
``ops.split(y)`` gives per-mesh outputs back.
"""

from __future__ import annotations

import numpy as np

from ..operators.bundle import OperatorBundle
from ..operators.fields import ARRAY_TABLE
from ..operators.torch_ops import TorchOperators, sparse_csr

__all__ = ["collate", "collate_operators", "split"]


def _as_torch(item, device, dtype):
    if isinstance(item, OperatorBundle):
        return item.to(device=device, dtype=dtype)
    if device is not None or dtype is not None:
        return item.to(device=device, dtype=dtype)
    return item


def _block_diag(mats, sizes):
    import torch

    crows, cols, vals = [], [], []
    nnz = 0
    off = 0
    for i, (m, n) in enumerate(zip(mats, sizes, strict=True)):
        crow = m.crow_indices()
        crows.append((crow if i == 0 else crow[1:]) + nnz)
        cols.append(m.col_indices() + off)
        vals.append(m.values())
        nnz += int(crow[-1])
        off += n
    return sparse_csr(torch.cat(crows), torch.cat(cols), torch.cat(vals), (off, off))


def _cat(vals, voff):
    import torch

    return torch.cat(vals, dim=0)


def _shift(vals, voff, dim):
    import torch

    return torch.cat([v + voff[b] for b, v in enumerate(vals)], dim=dim)


# Batch rule (fields.BATCH_RULES) -> join(per-mesh values, vertex offsets (B + 1,)) -> batched value.
_JOIN = {
    "vertex": _cat,
    "pair": _cat,
    "stack": _cat,  # each mesh holds one row (1, K)
    "index": lambda vals, voff: _shift(vals, voff, dim=1),
    "face": lambda vals, voff: _shift(vals, voff, dim=0),
    "sparse": lambda vals, voff: _block_diag(vals, (voff[1:] - voff[:-1]).tolist()),
}


def collate_operators(items, device=None, dtype=None):
    """One :class:`TorchOperators` for a list of bundles or ``TorchOperators`` (see the module docstring).

    Raises ValueError if the items were built with different specs (different fields or K).
    """
    import torch

    ops = [_as_torch(it, device, dtype) for it in items]
    if not ops:
        raise ValueError("collate_operators: empty list")
    if len(ops) == 1:
        return ops[0]
    spec = ops[0].spec
    for i, o in enumerate(ops[1:], 1):
        if o.spec != spec:
            raise ValueError(f"collate_operators: mesh {i} was built with spec {o.spec}, mesh 0 with {spec}")
    sizes = [o.n_verts for o in ops]
    dev = ops[0].verts.device
    voff = torch.tensor([0, *sizes], device=dev).cumsum(0)
    kw = {
        "offsets": voff,
        "batch": torch.repeat_interleave(torch.arange(len(ops), device=dev), torch.tensor(sizes, device=dev)),
    }
    for name, array in ARRAY_TABLE.items():
        vals = [getattr(o, name) for o in ops]
        if all(v is None for v in vals):
            continue
        if any(v is None for v in vals):
            raise ValueError(f"collate_operators: field {name!r} is held by some meshes only")
        kw[name] = _JOIN[array.batch](vals, voff)
    if "faces" in kw:
        kw["face_offsets"] = torch.tensor([0, *[o.faces.shape[0] for o in ops]], device=dev).cumsum(0)
    return TorchOperators(spec=spec, **kw)


def collate(samples, device=None, dtype=None) -> dict:
    """Collate dataset samples (dicts) into one batch.

    - ``"ops"``: one :class:`TorchOperators` (:func:`collate_operators`, ``device`` and ``dtype`` apply);
    - numeric arrays (numpy or torch) of per-vertex or per-face values, such as ``labels``: one tensor,
      concatenated along dim 0 in sample order (numpy arrays converted with their dtype; int64 labels stay
      int64), moved to ``device``. Per vertex or per face is decided against each sample's ``ops`` (first dim
      V for every sample, or F for every sample); samples without ``ops`` concatenate any numeric arrays;
    - everything else (names, strings, ``None``, arrays of other lengths such as FAUST's landmark
      correspondences, a mix of per-vertex and per-face arrays): a list, one entry per sample.

    Use ``ops.split(x)`` (vertex values) or ``ops.face_offsets`` (face values) to cut a batch back per mesh.
    """
    import torch

    if not samples:
        raise ValueError("collate: empty list")
    sizes = _mesh_sizes(samples)
    out = {}
    for key in samples[0]:
        vals = [s[key] for s in samples]
        if key == "ops":
            out[key] = collate_operators(vals, device=device, dtype=dtype)
        elif _concatenable(vals, sizes):
            vals = [torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v for v in vals]
            out[key] = torch.cat([v.to(device) if device is not None else v for v in vals], dim=0)
        else:
            out[key] = vals
    return out


def _mesh_sizes(samples):
    """``(V per sample, F per sample)`` from the samples' ``ops`` (None where unknown)."""
    if not all(isinstance(s, dict) and s.get("ops") is not None for s in samples):
        return None
    V = [int(s["ops"].n_verts) for s in samples]
    F = [None if s["ops"].faces is None else int(s["ops"].faces.shape[0]) for s in samples]
    return V, F


def _concatenable(vals, sizes) -> bool:
    """Numeric tensors / numpy arrays whose first dims are the vertex counts, or the face counts, of the
    samples (any first dims when ``sizes`` is None)."""
    import torch

    numeric = all(
        (isinstance(v, torch.Tensor) and v.ndim >= 1)
        or (isinstance(v, np.ndarray) and v.ndim >= 1 and v.dtype.kind in "biuf")
        for v in vals
    )
    if not numeric:
        return False
    if sizes is None:
        return True
    lengths = [int(v.shape[0]) for v in vals]
    return any(lengths == list(n) for n in sizes)


def split(x, ops) -> list:
    """Per-mesh pieces of a batched vertex tensor: ``ops.split(x)``."""
    return ops.split(x)
