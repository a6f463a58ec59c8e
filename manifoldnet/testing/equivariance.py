"""Gauge-equivariance check for any layer or model that reads a ``TorchOperators``.

A gauge change ``g`` (one angle per vertex) rotates every vertex frame by ``g_i`` about its normal. What it
does to the operator bundle (README conventions):

- ``frames``: ``e1 -> cos g e1 + sin g e2``, ``e2 -> -sin g e1 + cos g e2`` (n unchanged);
- ``grad_x + 1j grad_y`` (a tangent vector in the gauge of each row's vertex): row i times ``exp(-1j g_i)``;
- ``logmap_theta``, ``patch_theta`` of a pair (i, j): ``- g_i`` (wrapped to [0, 2 pi));
- ``transport_rho``, ``patch_rho``: ``- g_i + g_j`` (wrapped to [-pi, pi));
- every other array of the field table is gauge invariant (:data:`GAUGE_INVARIANT`).

:func:`assert_gauge_equivariant` applies it to the operators and to the input, and compares the model's output
with the transformed output. torch is imported inside the functions (``manifoldnet.testing`` stays light).
"""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import scipy.sparse as sp

from ..operators import OperatorBundle, TorchOperators, compute_operators
from ..operators.fields import ARRAY_TABLE
from ..operators.torch_ops import to_torch_csr

__all__ = ["GAUGE_INVARIANT", "GAUGE_RULES", "assert_gauge_equivariant", "gauge_change"]

# How each array of the field table changes under a gauge change; a field missing here is refused, so a new
# gauge-dependent field cannot slip past the check.
GAUGE_RULES = {
    "frames": "rotate",
    "grad_x": "gradient",
    "grad_y": "gradient",
    "logmap_theta": "theta",
    "patch_theta": "theta",
    "transport_rho": "rho",
    "patch_rho": "rho",
}
GAUGE_INVARIANT = frozenset(
    {
        "verts",
        "faces",
        "mass",
        "laplacian",
        "evals",
        "evecs",
        "hks",
        "wks",
        "normals",
        "edge_index",
        "logmap_r",
        "patch_index",
        "patch_r",
    }
)


def _pair_index(ops, name):
    return ops.patch_index if name.startswith("patch") else ops.edge_index


def _rotated_gradient(ops, c, s):
    """``exp(-1j g_i) (grad_x + 1j grad_y)`` row by row, as (grad_x', grad_y') torch CSR tensors."""

    def scipy_csr(A):
        return sp.csr_matrix(
            (A.values().cpu().numpy(), A.col_indices().cpu().numpy(), A.crow_indices().cpu().numpy()),
            shape=tuple(A.shape),
        )

    Gx, Gy = scipy_csr(ops.grad_x), scipy_csr(ops.grad_y)
    C, S = sp.diags(c), sp.diags(s)
    dev, dt = ops.grad_x.device, ops.grad_x.values().dtype
    return to_torch_csr(C @ Gx + S @ Gy, dev, dt), to_torch_csr(C @ Gy - S @ Gx, dev, dt)


def gauge_change(ops, g):
    """The ``TorchOperators`` ``ops`` seen in gauges rotated by ``g`` (V,) (module docstring). ValueError
    for an array whose gauge behaviour is unknown (not in :data:`GAUGE_RULES` or :data:`GAUGE_INVARIANT`)."""
    import torch

    g = torch.as_tensor(g, dtype=torch.float64, device=ops.device)
    if g.shape != (ops.n_verts,):
        raise ValueError(f"gauge_change: g must have shape ({ops.n_verts},), got {tuple(g.shape)}")
    unknown = set(ARRAY_TABLE) - set(GAUGE_RULES) - GAUGE_INVARIANT
    if unknown:
        raise ValueError(f"gauge_change does not know how fields {sorted(unknown)} change with the gauge")
    new = {}
    for name, rule in GAUGE_RULES.items():
        a = getattr(ops, name, None)
        if a is None:
            continue
        if rule == "rotate":
            c, s = torch.cos(g).to(a.dtype)[:, None], torch.sin(g).to(a.dtype)[:, None]
            e1, e2 = a[:, 0], a[:, 1]
            new[name] = torch.stack([c * e1 + s * e2, -s * e1 + c * e2, a[:, 2]], dim=1)
        elif rule == "gradient":
            if name == "grad_x":
                gn = g.cpu().numpy()
                new["grad_x"], new["grad_y"] = _rotated_gradient(ops, np.cos(gn), np.sin(gn))
        else:
            i, j = _pair_index(ops, name)
            if rule == "theta":
                new[name] = torch.remainder(a.double() - g[i], 2 * math.pi).to(a.dtype)
            else:
                new[name] = (torch.remainder(a.double() - g[i] + g[j] + math.pi, 2 * math.pi) - math.pi).to(
                    a.dtype
                )
    return dataclasses.replace(ops, **new)


