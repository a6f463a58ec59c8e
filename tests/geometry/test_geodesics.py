"""Heat-method geodesics: accuracy on the sphere, potpourri3d parity, components, unreferenced vertices,
batching, all-pairs, validators, the intrinsic Delaunay cover, and a subprocess sweep over awkward meshes."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from manifoldnet import Mesh, MeshError, shapes
from manifoldnet.geometry.geodesics import (
    BOUNDARY_CONDITIONS,
    GeodesicWarning,
    HeatMethodSolver,
    SPDFactor,
    all_pairs_distances,
    geodesic_distance,
)
from manifoldnet.geometry.intrinsic_delaunay import intrinsic_delaunay_cover
from manifoldnet.geometry.laplacian import laplacian
from manifoldnet.testing import sliver_fan_plate


@pytest.fixture(scope="module")
def sphere():
    m = shapes.icosphere(5)
    assert m.n_verts >= 10000
    return m


@pytest.fixture(scope="module")
def sphere_solver(sphere):
    return HeatMethodSolver(sphere, boundary="neumann")


def _great_circle(m, s):
    v = np.asarray(m.verts)
    return np.arccos(np.clip(v @ v[s], -1, 1))


def test_sphere_heat_error_below_one_percent(sphere, sphere_solver):
    errs = []
    for s in (0, 1234, 9000):
        gc = _great_circle(sphere, s)
        d = sphere_solver.distance(s)
        mk = gc > 1e-9
        errs.append(np.mean(np.abs(d[mk] - gc[mk]) / gc[mk]))
        assert d[s] == pytest.approx(0.0, abs=1e-12)
    assert np.mean(errs) <= 0.01


def test_matches_potpourri3d(sphere, sphere_solver):
    pp3d = pytest.importorskip("potpourri3d")
    pp = pp3d.MeshHeatMethodDistanceSolver(np.asarray(sphere.verts), np.asarray(sphere.faces), 1.0, True)
    for s in (0, 4321):
        ref = pp.compute_distance(s)
        d = sphere_solver.distance(s)
        far = ref > 0.05
        assert_allclose(d[far], ref[far], rtol=1e-3)
    # several sources: potpourri3d shifts the mean over the sources to 0, we pin each source to 0 (module
    # docstring), so the two differ by a small harmonic correction
    ref = pp.compute_distance_multisource([3, 500])
    d = sphere_solver.distance([3, 500])
    far = ref > 0.05
    assert_allclose(d[far], ref[far], rtol=2e-2)
    assert d[3] == d[500] == 0.0


def test_matches_potpourri3d_on_non_delaunay_mesh():
    """The robust path flips to intrinsic Delaunay exactly as potpourri3d's use_robust does."""
    pp3d = pytest.importorskip("potpourri3d")
    m = shapes.noisy_sphere(3, 0.25, 1)
    tri = intrinsic_delaunay_cover(m)
    assert tri.n_flips > 0
    ref = pp3d.MeshHeatMethodDistanceSolver(
        np.asarray(m.verts), np.asarray(m.faces), 1.0, True
    ).compute_distance(7)
    d = HeatMethodSolver(m, boundary="neumann").distance(7)
    far = ref > 0.2 * ref.max()
    assert_allclose(d[far], ref[far], rtol=1e-3)


def test_cover_laplacian_equals_robust_laplacian():
    rl = pytest.importorskip("robust_laplacian")
    for m in (shapes.noisy_sphere(3, 0.25, 2), shapes.nonmanifold_fin(), shapes.flat_disk(5)):
        tri = intrinsic_delaunay_cover(m)
        L2, M2 = rl.mesh_laplacian(np.asarray(m.verts), np.asarray(m.faces), mollify_factor=1e-5)
        assert_allclose((0.5 * tri.cotan_laplacian()).toarray(), L2.toarray(), atol=1e-10 * abs(L2).max())
        assert_allclose(0.5 * tri.vertex_masses(), M2.diagonal(), rtol=1e-10)
        Lb, Mb = laplacian(m, kind="robust")  # helper B's robust kind (the same construction)
        assert_allclose((0.5 * tri.cotan_laplacian()).toarray(), Lb.toarray(), atol=1e-10 * abs(Lb).max())
        assert_allclose(0.5 * tri.vertex_masses(), Mb.diagonal(), rtol=1e-10)
        tw = tri.twin
        np.testing.assert_array_equal(tw[tw], np.arange(tw.size))
        w = 0.5 * tri.halfedge_cotans().reshape(-1)
        assert (w + w[tw]).min() >= -1e-6  # Delaunay


