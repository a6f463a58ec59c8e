"""Geodesic patches: exact on a flat disk, one-ring equals the log map, agreement with
the vector heat log map."""

from __future__ import annotations

import numpy as np
import pytest

from manifoldnet import MeshError, shapes
from manifoldnet.geometry.logmap import one_ring_logmap
from manifoldnet.geometry.patches import geodesic_patches


def test_flat_disk_exact():
    m = shapes.flat_disk(10)
    v = np.asarray(m.verts)
    P = geodesic_patches(m, radius=0.35, frames="world")
    i, j = P.edge_index
    d = v[j] - v[i]
    np.testing.assert_allclose(P.r, np.linalg.norm(d, axis=1), atol=1e-12)
    np.testing.assert_allclose(np.angle(np.exp(1j * (P.theta - np.arctan2(d[:, 1], d[:, 0])))), 0, atol=1e-12)
    # every vertex within the radius (convex disk: geodesic = Euclidean) is found
    D = np.linalg.norm(v[:, None] - v[None], axis=2)
    assert P.r.size == int(((D <= 0.35) & (D > 0)).sum())


def test_one_ring_entries_equal_logmap_and_k_nearest():
    m = shapes.noisy_sphere(3, 0.0, 0, 0.45)  # irregular triangulation of the smooth sphere
    ei, r1, th1 = one_ring_logmap(m)
    P = geodesic_patches(m, radius=float(r1.max()))
    key = P.edge_index[0] * m.n_verts + P.edge_index[1]
    pos = np.searchsorted(key, ei[0] * m.n_verts + ei[1])
    np.testing.assert_array_equal(key[pos], ei[0] * m.n_verts + ei[1])  # every one-ring pair is in
    np.testing.assert_allclose(P.r[pos], r1, rtol=1e-12)
    np.testing.assert_allclose(P.theta[pos], th1, atol=1e-12)
    Pk = geodesic_patches(m, k=40)
    assert (Pk.sizes == 40).all()
    # the k nearest are the k smallest radii of the radius patch (where that patch has >= k entries)
    big = geodesic_patches(m, radius=0.8)
    for c in (0, 100, 500):
        rad = np.sort(big.r[big.edge_index[0] == c])
        np.testing.assert_allclose(np.sort(Pk.r[Pk.edge_index[0] == c]), rad[:40], rtol=1e-12)


def test_irregular_sphere_radius_close_to_exact():
    from manifoldnet.geometry.exact_geodesics import exact_geodesic_distance

    m = shapes.noisy_sphere(3, 0.0, 1, 0.45)
    P = geodesic_patches(m, radius=0.35)
    for c in (0, 300):
        sel = P.edge_index[0] == c
        ex = exact_geodesic_distance(m, c)[P.edge_index[1][sel]]
        assert np.percentile(np.abs(P.r[sel] - ex) / ex, 90) < 0.005


def test_sphere_radius_close_to_great_circle():
    m = shapes.icosphere(4)
    v = np.asarray(m.verts)
    P = geodesic_patches(m, radius=0.3)
    i, j = P.edge_index
    gc = np.arccos(np.clip(np.einsum("ij,ij->i", v[i], v[j]), -1, 1))
    assert np.median(np.abs(P.r - gc) / gc) < 0.01


@pytest.mark.slow
def test_bunny_agrees_with_vector_heat_logmap():
    from conftest import shared_data

    from manifoldnet.geometry.vector_heat import VectorHeatSolver
    from manifoldnet.io import load_mesh
    from manifoldnet.repair import clean

    m, _ = clean(load_mesh(shared_data("classic") / "stanford-bunny.obj"))
    P = geodesic_patches(m, k=30)
    s = VectorHeatSolver(m)
    er, et = [], []
    for c in (0, 1000, 5000, 20000):
        r, th = s.logmap(c, check="off")
        sel = P.edge_index[0] == c
        jj = P.edge_index[1][sel]
        er.append(np.abs(P.r[sel] - r[jj]) / r[jj])
        et.append(np.degrees(np.abs(np.angle(np.exp(1j * (P.theta[sel] - th[jj]))))))
    assert np.percentile(np.concatenate(er), 90) < 0.05
    assert np.percentile(np.concatenate(et), 90) < 5.0


