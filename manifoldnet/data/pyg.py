"""PyTorch Geometric interop: an operator bundle as a ``torch_geometric.data.Data`` (optional dependency).

``to_pyg(bundle)`` gives ``pos`` (V, 3), ``face`` (3, F) long, ``edge_index`` (2, 2E) long (both directions of
every mesh edge, sorted by (source, target): the bundle's own ``edge_index`` when it holds one, else built
from the faces, identical either way) and every other array the bundle holds under its field-table name
(``mass``, ``evecs``, ``laplacian``, ``logmap_r``, ...; :data:`~manifoldnet.operators.fields.ARRAY_TABLE`).
Sparse operators stay torch sparse CSR tensors; ``evals`` is (1, K). The ``spec`` is kept as ``data.spec``.

The returned object is a :class:`MeshData` (a ``Data`` subclass) whose batching follows the field table, so
``torch_geometric.data.Batch.from_data_list`` / PyG's ``DataLoader`` batch it like
:func:`manifoldnet.data.collate`: index arrays (``edge_index``, ``patch_index``, ``face``) shifted by the
vertex offsets, sparse operators block-diagonal, ``evals`` stacked to (B, K), the rest concatenated.

Install with ``pip install manifoldnet[pyg]`` (``torch_geometric``); without it ``to_pyg`` raises an
ImportError saying so.
"""

from __future__ import annotations

from ..operators.bundle import OperatorBundle
from ..operators.fields import ARRAY_TABLE

__all__ = ["MeshData", "to_pyg"]  # noqa: F822 (MeshData: module __getattr__, built on first use)

_CLASS = None


def _require_pyg():
    try:
        import torch_geometric.data
    except ImportError as exc:
        raise ImportError(
            "manifoldnet.data.to_pyg needs PyTorch Geometric: pip install 'manifoldnet[pyg]' "
            "(or pip install torch_geometric)"
        ) from exc
    return torch_geometric.data


def _mesh_data_class():
    """``MeshData``, built on first use so that importing this module does not need torch_geometric."""
    global _CLASS
    if _CLASS is None:
        Data = _require_pyg().Data

        class MeshData(Data):
            """A ``Data`` whose arrays batch by the field table's rules (module docstring)."""

            def __inc__(self, key, value, *args, **kwargs):
                array = ARRAY_TABLE.get(key)
                if array is not None and array.batch == "index":
                    return self.num_nodes
                if array is not None:
                    return 0
                return super().__inc__(key, value, *args, **kwargs)

            def __cat_dim__(self, key, value, *args, **kwargs):
                array = ARRAY_TABLE.get(key)
                if array is not None and array.batch == "sparse":
                    return (0, 1)  # block-diagonal
                if array is not None and array.batch == "index":
                    return -1
                if array is not None:
                    return 0
                return super().__cat_dim__(key, value, *args, **kwargs)

        MeshData.__module__ = __name__
        MeshData.__qualname__ = "MeshData"
        _CLASS = MeshData
    return _CLASS


def __getattr__(name):  # MeshData on demand (and for pickle in DataLoader workers)
    if name == "MeshData":
        return _mesh_data_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _edges_from_faces(face):
    """(2, 2E) long: both directions of every edge of ``face`` (3, F), unique, sorted by (source, target)."""
    import torch

    e = torch.cat([face[[0, 1]], face[[1, 2]], face[[2, 0]]], dim=1)
    return torch.unique(torch.cat([e, e.flip(0)], dim=1), dim=1)


def to_pyg(bundle, device=None, dtype=None):
    """``bundle`` (an :class:`~manifoldnet.operators.OperatorBundle` of one mesh) as a :class:`MeshData`.

    Parameters
    ----------
    bundle : OperatorBundle (or the :class:`~manifoldnet.operators.TorchOperators` of one mesh).
    device, dtype : as in ``bundle.to(device, dtype)`` (float arrays; ``evals`` stays float64).

    Raises
    ------
    ImportError
        torch_geometric is not installed. ValueError: a bundle of a point cloud (no faces) or a batch.
    """
    cls = _mesh_data_class()
    ops = bundle.to(device=device, dtype=dtype) if isinstance(bundle, OperatorBundle) else bundle
    if getattr(ops, "faces", None) is None:
        raise ValueError("to_pyg needs a bundle built from a triangle mesh (this one has no faces)")
    if getattr(ops, "n_meshes", 1) != 1:
        raise ValueError(f"to_pyg takes the bundle of one mesh, got a batch of {ops.n_meshes}")
    face = ops.faces.T.contiguous()
    kw = {"pos": ops.verts, "face": face}
    for name, array in ARRAY_TABLE.items():
        value = getattr(ops, name, None)
        if value is None or name in ("verts", "faces"):
            continue
        if array.batch == "stack" and value.ndim == 1:
            value = value.unsqueeze(0)
        kw[name] = value
    if "edge_index" not in kw:
        kw["edge_index"] = _edges_from_faces(face)
    data = cls(**kw)
    data.num_nodes = int(ops.verts.shape[0])
    data.spec = ops.spec
    return data
