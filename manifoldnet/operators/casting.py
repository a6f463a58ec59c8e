"""Casting computed float64 fields to a bundle's storage dtype, checked, and HKS/WKS from an eigenbasis.

Shared by :func:`~manifoldnet.operators.compute.compute_operators` and :meth:`OperatorBundle.truncate
<manifoldnet.operators.bundle.OperatorBundle.truncate>`, below both. A cast never passes quietly: a finite
value that would become ``inf``, or a non-zero array that would become entirely zero or denormal, raises
:class:`MeshError` naming the field and the mesh's scale (``compute`` module docstring).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import MeshError
from ..geometry.descriptors import heat_kernel_signature, wave_kernel_signature
from .spec import OperatorSpec

__all__ = ["descriptors_from_eigenbasis"]


def _check_cast(src: np.ndarray, out: np.ndarray, name: str, scale) -> None:
    """Refuse a cast that made finite numbers infinite, or a non-zero array entirely zero or denormal."""
    if out.dtype == src.dtype or out.size == 0:
        return
    tiny = np.finfo(out.dtype).tiny
    if not np.isfinite(out).all():
        bad = np.isfinite(src) & ~np.isfinite(out)
        if bad.any():
            big = float(np.abs(src[bad]).max())
            problem = f"overflows {out.dtype} (values up to {big:.3g})"
        else:
            return
    else:
        top = float(np.abs(out).max())
        if top >= tiny or not np.any(src):
            return
        problem = f"underflows {out.dtype} (values at most {float(np.abs(src).max()):.3g})"
    where = scale() if callable(scale) else scale
    at = f" at this mesh scale ({where})" if where else " at this mesh scale"
    raise MeshError(f"{name} {problem}{at}: store float64 (dtype='float64') or rescale the mesh")


def _cast(a, dtype, name: str = "array", scale=None):
    """``a`` as ``dtype`` (sparse: CSR with sorted indices); floats are checked (:func:`_check_cast`).

    ``name`` and ``scale`` (a string or a callable returning one) go into the MeshError.
    """
    if a is None:
        return None
    if sp.issparse(a):  # index arrays keep scipy's choice (int32 below 2^31 entries: half the bytes on disk)
        a = sp.csr_matrix(a)
        a.sort_indices()
        with np.errstate(over="ignore", under="ignore"):
            data = a.data.astype(dtype)
        _check_cast(a.data, data, name, scale)
        return sp.csr_matrix((data, a.indices, a.indptr), shape=a.shape)
    a = np.asarray(a)
    if a.dtype.kind == "f":
        with np.errstate(over="ignore", under="ignore"):
            out = np.ascontiguousarray(a, dtype=dtype)
        _check_cast(a, out, name, scale)
        return out
    if a.dtype.kind in "iu":
        return np.ascontiguousarray(a, dtype=np.int64)
    return a


def descriptors_from_eigenbasis(spec: OperatorSpec, evals, evecs, scale=None):
    """(hks, wks) as asked for by ``spec`` (None where not asked), cast to ``spec.dtype``.

    Raises :class:`MeshError` when they do not fit ``spec.dtype`` (``scale`` describes the mesh there).
    """
    if not (spec.needs("hks") or spec.needs("wks")):
        return None, None
    ev = np.asarray(evals, dtype=np.float64)
    phi = np.asarray(evecs, dtype=np.float64)
    hks = heat_kernel_signature(ev, phi, n_times=spec.n_hks) if spec.needs("hks") else None
    wks = wave_kernel_signature(ev, phi, n_energies=spec.n_wks) if spec.needs("wks") else None
    return _cast(hks, spec.dtype, "hks", scale), _cast(wks, spec.dtype, "wks", scale)