def test_validation():
    m = shapes.icosphere(1)
    with pytest.raises(MeshError, match="exactly one"):
        geodesic_patches(m)
    with pytest.raises(MeshError, match="radius"):
        geodesic_patches(m, radius=-1)
    with pytest.raises(MeshError, match="k must"):
        geodesic_patches(m, k=0)


@pytest.mark.parametrize("make", [shapes.two_spheres, shapes.nonmanifold_fin, shapes.bowtie])
def test_awkward_meshes_give_finite_patches_within_components(make):
    m = make()
    P = geodesic_patches(m, k=8)
    assert np.isfinite(P.r).all() and np.isfinite(P.theta).all() and np.isfinite(P.transport).all()
    comp = np.asarray(m.vertex_components)
    np.testing.assert_array_equal(comp[P.edge_index[0]], comp[P.edge_index[1]])
    assert (P.edge_index[0] != P.edge_index[1]).all()
    key = P.edge_index[0] * m.n_verts + P.edge_index[1]
    assert (np.diff(key) > 0).all()  # sorted, no duplicate pair


def _pair_lookup(P, ei, n_verts):
    """Positions in P of the pairs ``ei`` (2, n) (asserting every pair is present)."""
    key = P.edge_index[0] * n_verts + P.edge_index[1]
    want = ei[0] * n_verts + ei[1]
    pos = np.minimum(np.searchsorted(key, want), len(key) - 1)
    np.testing.assert_array_equal(key[pos], want)
    return pos


@pytest.mark.parametrize("make", [lambda: shapes.icosphere(2), lambda: shapes.noisy_sphere(3, 0.03, 2, 0.45)])
def test_k_nearest_one_ring_equals_logmap_and_radius_patch(make):
    # regression: the k-nearest selection sorted the radii in place (scipy kept the int64 view of the
    # radii as CSR indices and sort_indices reordered them), so r was permuted within each patch
    m = make()
    ei, r1, th1 = one_ring_logmap(m)
    P = geodesic_patches(m, k=12)
    pos = _pair_lookup(P, ei, m.n_verts)
    np.testing.assert_array_equal(P.r[pos], r1)  # r_ij = edge length exactly
    np.testing.assert_allclose(P.theta[pos], th1, atol=1e-12)
    # a k-patch entry has the (r, theta) of the same pair in a radius patch holding it: identical where the
    # vertex is reached through the same parent (nearly always; a radius patch expands more candidates)
    big = geodesic_patches(m, radius=float(P.r.max()) * 1.5)
    q = _pair_lookup(big, P.edge_index, m.n_verts)
    rel = np.abs(P.r - big.r[q]) / big.r[q]
    dth = np.abs(np.angle(np.exp(1j * (P.theta - big.theta[q]))))
    assert np.mean(rel > 1e-12) < 0.01 and np.mean(dth > 1e-9) < 0.01
    assert rel.max() < 0.05


def _assert_not_below_chord(m, P):
    v = np.asarray(m.verts)
    i, j = P.edge_index
    chord = np.linalg.norm(v[j] - v[i], axis=1)
    short = P.r < chord * (1 - 1e-9)
    assert not short.any(), (
        f"{int(short.sum())} radii below the Euclidean distance; worst r/chord "
        f"{float(np.min(P.r[chord > 0] / chord[chord > 0])):.4f} at pair "
        f"{P.edge_index[:, np.argmax(short)].tolist()}"
    )


@pytest.mark.parametrize(
    "name", ["folded_region", "flipped_faces", "nonmanifold_vertex", "nonmanifold_edge", "needle_faces"]
)
def test_radius_never_below_euclidean_on_pathologies(name):
    from manifoldnet.mesh import Mesh
    from manifoldnet.testing import make_pathology

    p = make_pathology(name, shapes.icosphere(3), seed=1)
    m = Mesh(p.verts, p.faces)
    for kw in ({"k": 8}, {"k": 30}, {"radius": 0.4}):
        P = geodesic_patches(m, **kw)
        assert np.isfinite(P.r).all() and np.isfinite(P.theta).all()
        _assert_not_below_chord(m, P)
        # the one-ring pairs a patch holds (a k-patch may leave out a long edge) have r = edge length
        ei, r1, _ = one_ring_logmap(m)
        key = P.edge_index[0] * m.n_verts + P.edge_index[1]
        want = ei[0] * m.n_verts + ei[1]
        pos = np.minimum(np.searchsorted(key, want), len(key) - 1)
        held = key[pos] == want
        assert held.mean() > 0.9
        np.testing.assert_array_equal(P.r[pos[held]], r1[held])


