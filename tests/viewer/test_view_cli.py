"""``manifoldnet view`` headless: every mode writes a PNG offscreen; bad input exits 2 with a message."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from manifoldnet import save_mesh, shapes
from manifoldnet.cli import main

Image = pytest.importorskip("PIL.Image")
pytest.importorskip("pyvista")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("view")
    m = shapes.icosphere(2)
    save_mesh(d / "sphere.off", m)
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    save_mesh(d / "turned.off", m.with_verts(m.verts @ rot.T))
    np.save(d / "x.npy", m.verts[:, 0])
    np.save(d / "chan.npy", m.verts[:, :2])
    np.savetxt(d / "labels.txt", (m.verts[:, 2] > 0).astype(int) - (m.verts[:, 0] > 0.8), fmt="%d")
    np.savetxt(d / "pred.txt", (m.verts[:, 2] > 0.1).astype(int), fmt="%d")
    np.save(d / "vec.npy", np.cross(m.verts, [0.3, 0.2, 0.9]))
    np.savetxt(d / "ids.vts", np.arange(1, m.n_verts + 1), fmt="%d")
    np.savetxt(d / "bad.txt", np.ones(5))
    return d, m


def _png(path, size):
    img = np.asarray(Image.open(path).convert("RGB"))
    assert img.shape == (size[1], size[0], 3)
    assert img.std() > 5  # not a blank picture
    return img


@pytest.mark.parametrize(
    "extra",
    [
        ["--scalar", "{d}/x.npy", "--isolines", "6"],
        ["--channels", "{d}/chan.npy"],
        ["--labels", "{d}/labels.txt", "--label-offset", "1"],
        ["--labels", "{d}/labels.txt", "--predictions", "{d}/pred.txt"],
        ["--vectors", "{d}/vec.npy", "--max-arrows", "50"],
        ["--geodesic", "0,40", "--isolines", "8"],
        ["--frames", "--transport", "7", "--max-arrows", "40"],
        [
            "--correspondence",
            "{d}/turned.off",
            "{d}/ids.vts",
            "{d}/ids.vts",
            "--truth",
            "{d}/ids.vts",
            "{d}/ids.vts",
            "--error-metric",
            "euclidean",
        ],
    ],
    ids=["scalar", "channels", "labels", "predictions", "vectors", "geodesic", "transport", "correspondence"],
)
def test_view_modes_write_png(files, tmp_path, extra, capsys):
    d, _ = files
    out = tmp_path / "out.png"
    args = [
        "view",
        str(d / "sphere.off"),
        *[a.format(d=d) for a in extra],
        "--screenshot",
        str(out),
        "--window",
        "200",
        "150",
    ]
    assert main(args) == 0
    _png(out, (200, 150))
    assert str(out) in capsys.readouterr().out


def test_view_bad_inputs_exit_2_with_message(files, tmp_path, capsys):
    d, m = files
    out = str(tmp_path / "o.png")
    assert main(["view", str(d / "sphere.off"), "--scalar", str(d / "bad.txt"), "--screenshot", out]) == 2
    assert f"{m.n_verts} vertices and {m.n_faces} faces" in capsys.readouterr().err
    assert (
        main(
            [
                "view",
                str(d / "sphere.off"),
                "--scalar",
                str(d / "x.npy"),
                "--labels",
                str(d / "labels.txt"),
                "--screenshot",
                out,
            ]
        )
        == 2
    )
    assert "one surface colour at a time" in capsys.readouterr().err
    assert main(["view", str(d / "sphere.off"), "--geodesic", "9999", "--screenshot", out]) == 2
    assert "9999" in capsys.readouterr().err
    assert main(["view", str(d / "missing.off"), "--screenshot", out]) == 2


def test_view_web_without_extra_names_it(files, monkeypatch, capsys):
    d, _ = files
    monkeypatch.setitem(sys.modules, "trame", None)
    assert main(["view", str(d / "sphere.off"), "--web"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'manifoldnet[web]'" in err and "trame" in err


def test_web_app_builds_when_extra_installed(files):
    pytest.importorskip("trame")
    pytest.importorskip("trame_vuetify")
    pytest.importorskip("trame_pyvista")
    import manifoldnet_viewer as mv
    from manifoldnet_viewer.web import build_app

    _, m = files
    scene = mv.build_scene(m, scalars=m.verts[:, 0], off_screen=True, window_size=(200, 150))
    server = build_app(scene.plotter, name="manifoldnet-view-test")
    assert server is not None and server.ui is not None
    scene.plotter.close()


def test_view_reads_a_saved_bundle(files, tmp_path, capsys):
    from manifoldnet.operators import compute_operators

    d, m = files
    bundle = compute_operators(m, fields=["frames"], gauge="world")
    bundle.save(tmp_path / "ops.npz")
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    common = ["--window", "160", "160", "--max-arrows", "60"]
    assert (
        main(
            [
                "view",
                str(d / "sphere.off"),
                "--bundle",
                str(tmp_path / "ops.npz"),
                "--frames",
                "--screenshot",
                str(a),
                *common,
            ]
        )
        == 0
    )
    assert main(["view", str(d / "sphere.off"), "--frames", "world", "--screenshot", str(b), *common]) == 0
    # the bundle's (world-gauge) frames are the ones drawn
    np.testing.assert_array_equal(_png(a, (160, 160)), _png(b, (160, 160)))
    small = shapes.icosphere(1)
    save_mesh(tmp_path / "small.off", small)
    assert (
        main(
            [
                "view",
                str(tmp_path / "small.off"),
                "--bundle",
                str(tmp_path / "ops.npz"),
                "--screenshot",
                str(a),
            ]
        )
        == 2
    )
    assert f"{m.n_verts} vertices, the mesh {small.n_verts}" in capsys.readouterr().err


def test_view_cache_keeps_eigenpairs(files, tmp_path):
    pytest.importorskip("manifoldnet.geometry.spectral")
    d, _ = files
    cache = tmp_path / "cache"
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    base = [
        "view",
        str(d / "sphere.off"),
        "--scalar",
        "eig:3",
        "--cache",
        str(cache),
        "--window",
        "120",
        "120",
    ]
    assert main([*base, "--screenshot", str(a)]) == 0
    entries = list(cache.glob("*.npz"))
    assert len(entries) == 1 and entries[0].name.endswith("-k4.npz")
    assert main([*base, "--screenshot", str(b)]) == 0  # served from the cache entry
    assert list(cache.glob("*.npz")) == entries
    np.testing.assert_array_equal(_png(a, (120, 120)), _png(b, (120, 120)))


def test_needed_eigenpairs():
    from manifoldnet_viewer.inputs import needed_eigenpairs

    assert needed_eigenpairs("eig:3", 100) == 4
    assert needed_eigenpairs("eig:2-9", 100) == 10
    assert needed_eigenpairs("eig", 100) == 16
    assert needed_eigenpairs("hks:2", 100) == 99 and needed_eigenpairs("hks", 5000) == 128
    assert needed_eigenpairs("gauss", 100) == 0 and needed_eigenpairs("x.npy", 100) == 0


def test_view_without_display_says_what_to_do(files, monkeypatch, capsys):
    d, _ = files
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["view", str(d / "sphere.off"), "--window", "100", "100"]) == 2
    err = capsys.readouterr().err
    assert "no display" in err and "--screenshot" in err and "--web" in err


@pytest.mark.parametrize("spec", ["hks:2", "hks", "eig:1-5"])
def test_view_spectral_features(files, tmp_path, spec):
    pytest.importorskip("manifoldnet.geometry.spectral")
    pytest.importorskip("manifoldnet.geometry.descriptors")
    d, _ = files
    out = tmp_path / "s.png"
    assert (
        main(
            [
                "view",
                str(d / "sphere.off"),
                "--scalar",
                spec,
                "--screenshot",
                str(out),
                "--window",
                "120",
                "100",
            ]
        )
        == 0
    )
    _png(out, (120, 100))


def test_view_curvature_spec(files, tmp_path):
    pytest.importorskip("manifoldnet.geometry.curvature")
    d, _ = files
    out = tmp_path / "k.png"
    assert (
        main(
            [
                "view",
                str(d / "sphere.off"),
                "--scalar",
                "gauss",
                "--screenshot",
                str(out),
                "--window",
                "120",
                "100",
            ]
        )
        == 0
    )
    _png(out, (120, 100))
