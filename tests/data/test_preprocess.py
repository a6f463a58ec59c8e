"""Parallel, resumable preprocessing and the ``manifoldnet precompute`` command."""

from __future__ import annotations

import pytest

from manifoldnet.cli import main
from manifoldnet.data import generated as g
from manifoldnet.data.preprocess import preprocess
from manifoldnet.io import save_mesh
from manifoldnet.operators import OperatorCache

FIELDS = ("mass", "laplacian", "gradient")


@pytest.fixture(scope="module")
def mesh_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("meshes")
    for i, fam in enumerate(("body", "torus", "star")):
        save_mesh(root / f"m{i}.off", g.generate_shape(fam, i, 200).mesh)
    (root / "broken.off").write_text("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n")  # index out of range
    return root


def test_workers_resume_and_failures(mesh_dir, tmp_path):
    files = sorted(mesh_dir.glob("*.off"))
    s = preprocess(files, cache=tmp_path, workers=2, progress=False, fields=FIELDS)
    assert sorted(s.computed) == ["m0", "m1", "m2"] and s.cached == []
    assert [n for n, _ in s.failed] == ["broken"]
    assert "vertex 7" in s.failed[0][1]  # the reason names the problem
    assert not s.ok and "FAILED broken" in str(s)
    again = preprocess(files, cache=tmp_path, workers=1, progress=False, fields=FIELDS)
    assert sorted(again.cached) == ["m0", "m1", "m2"] and again.computed == []  # resumed: nothing recomputed
    c = OperatorCache(tmp_path)
    from manifoldnet.io import load_mesh

    assert c.lookup(load_mesh(mesh_dir / "m1.off"), fields=FIELDS) is not None


def test_in_memory_dataset(tmp_path):
    bench = g.generated_benchmark(n_per_family=1, seed=0, n_verts=(150, 160))
    s = preprocess(bench, cache=tmp_path, workers=1, progress=False, fields=("mass",))
    assert s.ok and len(s.computed) == len(bench) == len(g.FAMILIES)


def test_cli_precompute(mesh_dir, tmp_path, capsys):
    rc = main(
        [
            "precompute",
            str(mesh_dir),
            "--k",
            "8",
            "--cache",
            str(tmp_path),
            "--fields",
            "mass,laplacian",
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 1 and "3 computed" in out and "FAILED broken" in out
    rc = main(
        ["precompute", str(mesh_dir), "--cache", str(tmp_path), "--fields", "mass,nonsense", "--no-progress"]
    )
    assert rc == 2
    assert main(["precompute", str(tmp_path / "nowhere"), "--cache", str(tmp_path)]) == 2


def test_cli_precompute_patches_recursive_and_field_help(tmp_path, capsys):
    """--patch-k reaches the patches field, --recursive finds nested meshes, --help names every field."""
    from manifoldnet.io import load_mesh
    from manifoldnet.operators.fields import FIELD_TABLE

    root = tmp_path / "data"
    (root / "a" / "b").mkdir(parents=True)
    save_mesh(root / "top.off", g.generate_shape("torus", 0, 150).mesh)
    save_mesh(root / "a" / "b" / "deep.off", g.generate_shape("star", 1, 150).mesh)
    cache = tmp_path / "cache"
    argv = ["precompute", str(root), "--cache", str(cache), "--fields", "patches", "--no-progress"]
    assert main([*argv, "--patch-k", "5", "--recursive"]) == 0
    assert "2 computed" in capsys.readouterr().out
    b = OperatorCache(cache).lookup(load_mesh(root / "a" / "b" / "deep.off"), fields=("patches",), patch_k=5)
    assert b is not None and b.patch_index.shape[1] > 0
    assert main([*argv, "--patch-radius", "0.3"]) == 0  # not recursive: the top mesh only
    assert "1 computed" in capsys.readouterr().out
    assert main(argv) == 2  # patches without a size
    assert main([*argv, "--patch-k", "5", "--patch-radius", "0.3"]) == 2  # argparse: mutually exclusive
    assert main(["precompute", str(root), "--cache", str(cache), "--patch-k", "5"]) == 2  # no patches field
    capsys.readouterr()
    assert main(["precompute", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    for name in FIELD_TABLE:
        assert name in help_text
    assert "--patch-radius" in help_text and "--recursive" in help_text


def test_cli_precompute_patch_rings(tmp_path, capsys):
    """--patch-rings n stores the n-ring patches (what geodesic_patches(rings=n) gives); bad uses exit 2."""
    import numpy as np

    from manifoldnet.geometry.patches import geodesic_patches
    from manifoldnet.io import load_mesh

    root, cache = tmp_path / "data", tmp_path / "cache"
    root.mkdir()
    save_mesh(root / "t.off", g.generate_shape("torus", 2, 150).mesh)
    mesh = load_mesh(root / "t.off")
    argv = ["precompute", str(root), "--cache", str(cache), "--fields", "patches", "--no-progress"]
    assert main([*argv, "--patch-rings", "2", "--dtype", "float64"]) == 0
    assert "1 computed" in capsys.readouterr().out
    b = OperatorCache(cache).lookup(mesh, fields=("patches",), patch_rings=2, dtype="float64")
    p = geodesic_patches(mesh, rings=2, frames="intrinsic")
    assert b is not None and b.spec.patch_rings == 2
    np.testing.assert_array_equal(b.patch_index, p.edge_index)
    np.testing.assert_allclose(b.patch_r, p.r, rtol=1e-12)
    assert main([*argv, "--patch-rings", "2", "--patch-k", "5"]) == 2  # argparse: mutually exclusive
    assert main([*argv, "--patch-rings", "0"]) == 2  # the spec refuses it
    assert main(["precompute", str(root), "--cache", str(cache), "--patch-rings", "2"]) == 2  # no patches
    err = capsys.readouterr().err
    assert "patch_rings" in err and "--patch-rings" in err