def test_radius_never_below_euclidean_on_noisy_sphere():
    m = shapes.noisy_sphere(3, 0.08, 3, 0.45)
    _assert_not_below_chord(m, geodesic_patches(m, k=30))
    _assert_not_below_chord(m, geodesic_patches(m, radius=0.5))


def test_radius_never_below_euclidean_on_faust():
    from conftest import shared_data

    from manifoldnet.io import load_mesh

    m = load_mesh(shared_data("faust_5k/off") / "tr_reg_000.off")
    P = geodesic_patches(m, k=16)
    assert (P.sizes == 16).all()
    _assert_not_below_chord(m, P)
    ei, r1, _ = one_ring_logmap(m)
    short = r1 <= np.quantile(r1, 0.25)  # the shortest edges are in every 16-patch
    np.testing.assert_array_equal(P.r[_pair_lookup(P, ei[:, short], m.n_verts)], r1[short])


FAN = r"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]) << 20, int(sys.argv[2]) << 20))
import numpy as np
from manifoldnet.geometry.patches import geodesic_patches
from manifoldnet.testing import fan_disk
m = fan_disk(int(sys.argv[1]))
P = geodesic_patches(m, k=16)
np.savez(sys.argv[3], edge_index=P.edge_index, r=P.r, theta=P.theta)
"""


def test_k_patches_of_a_20k_valence_fan_fit_in_bounded_memory(tmp_path):
    # regression: every rim vertex joined the hub's 20k out-edges, (max degree)^2 candidates: 100 GB asked.
    # Now O(k) per vertex: 20k vertices, k = 16 fit in 1.5 GiB of address space (numpy and scipy included)
    import subprocess
    import sys

    D, out = 20_000, tmp_path / "p.npz"
    proc = subprocess.run(
        [sys.executable, "-c", FAN, str(D), "1536", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-1500:]
    z = np.load(out)
    i, j = z["edge_index"]
    assert (np.bincount(i, minlength=D + 1) == 16).all()
    from manifoldnet.testing import fan_disk

    v = np.asarray(fan_disk(D).verts)
    np.testing.assert_allclose(z["r"], np.linalg.norm(v[j] - v[i], axis=1), rtol=1e-9)  # flat: exact
    # a rim vertex's 16 nearest are its 8 rim neighbours on each side (the hub is 1 away, they are < 0.003)
    rim = i > 0
    step = (j[rim] - i[rim] + D // 2) % D - D // 2
    assert (np.abs(step) <= 8).all() and (step != 0).all()
    # the hub's 16 nearest are rim vertices at distance 1
    np.testing.assert_allclose(z["r"][i == 0], 1.0, rtol=1e-12)


# ------------------------------------------------------------------------------------ n-ring patches
def _generated_torus():
    from manifoldnet.data import generated

    return generated.generate_shape("torus", 0, 300).mesh


RING_MESHES = {
    "irregular_sphere": lambda: shapes.noisy_sphere(3, 0.03, 2, 0.45),
    "generated_torus": _generated_torus,
    "open_cylinder": lambda: shapes.open_cylinder(n_around=20, n_height=8),  # two boundary loops
    "flat_disk": lambda: shapes.flat_disk(6),  # one boundary loop
}


def _n_ring_keys(m, n):
    """Sorted keys ``i V + j`` of the pairs at graph distance 1..n: nonzeros of (I + A)^n off the diagonal."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import matrix_power

    reach = sp.coo_matrix(matrix_power((sp.identity(m.n_verts) + m.adjacency).tocsr(), n))
    off = reach.row != reach.col
    return np.sort(reach.row[off].astype(np.int64) * m.n_verts + reach.col[off])


@pytest.mark.parametrize("name", sorted(RING_MESHES))
@pytest.mark.parametrize("n", [1, 2, 3])
def test_rings_hold_exactly_the_n_ring(name, n):
    m = RING_MESHES[name]()
    P = geodesic_patches(m, rings=n)
    np.testing.assert_array_equal(P.edge_index[0] * m.n_verts + P.edge_index[1], _n_ring_keys(m, n))
    assert np.isfinite(P.r).all() and np.isfinite(P.theta).all() and np.isfinite(P.transport).all()
    assert (P.theta >= 0).all() and (P.theta < 2 * np.pi).all()
    _assert_not_below_chord(m, P)


