"""A generated benchmark with exact ground truth: shape families, near-isometric poses,
different triangulations.

Every surface is the image of a parameter domain (the unit sphere, or the flat torus ``[0, 1)^2``), so every
vertex knows its parameter coordinates ``params``; part labels are a function of the parameters, and the
correspondence to the family's template maps a vertex to the template vertex nearest to it on the family's
rest shape (both exact by construction: tested against the parametrization).

Families (``FAMILIES``):

- ``"body"``: a surface of revolution (head, neck, torso, tapered tail) around a spine; the sphere is mapped
  to it conformally (Mercator coordinate along the meridian), so sphere-Delaunay triangles stay well shaped.
  Poses bend the spine at two joints (the tube stays close to isometric: radius x curvature is small).
  5 parts along the spine.
- ``"star"``: a sphere with five limbs of different lengths (radial bumps); poses curl each limb about its
  base. 6 parts (body + one per limb).
- ``"blob"``: an ellipsoid-like body with six bumps of different sizes; poses twist it about a tilted axis.
  6 parts (the Voronoi regions of the bump directions on the parameter sphere).
- ``"torus"``: a ring whose thickness varies asymmetrically around it; poses are out-of-plane waves of the
  core circle. Triangulations are jittered grids of different resolutions. 4 parts around the ring.

Triangulations differ from mesh to mesh: points are sampled area-uniformly on the rest shape, thinned by
farthest-point sampling to a random count, and triangulated in the parameter domain (convex hull of the
unit-sphere parameters, i.e. spherical Delaunay). Everything is deterministic from the seed.

Conventions
-----------
``params`` : (V, 3) unit vectors (sphere families) or (V, 2) in ``[0, 1)`` (torus: ``u`` around the ring,
``v`` around the tube). Faces are oriented with outward normals. ``labels`` : (V,) int64 part ids in
``[0, n_parts)`` of the family; ``global_labels`` adds the family's offset (``LABEL_OFFSETS``), so all
families share one label space of ``N_CLASSES`` parts. ``corres`` : (V,) int64 template vertex ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import MeshError
from ..io import save_mesh
from ..mesh import Mesh
from ..shapes import _grid_faces

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

__all__ = [
    "FAMILIES",
    "LABEL_OFFSETS",
    "N_CLASSES",
    "GeneratedBenchmark",
    "GeneratedShape",
    "embed",
    "family_template",
    "generate_shape",
    "generated_benchmark",
    "part_labels",
    "rest_pose",
    "write_benchmark",
]

FAMILIES = {"body": 5, "star": 6, "blob": 6, "torus": 4}  # family -> number of parts
LABEL_OFFSETS = dict(zip(FAMILIES, np.cumsum([0, *FAMILIES.values()])[:-1].tolist(), strict=True))
N_CLASSES = int(sum(FAMILIES.values()))
TEMPLATE_VERTS = 1000


# ------------------------------------------------------------------------------------------------ body
_BODY_LEN = 4.0
_BODY_JOINTS = np.array([1.4, 2.75])  # spine positions of the two bends
_BODY_PART_EDGES = np.array([0.9, 1.9, 2.75, 3.3])  # spine positions separating the 5 parts (tail .. head)


def _body_radius(a: np.ndarray) -> np.ndarray:
    """Radius of the body at spine position ``a`` in [0, _BODY_LEN]: tapered tail, torso, neck, head."""
    x = np.clip(a / _BODY_LEN, 0.0, 1.0)
    envelope = np.sqrt(np.clip(1.0 - (2.0 * x - 1.0) ** 8, 0.0, None))  # round caps at both tips
    m = 0.22 + 0.16 * x + 0.1 * np.exp(-(((a - 3.55) / 0.3) ** 2)) - 0.08 * np.exp(-(((a - 3.1) / 0.18) ** 2))
    return m * envelope


@lru_cache(maxsize=1)
def _body_table():
    """Meridian tables: Mercator coordinate psi (increasing) -> spine position a, radius r."""
    a = np.linspace(0.0, _BODY_LEN, 20001)
    r = _body_radius(a)
    ds = np.hypot(np.diff(a), np.diff(r))
    rm = 0.5 * (r[1:] + r[:-1])
    inner = slice(1, -1)
    psi = np.concatenate([[0.0], np.cumsum(ds / np.maximum(rm, 1e-12))])
    # centre psi so that theta = pi/2 falls where half of the area lies
    area = np.concatenate([[0.0], np.cumsum(ds * rm)])
    psi = psi - np.interp(0.5 * area[-1], area, psi)
    return psi[inner], a[inner], r[inner]


def _body_rest(u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sphere params -> (spine position a, radius r, angle phi) of the conformal map onto the body."""
    psi_t, a_t, r_t = _body_table()
    theta = np.arccos(np.clip(u[:, 2], -1.0, 1.0))  # 0 at the head pole
    psi = -np.log(np.tan(np.clip(theta, 1e-12, np.pi - 1e-12) / 2.0))  # head (theta=0) -> +inf
    a = np.interp(psi, psi_t, a_t, left=0.0, right=_BODY_LEN)
    r = np.interp(psi, psi_t, r_t, left=0.0, right=0.0)
    return a, r, np.arctan2(u[:, 1], u[:, 0])


