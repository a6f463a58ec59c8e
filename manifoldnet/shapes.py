"""Deterministic generated meshes: the fixture families of the tests and the bundled ``meshes/``.

Closed surfaces (:func:`icosphere`, :func:`uv_sphere`, :func:`torus`, :func:`ellipsoid`, :func:`genus2`,
:func:`noisy_sphere`), surfaces with boundary (:func:`flat_disk`, :func:`open_cylinder`), non-manifold ones
(:func:`nonmanifold_fin`, :func:`bowtie`) and several components (:func:`two_spheres`). Every generator is
vectorized and returns a validated :class:`~manifoldnet.Mesh`; the same arguments always give the same arrays.

Conventions
-----------
Closed surfaces are oriented with outward normals (faces counter-clockwise seen from outside; positive signed
volume). :func:`flat_disk` lies in the plane z = 0 with normals +z; :func:`open_cylinder` has outward normals.
"""

from __future__ import annotations

import numpy as np

from .errors import MeshError
from .mesh import Mesh

__all__ = [
    "ICOSPHERE_VERTS",
    "bowtie",
    "ellipsoid",
    "flat_disk",
    "genus2",
    "icosphere",
    "icosphere_with_verts",
    "loop_subdivide",
    "noisy_sphere",
    "nonmanifold_fin",
    "open_cylinder",
    "signed_volume",
    "torus",
    "two_spheres",
    "uv_sphere",
]

#: subdivisions -> vertex count of :func:`icosphere` (``10 * 4**s + 2``).
ICOSPHERE_VERTS = {s: 10 * 4**s + 2 for s in range(8)}
_MAX_SUBDIV = 7