@pytest.mark.parametrize("name", sorted(RING_MESHES))
def test_one_ring_equals_logmap_and_transport_exactly(name):
    from manifoldnet.geometry.transport import edge_transport

    m = RING_MESHES[name]()
    ei, r1, th1 = one_ring_logmap(m, "world")
    _, rho = edge_transport(m, "world")
    P = geodesic_patches(m, rings=1, frames="world")
    np.testing.assert_array_equal(P.edge_index, ei)
    np.testing.assert_array_equal(P.r, r1)
    np.testing.assert_array_equal(P.theta, th1)
    np.testing.assert_array_equal(P.transport, rho)
    # and the one-ring entries of a wider patch are the same numbers
    P3 = geodesic_patches(m, rings=3, frames="world")
    pos = _pair_lookup(P3, ei, m.n_verts)
    np.testing.assert_array_equal(P3.r[pos], r1)
    np.testing.assert_array_equal(P3.theta[pos], th1)
    np.testing.assert_array_equal(P3.transport[pos], rho)
    assert (P3.transport >= -np.pi).all() and (P3.transport < np.pi).all()


def _planar_grid(n=9, jitter=0.25, seed=0):
    """An irregular planar grid in z = 0 (normals +z): n x n vertices moved in the plane, diagonals of
    alternating direction."""
    rng = np.random.default_rng(seed)
    x, y = np.meshgrid(np.arange(n, dtype=float), np.arange(n, dtype=float), indexing="ij")
    xy = np.stack([x.ravel(), y.ravel()], 1)
    inner = ((xy > 0) & (xy < n - 1)).all(1)
    xy[inner] += rng.uniform(-jitter, jitter, (int(inner.sum()), 2))
    a = (np.arange(n - 1)[:, None] * n + np.arange(n - 1)[None]).ravel()  # lower-left corner of each cell
    flip = (a // n + a % n) % 2 == 1
    f1 = np.where(flip[:, None], np.stack([a, a + n, a + n + 1], 1), np.stack([a, a + n, a + 1], 1))
    f2 = np.where(flip[:, None], np.stack([a, a + n + 1, a + 1], 1), np.stack([a + 1, a + n, a + n + 1], 1))
    from manifoldnet.mesh import Mesh

    return Mesh(np.c_[xy, np.zeros(len(xy))], np.concatenate([f1, f2]))


@pytest.mark.parametrize("n", [2, 3])
def test_rings_on_a_flat_grid_are_exact(n):
    m = _planar_grid()
    v = np.asarray(m.verts)
    P = geodesic_patches(m, rings=n, frames="world")
    np.testing.assert_array_equal(P.edge_index[0] * m.n_verts + P.edge_index[1], _n_ring_keys(m, n))
    i, j = P.edge_index
    z = P.r * np.exp(1j * P.theta)
    d = v[j] - v[i]
    np.testing.assert_allclose(z, d[:, 0] + 1j * d[:, 1], atol=1e-12, rtol=0)  # z_ij = x_j - x_i
    np.testing.assert_allclose(P.transport, 0.0, atol=1e-12)  # world gauge on a plane: transport is 1


def test_two_rings_agree_with_k_nearest_and_the_two_ring_logmap():
    from manifoldnet.geometry.logmap import two_ring_logmap

    m = RING_MESHES["irregular_sphere"]()
    V = m.n_verts
    P2 = geodesic_patches(m, rings=2)
    # k-nearest patches wide enough: the two-ring is inside them, with the same numbers (the same round of the
    # same expansion reaches every two-ring vertex, and keeps the same smallest-radius candidate)
    Pk = geodesic_patches(m, k=40)
    q = _pair_lookup(Pk, P2.edge_index, V)  # asserts the subset
    np.testing.assert_array_equal(Pk.r[q], P2.r)
    np.testing.assert_array_equal(Pk.theta[q], P2.theta)
    np.testing.assert_array_equal(Pk.transport[q], P2.transport)
    # narrower k-patches: where they overlap the two-ring, the same numbers
    Ps = geodesic_patches(m, k=8)
    key2, keys = P2.edge_index[0] * V + P2.edge_index[1], Ps.edge_index[0] * V + Ps.edge_index[1]
    both, a, b = np.intersect1d(key2, keys, return_indices=True)
    assert len(both) > 0.9 * len(keys)
    np.testing.assert_array_equal(P2.r[a], Ps.r[b])
    np.testing.assert_array_equal(P2.theta[a], Ps.theta[b])
    # the two-ring log map holds the same pairs. It keeps the candidate of shortest path r_ij + r_jk, not of
    # smallest unfolded radius (and does not raise radii to the chord), so on a smooth sphere the coordinates
    # agree exactly where both pick the same neighbour j (most pairs) and to ~1e-3 elsewhere
    ei, _, _ = two_ring_logmap(m, include_one_ring=True)
    np.testing.assert_array_equal(ei, P2.edge_index)
    smooth = shapes.noisy_sphere(3, 0.0, 0, 0.45)
    P2 = geodesic_patches(smooth, rings=2)
    ei, r, th = two_ring_logmap(smooth, include_one_ring=True)
    np.testing.assert_array_equal(ei, P2.edge_index)
    rel = np.abs(P2.r - r) / r
    dth = np.abs(np.angle(np.exp(1j * (P2.theta - th))))
    assert np.mean(rel < 1e-12) > 0.9 and np.mean(dth < 1e-9) > 0.9
    assert rel.max() < 5e-3 and dth.max() < 0.03


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"rings": 0}, "rings must be a positive integer"),
        ({"rings": -2}, "rings must be a positive integer"),
        ({"rings": 1.5}, "rings must be a positive integer"),
        ({"rings": 2.0}, "rings must be a positive integer"),
        ({"rings": True}, "rings must be a positive integer"),
        ({"rings": "2"}, "rings must be a positive integer"),
        ({"rings": 2, "k": 8}, "exactly one of radius=, k= or rings="),
        ({"rings": 2, "radius": 0.3}, "exactly one of radius=, k= or rings="),
        ({}, "exactly one of radius=, k= or rings="),
    ],
)
def test_rings_validation(kw, match):
    with pytest.raises(MeshError, match=match):
        geodesic_patches(shapes.icosphere(1), **kw)


