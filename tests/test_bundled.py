"""meshes/MANIFEST.tsv matches the regenerated bundled meshes; written files load back bit-identical;
``manifoldnet demo`` writes them and prints their facts."""

from __future__ import annotations

import warnings

import pytest
from numpy.testing import assert_array_equal

from manifoldnet import cli
from manifoldnet.bundled import BUNDLED, bundled_mesh, manifest_row, read_manifest, write_bundled
from manifoldnet.errors import MeshError
from manifoldnet.io import load_mesh


def test_manifest_matches_regenerated_meshes():
    rows = {r["name"]: r for r in read_manifest()}
    assert list(rows) == list(BUNDLED)
    for name in BUNDLED:
        assert manifest_row(name, bundled_mesh(name)) == rows[name], name


def test_manifest_covers_the_fixture_families():
    rows = {r["name"]: r for r in read_manifest()}
    assert rows["genus2"]["genus"] == "2" and rows["torus"]["genus"] == "1"
    assert rows["flat_disk"]["n_boundary_loops"] == "1" and rows["open_cylinder"]["n_boundary_loops"] == "2"
    assert rows["nonmanifold_fin"]["is_edge_manifold"] == "False" and rows["nonmanifold_fin"]["genus"] == ""
    assert rows["bowtie"]["is_vertex_manifold"] == "False" and rows["bowtie"]["is_edge_manifold"] == "True"
    assert rows["two_spheres"]["n_components"] == "2"
    assert {rows[f"icosphere_{s}"]["n_verts"] for s in range(1, 5)} == {"42", "162", "642", "2562"}


def test_written_files_load_back_identical(tmp_path):
    rows = write_bundled(tmp_path)
    assert (tmp_path / "MANIFEST.tsv").is_file() and len(rows) == len(BUNDLED)
    assert read_manifest(tmp_path / "MANIFEST.tsv") == rows
    for name in ("genus2", "noisy_sphere", "nonmanifold_fin"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # triangles only: nothing for the loader to change
            back = load_mesh(tmp_path / f"{name}.obj")
        m = bundled_mesh(name)
        assert_array_equal(back.verts, m.verts)
        assert_array_equal(back.faces, m.faces)


def test_unknown_bundled_name():
    with pytest.raises(MeshError, match="no bundled mesh 'cube'"):
        bundled_mesh("cube")


def test_demo_command(tmp_path, capsys):
    import re

    assert cli.main(["demo", "--out", str(tmp_path), "--per-family", "2", "--k", "16"]) == 0
    out = capsys.readouterr().out
    assert f"generated {len(BUNDLED)} meshes" in out and "all facts match" in out
    assert "genus2" in out and sorted(p.stem for p in (tmp_path / "meshes").glob("*.obj")) == sorted(BUNDLED)
    # every generated shape got a bundle, stored in the cache: the DiffusionNet + GEM one of step 3, and
    # the learning step's own (its unit-area meshes, only the fields its model and HKS inputs read)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 16
    heat, exact = (float(x) for x in re.findall(r"mean relative error ([0-9.]+)%", out))
    assert heat < 1.0 and exact < 0.1
    before, after = (float(x) for x in re.findall(r"mean geodesic error ([0-9.]+) x", out))
    assert after < before and after < 0.05
    # learning (through manifoldnet.tasks): a small DiffusionNet on 4 shapes labels the 4 held-out ones far
    # above chance (21 classes); its run folder and its prediction files (which the viewer reads) are there
    assert float(re.findall(r"held-out per-vertex part accuracy ([0-9.]+)%", out)[0]) > 30.0
    assert {"config.yaml", "last.pt", "history.json", "curves.png", "test_metrics.json"} <= {
        p.name for p in (tmp_path / "run").iterdir()
    }
    assert len(list((tmp_path / "predictions").glob("*.pred.npy"))) == 4
    assert sorted(p.name for p in (tmp_path / "pictures").glob("*.png")) == [
        "errors_body_0001.png",
        "errors_star_0001.png",
        "hks.png",
        "labels.png",
        "pred_body_0001.png",
        "pred_star_0001.png",
        "torus_geodesic.png",
    ]