def _as_ops(model, mesh_or_ops, dtype, device, spec_params):
    """TorchOperators in ``dtype`` on ``device`` from a TorchOperators, an OperatorBundle or a mesh."""
    if isinstance(mesh_or_ops, TorchOperators):
        return mesh_or_ops.to(device, dtype)
    if isinstance(mesh_or_ops, OperatorBundle):
        return TorchOperators.from_bundle(mesh_or_ops, device, dtype)
    fields = tuple(getattr(model, "required_fields", ())) or ("frames",)
    bundle = compute_operators(mesh_or_ops, fields=fields, dtype="float64", **spec_params)
    return TorchOperators.from_bundle(bundle, device, dtype)


def assert_gauge_equivariant(
    model,
    mesh_or_ops,
    in_type,
    out_type,
    x=None,
    g=None,
    tol: float = 1e-10,
    dtype="float64",
    device=None,
    seed: int = 0,
    **spec_params,
) -> float:
    """Check ``model(x, ops)`` commutes with a random gauge change; return the relative error.

    Parameters
    ----------
    model : a module with ``forward(x, ops)`` (copied, put in eval mode and cast to ``dtype``; the original
        is untouched).
    mesh_or_ops : a ``TorchOperators``, an ``OperatorBundle``, or a mesh (``Mesh`` or ``(verts, faces)``),
        whose bundle is computed in float64 with ``model.required_fields`` and ``**spec_params``
        (``patch_k=12``, ...).
    in_type, out_type : :class:`~manifoldnet.nn.field_types.FieldType` (or multiplicities, or an int C for C
        scalars) of the input and of the output. A scalar ``out_type`` means the output must be invariant
        (any number of rows: vertices, faces, meshes); ``out_type=None``: invariant, of any shape (world
        vectors); otherwise the output has one row per vertex.
    x : input (V, in_type.size); default standard normal. g : (V,) angles; default uniform in [0, 2 pi).
    tol : largest accepted ``max |model(x', ops') - out_type.transform(model(x, ops), g)| / max |y|``.
    dtype : ``"float64"`` (default) or ``"float32"``.

    Raises AssertionError (with the error, the tolerance and where it is worst) when the error exceeds
    ``tol``; ValueError for inputs that do not fit.
    """
    import torch

    # lazy: nn needs torch; import manifoldnet.testing stays without it
    from ..nn.field_types import FieldType

    in_type = FieldType([in_type]) if isinstance(in_type, int) else FieldType(in_type)
    if out_type is not None:
        out_type = FieldType([out_type]) if isinstance(out_type, int) else FieldType(out_type)
    tdtype = getattr(torch, str(dtype).replace("torch.", ""))
    ops = _as_ops(model, mesh_or_ops, tdtype, device, spec_params)
    gen = torch.Generator().manual_seed(seed)
    V = ops.n_verts
    if x is None:
        x = torch.randn(V, in_type.size, generator=gen, dtype=torch.float64)
    x = torch.as_tensor(x).to(device=ops.device, dtype=tdtype)
    in_type.check(x, "assert_gauge_equivariant (x)")
    if g is None:
        g = torch.rand(V, generator=gen, dtype=torch.float64) * (2 * math.pi)
    g = torch.as_tensor(g, dtype=torch.float64, device=ops.device)
    model = copy.deepcopy(model).to(device=ops.device, dtype=tdtype).eval()
    with torch.no_grad():
        y = model(x, ops)
        y_changed = model(in_type.transform(x, g.to(tdtype)), gauge_change(ops, g))
    invariant = out_type is None or out_type.is_scalar
    if out_type is not None:
        out_type.check(y, "assert_gauge_equivariant (model output)")
    if not invariant and y.shape[0] != V:
        raise ValueError(
            f"assert_gauge_equivariant: a non-scalar out_type ({out_type}) needs one output row per vertex "
            f"(V={V}), got {tuple(y.shape)}"
        )
    expected = y if invariant else out_type.transform(y, g.to(y.dtype))
    diff = (y_changed.double() - expected.double()).abs()
    scale = float(expected.double().abs().max().clamp(min=torch.finfo(torch.float64).tiny))
    err = float(diff.max()) / scale
    if not err <= tol:
        idx = np.unravel_index(int(diff.argmax()), tuple(diff.shape))
        raise AssertionError(
            f"not gauge equivariant: relative error {err:.3e} > tol {tol:.1e} (max |y| = {scale:.3e}; worst "
            f"at index {tuple(map(int, idx))} of the output {tuple(diff.shape)}, {out_type}; {dtype})"
        )
    return err