def test_rings_accept_numpy_integers_and_isolated_components():
    m = shapes.two_spheres(1)
    P = geodesic_patches(m, rings=np.int64(2))
    np.testing.assert_array_equal(P.edge_index[0] * m.n_verts + P.edge_index[1], _n_ring_keys(m, 2))
    comp = np.asarray(m.vertex_components)
    np.testing.assert_array_equal(comp[P.edge_index[0]], comp[P.edge_index[1]])


@pytest.mark.parametrize("kw", [{"k": 10}, {"radius": 0.45}, {"rings": 2}], ids=["k", "radius", "rings"])
def test_relabelling_the_mesh_relabels_the_patches_exactly(kw):
    """Candidate paths raised to the same Euclidean distance tie; the tie goes to a geometric choice, not to
    label order, so patches of a relabelled mesh are the relabelled patches, bit for bit (before, theta moved
    by up to 0.16 rad and r by 1e-3 on this sphere)."""
    from manifoldnet.mesh import Mesh

    mesh = shapes.noisy_sphere(2, noise=0.05, seed=1)
    perm = np.random.default_rng(3).permutation(mesh.n_verts)  # new vertex a is old vertex perm[a]
    moved = Mesh(np.asarray(mesh.verts)[perm], np.argsort(perm)[np.asarray(mesh.faces)])
    a, b = geodesic_patches(mesh, **kw), geodesic_patches(moved, **kw)
    key_a = a.edge_index[0] * mesh.n_verts + a.edge_index[1]
    key_b = perm[b.edge_index[0]] * mesh.n_verts + perm[b.edge_index[1]]
    oa, ob = np.argsort(key_a), np.argsort(key_b)
    np.testing.assert_array_equal(key_a[oa], key_b[ob])
    np.testing.assert_array_equal(a.r[oa], b.r[ob])
    np.testing.assert_array_equal(a.theta[oa], b.theta[ob])
    np.testing.assert_array_equal(a.transport[oa], b.transport[ob])
