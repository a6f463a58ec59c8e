"""``OperatorSpec``: every parameter that decides what an :class:`OperatorBundle` holds.

The spec is frozen and hashable; its canonical JSON (sorted keys, no whitespace) is part of the disk-cache
key, so two bundles built with different parameters can never be confused. ``OPERATOR_VERSION`` names the
operator code: bump it whenever a geometry function that a bundle stores changes its output, and every old
cache entry becomes a miss.

The fields a spec can ask for, the arrays each stores and what each needs are the entries of the field table,
:data:`manifoldnet.operators.fields.FIELD_TABLE` (``FIELDS`` here is its names). ``compute_operators``
computes the dependencies and stores only what was asked.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields

import numpy as np

from .fields import FIELD_TABLE, required_fields

__all__ = ["DIFFUSIONNET_FIELDS", "FIELDS", "GEM_FIELDS", "OPERATOR_VERSION", "OperatorSpec"]

# Bump when any stored operator changes its values (invalidates every cache entry).
OPERATOR_VERSION = "2"  # 2: geodesic patches break radius ties geometrically (label-independent)

FIELDS = tuple(FIELD_TABLE)  # the spec field names, in table order
# What a DiffusionNet-style model needs (spectral diffusion + spatial gradient features), and a GEM-style one.
DIFFUSIONNET_FIELDS = ("mass", "laplacian", "eigenbasis", "gradient", "hks")
GEM_FIELDS = ("mass", "frames", "logmap", "transport", "normals")

_LAPLACIANS = ("cotan", "robust")
_MASSES = ("lumped", "voronoi")
_GAUGES = ("intrinsic", "world", "principal")
_GRADIENTS = ("faces", "lsq")
_DTYPES = ("float32", "float64")
# parameters added after cache entries existed, with their defaults: omitted from the canonical JSON there
_ADDED_LATER = {"patch_rings": None}


def _dtype_name(value):
    """``"float32"`` for ``np.float32``, ``np.dtype("float32")`` or ``torch.float32`` (torch is not imported);
    strings and unrecognised values pass through unchanged (the validation names them)."""
    if isinstance(value, str):
        return value
    if type(value).__module__.split(".")[0] == "torch":
        return str(value).removeprefix("torch.")
    try:
        return np.dtype(value).name
    except TypeError:
        return value


@dataclass(frozen=True)
class OperatorSpec:
    """What to compute and how.

    Parameters
    ----------
    fields : names from ``FIELDS`` (order and repeats do not matter; stored sorted).
    k : number of eigenpairs (used when ``eigenbasis``, ``hks`` or ``wks`` is asked for).
    laplacian : ``"cotan"`` or ``"robust"`` (intrinsic Delaunay + mollification, any triangle soup).
    mass : ``"lumped"`` or ``"voronoi"``. Only diagonal masses: spectral layers need ``M^-1`` and cheap
        projections ``evecs^T (M x)``.
    gauge : vertex frames, ``"intrinsic"`` / ``"world"`` / ``"principal"`` (see ``geometry.frames``).
    gradient : vertex gradient method, ``"faces"`` or ``"lsq"`` (see ``geometry.vertex_gradient``).
    n_hks, n_wks : number of HKS times / WKS energies (default logarithmic choices of
        ``geometry.descriptors``).
    eig_sigma, eig_tol : passed to ``geometry.eigenbasis`` (``None``: its defaults). ``eig_tol`` (required
        relative residual) defaults to 1e-8: well below float32 storage precision (6e-8), and the 1e-10
        default of ``eigenbasis`` made its solver run 10-20x longer, or fail at a residual of 1.1e-10, on rna
        meshes.
    patch_radius, patch_k, patch_rings : passed to ``geometry.geodesic_patches`` as ``radius`` / ``k`` /
        ``rings`` (exactly one when ``patches`` is asked for; ``patch_rings=2``: every vertex within two
        edges).
    n_neighbors : neighbours of the point-cloud Laplacian (point input only).
    dtype : storage dtype of the float arrays (``"float32"`` or ``"float64"``; numpy and torch dtypes are
        accepted and stored as these names, so the cache key is the same); everything is computed in float64.
        ``evals`` is always kept in float64.
    """

    fields: tuple[str, ...] = DIFFUSIONNET_FIELDS
    k: int = 128
    laplacian: str = "cotan"
    mass: str = "lumped"
    gauge: str = "intrinsic"
    gradient: str = "faces"
    n_hks: int = 16
    n_wks: int = 16
    eig_sigma: float | None = None
    eig_tol: float | None = 1e-8
    patch_radius: float | None = None
    patch_k: int | None = None
    patch_rings: int | None = None
    n_neighbors: int = 30
    dtype: str = "float32"

    def __post_init__(self):
        fs = (self.fields,) if isinstance(self.fields, str) else tuple(self.fields)
        bad = [f for f in fs if f not in FIELDS]
        if bad:
            raise ValueError(f"unknown operator field(s) {bad}; choose from {list(FIELDS)}")
        if not fs:
            raise ValueError("OperatorSpec.fields is empty: ask for at least one field")
        object.__setattr__(self, "fields", tuple(sorted(set(fs))))
        object.__setattr__(self, "dtype", _dtype_name(self.dtype))
        for name, value, allowed in (
            ("laplacian", self.laplacian, _LAPLACIANS),
            ("mass", self.mass, _MASSES),
            ("gauge", self.gauge, _GAUGES),
            ("gradient", self.gradient, _GRADIENTS),
            ("dtype", self.dtype, _DTYPES),
        ):
            if value not in allowed:
                raise ValueError(f"OperatorSpec.{name}={value!r} is not one of {list(allowed)}")
        for name in ("k", "n_hks", "n_wks", "n_neighbors"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"OperatorSpec.{name} must be a positive integer, got {v!r}")
        if self.patch_k is not None and (not isinstance(self.patch_k, int) or self.patch_k < 1):
            raise ValueError(f"OperatorSpec.patch_k must be None or a positive integer, got {self.patch_k!r}")
        rings = self.patch_rings
        if rings is not None and (isinstance(rings, bool) or not isinstance(rings, int) or rings < 1):
            raise ValueError(f"OperatorSpec.patch_rings must be None or a positive integer, got {rings!r}")
        for name in ("eig_sigma", "eig_tol", "patch_radius"):
            v = getattr(self, name)
            if v is not None:
                if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                    raise ValueError(f"OperatorSpec.{name} must be None or a finite number, got {v!r}")
                object.__setattr__(self, name, float(v))
        if self.eig_tol is not None and self.eig_tol < 0:
            raise ValueError(f"OperatorSpec.eig_tol must be >= 0, got {self.eig_tol}")
        if self.patch_radius is not None and self.patch_radius <= 0:
            raise ValueError(f"OperatorSpec.patch_radius must be > 0, got {self.patch_radius}")
        if "patches" in fs and sum(v is not None for v in (self.patch_radius, self.patch_k, rings)) != 1:
            raise ValueError("the patches field needs exactly one of patch_radius=, patch_k= or patch_rings=")

    # ---------------------------------------------------------------- helpers
    def needs(self, name: str) -> bool:
        """Whether field ``name`` is stored in the bundle."""
        return name in self.fields

    def computes(self, name: str) -> bool:
        """Whether field ``name`` is computed: asked for, or needed by one asked for (see ``Field.needs``)."""
        return name in required_fields(self.fields)

    @property
    def needs_eigenbasis(self) -> bool:
        """Whether an eigenbasis is computed (stored or not)."""
        return self.computes("eigenbasis")

    @property
    def needs_frames(self) -> bool:
        """Whether vertex frames are computed (stored or not)."""
        return self.computes("frames")

    def replace(self, **changes) -> OperatorSpec:
        d = self.to_dict()
        d.update(changes)
        return OperatorSpec(**d)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["fields"] = list(self.fields)
        return d

    def to_json(self, exclude: tuple[str, ...] = ()) -> str:
        """Canonical JSON (sorted keys, no spaces); ``exclude`` drops parameters (the cache key drops ``k``).
        A parameter of ``_ADDED_LATER`` at its default is left out, so adding a parameter leaves the JSON (and
        cache key) of every spec that does not use it as it was; only a change of stored values invalidates
        entries, through ``OPERATOR_VERSION``."""
        d = {
            k: v
            for k, v in self.to_dict().items()
            if k not in exclude and not (k in _ADDED_LATER and v == _ADDED_LATER[k])
        }
        return json.dumps(d, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> OperatorSpec:
        d = json.loads(text)
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"OperatorSpec JSON has unknown parameters {sorted(unknown)}")
        return cls(**d)

    @classmethod
    def make(cls, spec: OperatorSpec | None = None, **params) -> OperatorSpec:
        """A spec from an optional base spec plus keyword overrides."""
        if spec is None:
            return cls(**params)
        return spec.replace(**params) if params else spec