def test_two_spheres_inf_on_unreached():
    m = shapes.two_spheres(3)
    comp = np.asarray(m.vertex_components)
    d = HeatMethodSolver(m).distance(0)
    assert np.isfinite(d[comp == comp[0]]).all()
    assert (d[comp != comp[0]] == np.inf).all()  # +inf (it was -inf, which isinf alone let pass)
    # a source on each: both finite, each component zero at its source
    other = int(np.flatnonzero(comp != comp[0])[0])
    d2 = HeatMethodSolver(m).distance([0, other])
    assert np.isfinite(d2).all()
    assert_allclose(d2[[0, other]], 0.0, atol=1e-12)


def test_unreferenced_last_vertex_gets_inf():
    base = shapes.icosphere(2)
    verts = np.vstack([base.verts, [[5.0, 5.0, 5.0]]])
    m = Mesh(verts, base.faces)
    s = HeatMethodSolver(m)
    d = s.distance(0)
    assert d.shape == (m.n_verts,)
    assert np.isinf(d[-1]) and np.isfinite(d[:-1]).all()
    assert_allclose(d[:-1], HeatMethodSolver(base).distance(0), rtol=1e-12, atol=1e-12)
    d2 = s.distance([0, m.n_verts - 1])
    assert d2[-1] == 0.0


@pytest.mark.parametrize("boundary", ["average", "neumann", "dirichlet"])
def test_flat_disk_boundary_conditions(boundary):
    m = shapes.flat_disk(12)
    v = np.asarray(m.verts)
    c = int(np.argmin(np.linalg.norm(v, axis=1)))
    d = HeatMethodSolver(m, boundary=boundary).distance(c)
    exact = np.linalg.norm(v - v[c], axis=1)
    assert np.isfinite(d).all()
    assert np.mean(np.abs(d - exact)) < 0.03


def test_boundary_source_average_is_accurate():
    m = shapes.flat_disk(20)
    v = np.asarray(m.verts)
    b = int(np.argmax(v[:, 0]))  # on the boundary
    exact = np.linalg.norm(v - v[b], axis=1)
    err = {
        bc: np.mean(np.abs(HeatMethodSolver(m, boundary=bc).distance(b) - exact))
        for bc in BOUNDARY_CONDITIONS
    }
    assert err["average"] < 0.015 and err["neumann"] < 0.015
    assert (
        err["dirichlet"] > err["average"]
    )  # pure Dirichlet bends isolines along the boundary (Crane et al.)


def test_boundary_conditions_coincide_on_closed_mesh():
    m = shapes.icosphere(3)
    ds = [HeatMethodSolver(m, boundary=b).distance(5) for b in ("average", "neumann", "dirichlet")]
    assert_allclose(ds[0], ds[1], atol=1e-12)
    assert_allclose(ds[0], ds[2], atol=1e-12)


def test_batched_equals_single_and_backends_agree():
    m = shapes.noisy_sphere(3, 0.2, 3)
    s = HeatMethodSolver(m, backend="superlu")
    D = s.distances([0, [1, 2], np.int64(30)])
    assert_allclose(D[0], s.distance(0), rtol=1e-10)
    assert_allclose(D[1], s.distance([1, 2]), rtol=1e-10)
    assert_allclose(D[2], s.distance(30), rtol=1e-10)
    assert_allclose(s.distances(np.arange(5), chunk=2), s.distances(np.arange(5)), rtol=1e-10)
    pytest.importorskip("cholespy")
    assert_allclose(
        HeatMethodSolver(m, backend="cholmod").distances([0, [1, 2]]), D[:2], rtol=1e-8, atol=1e-12
    )