def _body_embed(u: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """pose = (bend1, bend2, plane angle): bends (radians) at the two joints, in a plane about the spine."""
    a, r, phi = _body_rest(u)
    grid = np.linspace(0.0, _BODY_LEN, 4001)
    w = 0.6  # half-width of each bend (spine length over which it happens)
    alpha = sum(
        b * np.clip((grid - j + w) / (2 * w), 0.0, 1.0) for b, j in zip(pose[:2], _BODY_JOINTS, strict=True)
    )
    alpha = alpha - np.interp(_BODY_LEN / 2, grid, alpha)
    t = np.stack([np.sin(alpha), np.zeros_like(alpha), np.cos(alpha)], 1)  # spine tangent in the x-z plane
    spine = np.concatenate([[[0.0, 0.0, 0.0]], np.cumsum(0.5 * (t[1:] + t[:-1]) * np.diff(grid)[:, None], 0)])
    c = np.stack([np.interp(a, grid, spine[:, i]) for i in range(3)], 1)
    al = np.interp(a, grid, alpha)
    n = np.stack([np.cos(al), np.zeros_like(al), -np.sin(al)], 1)
    r = r * (1.0 + 0.12 * np.cos(phi) + 0.06 * np.sin(2 * phi))  # no rotational or mirror symmetry
    ang = phi - pose[2]  # bend plane rotated by pose[2] about the spine
    p = c + r[:, None] * (np.cos(ang)[:, None] * n + np.sin(ang)[:, None] * np.array([0.0, 1.0, 0.0]))
    cz, sz = np.cos(pose[2]), np.sin(pose[2])
    rot = np.array([[cz, -sz, 0.0], [sz, cz, 0.0], [0.0, 0.0, 1.0]])
    return (p - np.array([0.0, 0.0, _BODY_LEN / 2])) @ rot.T


def _body_labels(u: np.ndarray) -> np.ndarray:
    a, _, _ = _body_rest(u)
    return np.searchsorted(_BODY_PART_EDGES, a, side="right").astype(np.int64)


# ------------------------------------------------------------------------------------------------ star
def _unit(v):
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


_STAR_DIRS = _unit(
    [[1.0, 0.1, -0.3], [-0.4, 1.0, -0.35], [-0.9, -0.5, -0.25], [0.3, -1.0, -0.3], [0.1, 0.15, 1.0]]
)
_STAR_LEN = np.array([1.0, 0.8, 1.2, 0.65, 0.55])
_STAR_WIDTH = np.array([0.42, 0.38, 0.45, 0.36, 0.5])  # angular half-width of each limb (radians)
_STAR_AXES = _unit(np.cross(_STAR_DIRS, [[0.0, 0.0, 1.0]] * 4 + [[1.0, 0.0, 0.0]]))


def _star_angles(u: np.ndarray) -> np.ndarray:
    return np.arccos(np.clip(u @ _STAR_DIRS.T, -1.0, 1.0))  # (V, 5)


def _star_embed(u: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """pose = 5 curl angles (radians), one per limb, about an axis at the limb's base."""
    g = _star_angles(u) / _STAR_WIDTH
    bump = np.where(g < 1.0, (1.0 - np.minimum(g, 1.0) ** 2) ** 2, 0.0)
    radius = 1.0 + bump @ _STAR_LEN
    p = u * radius[:, None]
    for i in range(len(_STAR_LEN)):  # five limbs: a loop over limbs, vectorized over vertices
        d, ax = _STAR_DIRS[i], _STAR_AXES[i]
        h = np.clip((p @ d - 0.95) / _STAR_LEN[i], 0.0, 1.0) * (g[:, i] < 1.0)
        ang = pose[i] * h  # the limb curls progressively towards its tip
        q = p - d * 0.95
        c, s = np.cos(ang)[:, None], np.sin(ang)[:, None]
        q = q * c + np.cross(ax, q) * s + ax * (q @ ax)[:, None] * (1 - c)  # Rodrigues
        p = q + d * 0.95
    return p


def _star_labels(u: np.ndarray) -> np.ndarray:
    g = _star_angles(u) / _STAR_WIDTH
    inside = g < 0.75
    return np.where(inside.any(1), np.argmin(g, 1) + 1, 0).astype(np.int64)


# ------------------------------------------------------------------------------------------------ blob
_BLOB_DIRS = _unit(
    [
        [1.0, 0.2, 0.1],
        [-0.3, 1.0, 0.2],
        [-1.0, -0.4, 0.3],
        [0.2, -1.0, -0.2],
        [0.3, 0.3, 1.0],
        [-0.2, 0.1, -1.0],
    ]
)
_BLOB_AMP = np.array([0.45, 0.3, 0.25, 0.38, 0.2, 0.33])
_BLOB_WIDTH = np.array([0.55, 0.45, 0.6, 0.5, 0.4, 0.65])


def _blob_embed(u: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """pose = (twist, lean): a twist about z (radians per unit height) and a rotation of the twist axis."""
    ang = np.arccos(np.clip(u @ _BLOB_DIRS.T, -1.0, 1.0))
    radius = 1.0 + np.exp(-((ang / _BLOB_WIDTH) ** 2)) @ _BLOB_AMP
    p = u * radius[:, None] * np.array([1.0, 0.85, 1.15])
    c, s = np.cos(pose[1]), np.sin(pose[1])
    tilt = np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    q = p @ tilt  # twist about the tilted axis tilt^T z
    t = pose[0] * q[:, 2]
    ct, st = np.cos(t), np.sin(t)
    q = np.stack([ct * q[:, 0] - st * q[:, 1], st * q[:, 0] + ct * q[:, 1], q[:, 2]], 1)
    return q @ tilt.T


def _blob_labels(u: np.ndarray) -> np.ndarray:
    return np.argmax(u @ _BLOB_DIRS.T, axis=1).astype(np.int64)


# ----------------------------------------------------------------------------------------------- torus
def _torus_embed(uv: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """pose = (amplitude, frequency 2 or 3, phase): out-of-plane wave z = A sin(2 pi m u + phase)."""
    u, v = 2 * np.pi * uv[:, 0], 2 * np.pi * uv[:, 1]
    r = (0.3 + 0.08 * np.cos(u) + 0.05 * np.sin(2 * u)) * (1.0 + 0.1 * np.cos(v) + 0.06 * np.sin(2 * v))
    core = np.stack([np.cos(u), np.sin(u), pose[0] * np.sin(pose[1] * u + pose[2])], 1)
    n = np.stack([np.cos(u), np.sin(u), np.zeros_like(u)], 1)
    b = np.array([0.0, 0.0, 1.0])
    return core + r[:, None] * (np.cos(v)[:, None] * n + np.sin(v)[:, None] * b)


def _torus_labels(uv: np.ndarray) -> np.ndarray:
    return np.minimum((uv[:, 0] * 4).astype(np.int64), 3)


# -------------------------------------------------------------------------------------------- dispatch
_EMBED = {"body": _body_embed, "star": _star_embed, "blob": _blob_embed, "torus": _torus_embed}
_LABELS = {"body": _body_labels, "star": _star_labels, "blob": _blob_labels, "torus": _torus_labels}
_REST = {"body": np.zeros(3), "star": np.zeros(5), "blob": np.zeros(2), "torus": np.array([0.0, 2.0, 0.0])}


def _check_family(family: str) -> None:
    if family not in FAMILIES:
        raise MeshError(f"unknown generated family {family!r}; choose from {list(FAMILIES)}")


def rest_pose(family: str) -> np.ndarray:
    _check_family(family)
    return _REST[family].copy()


def embed(family: str, params: np.ndarray, pose: np.ndarray | None = None) -> np.ndarray:
    """(V, 3) positions of parameter points ``params`` in ``pose`` (default: the rest pose)."""
    _check_family(family)
    return _EMBED[family](np.asarray(params, dtype=np.float64), rest_pose(family) if pose is None else pose)


def part_labels(family: str, params: np.ndarray) -> np.ndarray:
    """(V,) int64 part ids in ``[0, FAMILIES[family])``, a function of the parameters only."""
    _check_family(family)
    return _LABELS[family](np.asarray(params, dtype=np.float64))


def random_pose(family: str, rng: np.random.Generator) -> np.ndarray:
    _check_family(family)
    if family == "body":
        return np.array([rng.uniform(-0.6, 0.6), rng.uniform(-0.5, 0.5), rng.uniform(-np.pi, np.pi)])
    if family == "star":  # curl angles scaled by limb length: strain stays below ~20%
        return rng.uniform(-0.6, 0.6, 5) * _STAR_LEN / _STAR_LEN.max()
    if family == "blob":
        return np.array([rng.uniform(-0.3, 0.3), rng.uniform(-0.5, 0.5)])
    return np.array([rng.uniform(0.0, 0.15), float(rng.integers(2, 4)), rng.uniform(0, 2 * np.pi)])


# -------------------------------------------------------------------------------------- triangulation
def _surface_jacobian(family: str, u: np.ndarray) -> np.ndarray:
    """Area stretch of the rest embedding at sphere points ``u`` (finite differences in the tangent plane)."""
    e = np.where(np.abs(u[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
    t1 = _unit(np.cross(u, e))
    t2 = np.cross(u, t1)
    h = 1e-4
    p0 = embed(family, u)
    d1 = (embed(family, _unit(u + h * t1)) - p0) / h
    d2 = (embed(family, _unit(u + h * t2)) - p0) / h
    return np.linalg.norm(np.cross(d1, d2), axis=1)


def _farthest_points(points: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` points chosen by farthest-point sampling from a random start."""
    chosen = np.empty(n, dtype=np.int64)
    chosen[0] = rng.integers(points.shape[0])
    x, y, z = (np.ascontiguousarray(points[:, i]) for i in range(3))
    dist = np.full(points.shape[0], np.inf)
    d, t = np.empty_like(dist), np.empty_like(dist)
    for i in range(n):  # n sequential steps of a vectorized update: FPS is inherently sequential
        if i:
            chosen[i] = int(np.argmax(dist))
        c = chosen[i]
        np.subtract(x, x[c], out=d)
        np.multiply(d, d, out=d)
        np.subtract(y, y[c], out=t)
        d += t * t
        np.subtract(z, z[c], out=t)
        d += t * t
        np.minimum(dist, d, out=dist)
    return chosen


def _sphere_params(family: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sphere params evenly spread on the rest shape, and their spherical Delaunay faces (outward)."""
    m = 4 * n
    if family == "body":  # area-uniform on the rest body directly: spine position by inverse CDF of r ds
        psi_t, a_t, r_t = _body_table()
        area = np.concatenate([[0.0], np.cumsum(0.5 * (r_t[1:] + r_t[:-1]) * np.diff(a_t))])
        psi = np.interp(rng.uniform(0, area[-1], m), area, psi_t)
        theta = 2.0 * np.arctan(np.exp(-psi))
        phi = rng.uniform(-np.pi, np.pi, m)
        u = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], 1)
    else:  # rejection sampling against the area stretch of the rest embedding
        u = _unit(rng.normal(size=(4 * m, 3)))
        jac = _surface_jacobian(family, u)
        u = u[rng.uniform(size=jac.shape[0]) * jac.max() < jac]
        while u.shape[0] < m:
            more = _unit(rng.normal(size=(4 * m, 3)))
            jm = _surface_jacobian(family, more)
            u = np.concatenate([u, more[rng.uniform(size=jm.shape[0]) * jac.max() < jm]])
        u = u[:m]
    u = u[_farthest_points(embed(family, u), n, rng)]
    from scipy.spatial import ConvexHull  # scipy.spatial adds ~50 ms to `import manifoldnet`

    faces = ConvexHull(u).simplices.astype(np.int64)
    p = u[faces]
    flip = np.einsum("ij,ij->i", np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), p.sum(1)) < 0
    faces[flip] = faces[flip][:, ::-1]
    return u, faces


def _torus_params(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A jittered periodic grid of about ``n`` points in [0, 1)^2 (aspect matched to
    the tube) and its faces."""
    nv = max(6, round(np.sqrt(n / 3.3)))
    nu = max(12, round(n / nv))
    i, j = np.meshgrid(np.arange(nu), np.arange(nv), indexing="ij")
    shift = rng.uniform(-0.2, 0.2, size=(nu, 1))  # each ring turned by its own offset
    uu = (i + rng.uniform(-0.12, 0.12, size=i.shape)) / nu
    vv = (j + shift + rng.uniform(-0.12, 0.12, size=j.shape)) / nv
    uv = np.stack([uu.reshape(-1) + rng.uniform(), vv.reshape(-1)], 1) % 1.0
    return uv, _grid_faces(nu, nv, True, True)


def _triangulate(family: str, n: int, rng: np.random.Generator):
    if family == "torus":
        return _torus_params(n, rng)
    return _sphere_params(family, n, rng)


# ------------------------------------------------------------------------------------------ templates
@dataclass(frozen=True, eq=False)
class Template:
    family: str
    mesh: Mesh
    params: np.ndarray
    labels: np.ndarray
    tree: cKDTree = field(repr=False)


@cache
def family_template(family: str) -> Template:
    """The family's template: rest pose, ``TEMPLATE_VERTS`` vertices, fixed
    triangulation (seed-independent)."""
    _check_family(family)
    rng = np.random.default_rng(1000 + list(FAMILIES).index(family))
    params, faces = _triangulate(family, TEMPLATE_VERTS, rng)
    verts = embed(family, params)
    from scipy.spatial import cKDTree

    return Template(family, Mesh(verts, faces), params, part_labels(family, params), cKDTree(verts))


def template_correspondence(family: str, params: np.ndarray) -> np.ndarray:
    """(V,) int64: for each parameter point, the template vertex nearest to it on the rest shape."""
    return family_template(family).tree.query(embed(family, params))[1].astype(np.int64)


# ------------------------------------------------------------------------------------------- shapes
@dataclass(frozen=True, eq=False)
class GeneratedShape:
    """One generated mesh with its ground truth (see the module docstring for conventions)."""

    name: str
    family: str
    mesh: Mesh
    params: np.ndarray
    pose: np.ndarray
    labels: np.ndarray
    corres: np.ndarray

    @property
    def global_labels(self) -> np.ndarray:
        return self.labels + LABEL_OFFSETS[self.family]

    @property
    def n_parts(self) -> int:
        return FAMILIES[self.family]

    def template_to_vertex(self) -> np.ndarray:
        """(T,) int64: for every template vertex, this shape's vertex nearest to it on the rest shape
        (the FAUST ``.vts`` direction: entry k is the same point on every shape of the family)."""
        from scipy.spatial import cKDTree

        tree = cKDTree(embed(self.family, self.params))
        return tree.query(family_template(self.family).mesh.verts)[1].astype(np.int64)


def generate_shape(family: str, seed: int, n_verts: int = 800, name: str | None = None) -> GeneratedShape:
    """One shape of ``family``: random pose and triangulation with about ``n_verts``
    vertices from ``seed``."""
    _check_family(family)
    if int(n_verts) != n_verts or n_verts < 50:
        raise MeshError(f"n_verts must be an integer >= 50, got {n_verts}")
    rng = np.random.default_rng([seed, list(FAMILIES).index(family)])
    params, faces = _triangulate(family, int(n_verts), rng)
    pose = random_pose(family, rng)
    verts = embed(family, params, pose)
    labels = part_labels(family, params)
    corres = template_correspondence(family, params)
    for a in (params, pose, labels, corres):
        a.flags.writeable = False
    return GeneratedShape(
        name or f"{family}_{seed:04d}", family, Mesh(verts, faces), params, pose, labels, corres
    )


class GeneratedBenchmark:
    """A deterministic list of generated shapes: ``n_per_family`` of each family, sizes in ``n_verts``.

    Behaves as a sequence of :class:`GeneratedShape` (``len``, indexing, iteration); shapes are generated on
    first access and kept. ``split`` gives the first ``train_fraction`` of each family as ``"train"``.
    """

    def __init__(
        self,
        n_per_family: int = 75,
        seed: int = 0,
        families=tuple(FAMILIES),
        n_verts=(500, 1200),
        train_fraction: float = 0.8,
    ):
        for f in families:
            _check_family(f)
        lo, hi = n_verts
        if not 50 <= lo <= hi:
            raise MeshError(f"n_verts must be a range (lo, hi) with 50 <= lo <= hi, got {n_verts}")
        rng = np.random.default_rng(seed)
        self.items = []
        n_train = round(train_fraction * n_per_family)
        for f in families:
            sizes = rng.integers(lo, hi + 1, size=n_per_family)
            for i, n in enumerate(sizes):
                s = int(seed) * 100003 + i
                split = "train" if i < n_train else "test"
                self.items.append((f, s, int(n), f"{f}_{i:04d}", split))
        self._cache: dict[int, GeneratedShape] = {}

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> GeneratedShape:
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} generated shapes")
        i %= len(self)
        if i not in self._cache:
            f, s, n, name, _ = self.items[i]
            self._cache[i] = generate_shape(f, s, n, name)
        return self._cache[i]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def indices(self, split: str | None = None, family: str | None = None) -> list[int]:
        """Indices of the shapes in ``split`` ("train"/"test") and/or ``family``."""
        return [
            i
            for i, it in enumerate(self.items)
            if (split is None or it[4] == split) and (family is None or it[0] == family)
        ]


def write_benchmark(bench: GeneratedBenchmark, folder) -> Path:
    """Write ``bench`` as files a :class:`~manifoldnet.data.datasets.FolderDataset`
    reads (like faust_5k / rna).

    ``off/<name>.off``, ``labels/<name>.txt`` (global part labels, one per vertex), ``corres/<name>.vts``
    (1-based, :meth:`GeneratedShape.template_to_vertex`), ``params/<name>.npy``, ``train.txt`` and
    ``test.txt``. Read it back with
    ``FolderDataset(folder / "off", labels_dir=folder / "labels", corres_dir=folder / "corres")``.
    """
    root = Path(folder)
    for sub in ("off", "labels", "corres", "params"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for s in bench:
        save_mesh(root / "off" / f"{s.name}.off", s.mesh)
        np.savetxt(root / "labels" / f"{s.name}.txt", s.global_labels, fmt="%d")
        np.savetxt(root / "corres" / f"{s.name}.vts", s.template_to_vertex() + 1, fmt="%d")
        np.save(root / "params" / f"{s.name}.npy", s.params)
    for split in ("train", "test"):
        names = [bench.items[i][3] for i in bench.indices(split)]
        (root / f"{split}.txt").write_text("".join(n + "\n" for n in names))
    return root


def generated_benchmark(n_per_family: int = 75, seed: int = 0, **kwargs) -> GeneratedBenchmark:
    """The default generated benchmark (see :class:`GeneratedBenchmark`)."""
    return GeneratedBenchmark(n_per_family=n_per_family, seed=seed, **kwargs)
