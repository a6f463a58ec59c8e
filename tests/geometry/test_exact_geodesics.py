"""Exact (MMP) distances: sphere accuracy, components, unreferenced vertices, validators, subprocess sweep."""

from __future__ import annotations

import numpy as np
import pytest

from manifoldnet import Mesh, MeshError, shapes
from manifoldnet.geometry.exact_geodesics import exact_geodesic_distance
from manifoldnet.geometry.geodesics import geodesic_distance

pytest.importorskip("pygeodesic")


def test_sphere_exact_error_below_0_1_percent():
    m = shapes.icosphere(5)
    v = np.asarray(m.verts)
    gc = np.arccos(np.clip(v @ v[0], -1, 1))
    d = geodesic_distance(m, 0, method="exact")
    mk = gc > 1e-9
    assert np.mean(np.abs(d[mk] - gc[mk]) / gc[mk]) <= 1e-3
    assert d[0] == 0.0


def test_flat_disk_is_euclidean():
    m = shapes.flat_disk(6)
    v = np.asarray(m.verts)
    d = exact_geodesic_distance(m, 0)
    np.testing.assert_allclose(d, np.linalg.norm(v - v[0], axis=1), atol=1e-9)


def test_components_and_unreferenced():
    m = shapes.two_spheres(2)
    verts = np.vstack([m.verts, [[9.0, 9, 9]]])
    m2 = Mesh(verts, m.faces)
    comp = np.asarray(m.vertex_components)
    d = exact_geodesic_distance(m2, 0)
    assert d.shape == (m2.n_verts,)
    assert np.isfinite(d[:-1][comp == comp[0]]).all()
    assert np.isinf(d[:-1][comp != comp[0]]).all() and np.isinf(d[-1])
    other = int(np.flatnonzero(comp != comp[0])[0])
    d2 = exact_geodesic_distance(m2, [0, other, m2.n_verts - 1])
    assert np.isfinite(d2).all() and d2[-1] == 0.0


def test_duplicate_faces_are_dropped():
    m = shapes.icosphere(2)
    dup = Mesh(m.verts, np.vstack([m.faces, m.faces[:3, ::-1]]))
    np.testing.assert_allclose(exact_geodesic_distance(dup, 4), exact_geodesic_distance(m, 4), rtol=1e-12)


def test_validators_fire():
    with pytest.raises(MeshError, match="non-manifold edges|edge .* has 3 faces|has [3-9] faces"):
        exact_geodesic_distance(shapes.nonmanifold_fin(), 0)
    with pytest.raises(MeshError, match="vertex-manifold"):
        exact_geodesic_distance(shapes.bowtie(), 0)
    m = shapes.icosphere(1)
    v = np.vstack([m.verts, [[0.0, 0, 0], [1.0, 0, 0], [2.0, 0, 0]]])
    n = m.n_verts
    zero = Mesh(v, np.vstack([m.faces, [[n, n + 1, n + 2]]]))
    with pytest.raises(MeshError, match="zero area"):
        exact_geodesic_distance(zero, 0)
    with pytest.raises(MeshError, match="sources"):
        exact_geodesic_distance(m, [m.n_verts])


@pytest.mark.slow
@pytest.mark.parametrize("folder", ["gc_assets", "format_edge_cases"])
def test_sweep_exact(folder):
    from test_geodesics import sweep

    bad, n_ok = sweep(folder, "exact")
    assert bad == [] and n_ok >= 3


@pytest.mark.parametrize("scale", [1e-15, 1e-30, 1e-60, 1e15, 1e60])
def test_exact_geodesics_scale_with_the_mesh(scale):
    """Issue 18 item 10: pygeodesic's absolute tolerances gave inf at 1e-15; distances scale with the mesh."""
    from manifoldnet.geometry.exact_geodesics import exact_geodesic_distance
    from manifoldnet.shapes import icosphere

    m = icosphere(2)
    d1 = exact_geodesic_distance(m, [0])
    ds = exact_geodesic_distance((m.verts * scale, m.faces), [0])
    assert np.isfinite(ds).all()
    np.testing.assert_allclose(ds / scale, d1, rtol=1e-9, atol=1e-12)