def test_non_robust_path_and_one_off():
    m = shapes.icosphere(3)
    d = geodesic_distance(m, 0, robust=False)
    gc = _great_circle(m, 0)
    assert np.mean(np.abs(d - gc)[gc > 0] / gc[gc > 0]) < 0.03


def test_all_pairs_symmetric_and_rows():
    m = shapes.two_spheres(1)
    D = all_pairs_distances(m, chunk=7, progress=False)
    assert D.dtype == np.float32 and D.shape == (m.n_verts, m.n_verts)
    np.testing.assert_array_equal(D, D.T)
    assert (np.diag(D) == 0).all()
    comp = np.asarray(m.vertex_components)
    assert np.isinf(D[comp[:, None] != comp[None, :]]).all()
    rows = HeatMethodSolver(m).distances(np.arange(m.n_verts))
    fin = np.isfinite(rows)
    assert_allclose(D[fin], (0.5 * (rows + rows.T))[fin], rtol=1e-5, atol=1e-6)


def test_all_pairs_memory_refusal():
    m = shapes.icosphere(3)
    with pytest.raises(MeshError, match="GiB"):
        all_pairs_distances(m, max_bytes=1000, progress=False)


@pytest.mark.parametrize(
    "sources, match",
    [
        ([], "empty"),
        ([0, 99999], r"sources\[1\] = 99999"),
        ([-1], r"sources\[0\] = -1"),
        ([0.0], "integer"),
        ([[0, 1]], "1D"),
        ([True], "integer"),
    ],
)
def test_source_validation(sources, match):
    s = HeatMethodSolver(shapes.icosphere(1))
    with pytest.raises(MeshError, match=match):
        s.distance(np.asarray(sources) if sources != [] else sources)


def test_parameter_validation():
    m = shapes.icosphere(1)
    with pytest.raises(MeshError, match="t_coef"):
        HeatMethodSolver(m, t_coef=0)
    with pytest.raises(MeshError, match="boundary"):
        HeatMethodSolver(m, boundary="robin")
    with pytest.raises(MeshError, match="backend"):
        HeatMethodSolver(m, backend="magic")
    with pytest.raises(MeshError, match="method"):
        geodesic_distance(m, 0, method="fast")
    with pytest.raises(MeshError, match="Mesh"):
        HeatMethodSolver(np.zeros((3, 3)))
    with pytest.raises(MeshError, match="sources_list"):
        HeatMethodSolver(m).distances([])


def test_spd_factor_solves():
    import scipy.sparse as sp

    A = sp.diags([np.full(9, -1.0), np.full(10, 4.0), np.full(9, -1.0)], [-1, 0, 1])
    b = np.arange(10.0)
    for backend in ("superlu", "auto"):
        assert_allclose(A @ SPDFactor(A, backend).solve(b), b, atol=1e-12)


_SWEEP = r"""
import json, sys, numpy as np
from manifoldnet import MeshError
from manifoldnet.io import load_mesh
from manifoldnet.geometry.geodesics import HeatMethodSolver
path, method = sys.argv[1], sys.argv[2]
try:
    m = load_mesh(path)
except Exception as exc:
    print(json.dumps({"status": "noload"})); sys.exit(0)
src = int(np.flatnonzero(m.referenced)[0])
try:
    if method == "heat":
        d = HeatMethodSolver(m).distance(src)
    else:
        from manifoldnet.geometry.exact_geodesics import exact_geodesic_distance
        d = exact_geodesic_distance(m, src)
except MeshError as exc:
    print(json.dumps({"status": "mesherror", "msg": str(exc)})); sys.exit(0)
comp = np.asarray(m.vertex_components)
on = (comp == comp[src]) & np.asarray(m.referenced)
ok = d.shape == (m.n_verts,) and bool(np.isfinite(d[on]).all()) and bool(np.isinf(d[~on]).all())
print(json.dumps({"status": "ok" if ok else "bad", "nan": bool(np.isnan(d).any())}))
"""