def _check_int(name: str, value, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise MeshError(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if v < lo or (hi is not None and v > hi):
        rng = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise MeshError(f"{name} must be {rng}, got {v}")
    return v


def _check_pos(name: str, value) -> float:
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise MeshError(f"{name} must be a positive finite number, got {value!r}")
    return v


def signed_volume(mesh: Mesh) -> float:
    """Signed enclosed volume ``sum_f p0 . (p1 x p2) / 6``: positive for a closed outward-oriented mesh."""
    p = mesh.verts[mesh.faces]
    return float(np.einsum("ij,ij->", p[:, 0], np.cross(p[:, 1], p[:, 2])) / 6.0)


def _midpoint_split(verts: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One 1-to-4 split. Returns (faces (4F, 3), edges (E, 2), edge id per half-edge (F, 3)).

    New vertex ``V + e`` sits on edge ``e``; positions are left to the caller.
    """
    V = len(verts)
    he = np.stack([faces, np.roll(faces, -1, axis=1)], axis=-1).reshape(-1, 2)
    key = np.sort(he, axis=1)
    ukey, inv = np.unique(key[:, 0] * np.int64(V) + key[:, 1], return_inverse=True)
    edges = np.stack([ukey // V, ukey % V], axis=1)
    m = (V + inv.reshape(-1, 3)).astype(np.int64)  # m[:, k] sits on half-edge k (faces[k] -> faces[k+1])
    a, b, c = faces[:, 0], faces[:, 1], faces[:, 2]
    new = np.concatenate(
        [
            np.stack([a, m[:, 0], m[:, 2]], axis=1),
            np.stack([m[:, 0], b, m[:, 1]], axis=1),
            np.stack([m[:, 2], m[:, 1], c], axis=1),
            m,
        ]
    )
    return new, edges, inv.reshape(-1, 3)


def loop_subdivide(mesh: Mesh, times: int = 1) -> Mesh:
    """Loop subdivision of a closed edge-manifold mesh, ``times`` rounds (each: V + E vertices, 4F faces).

    Edge points ``3/8 (a + b) + 1/8 (c + d)``; old vertices ``(1 - n beta) v + beta * sum(neighbours)`` with
    Loop's ``beta(n)``. Raises MeshError on a mesh with boundary or non-manifold edges.
    """
    times = _check_int("times", times, 0)
    for _ in range(times):
        counts = mesh.edge_face_counts
        if (counts != 2).any():
            e = int(np.flatnonzero(counts != 2)[0])
            raise MeshError(
                f"loop_subdivide needs a closed edge-manifold mesh; edge {mesh.edges[e].tolist()} has "
                f"{int(counts[e])} faces"
            )
        v, f = mesh.verts, mesh.faces
        new_faces, edges, he_edge = _midpoint_split(v, f)
        opp = v[f[:, [2, 0, 1]]]  # corner opposite half-edge k is faces[(k + 2) % 3]
        opp_sum = np.zeros((len(edges), 3))
        np.add.at(opp_sum, he_edge.reshape(-1), opp.reshape(-1, 3))
        edge_pts = 0.375 * (v[edges[:, 0]] + v[edges[:, 1]]) + 0.125 * opp_sum
        adj = mesh.adjacency
        n = np.asarray(adj.sum(axis=1)).reshape(-1).astype(float)
        beta = (0.625 - (0.375 + 0.25 * np.cos(2 * np.pi / n)) ** 2) / n
        nb = adj @ v
        vert_pts = (1 - n * beta)[:, None] * v + beta[:, None] * nb
        mesh = Mesh(np.concatenate([vert_pts, edge_pts]), new_faces)
    return mesh


# ----------------------------------------------------------------------------------- spheres
_PHI = (1 + 5**0.5) / 2
_ICO_V = np.array(
    [
        [-1, _PHI, 0], [1, _PHI, 0], [-1, -_PHI, 0], [1, -_PHI, 0],
        [0, -1, _PHI], [0, 1, _PHI], [0, -1, -_PHI], [0, 1, -_PHI],
        [_PHI, 0, -1], [_PHI, 0, 1], [-_PHI, 0, -1], [-_PHI, 0, 1],
    ],
    dtype=np.float64,
)  # fmt: skip
_ICO_F = np.array(
    [
        [0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11],
        [1, 5, 9], [5, 11, 4], [11, 10, 2], [10, 7, 6], [7, 1, 8],
        [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9],
        [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1],
    ],
    dtype=np.int64,
)  # fmt: skip


def _unit_icosphere(subdivisions: int) -> tuple[np.ndarray, np.ndarray]:
    v = _ICO_V / np.linalg.norm(_ICO_V, axis=1, keepdims=True)
    f = _ICO_F
    for _ in range(subdivisions):
        f_new, edges, _ = _midpoint_split(v, f)
        mid = v[edges[:, 0]] + v[edges[:, 1]]
        v = np.concatenate([v, mid / np.linalg.norm(mid, axis=1, keepdims=True)])
        f = f_new
    return v, f


def icosphere(subdivisions: int = 3, radius: float = 1.0) -> Mesh:
    """Subdivided icosahedron with every vertex exactly on the sphere of ``radius`` (to float rounding).

    ``10 * 4**s + 2`` vertices and ``20 * 4**s`` faces (s = 5: 10242 / 20480; s = 7: 163842 / 327680);
    see :data:`ICOSPHERE_VERTS`. ``subdivisions`` in [0, 7].
    """
    s = _check_int("subdivisions", subdivisions, 0, _MAX_SUBDIV)
    r = _check_pos("radius", radius)
    v, f = _unit_icosphere(s)
    return Mesh(v * r, f)


def icosphere_with_verts(n_min: int, radius: float = 1.0) -> Mesh:
    """The coarsest :func:`icosphere` with at least ``n_min`` vertices (``n_min <= 163842``)."""
    n_min = _check_int("n_min", n_min, 1, ICOSPHERE_VERTS[_MAX_SUBDIV])
    s = min(k for k, n in ICOSPHERE_VERTS.items() if n >= n_min)
    return icosphere(s, radius)


def uv_sphere(n_lat: int = 16, n_lon: int = 32, radius: float = 1.0) -> Mesh:
    """Latitude-longitude sphere: two poles and ``n_lat - 1`` rings of ``n_lon`` vertices.

    ``2 + (n_lat - 1) n_lon`` vertices, ``2 n_lon (n_lat - 1)`` faces; thin triangles near the poles.
    """
    n_lat = _check_int("n_lat", n_lat, 2)
    n_lon = _check_int("n_lon", n_lon, 3)
    r = _check_pos("radius", radius)
    theta = np.pi * np.arange(1, n_lat) / n_lat  # polar angle of the rings
    phi = 2 * np.pi * np.arange(n_lon) / n_lon
    st, ct = np.sin(theta)[:, None], np.cos(theta)[:, None]
    ring = np.stack([st * np.cos(phi), st * np.sin(phi), np.broadcast_to(ct, (n_lat - 1, n_lon))], -1)
    verts = np.concatenate([[[0.0, 0.0, 1.0]], ring.reshape(-1, 3), [[0.0, 0.0, -1.0]]]) * r
    idx = 1 + np.arange((n_lat - 1) * n_lon).reshape(n_lat - 1, n_lon)
    nxt = np.roll(idx, -1, axis=1)
    south = len(verts) - 1
    top = np.stack([np.zeros(n_lon, np.int64), idx[0], nxt[0]], axis=1)
    bottom = np.stack([np.full(n_lon, south), nxt[-1], idx[-1]], axis=1)
    a, b, c, d = idx[:-1], nxt[:-1], idx[1:], nxt[1:]  # a-b upper ring, c-d lower ring
    quads = np.concatenate([np.stack([a, c, d], -1).reshape(-1, 3), np.stack([a, d, b], -1).reshape(-1, 3)])
    return Mesh(verts, np.concatenate([top, quads, bottom]))


def ellipsoid(a: float = 1.0, b: float = 0.7, c: float = 0.5, subdivisions: int = 3) -> Mesh:
    """The :func:`icosphere` scaled by ``(a, b, c)`` along x, y, z (semi-axes)."""
    scale = np.array([_check_pos("a", a), _check_pos("b", b), _check_pos("c", c)])
    s = _check_int("subdivisions", subdivisions, 0, _MAX_SUBDIV)
    v, f = _unit_icosphere(s)
    return Mesh(v * scale, f)


def two_spheres(subdivisions: int = 2, radius: float = 1.0, separation: float = 3.0) -> Mesh:
    """Two disjoint icospheres, centres ``(+-separation / 2, 0, 0)``; ``separation > 2 radius``."""
    r = _check_pos("radius", radius)
    d = _check_pos("separation", separation)
    if d <= 2 * r:
        raise MeshError(f"separation {d} must exceed twice the radius {r} for the spheres to be disjoint")
    s = _check_int("subdivisions", subdivisions, 0, _MAX_SUBDIV)
    v, f = _unit_icosphere(s)
    shift = np.array([d / 2, 0.0, 0.0])
    return Mesh(np.concatenate([v * r - shift, v * r + shift]), np.concatenate([f, f + len(v)]))


def noisy_sphere(
    subdivisions: int = 3, noise: float = 0.02, seed: int = 0, irregularity: float = 0.35
) -> Mesh:
    """An irregular, jittered sphere with as many vertices as ``icosphere(subdivisions)``.

    Vertices: a Fibonacci lattice moved tangentially by ``irregularity`` times the mean spacing (random),
    triangulated as their convex hull (so the connectivity is irregular, valences vary), then moved
    radially by a factor ``1 + noise * N(0, 1)`` (clipped to stay positive). ``seed`` fixes both.
    """
    s = _check_int("subdivisions", subdivisions, 0, _MAX_SUBDIV)
    noise = float(noise)
    irregularity = float(irregularity)
    if not (np.isfinite(noise) and 0 <= noise < 0.3):
        raise MeshError(f"noise must be in [0, 0.3), got {noise}")
    if not (np.isfinite(irregularity) and 0 <= irregularity <= 0.45):
        raise MeshError(f"irregularity must be in [0, 0.45], got {irregularity}")
    from scipy.spatial import ConvexHull

    n = ICOSPHERE_VERTS[s]
    rng = np.random.default_rng(seed)
    i = np.arange(n) + 0.5
    z = 1 - 2 * i / n
    phi = np.pi * (1 + 5**0.5) * i
    rho = np.sqrt(1 - z**2)
    p = np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=1)
    spacing = np.sqrt(4 * np.pi / n)
    t = rng.normal(size=(n, 3))
    t -= np.einsum("ij,ij->i", t, p)[:, None] * p  # tangential
    t *= irregularity * spacing / np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-300)
    p = p + t * rng.uniform(0, 1, size=(n, 1))
    p /= np.linalg.norm(p, axis=1, keepdims=True)
    f = ConvexHull(p).simplices.astype(np.int64)
    q = p[f]
    outward = np.einsum("ij,ij->i", np.cross(q[:, 1] - q[:, 0], q[:, 2] - q[:, 0]), q.sum(axis=1)) > 0
    f = np.where(outward[:, None], f, f[:, ::-1])
    radial = np.clip(1 + noise * rng.normal(size=n), 0.1, None)
    return Mesh(p * radial[:, None], f)


# ----------------------------------------------------------------------------------- grids
def _grid_faces(n_u: int, n_v: int, wrap_u: bool, wrap_v: bool) -> np.ndarray:
    """Two triangles per cell of an (n_u, n_v) vertex grid (index ``i * n_v + j``), optionally periodic.

    The cell (i, j)-(i+1, j)-(i+1, j+1)-(i, j+1) is counter-clockwise in (u, v).
    """
    iu = np.arange(n_u if wrap_u else n_u - 1)
    jv = np.arange(n_v if wrap_v else n_v - 1)
    i, j = np.meshgrid(iu, jv, indexing="ij")
    i1, j1 = (i + 1) % n_u, (j + 1) % n_v
    a, b, c, d = i * n_v + j, i1 * n_v + j, i1 * n_v + j1, i * n_v + j1
    return np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)])


def torus(R: float = 1.0, r: float = 0.4, n_major: int = 32, n_minor: int = 16) -> Mesh:
    """Ring torus ``((R + r cos v) cos u, (R + r cos v) sin u, r sin v)``, genus 1, area ``4 pi^2 R r``.

    ``n_major * n_minor`` vertices, twice as many faces; needs ``R > r``.
    """
    R, r = _check_pos("R", R), _check_pos("r", r)
    if r >= R:
        raise MeshError(f"torus needs R > r (a ring torus), got R={R}, r={r}")
    nu = _check_int("n_major", n_major, 3)
    nv = _check_int("n_minor", n_minor, 3)
    u = 2 * np.pi * np.arange(nu) / nu
    v = 2 * np.pi * np.arange(nv) / nv
    U, W = np.meshgrid(u, v, indexing="ij")
    rad = R + r * np.cos(W)
    verts = np.stack([rad * np.cos(U), rad * np.sin(U), r * np.sin(W)], -1).reshape(-1, 3)
    return Mesh(verts, _grid_faces(nu, nv, True, True))


def open_cylinder(radius: float = 1.0, height: float = 2.0, n_around: int = 32, n_height: int = 16) -> Mesh:
    """Open tube of ``radius`` around the z axis, ``z`` in ``[-height/2, height/2]``: two boundary loops.

    ``n_height + 1`` rings of ``n_around`` vertices; alternate rings are rotated by half a step so the
    triangles are close to isosceles. Area ``2 pi radius height`` (inscribed polygon: slightly less).
    """
    rad = _check_pos("radius", radius)
    h = _check_pos("height", height)
    na = _check_int("n_around", n_around, 3)
    nh = _check_int("n_height", n_height, 1)
    k = np.arange(nh + 1)[:, None]
    phi = 2 * np.pi * (np.arange(na)[None, :] + 0.5 * (k % 2)) / na
    z = np.broadcast_to(h * (k / nh - 0.5), phi.shape)
    verts = np.stack([rad * np.cos(phi), rad * np.sin(phi), z], -1).reshape(-1, 3)
    # ring k (index k * na + j), ring k + 1 shifted by +half a step on odd k, -half on even k.
    i, j = np.meshgrid(np.arange(nh), np.arange(na), indexing="ij")
    j1 = (j + 1) % na
    a, b = i * na + j, i * na + j1  # lower ring
    even = (i % 2) == 0
    # even lower ring: upper vertex j sits between lower j and j+1; odd: upper j+1 does
    c = (i + 1) * na + np.where(even, j, j1)
    d = (i + 1) * na + np.where(even, (j - 1) % na, j)
    up = np.stack([a, b, c], -1).reshape(-1, 3)  # triangle pointing up
    down = np.stack([a, c, d], -1).reshape(-1, 3)  # triangle pointing down
    return Mesh(verts, np.concatenate([up, down]))


def flat_disk(n_rings: int = 8, radius: float = 1.0) -> Mesh:
    """Planar disk in z = 0 with normals +z: a centre and rings of ``6k`` vertices at radius ``k / n_rings``.

    Delaunay-triangulated (scipy), so its triangles are close to equilateral; ``1 + 3 n (n + 1)``
    vertices, one boundary loop, area ``pi radius^2`` (inscribed polygon: slightly less).
    """
    n = _check_int("n_rings", n_rings, 1)
    rad = _check_pos("radius", radius)
    from scipy.spatial import Delaunay

    k = np.repeat(np.arange(1, n + 1), 6 * np.arange(1, n + 1))
    start = 3 * k * (k - 1)  # index of the first vertex of ring k among ring vertices
    j = np.arange(len(k)) - start
    ang = 2 * np.pi * (j + 0.5 * (k % 2)) / (6 * k)
    xy = np.concatenate([[[0.0, 0.0]], np.stack([k * np.cos(ang), k * np.sin(ang)], 1) / n])
    f = Delaunay(xy, qhull_options="Qbb Qc Qz Q12 Qt").simplices.astype(np.int64)
    q = xy[f]
    cross = (q[:, 1, 0] - q[:, 0, 0]) * (q[:, 2, 1] - q[:, 0, 1]) - (q[:, 1, 1] - q[:, 0, 1]) * (
        q[:, 2, 0] - q[:, 0, 0]
    )
    f = np.where((cross > 0)[:, None], f, f[:, ::-1])
    f = f[np.abs(cross) > 1e-12 / n**2]  # Qt may add flat simplices for co-circular points
    verts = np.concatenate([xy * rad, np.zeros((len(xy), 1))], axis=1)
    return Mesh(verts, f)


# ----------------------------------------------------------------------------------- genus 2
def _voxel_surface(occ: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outward-oriented triangulated boundary of a union of unit voxels ``occ`` (nx, ny, nz) bool."""
    p = np.pad(occ.astype(np.int8), 1)
    quads = []
    for ax in range(3):
        d = np.diff(p, axis=ax)  # +1: empty -> full along +ax (outward normal -ax); -1: normal +ax
        u, w = (ax + 1) % 3, (ax + 2) % 3
        for sign in (1, -1):
            idx = np.argwhere(d == sign)  # face at coordinate idx[ax] (padded grid, diff shifts by 1)
            base = idx.astype(np.int64)
            base[:, ax] += 1  # diff index i is the wall between padded voxels i and i + 1
            corners = []
            for du, dw in ((0, 0), (1, 0), (1, 1), (0, 1)):  # counter-clockwise in (u, w): normal +ax
                c = base.copy()
                c[:, u] += du
                c[:, w] += dw
                corners.append(c)
            q = np.stack(corners, axis=1)
            quads.append(q if sign == -1 else q[:, ::-1])
    q = np.concatenate(quads)  # (Q, 4, 3) integer corners
    pts, inv = np.unique(q.reshape(-1, 3), axis=0, return_inverse=True)
    qi = inv.reshape(-1, 4)
    faces = np.concatenate([qi[:, [0, 1, 2]], qi[:, [0, 2, 3]]])
    return pts.astype(np.float64), faces.astype(np.int64)


def genus2(subdivisions: int = 2) -> Mesh:
    """A smooth genus-2 surface (a "pretzel" slab with two holes), Euler characteristic -2.

    Built from the boundary of a 5 x 3 x 1 block of unit voxels with two voxels removed, then
    ``subdivisions`` rounds of :func:`loop_subdivide`; centred, longest extent 2. Each round maps
    ``V -> V + E = 4 V + 6`` (closed, chi = -2).
    """
    s = _check_int("subdivisions", subdivisions, 0, 5)
    occ = np.ones((5, 3, 1), dtype=bool)
    occ[1, 1, 0] = occ[3, 1, 0] = False
    v, f = _voxel_surface(occ)
    mesh = loop_subdivide(Mesh(v, f), s)
    v = mesh.verts - 0.5 * (mesh.verts.min(axis=0) + mesh.verts.max(axis=0))
    v = v * (2.0 / np.ptp(v, axis=0).max())
    return Mesh(v, mesh.faces)


# ----------------------------------------------------------------------------------- non-manifold
def nonmanifold_fin() -> Mesh:
    """A flat 4 x 4 grid in z = 0 with a vertical fin (a 2 x 1 strip) standing on its middle line x = 0.

    The 2 grid edges under the fin have 3 faces each (non-manifold edges); their 3 vertices are
    non-manifold. One component, connected through the shared edges.
    """
    g = np.linspace(-1.0, 1.0, 5)
    X, Y = np.meshgrid(g, g, indexing="ij")
    plane = np.stack([X, Y, np.zeros_like(X)], -1).reshape(-1, 3)
    f_plane = _grid_faces(5, 5, False, False)
    # the line x = 0 is grid row i = 2; its vertices with y = -0.5, 0, 0.5 are 2*5 + (1, 2, 3)
    base = 2 * 5 + np.array([1, 2, 3])
    top = plane[base] + np.array([0.0, 0.0, 0.5])
    verts = np.concatenate([plane, top])
    t = len(plane) + np.arange(3)
    f_fin = np.concatenate(
        [np.stack([base[:-1], base[1:], t[1:]], -1), np.stack([base[:-1], t[1:], t[:-1]], -1)]
    )
    return Mesh(verts, np.concatenate([f_plane, f_fin]))


def bowtie() -> Mesh:
    """Two triangle fans (3 triangles each) meeting at a single vertex 0: one non-manifold (bow-tie) vertex.

    Edge-manifold, vertex-non-manifold, one component, boundary through the shared vertex.
    """
    ang = np.linspace(-np.pi / 4, np.pi / 4, 4)
    right = np.stack([np.cos(ang), np.sin(ang), np.zeros(4)], 1)
    left = right * np.array([-1.0, 1.0, 1.0])
    verts = np.concatenate([[[0.0, 0.0, 0.0]], right, left[::-1]])
    k = np.arange(3)
    fr = np.stack([np.zeros(3, np.int64), 1 + k, 2 + k], 1)
    fl = np.stack([np.zeros(3, np.int64), 5 + k, 6 + k], 1)
    return Mesh(verts, np.concatenate([fr, fl]))
