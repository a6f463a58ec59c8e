"""``TorchOperators``: the torch side of an :class:`OperatorBundle` (one mesh, or a batch of meshes).

Sparse operators are ``torch.sparse_csr`` tensors (CSR x dense is the fast sparse product on CPU and CUDA);
dense fields are tensors with the same names as the bundle's. ``torch`` is imported only here, lazily.

A single mesh is a batch of one: ``offsets = [0, V]``, ``batch = zeros(V)``. :func:`manifoldnet.data.collate`
concatenates meshes of different sizes into one ``TorchOperators``, each array by its batch rule in the field
table (:data:`~manifoldnet.operators.fields.ARRAY_TABLE`): vertex arrays concatenated, sparse operators
block-diagonal, index arrays shifted by the vertex offsets, and the eigenbases concatenated row-wise
(``evecs`` (sum V, K), ``evals`` (B, K)). The class holds data only: the maths on it (gradients, spectral
projections, diffusion, filters) lives in :mod:`manifoldnet.nn.functional`, which keeps each mesh's eigenbasis
to its own rows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields, replace

import numpy as np
import scipy.sparse as sp

from ..errors import MeshError
from .fields import ARRAY_TABLE

__all__ = ["LAYOUT_TENSORS", "TorchOperators", "check_device", "sparse_csr", "to_torch_csr"]

# Attributes of TorchOperators that describe the batch layout; every other one (but spec) is an array of the
# field table, ARRAY_TABLE.
LAYOUT_TENSORS = ("offsets", "batch", "face_offsets")


def _torch():
    import torch

    return torch


def check_device(device):
    """``device`` as a ``torch.device`` (None stays None), or a MeshError in a sentence when it is a CUDA
    device this torch cannot use (torch itself raises a bare
    ``AssertionError: Torch not compiled with CUDA``)."""
    if device is None:
        return None
    torch = _torch()
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise MeshError(f"device {device!r} is not a torch device ({exc})") from None
    if dev.type == "cuda":
        if not torch.backends.cuda.is_built():
            raise MeshError(
                f"device {str(device)!r}: this torch has no CUDA (a CPU build, torch {torch.__version__}): "
                "see the README's GPU section to install a CUDA build, or use device='cpu'"
            )
        if not torch.cuda.is_available():
            raise MeshError(
                f"device {str(device)!r}: this torch has CUDA but sees no GPU (driver or "
                "CUDA_VISIBLE_DEVICES?): "
                "see the README's GPU section, or use device='cpu'"
            )
    return dev


def sparse_csr(crow, col, values, size):
    """A torch sparse CSR tensor of ``size`` from ``crow`` (n + 1,), ``col`` (nnz,), ``values`` (nnz,) (a
    valid, sorted CSR is assumed: invariant checks skipped, torch's beta warning muted)."""
    torch = _torch()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Ss]parse.*")
        return torch.sparse_csr_tensor(crow, col, values, size=size, check_invariants=False)


def to_torch_csr(m, device=None, dtype=None):
    """Any scipy sparse matrix (n, p) -> torch sparse CSR tensor (n, p): int64 indices, values copied in
    ``dtype`` (default: the matrix's), on ``device`` (default CPU). Duplicates are summed, columns sorted."""
    torch = _torch()
    m = sp.csr_matrix(m)
    if not m.has_canonical_format:  # torch wants sorted, distinct columns in each row
        m = m.copy()
        m.sum_duplicates()
    t = sparse_csr(
        torch.tensor(m.indptr, dtype=torch.int64),
        torch.tensor(m.indices, dtype=torch.int64),
        torch.tensor(m.data, dtype=dtype),
        tuple(m.shape),
    )
    return t if device is None else t.to(check_device(device))