def sweep(folder, method, timeout=120):
    from conftest import shared_data

    root = shared_data(folder)
    files = sorted(
        p for p in root.iterdir() if p.is_file() and p.suffix.lower() in (".obj", ".off", ".ply", ".stl")
    )
    bad, n_ok = [], 0
    for p in files:
        try:
            r = subprocess.run(
                [sys.executable, "-c", _SWEEP, str(p), method],
                check=False,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            bad.append((p.name, "timeout"))
            continue
        if r.returncode != 0:
            bad.append((p.name, f"crash rc={r.returncode}: {r.stderr[-300:]}"))
            continue
        res = json.loads(r.stdout.strip().splitlines()[-1])
        if res["status"] == "bad":
            bad.append((p.name, res))
        n_ok += res["status"] == "ok"
    return bad, n_ok


@pytest.mark.slow
@pytest.mark.parametrize("folder", ["gc_assets", "format_edge_cases"])
def test_sweep_heat(folder):
    bad, n_ok = sweep(folder, "heat")
    assert bad == [] and n_ok >= 5


def test_cli_geodesic(tmp_path):
    from manifoldnet.cli import main
    from manifoldnet.io import save_mesh

    m = shapes.icosphere(2)
    path = save_mesh(tmp_path / "ico.off", m)
    out = tmp_path / "d.npy"
    assert main(["geodesic", str(path), "--source", "0", "--source", "5", "-o", str(out)]) == 0
    assert_allclose(np.load(out), HeatMethodSolver(m).distance([0, 5]), rtol=1e-12)
    assert main(["geodesic", str(path), "--source", "0", "--method", "exact", "-o", str(out)]) == 0
    assert np.load(out).shape == (m.n_verts,)
    assert main(["geodesic", str(path), "--source", str(m.n_verts), "-o", str(out)]) == 2  # MeshError -> 2


def test_public_names_and_no_torch_in_geometry():
    code = (
        "import sys, manifoldnet.geometry as g\n"
        "for n in ['HeatMethodSolver','geodesic_distance','all_pairs_distances','exact_geodesic_distance',"
        "'VectorHeatSolver','vector_heat_transport','vector_heat_logmap','geodesic_patches','GeodesicPatches']:\n"
        "    getattr(g, n)\n"
        "print('torch' in sys.modules)"
    )
    r = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert r.stdout.strip() == "False"


def _cut_noisy_sphere():
    """An irregular open surface (a sphere without its top cap): boundary edges the tufted cover flips."""
    from manifoldnet import clean

    m = shapes.noisy_sphere(3, 0.2, 4)
    c = np.asarray(m.verts)[np.asarray(m.faces)].mean(axis=1)
    return clean(Mesh(m.verts, np.asarray(m.faces)[c[:, 2] < 0.5]))[0]


@pytest.mark.parametrize("make", [lambda: shapes.noisy_sphere(3, 0.25, 5), _cut_noisy_sphere])
def test_pipeline_identical_to_potpourri3d_up_to_its_poisson_shift(make):
    """With potpourri3d's 1e-6 I added to the Poisson matrix, our steps reproduce it to round-off: same tufted
    cover, mollification, Delaunay flips, heat time, heat solve, normalized gradient and divergence."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    pp3d = pytest.importorskip("potpourri3d")
    m = make()
    ref = pp3d.MeshHeatMethodDistanceSolver(
        np.asarray(m.verts), np.asarray(m.faces), 1.0, True
    ).compute_distance(0)
    s = HeatMethodSolver(m, boundary="neumann")
    tri = s.triangulation
    assert tri.n_flips > 0
    shift = 0.5e-6 if tri.faces.shape[0] == m.n_faces else 1e-6  # one sheet of the cover carries half of L
    rhs = np.zeros((m.n_verts, 1))
    rhs[0] = 1.0
    u = s._heat(rhs)
    gx, gy = s._Gx @ u, s._Gy @ u
    n = np.sqrt(gx**2 + gy**2)
    b = -0.5 * (s._GxT @ (gx / n) + s._GyT @ (gy / n))
    phi = splu((tri.cotan_laplacian() + shift * sp.eye(m.n_verts)).tocsc()).solve(b)[:, 0]
    phi -= phi[0]
    assert_allclose(phi, ref, rtol=1e-8, atol=1e-10 * ref.max())
    # and our exact Poisson solve differs from it by the shift only: well within 1e-3
    far = ref > 0.1 * ref.max()
    assert_allclose(s.distance(0)[far], ref[far], rtol=1e-3)


# ---------------------------------------------------------------- long edges (CAD tessellations): refinement
def _straight(m, s):
    return np.linalg.norm(m.verts - m.verts[s], axis=1)


def test_long_sliver_fan_is_refined_instead_of_shortcut():
    """A flat square (geodesic = straight line) tessellated like a CAD part: a fine strip and a fan of long
    slivers. Without refinement the heat method underestimates by up to the slivers' length (0.40 of 1.0 at
    the far corner); with the default refinement the error is that of a mesh whose edges are at most about
    4 mean edge lengths."""
    m = sliver_fan_plate()
    s = int(np.argmin(np.linalg.norm(m.verts - [1, 1, 0], axis=1)))
    exact = _straight(m, s)
    raw = HeatMethodSolver(m, refine=None).distance(s)
    assert (raw - exact).min() < -0.3  # the failure this guards against
    solver = HeatMethodSolver(m)
    assert solver.solve_mesh.n_verts > m.n_verts and solver.solve_mesh.edge_lengths.max() < 0.5
    d = solver.distance(s)
    assert d.shape == (m.n_verts,) and d[s] == pytest.approx(0.0, abs=1e-12)
    assert np.abs(d - exact).max() < 0.12
    assert np.abs(d - exact).mean() < 0.015
    # batched rows and the one-off agree with the prefactored single solve
    assert_allclose(solver.distances([[s], [0]])[0], d, rtol=1e-10, atol=1e-12)
    assert_allclose(geodesic_distance(m, s), d, rtol=1e-10, atol=1e-12)


def test_refinement_leaves_ordinary_meshes_bit_identical():
    m = shapes.noisy_sphere(2, noise=0.05, seed=0)
    solver = HeatMethodSolver(m)
    assert solver.solve_mesh is m
    assert np.array_equal(solver.distance(3), HeatMethodSolver(m, refine=None).distance(3))
    assert HeatMethodSolver(m, robust=False).refine is None  # "auto": the input triangles when not robust


@pytest.mark.parametrize("refine", [0.5, -1.0, np.inf, "yes"])
def test_refine_parameter_validation(refine):
    with pytest.raises(MeshError, match="refine"):
        HeatMethodSolver(shapes.icosphere(1), refine=refine)


def test_unreferenced_vertices_with_refinement():
    m = sliver_fan_plate()
    v = np.r_[m.verts, [[5.0, 5.0, 5.0]]]
    m2 = Mesh(v, m.faces)
    d = HeatMethodSolver(m2).distance([0, m2.n_verts - 1])
    assert d.shape == (m2.n_verts,) and d[-1] == 0.0
    d = HeatMethodSolver(m2).distance(0)
    assert np.isinf(d[-1]) and np.isfinite(d[:-1]).all()


@pytest.mark.parametrize("name", ["octagonal_pocket.ply", "octagonal_pocket.stl"])
def test_octagonal_pocket_distance_not_below_straight_line(name):
    """The CAD part whose 0.18-long slivers made the heat distance 0.025 where the straight line is 0.166."""
    from conftest import shared_data

    from manifoldnet.io import load_mesh
    from manifoldnet.robustness.operators import source_vertex
    from manifoldnet.testing import assert_distances

    path = shared_data("format_edge_cases") / name
    if not path.exists():
        pytest.skip(f"{path} not found")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the STL is welded (a MeshIOWarning says so)
        m = load_mesh(path)
    s = source_vertex(m)
    # not "dirichlet": three strips one triangle wide hang on the part by single (non-manifold) vertices;
    # every vertex of such a strip is a boundary vertex, so pure Dirichlet heat is zero
    # on it (HeatMethodSolver)
    for boundary in ("average", "neumann"):
        d = HeatMethodSolver(m, boundary=boundary).distance(s)
        assert_distances(d, m, [s])
        reach = np.isfinite(d)
        # tighter than the sweep's check: never more than 0.02 (2 mean edges) below the straight line
        assert (d[reach] - _straight(m, s)[reach]).min() > -0.02, boundary


# ---------------------------------------------------------------- several sources (issue 18 item 12)
@pytest.mark.parametrize("robust", [False, True])
def test_several_sources_are_zero_and_distances_never_negative(robust):
    """The Poisson solution is not exactly zero at every source of a set (the normalized gradient is no exact
    gradient), and the old shift (mean over the sources = 0) left -0.113 at source 0 of this set. Every
    source is now pinned to 0 (Dirichlet), which also lowers the error against the exact distance."""
    m = shapes.icosphere(1)
    src = [0, 5, 7]
    d = geodesic_distance(m, src, robust=robust)
    assert_allclose(d[src], 0.0, atol=1e-12)
    assert d.min() >= 0.0
    exact = geodesic_distance(m, src, method="exact")
    old_mean_error = 0.1319 if not robust else 0.1317  # measured with the mean shift
    assert np.abs(d - exact).mean() < old_mean_error


def test_several_sources_batched_large_sets_and_components():
    """The pinned solve is the same through distances(), for a large set (factored directly) and with a
    second component holding one source (shift as before) or none (inf)."""
    a = shapes.icosphere(2)
    b = shapes.icosphere(1)
    v = np.vstack([a.verts, b.verts + 3.0])
    f = np.vstack([a.faces, b.faces + a.n_verts])
    m = Mesh(v, f)
    s = HeatMethodSolver(m)
    big = np.arange(0, a.n_verts, 2)  # 81 sources: above the Schur-complement size
    sets = [[0, 5, 7], [0, 5, a.n_verts + 3], big, [0, 9]]
    D = s.distances(sets, chunk=2)
    for row, src in zip(D, sets, strict=True):
        assert_allclose(row, s.distance(src), rtol=1e-9, atol=1e-12)
        assert_allclose(row[src], 0.0, atol=1e-12)
        fin = np.isfinite(row)
        assert row[fin].min() >= 0.0
    assert np.isinf(D[0, a.n_verts:]).all() and np.isfinite(D[1, a.n_verts:]).all()
    assert np.isfinite(D[2, : a.n_verts]).all()
    # single-source sets are unchanged: source at 0
    assert s.distance(3)[3] == 0.0


def _sheared_grid(n=60, skew=3.0):
    """A flat grid whose rows are shifted by ``skew`` cells: obtuse triangles, many negative cotan weights."""
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    v = np.stack([i + skew * (j % 2), j * 0.5, 0.0 * i], -1).reshape(-1, 3).astype(float)
    a = (i[:-1, :-1] * n + j[:-1, :-1]).reshape(-1)
    return Mesh(v, np.concatenate([np.stack([a, a + n, a + 1], 1), np.stack([a + 1, a + n, a + n + 1], 1)]))


def test_non_robust_negative_heat_gives_no_direction():
    """With negative cotan weights (robust=False on a non-Delaunay mesh) M + tL is no M-matrix: the heat goes
    negative far from the source (round-off sized there, its sign meaningless), and the gradient of those
    values pointed back at the source, so phi fell below the source's 0 (-4.2 on this grid, -126 of 261 on
    classic/beast.obj). Non-positive heat carries no direction now (as where no heat arrived)."""
    m = _sheared_grid()
    s = HeatMethodSolver(m, robust=False)
    src = np.arange(0, m.n_verts, 120)
    with pytest.warns(GeodesicWarning, match=r"\d+ distances were negative .*robust=True repairs"):
        D = s.distances(src)
    assert D.min() >= 0.0
    rhs = np.zeros((m.n_verts, 1))
    rhs[src[28]] = 1.0
    assert s._heat(rhs).min() < -3e-4  # the negative heat the fix ignores
    # the robust path on the same grid needs no repair
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeodesicWarning)
        assert HeatMethodSolver(m).distances(src).min() >= 0.0


def test_non_robust_beast_never_negative(data_dir):
    path = data_dir / "classic" / "beast.obj"
    if not path.exists():
        pytest.skip("classic/beast.obj not available")
    from manifoldnet import load_mesh

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = load_mesh(path)
        warnings.simplefilter("error", GeodesicWarning)  # the cause is fixed: nothing left to clamp
        D = HeatMethodSolver(m, robust=False).distances([7000, 11000, 14000, 15000, 20000])
    assert D.min() >= 0.0  # was -126 (of 261) before
