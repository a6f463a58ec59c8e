"""Persistent maxima (keypoints) against a union-find reference (manifoldnet.analysis.keypoints)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from manifoldnet import MeshError, shapes
from manifoldnet.analysis import hks_keypoints, local_maxima, maxima_persistence, persistent_maxima


def _reference(mesh, f):
    """Elder-rule persistence by a per-vertex union-find sweep (slow, obvious)."""
    V = mesh.n_verts
    order = np.lexsort((np.arange(V), f))[::-1]
    rank = np.empty(V, dtype=int)
    rank[order[::-1]] = np.arange(V)
    nbrs = [[] for _ in range(V)]
    for a, b in mesh.edges:
        nbrs[a].append(b)
        nbrs[b].append(a)
    parent = list(range(V))
    top = {}
    added = np.zeros(V, dtype=bool)
    out = {}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for v in order:
        added[v] = True
        roots = sorted({find(u) for u in nbrs[v] if added[u]}, key=lambda r: -rank[top[r]])
        if not roots:
            top[v] = v
            continue
        parent[v] = roots[0]
        for r in roots[1:]:
            out[top[r]] = (f[top[r]] - f[v], v)
            parent[r] = roots[0]
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_persistence_matches_union_find(seed):
    mesh = shapes.icosphere(2)
    rng = np.random.default_rng(seed)
    f = rng.normal(size=mesh.n_verts) + 2.0 * mesh.verts[:, 2]
    m, pers, sad = maxima_persistence(mesh, f)
    ref = _reference(mesh, f)
    glob = int(np.argmax(f))
    assert set(m.tolist()) == set(ref) | {glob}
    for v, p, s in zip(m, pers, sad, strict=True):
        if v == glob:
            assert_allclose(p, f.max() - f.min())  # essential: the component's range
            continue
        assert_allclose(p, ref[v][0], rtol=0, atol=1e-15)
        assert s == ref[v][1]


def test_local_maxima_reference_and_ties():
    mesh = shapes.icosphere(2)
    f = np.random.default_rng(3).normal(size=mesh.n_verts)
    A = mesh.adjacency
    ref = [v for v in range(mesh.n_verts) if (f[v] > f[A[v].indices]).all()]
    assert_array_equal(local_maxima(mesh, f), ref)
    # a constant function: ties broken by index; every tie-maximum has persistence 0
    m, pers, _ = maxima_persistence(mesh, np.zeros(mesh.n_verts))
    assert mesh.n_verts - 1 in m
    assert_array_equal(pers, 0.0)


def test_keypoints_find_the_bumps_ranked_by_height():
    mesh = shapes.icosphere(3)
    centres = np.array([[0, 0, 1.0], [1, 0, 0], [0, -1, 0], [-0.6, 0.8, 0]])
    heights = np.array([1.0, 0.8, 0.6, 0.4])
    dots = mesh.verts @ (centres / np.linalg.norm(centres, axis=1, keepdims=True)).T
    f = (heights * np.exp(-((1 - dots) / 0.05))).sum(axis=1)
    kp = persistent_maxima(mesh, f, min_persistence=0.05)
    assert kp.vertices.size == 4
    nearest = np.argmax(mesh.verts[kp.vertices] @ centres.T, axis=1)
    assert_array_equal(nearest, [0, 1, 2, 3])  # ordered by persistence = bump height
    assert np.all(np.diff(kp.persistence) < 0)
    assert_allclose(kp.values, f[kp.vertices])
    assert persistent_maxima(mesh, f, n=2).vertices.size == 2


def test_keypoints_on_an_adjacency_and_components():
    two = shapes.two_spheres(1)
    f = two.verts[:, 2].copy()
    m, pers, _ = maxima_persistence(two, f)
    # each sphere's top is an essential maximum of its own component
    tops = [
        int(np.flatnonzero(two.vertex_components == c)[np.argmax(f[two.vertex_components == c])])
        for c in (0, 1)
    ]
    assert set(tops) <= set(m.tolist())
    m2, p2, _ = maxima_persistence(sp.csr_matrix(two.adjacency), f)
    assert_array_equal(m, m2)
    assert_allclose(pers, p2)


def test_hks_keypoints_are_the_limb_tips():
    pytest.importorskip("manifoldnet.geometry.descriptors")
    from manifoldnet.data.generated import generate_shape

    shape = generate_shape("star", 1, 800)  # a body (part 0) with five limbs (parts 1..5)
    kp, hks = hks_keypoints(shape.mesh, n=8)
    assert hks.shape == (shape.mesh.n_verts,)
    # exactly one keypoint per limb, none on the body; each at its limb's farthest point from the centre
    assert sorted(shape.labels[kp.vertices].tolist()) == [1, 2, 3, 4, 5]
    r = np.linalg.norm(shape.mesh.verts - shape.mesh.verts.mean(axis=0), axis=1)
    for v in kp.vertices:
        limb = shape.labels == shape.labels[v]
        assert r[v] > np.quantile(r[limb], 0.95)


def test_keypoint_validators():
    mesh = shapes.icosphere(1)
    with pytest.raises(MeshError, match="per-vertex"):
        persistent_maxima(mesh, np.ones(3))
    with pytest.raises(MeshError, match="non-finite"):
        f = np.zeros(mesh.n_verts)
        f[4] = np.nan
        persistent_maxima(mesh, f)
    with pytest.raises(MeshError, match="n must be"):
        persistent_maxima(mesh, np.zeros(mesh.n_verts), n=0)
    with pytest.raises(MeshError, match="min_persistence"):
        persistent_maxima(mesh, np.zeros(mesh.n_verts), min_persistence=-1)
    with pytest.raises(MeshError, match="adjacency"):
        local_maxima(np.eye(3), np.zeros(3))