@dataclass(frozen=True, eq=False)
class TorchOperators:
    """Torch tensors of one or more meshes (see the module docstring for the batched layout).

    Attributes: the arrays of the field table, as in :class:`OperatorBundle` (tensors or None; ``faces`` (F,
    3) long, shifted by the vertex offsets in a batch), plus the layout
       (``LAYOUT_TENSORS``): ``offsets`` ((B +
    1,) long: mesh b owns rows ``offsets[b]:offsets[b+1]``), ``face_offsets`` ((B + 1,) long), ``batch`` ((V,)
    long: the mesh of each vertex), ``evals`` ((B, K)).
    """

    spec: object
    verts: object
    offsets: object
    batch: object
    face_offsets: object = None
    faces: object = None
    mass: object = None
    laplacian: object = None
    evals: object = None
    evecs: object = None
    hks: object = None
    wks: object = None
    normals: object = None
    frames: object = None
    grad_x: object = None
    grad_y: object = None
    edge_index: object = None
    logmap_r: object = None
    logmap_theta: object = None
    transport_rho: object = None
    patch_index: object = None
    patch_r: object = None
    patch_theta: object = None
    patch_rho: object = None

    # ------------------------------------------------------------ building
    @classmethod
    def from_bundle(cls, bundle, device=None, dtype=None) -> TorchOperators:
        """Tensors of ``bundle`` on ``device`` (default CPU) in ``dtype`` (default: the
        bundle's storage dtype)."""
        torch = _torch()
        if dtype is None:
            dtype = getattr(torch, bundle.spec.dtype)
        device = torch.device("cpu") if device is None else check_device(device)
        kw = {}
        for name, v in bundle.arrays().items():
            kind = ARRAY_TABLE[name].kind
            if kind == "csr":
                kw[name] = to_torch_csr(v, device, dtype)
            elif kind == "int64":
                kw[name] = torch.from_numpy(np.array(v, dtype=np.int64)).to(device)
            else:
                kw[name] = torch.from_numpy(np.array(v)).to(device=device, dtype=dtype)
            if ARRAY_TABLE[name].batch == "stack":  # one row per mesh: (K,) -> (1, K)
                kw[name] = kw[name][None]
        V = bundle.n_verts
        kw["offsets"] = torch.tensor([0, V], dtype=torch.long, device=device)
        kw["batch"] = torch.zeros(V, dtype=torch.long, device=device)
        if bundle.faces is not None:
            kw["face_offsets"] = torch.tensor([0, bundle.faces.shape[0]], dtype=torch.long, device=device)
        return cls(spec=bundle.spec, **kw)

    def to(self, device=None, dtype=None) -> TorchOperators:
        """The same operators on ``device`` and/or with float tensors in ``dtype``
        (index tensors stay long)."""
        torch = _torch()
        device = check_device(device)
        kw = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, torch.Tensor):
                continue
            if v.is_floating_point() or (v.layout == torch.sparse_csr and v.values().is_floating_point()):
                kw[f.name] = v.to(device=device, dtype=dtype) if dtype is not None else v.to(device=device)
            else:
                kw[f.name] = v.to(device=device)
        return replace(self, **kw)

    # ---------------------------------------------------------------- info
    @property
    def n_meshes(self) -> int:
        return int(self.offsets.shape[0]) - 1

    @property
    def n_verts(self) -> int:
        return int(self.verts.shape[0])

    @property
    def sizes(self) -> list[int]:
        """Vertices per mesh."""
        return (self.offsets[1:] - self.offsets[:-1]).tolist()

    @property
    def device(self):
        return self.verts.device

    def __repr__(self) -> str:
        held = [f.name for f in fields(self) if f.name not in ("spec",) and getattr(self, f.name) is not None]
        return f"TorchOperators(B={self.n_meshes}, V={self.n_verts}, fields={held})"

    # ---------------------------------------------------------- operations
    def split(self, x) -> list:
        """Per-mesh pieces of a vertex tensor ``x`` (V, ...) -> list of (V_b, ...)."""
        return list(x.split(self.sizes, dim=0))
