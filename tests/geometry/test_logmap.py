"""Vertex fans and the one-/two-ring log map: exact planar coordinates on flat meshes, angle sums, gauge
changes, invariances, a per-vertex reference walk, and the awkward meshes."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from manifoldnet import Mesh, MeshError, shapes
from manifoldnet.geometry.elements import corner_angles
from manifoldnet.geometry.fans import directed_edges, vertex_fans
from manifoldnet.geometry.frames import vertex_frames
from manifoldnet.geometry.logmap import gauge_offsets, one_ring_logmap, two_ring_logmap

TWO_PI = 2 * np.pi


def wrap(a):
    return np.mod(np.asarray(a) + np.pi, TWO_PI) - np.pi


def planar_polar(mesh, ei):
    d = mesh.verts[ei[1]] - mesh.verts[ei[0]]
    return np.linalg.norm(d, axis=1), np.mod(np.arctan2(d[:, 1], d[:, 0]), TWO_PI)


def reference_fan_walk(mesh):
    """Slow, obvious reference: for every vertex walk its fan with Python dicts and accumulate angles."""
    f = mesh.faces
    ang = corner_angles(mesh)
    he = {(int(f[t, k]), int(f[t, (k + 1) % 3])): (t, k) for t in range(len(f)) for k in range(3)}
    corners = {}
    for t in range(len(f)):
        for k in range(3):
            corners.setdefault(int(f[t, k]), []).append(3 * t + k)
    out = {}
    for v, cs in corners.items():
        cs = sorted(cs)

        def succ(c, v=v):
            t, k = divmod(c, 3)
            l_ = int(f[t, (k + 2) % 3])
            nb = he.get((v, l_))
            return None if nb is None else 3 * nb[0] + nb[1]

        def pred(c, v=v):
            t, k = divmod(c, 3)
            j = int(f[t, (k + 1) % 3])
            nb = he.get((j, v))
            return None if nb is None else 3 * nb[0] + (nb[1] + 1) % 3

        starts = [c for c in cs if pred(c) is None]
        start = starts[0] if starts else cs[0]
        closed = not starts
        total = sum(ang.reshape(-1)[c] for c in cs)
        scale = TWO_PI / total if closed else 1.0
        theta, c = 0.0, start
        for _ in range(len(cs)):
            t, k = divmod(c, 3)
            out[(v, int(f[t, (k + 1) % 3]))] = theta % TWO_PI if closed else theta
            theta += scale * ang[t, k]
            last = (v, int(f[t, (k + 2) % 3]))
            c = succ(c)
            if c is None:
                out.setdefault(last, theta)
                break
    return out


@pytest.mark.parametrize(
    "mesh",
    [shapes.flat_disk(3), shapes.noisy_sphere(1, 0.2, seed=3), shapes.open_cylinder(n_around=7, n_height=3)],
    ids=["disk", "noisy", "cylinder"],
)
def test_fans_match_per_vertex_walk(mesh):
    ref = reference_fan_walk(mesh)
    ei, _, theta = one_ring_logmap(mesh)
    got = {(int(i), int(j)): t for i, j, t in zip(ei[0], ei[1], theta, strict=True)}
    assert set(got) == set(ref)
    keys = sorted(ref)
    assert_allclose(wrap([got[k] - ref[k] for k in keys]), 0, atol=1e-12)


def test_directed_edges_sorted_with_reverse():
    mesh = shapes.torus(n_major=9, n_minor=5)
    ei, rev = directed_edges(mesh)
    key = ei[0] * mesh.n_verts + ei[1]
    assert (np.diff(key) > 0).all()
    assert ei.shape == (2, 2 * mesh.n_edges)
    assert_array_equal(ei[:, rev], ei[::-1])
    adj = sp.csr_matrix(mesh.adjacency)
    adj.sort_indices()
    assert_array_equal(ei[0], np.repeat(np.arange(mesh.n_verts), np.diff(adj.indptr)))
    assert_array_equal(ei[1], adj.indices)


@pytest.mark.parametrize("n_rings", [2, 6])
def test_flat_disk_logmap_is_planar_polar(n_rings):
    mesh = shapes.flat_disk(n_rings)
    ei, r, theta = one_ring_logmap(mesh, "world")
    r0, t0 = planar_polar(mesh, ei)
    assert_allclose(r, r0, rtol=1e-14)
    assert_allclose(wrap(theta - t0), 0, atol=1e-12)
    # intrinsic gauge: the same up to the planar angle a_i of each reference edge
    _, _, th_i = one_ring_logmap(mesh)
    fans = vertex_fans(mesh)
    he = mesh.halfedges[fans.reference]
    d = mesh.verts[he[:, 1]] - mesh.verts[he[:, 0]]
    a = np.arctan2(d[:, 1], d[:, 0])
    assert_allclose(wrap(th_i - (t0 - a[ei[0]])), 0, atol=1e-12)


def test_two_ring_flat_is_planar_and_complete():
    mesh = shapes.flat_disk(5)
    ei, r, theta = two_ring_logmap(mesh, "world")
    r0, t0 = planar_polar(mesh, ei)
    assert_allclose(r, r0, rtol=1e-12)
    assert_allclose(wrap(theta - t0), 0, atol=1e-12)
    # exactly the pairs at graph distance 2
    A = mesh.adjacency.astype(np.int64)
    A2 = ((A @ A) > 0).astype(np.int64) - A.multiply(1) - sp.identity(mesh.n_verts, dtype=np.int64)
    A2 = (A2 > 0).tocoo()
    want = np.sort(A2.row * mesh.n_verts + A2.col)
    assert_array_equal(ei[0] * mesh.n_verts + ei[1], want)
    both, rb, tb = two_ring_logmap(mesh, "world", include_one_ring=True)
    assert both.shape[1] == ei.shape[1] + 2 * mesh.n_edges
    assert (np.diff(both[0] * mesh.n_verts + both[1]) > 0).all()
    rb0, tb0 = planar_polar(mesh, both)
    assert_allclose(rb, rb0, rtol=1e-12)
    assert_allclose(wrap(tb - tb0), 0, atol=1e-12)


@pytest.mark.parametrize("mesh", [shapes.icosphere(2), shapes.genus2(1), shapes.noisy_sphere(2, 0.2, seed=1)])
def test_rescaled_angles_sum_to_two_pi(mesh):
    fans = vertex_fans(mesh)
    assert fans.regular.all()
    sums = np.bincount(mesh.faces.reshape(-1), weights=fans.scaled_angles.reshape(-1))
    assert_allclose(sums, TWO_PI, rtol=1e-13)
    # consecutive neighbours differ by the scaled corner angle
    _, _, theta = one_ring_logmap(mesh)
    c = np.arange(3 * mesh.n_faces)
    prev = c - c % 3 + (c + 2) % 3
    d_start = fans.corner_edge
    d_end = fans.edge_reverse[fans.corner_edge[prev]]
    assert_allclose(wrap(theta[d_end] - theta[d_start] - fans.scaled_angles.reshape(-1)), 0, atol=1e-12)
    assert_allclose(fans.defect.sum(), TWO_PI * mesh.euler_characteristic, atol=1e-10)


def test_gauge_change_law_and_offsets():
    mesh = shapes.noisy_sphere(2, 0.2, seed=5)
    rng = np.random.default_rng(0)
    g0 = rng.uniform(0, TWO_PI, mesh.n_verts)
    delta = rng.uniform(-10, 10, mesh.n_verts)
    ei, r0, t0 = one_ring_logmap(mesh, g0)
    _, r1, t1 = one_ring_logmap(mesh, g0 + delta)
    assert_allclose(r0, r1)
    assert_allclose(wrap(t1 - (t0 - delta[ei[0]])), 0, atol=1e-11)
    assert ((t1 >= 0) & (t1 < TWO_PI)).all()
    # a frame's offset g_i is the intrinsic angle of its e1: theta(frames) = theta(intrinsic) - g_i
    fr = vertex_frames(mesh, "world")
    g = gauge_offsets(mesh, fr)
    _, _, tw = one_ring_logmap(mesh, fr)
    assert_allclose(wrap(tw - (one_ring_logmap(mesh)[2] - g[ei[0]])), 0, atol=1e-12)
    # the intrinsic frames have offset 0
    assert_allclose(wrap(gauge_offsets(mesh, vertex_frames(mesh, "intrinsic"))), 0, atol=1e-12)


def test_frame_angles_match_projected_angles_on_a_smooth_sphere():
    # the piecewise-linear map between projected and intrinsic angles converges: O(h^2) distortion
    errs = []
    for sub in (3, 4):
        mesh = shapes.icosphere(sub)
        fr = vertex_frames(mesh, "world")
        ei, _, tw = one_ring_logmap(mesh, fr)
        i, j = ei
        d = mesh.verts[j] - mesh.verts[i]
        phi = np.arctan2(np.einsum("ij,ij->i", d, fr[i, 1]), np.einsum("ij,ij->i", d, fr[i, 0]))
        errs.append(np.abs(wrap(tw - phi)).max())
    assert errs[0] < 1e-3
    assert errs[1] < errs[0] / 3


def test_rigid_motion_permutation_and_scale_invariance():
    mesh = shapes.noisy_sphere(2, 0.2, seed=2)
    ei, r, theta = one_ring_logmap(mesh)
    e2, r2, t2 = two_ring_logmap(mesh)
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    Q *= np.sign(np.linalg.det(Q))
    perm = rng.permutation(mesh.n_verts)  # new index of old vertex v is perm[v]
    verts = np.empty_like(mesh.verts)
    verts[perm] = mesh.verts @ Q.T + rng.normal(size=3)
    moved = Mesh(verts, perm[mesh.faces])
    ej, rj, tj = one_ring_logmap(moved)
    key = perm[ei[0]] * mesh.n_verts + perm[ei[1]]
    o = np.argsort(key)
    assert_array_equal(ej[0] * mesh.n_verts + ej[1], key[o])
    assert_allclose(rj, r[o], rtol=1e-12)
    assert_allclose(wrap(tj - theta[o]), 0, atol=1e-11)
    ek, rk, tk = two_ring_logmap(moved)
    key2 = perm[e2[0]] * mesh.n_verts + perm[e2[1]]
    o2 = np.argsort(key2)
    assert_array_equal(ek[0] * mesh.n_verts + ek[1], key2[o2])
    assert_allclose(rk, r2[o2], rtol=1e-10)
    assert_allclose(wrap(tk - t2[o2]), 0, atol=1e-10)
    for s in (1e-8, 1e8):
        _, rs, ts = one_ring_logmap(Mesh(mesh.verts * s, mesh.faces))
        assert_allclose(rs, r * s, rtol=1e-12)
        assert_allclose(wrap(ts - theta), 0, atol=1e-11)


def test_awkward_meshes_follow_documented_fallbacks():
    # bow-tie: two fans at vertex 0, laid out one after the other, not rescaled
    bt = shapes.bowtie()
    fans = vertex_fans(bt)
    assert not fans.regular[0]
    ei, r, theta = one_ring_logmap(bt)
    th0 = theta[ei[0] == 0]
    assert np.isfinite(theta).all()
    # each fan spans pi/2 in steps of pi/6; the second starts where the first ends
    assert_allclose(np.sort(th0), np.pi / 6 * np.array([0, 1, 2, 3, 3, 4, 5, 6]), atol=1e-12)
    # fin: non-manifold edges are cuts; everything finite
    fin = shapes.nonmanifold_fin()
    _, r, theta = one_ring_logmap(fin)
    assert np.isfinite(theta).all() and np.isfinite(r).all()
    assert not vertex_fans(fin).regular[fin.nonmanifold_verts].any()
    # one flipped face: its edges become cuts, its vertices boundary-like; still finite
    ico = shapes.icosphere(1)
    f = ico.faces.copy()
    f[0] = f[0, ::-1]
    flipped = Mesh(ico.verts, f)
    fans = vertex_fans(flipped)
    assert not fans.regular[f[0]].any() and fans.regular.sum() == ico.n_verts - 3
    assert np.isfinite(one_ring_logmap(flipped, "world")[2]).all()
    # an unreferenced vertex: no edges, reference -1, offset 0
    extra = Mesh(np.vstack([ico.verts, [[5.0, 5, 5]]]), ico.faces)
    assert vertex_fans(extra).reference[-1] == -1
    assert gauge_offsets(extra, "world")[-1] == 0.0
    assert not (one_ring_logmap(extra)[0] == ico.n_verts).any()


def test_bad_gauge_arguments_raise():
    mesh = shapes.icosphere(1)
    with pytest.raises(MeshError, match="shape"):
        one_ring_logmap(mesh, np.zeros((3, 3, 3)))
    bad = vertex_frames(mesh, "world")
    bad[7, 0, 0] = np.nan
    with pytest.raises(MeshError, match="vertex 7"):
        one_ring_logmap(mesh, bad)
    with pytest.raises(MeshError, match="unknown gauge"):
        one_ring_logmap(mesh, "nope")
    with pytest.raises(MeshError, match="dtype"):
        gauge_offsets(mesh, np.array(["a"] * mesh.n_verts))


def test_tiny_and_degenerate_meshes():
    tri = Mesh([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 2]])
    ei, r, theta = two_ring_logmap(tri)
    assert ei.shape == (2, 0) and r.size == 0 and theta.size == 0  # no vertex at distance 2
    _, _, th1 = one_ring_logmap(tri)
    assert_allclose(
        np.sort(th1), [0, 0, 0, np.pi / 4, np.pi / 4, np.pi / 2], atol=1e-15
    )  # boundary: no rescale
    line = Mesh([[0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0]], [[0, 1, 2], [1, 2, 3]])  # only zero-area faces
    for gauge in ("intrinsic", "world"):
        ei, r, theta = one_ring_logmap(line, gauge)
        assert np.isfinite(theta).all() and np.isfinite(r).all()
        assert np.isfinite(two_ring_logmap(line, gauge)[2]).all()


def test_cached_fans_are_read_only_and_outputs_writable():
    mesh = shapes.icosphere(1)
    fans = vertex_fans(mesh)
    assert vertex_fans(mesh) is fans  # cached per mesh object
    with pytest.raises(ValueError):
        fans.edge_theta[0] = 1.0
    ei, _, theta = one_ring_logmap(mesh)
    ei2, rev = directed_edges(mesh)
    assert ei.flags.writeable and ei2.flags.writeable and rev.flags.writeable and theta.flags.writeable
    ei[0, 0] = -5  # a caller's edit never reaches the cache
    assert vertex_fans(mesh).edge_index[0, 0] == 0
