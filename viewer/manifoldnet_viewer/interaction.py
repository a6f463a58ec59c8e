"""The logic behind the interactive widgets, as pure functions testable without a display.

- :class:`ChannelBrowser`: slider value -> channel index -> scalars, colour range and title.
- :func:`pick_info` / :func:`format_pick`: a picked 3D point -> nearest vertex, its position and values.
- :func:`subsample_indices`: which vertices get an arrow on a large mesh (deterministic).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from manifoldnet import Mesh, MeshError

from .colors import is_signed, scalar_range

__all__ = ["ChannelBrowser", "format_pick", "nearest_vertex", "pick_info", "subsample_indices"]


def subsample_indices(
    n: int, max_count: int | None, seed: int = 0, points=None, spacing: float | None = None
) -> np.ndarray:
    """Sorted indices of at most ``max_count`` of ``n`` elements, the same for the same arguments.

    With ``points`` (n, 3) the subset is spread evenly in space by farthest-point sampling from a
    ``seed``-chosen start; with ``spacing`` it also stops once every point lies within ``spacing`` of a
    chosen one, so chosen points are at least ``spacing`` apart (Euclidean) and cover all within
    ``spacing``. Without ``points``: a ``seed``-determined random subset. ``max_count=None`` (or ``>= n``)
    and no ``spacing`` keeps all of them.
    """
    if n < 0:
        raise MeshError(f"subsample_indices: n must be >= 0, got {n}")
    if max_count is not None and max_count < 1:
        raise MeshError(f"max_arrows must be >= 1, got {max_count}")
    if spacing is not None and not (np.isfinite(spacing) and spacing >= 0):
        raise MeshError(f"arrow spacing must be a finite number >= 0, got {spacing!r}")
    limit = n if max_count is None else min(int(max_count), n)
    if n == 0 or (limit == n and not spacing):
        return np.arange(n)
    if points is None:
        rng = np.random.default_rng(seed)
        return np.sort(rng.choice(n, size=limit, replace=False))
    p = np.asarray(points, dtype=np.float64)
    if p.shape != (n, 3):
        raise MeshError(f"points must have shape ({n}, 3), got {p.shape}")
    # farthest-point sampling: one vectorized distance update per chosen point (k <= a few thousand)
    stop = float(spacing) ** 2 if spacing else -1.0
    chosen = np.empty(limit, dtype=np.int64)
    chosen[0] = int(np.random.default_rng(seed).integers(n))
    dist = np.full(n, np.inf)
    k = 1
    while k < limit:
        np.minimum(dist, ((p - p[chosen[k - 1]]) ** 2).sum(axis=1), out=dist)
        far = int(np.argmax(dist))
        if dist[far] < stop:
            break
        chosen[k] = far
        k += 1
    return np.sort(chosen[:k])


@dataclass
class ChannelBrowser:
    """Browse the channels of a multi-channel array (eigenfunctions, HKS scales, network features).

    values : (N, C) per-vertex or per-face channels. ``names`` : C titles (default ``"channel i"``).
    ``ids`` : the number the slider shows for each channel, C consecutive integers (default 0..C-1;
    ``eig:1-8`` gives 1..8), so the slider's value and the title agree: a title that does not already
    end with its channel's id gets it appended (``"x (0)"``).
    ``shared_range`` : one colour range over all channels (compare magnitudes) instead of one per
    channel (see each channel's pattern). ``signed`` : colour ranges symmetric about 0 (for a diverging
    colour map); default: when the values take both signs (:func:`~manifoldnet_viewer.colors.is_signed`).
    ``fixed_range`` : one ``(lo, hi)`` for every channel (a user's ``clim``), overriding the above.
    """

    values: np.ndarray
    names: tuple[str, ...] | None = None
    shared_range: bool = False
    ids: tuple[int, ...] | None = None
    signed: bool | None = None
    fixed_range: tuple[float, float] | None = None

    def __post_init__(self):
        v = np.asarray(self.values, dtype=np.float64)
        if v.ndim == 1:
            v = v[:, None]
        if v.ndim != 2 or v.shape[1] == 0:
            raise MeshError(f"channels must be an (N, C) array with C >= 1, got shape {v.shape}")
        self.values = v
        c = v.shape[1]
        ids = np.arange(c) if self.ids is None else np.asarray(self.ids)
        if ids.shape != (c,) or ids.dtype.kind not in "iu" or np.any(np.diff(ids) != 1):
            raise MeshError(
                f"channel ids must be {c} consecutive integers, got {np.asarray(self.ids).tolist()}"
            )
        self.ids = tuple(int(i) for i in ids)
        if self.names is None:
            self.names = tuple(f"channel {i}" for i in self.ids)
        elif len(self.names) != c:
            raise MeshError(f"{len(self.names)} channel names for {c} channels")
        if self.signed is None:
            self.signed = is_signed(v)
        if self.fixed_range is not None:
            self._shared = scalar_range(v, self.fixed_range)
        else:
            self._shared = self._range(v) if self.shared_range else None

    def _range(self, v: np.ndarray) -> tuple[float, float]:
        lo, hi = scalar_range(v)
        if self.signed:
            m = max(abs(lo), abs(hi))
            return -m, m
        return lo, hi

    @property
    def n_channels(self) -> int:
        return self.values.shape[1]

    @property
    def slider_range(self) -> tuple[int, int]:
        """The slider's ``(first, last)`` value: the first and last channel id."""
        return self.ids[0], self.ids[-1]

    def index(self, slider_value: float) -> int:
        """The channel a slider position selects: rounded to the nearest id, clamped to the ids."""
        x = float(slider_value)
        if not np.isfinite(x):
            raise MeshError(f"slider value must be finite, got {slider_value!r}")
        return int(min(max(int(np.floor(x + 0.5)) - self.ids[0], 0), self.n_channels - 1))

    def scalars(self, slider_value: float) -> np.ndarray:
        """(N,) values of the selected channel."""
        return self.values[:, self.index(slider_value)]

    def clim(self, slider_value: float) -> tuple[float, float]:
        """Colour range for the selected channel (``fixed_range``, or shared over channels when
        ``shared_range``; symmetric about 0 when ``signed``)."""
        if self._shared is not None:
            return self._shared
        return self._range(self.scalars(slider_value))

    def title(self, slider_value: float) -> str:
        """The selected channel's name, ending with its id (the number the slider shows)."""
        i = self.index(slider_value)
        name, cid = self.names[i], self.ids[i]
        return name if re.search(rf"(?:^|\s){cid}$", name) else f"{name} ({cid})"


def nearest_vertex(verts: np.ndarray, point) -> int:
    """Index of the vertex closest (Euclidean) to ``point`` (3,)."""
    p = np.asarray(point, dtype=np.float64).reshape(-1)
    if p.shape != (3,) or not np.all(np.isfinite(p)):
        raise MeshError(f"picked point must be 3 finite coordinates, got {point!r}")
    return int(np.argmin(((np.asarray(verts) - p) ** 2).sum(axis=1)))


def pick_info(mesh: Mesh, point=None, *, vertex: int | None = None, arrays: dict | None = None) -> dict:
    """What the viewer shows for a pick: the nearest vertex to ``point`` (or ``vertex`` given directly),
    its position and the value of each per-vertex array in ``arrays`` (name -> (V,) or (V, C))."""
    if vertex is None:
        if point is None:
            raise MeshError("pick_info needs a point or a vertex index")
        vertex = nearest_vertex(mesh.verts, point)
    vertex = int(vertex)
    if not 0 <= vertex < mesh.n_verts:
        raise MeshError(f"picked vertex {vertex} out of range for {mesh.n_verts} vertices")
    values = {}
    for name, arr in (arrays or {}).items():
        a = np.asarray(arr)
        if a.shape[0] != mesh.n_verts:
            continue  # per-face arrays have no single value at a vertex
        values[name] = a[vertex].tolist() if a.ndim > 1 else a[vertex].item()
    return {"vertex": vertex, "position": mesh.verts[vertex].tolist(), "values": values}


def format_pick(info: dict, max_channels: int = 4) -> str:
    """One short text block for :func:`pick_info`'s result (long vectors are cut to ``max_channels``)."""
    x, y, z = info["position"]
    lines = [f"vertex {info['vertex']}  ({x:.4g}, {y:.4g}, {z:.4g})"]
    for name, val in info["values"].items():
        if isinstance(val, list):
            shown = ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in val[:max_channels])
            more = f", ... ({len(val)})" if len(val) > max_channels else ""
            lines.append(f"{name}: [{shown}{more}]")
        elif isinstance(val, float):
            lines.append(f"{name}: {val:.6g}")
        else:
            lines.append(f"{name}: {val}")
    return "\n".join(lines)
