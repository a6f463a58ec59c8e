"""Batching meshes of different sizes without padding.

:func:`collate_operators` concatenates the operators of B meshes into one
:class:`~manifoldnet.operators.TorchOperators`:

- vertex fields (verts, mass, hks, wks, normals, frames, evecs) are concatenated along the vertex axis;
- sparse operators (laplacian, grad_x, grad_y) become block-diagonal sparse CSR, so ``L @ x`` on the batch is
  one sparse product and equals the per-mesh products stacked;
- index fields (faces, edge_index, patch_index) are shifted by each mesh's vertex offset;
- ``offsets`` (B + 1,) marks where each mesh's vertices start, ``batch`` (V,) says which mesh owns a vertex;
- the eigenbases stay per mesh: ``evecs`` is concatenated row-wise ((sum V, K); every mesh must hold the same
  K), ``evals`` is (B, K). Spectral operations (``to_spectral``, ``from_spectral``, ``spectral_heat``) apply
  mesh by mesh on these row blocks, never mixing meshes.

:func:`collate` does the same for dataset samples (dicts with an ``"ops"`` entry and per-vertex tensors), and
``ops.split(y)`` gives per-mesh outputs back.
"""

from __future__ import annotations

from dataclasses import fields

__all__ = ["collate", "collate_operators", "split"]


def _as_torch(item, device, dtype):
    from ..operators.bundle import OperatorBundle

    if isinstance(item, OperatorBundle):
        return item.to(device=device, dtype=dtype)
    if device is not None or dtype is not None:
        return item.to(device=device, dtype=dtype)
    return item


def _block_diag(mats, sizes):
    import torch

    from ..operators.torch_ops import sparse_csr

    crows, cols, vals = [], [], []
    nnz = 0
    off = 0
    for i, (m, n) in enumerate(zip(mats, sizes)):
        crow = m.crow_indices()
        crows.append((crow if i == 0 else crow[1:]) + nnz)
        cols.append(m.col_indices() + off)
        vals.append(m.values())
        nnz += int(crow[-1])
        off += n
    return sparse_csr(torch.cat(crows), torch.cat(cols), torch.cat(vals), (off, off))


def collate_operators(items, device=None, dtype=None):
    """One :class:`TorchOperators` for a list of bundles or ``TorchOperators`` (see the module docstring).

    Raises ValueError if the items were built with different specs (different fields or K).
    """
    import torch

    from ..operators.torch_ops import (
        INDEX_TENSORS,
        PAIR_TENSORS,
        SPARSE_TENSORS,
        VERTEX_TENSORS,
        TorchOperators,
    )

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
    for f in fields(TorchOperators):
        name = f.name
        if name in ("spec", "offsets", "batch", "face_offsets"):
            continue
        vals = [getattr(o, name) for o in ops]
        if all(v is None for v in vals):
            continue
        if any(v is None for v in vals):
            raise ValueError(f"collate_operators: field {name!r} is held by some meshes only")
        if name in SPARSE_TENSORS:
            kw[name] = _block_diag(vals, sizes)
        elif name in VERTEX_TENSORS or name in PAIR_TENSORS or name == "evals":
            kw[name] = torch.cat(vals, dim=0)
        elif name == "faces":
            kw[name] = torch.cat([v + voff[b] for b, v in enumerate(vals)], dim=0)
            kw["face_offsets"] = torch.tensor([0, *[v.shape[0] for v in vals]], device=dev).cumsum(0)
        elif name in INDEX_TENSORS:
            kw[name] = torch.cat([v + voff[b] for b, v in enumerate(vals)], dim=1)
        else:  # pragma: no cover - a new field must be classified above
            raise ValueError(f"collate_operators: no rule for field {name!r}")
    return TorchOperators(spec=spec, **kw)


def collate(samples, device=None, dtype=None) -> dict:
    """Collate dataset samples (dicts): ``"ops"`` via :func:`collate_operators`, tensors concatenated along
    dim 0 (per-vertex or per-face values), everything else gathered in lists."""
    import torch

    if not samples:
        raise ValueError("collate: empty list")
    out = {}
    for key in samples[0]:
        vals = [s[key] for s in samples]
        if key == "ops":
            out[key] = collate_operators(vals, device=device, dtype=dtype)
        elif all(isinstance(v, torch.Tensor) for v in vals):
            out[key] = torch.cat([v.to(device) if device is not None else v for v in vals], dim=0)
        else:
            out[key] = vals
    return out


def split(x, ops) -> list:
    """Per-mesh pieces of a batched vertex tensor: ``ops.split(x)``."""
    return ops.split(x)
