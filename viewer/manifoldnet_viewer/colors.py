"""Colours as plain arrays (no rendering): categorical palettes, label colours, xyz colours, scalar ranges.

Everything here is deterministic and returns float RGB in ``[0, 1]`` unless said otherwise, so the same
labels get the same colours in every picture, on screen and offscreen.
"""

from __future__ import annotations

import colorsys

import numpy as np

from manifoldnet import MeshError

from ._checks import as_integers

__all__ = [
    "IGNORE_COLOR",
    "DIVERGING_CMAP",
    "categorical_colors",
    "colour_scale",
    "is_signed",
    "label_colors",
    "scalar_range",
    "vertex_to_face_labels",
    "xyz_colors",
]

# Colour map of signed fields (eigenfunctions, curvature): blue < 0 < red, white at 0.
DIVERGING_CMAP = "RdBu_r"

# Grey for "no label" (negative label ids, unmapped vertices).
IGNORE_COLOR = np.array([0.62, 0.62, 0.62])

# 20 hand-picked, well-separated colours (Kelly / Glasbey style) used first.
_BASE = (
    np.array(
        [
            [230, 25, 75],
            [60, 180, 75],
            [0, 130, 200],
            [245, 130, 48],
            [145, 30, 180],
            [70, 240, 240],
            [240, 50, 230],
            [210, 245, 60],
            [250, 190, 190],
            [0, 128, 128],
            [170, 110, 40],
            [255, 225, 25],
            [128, 0, 0],
            [170, 255, 195],
            [128, 128, 0],
            [0, 0, 128],
            [230, 190, 255],
            [255, 215, 180],
            [40, 40, 40],
            [100, 150, 255],
        ],
        dtype=np.float64,
    )
    / 255.0
)


def categorical_colors(n: int) -> np.ndarray:
    """``n`` distinct colours, ``(n, 3)`` float in [0, 1].

    The first 20 are a fixed hand-picked palette; beyond that hues step by the golden angle with three
    alternating saturation/value tiers, so neighbouring class ids never get similar colours and any
    count (RNA's 260 classes) works. Deterministic.
    """
    n = int(n)
    if n < 0:
        raise MeshError(f"categorical_colors: number of colours must be >= 0, got {n}")
    if n <= len(_BASE):
        return _BASE[:n].copy()
    k = np.arange(n - len(_BASE))
    hue = (0.11 + k * 0.6180339887498949) % 1.0
    tier = k % 3
    sat = np.array([0.85, 0.55, 0.95])[tier]
    val = np.array([0.95, 0.80, 0.60])[tier]
    extra = np.array([colorsys.hsv_to_rgb(h, s, v) for h, s, v in zip(hue, sat, val, strict=True)])
    return np.vstack([_BASE, extra])


def label_colors(labels, n_classes: int | None = None, palette: np.ndarray | None = None) -> np.ndarray:
    """Per-element colours of integer ``labels`` ``(N,)``: ``(N, 3)`` float; negative
    ids get ``IGNORE_COLOR``.

    ``n_classes`` (default ``max(labels) + 1``) fixes the palette so that two pictures with different
    subsets of classes colour the same class the same way.
    """
    lab = np.asarray(labels)
    if lab.ndim != 1:
        raise MeshError(f"labels must be a 1-D integer array, got shape {lab.shape}")
    lab = as_integers(lab, "labels")
    top = int(lab.max()) + 1 if lab.size else 0
    n = top if n_classes is None else int(n_classes)
    if top > n:
        i = int(np.argmax(lab))
        raise MeshError(f"label {lab[i]} at element {i} is out of range for n_classes={n}")
    pal = categorical_colors(max(n, 1)) if palette is None else np.asarray(palette, dtype=np.float64)
    out = np.tile(IGNORE_COLOR, (lab.size, 1))
    ok = lab >= 0
    out[ok] = pal[lab[ok]]
    return out


def vertex_to_face_labels(faces, labels) -> np.ndarray:
    """Per-face labels ``(F,)`` from per-vertex ``labels`` ``(V,)``: the label of at least two corners,
    else the first corner's (so a face shows one class instead of a blend of three)."""
    lab = as_integers(labels, "labels")
    a, b, c = lab[np.asarray(faces)].T
    return np.where((a == b) | (a == c), a, np.where(b == c, b, a))


def xyz_colors(verts) -> np.ndarray:
    """Colour = position normalized to the bounding box, ``(V, 3)`` float in [0, 1] (a
    flat axis gives 0.5)."""
    v = np.asarray(verts, dtype=np.float64)
    lo, hi = v.min(axis=0), v.max(axis=0)
    span = hi - lo
    out = np.full_like(v, 0.5)
    ok = span > 0
    out[:, ok] = (v[:, ok] - lo[ok]) / span[ok]
    return out


def scalar_range(values, clim=None, percentile: float | None = None) -> tuple[float, float]:
    """The colour range of ``values`` ignoring NaN: ``clim`` if given, else min/max (or the
    ``percentile`` / ``100 - percentile`` percentiles). All-NaN gives (0, 1); a constant ``c`` gives
    ``(c - 0.5, c + 0.5)`` so that a colour bar can still be drawn."""
    if clim is not None:
        lo, hi = (float(c) for c in clim)
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi:
            raise MeshError(f"clim must be two finite numbers lo <= hi, got {clim!r}")
        return lo, hi
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.0, 1.0
    if percentile is None:
        lo, hi = float(v.min()), float(v.max())
    else:
        lo, hi = (float(x) for x in np.percentile(v, [percentile, 100.0 - percentile]))
    if hi <= lo:
        return lo - 0.5, hi + 0.5
    return lo, hi


def is_signed(values, rel_tol: float = 1e-6) -> bool:
    """True when ``values`` (NaN ignored) take both signs, each beyond ``rel_tol`` times the largest
    magnitude (round-off such as -1e-17 next to 1.0 does not make a field signed)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return False
    tol = rel_tol * float(np.abs(v).max())
    return bool(v.min() < -tol and v.max() > tol)


def colour_scale(
    values, cmap=None, clim=None, percentile: float | None = None, default_cmap: str = "viridis"
) -> tuple[str, tuple[float, float]]:
    """``(cmap, (lo, hi))`` for drawing ``values``.

    A signed field (:func:`is_signed`) gets :data:`DIVERGING_CMAP` centred at zero: ``clim = (-m, m)``
    with ``m`` the largest magnitude (or its ``100 - percentile`` percentile), so white means 0. Any
    other field gets ``default_cmap`` and :func:`scalar_range`. A ``cmap`` or ``clim`` given by the user
    turns the automatic choice off: what they set is used as is (the other from :func:`scalar_range` /
    ``default_cmap``).
    """
    if cmap is None and clim is None and is_signed(values):
        v = np.abs(np.asarray(values, dtype=np.float64).ravel())
        v = v[np.isfinite(v)]
        m = float(v.max() if percentile is None else np.percentile(v, 100.0 - percentile))
        m = m if m > 0 else float(v.max())
        return DIVERGING_CMAP, (-m, m)
    return cmap or default_cmap, scalar_range(values, clim, percentile)
