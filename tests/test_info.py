"""``manifoldnet info``: JSON and text facts, exit code 2 with one line (no traceback) on bad input, and a
``manifoldnet --help`` that imports nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from numpy.testing import assert_allclose

from manifoldnet import cli, shapes
from manifoldnet.bundled import BUNDLED, bundled_mesh, read_manifest
from manifoldnet.io import save_mesh


def _info_json(path, capsys) -> dict:
    assert cli.main(["info", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("name", list(BUNDLED))
def test_info_json_matches_manifest(tmp_path, capsys, name):
    p = save_mesh(tmp_path / f"{name}.off", bundled_mesh(name))
    facts = _info_json(p, capsys)
    row = {r["name"]: r for r in read_manifest()}[name]
    for key in ("n_verts", "n_faces", "n_edges", "euler_characteristic", "n_boundary_loops", "n_components"):
        assert facts[key] == int(row[key]), key
    assert facts["genus"] == (int(row["genus"]) if row["genus"] else None)
    assert str(facts["is_edge_manifold"]) == row["is_edge_manifold"]
    assert_allclose(facts["total_area"], float(row["total_area"]), rtol=1e-5)
    assert facts["load_warnings"] == []


def test_info_json_geometry_and_defects(tmp_path, capsys):
    m = shapes.icosphere(2, radius=2.0)
    facts = _info_json(save_mesh(tmp_path / "s.ply", m), capsys)
    assert_allclose(facts["bbox_min"], [-2, -2, -2], rtol=1e-12)
    assert_allclose(facts["bbox_max"], [2, 2, 2], rtol=1e-12)
    assert_allclose(facts["total_area"], m.total_area, rtol=1e-15)
    assert facts["is_manifold"] and facts["is_orientable"] and facts["is_oriented"]
    bad = tmp_path / "d.obj"
    bad.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nv 2 0 0\nv 7 7 7\nf 1 2 3\nf 3 1 2\nf 1 2 4\n")
    f = _info_json(bad, capsys)
    assert (f["duplicate_faces"], f["zero_area_faces"], f["unreferenced_verts"]) == (1, 1, 1)
    assert len(f["warnings"]) >= 3


def test_info_text_output(tmp_path, capsys):
    p = tmp_path / "q.obj"
    p.write_text("v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\n")
    assert cli.main(["info", str(p)]) == 0
    out = capsys.readouterr().out
    assert "euler_characteristic  1" in out and "bounding_box" in out
    assert "loader: " in out and "triangulated 1 polygons" in out


def _run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "manifoldnet.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_info_bad_files_exit_2_with_one_line(tmp_path, capsys):
    pts = tmp_path / "p.ply"
    pts.write_text(
        "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
        "property float z\nend_header\n0 0 0\n"
    )
    trunc = tmp_path / "t.off"
    trunc.write_text("OFF\n10 1 0\n0 0 0\n")
    (tmp_path / "x.abc").write_text("x")
    cases = [
        (trunc, "declares 10 vertices"),
        (tmp_path / "missing.obj", "No such file"),
        (tmp_path / "x.abc", "unknown mesh format"),
    ]
    for path, what in cases:
        assert cli.main(["info", str(path), "--json"]) == 2
        cap = capsys.readouterr()
        lines = cap.err.strip().splitlines()
        assert cap.out == "" and len(lines) == 1, cap
        assert lines[0].startswith("manifoldnet info: error:") and what in lines[0], lines
    # the real process: exit status 2, one line, no traceback
    proc = _run_cli("info", str(pts))
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "point cloud; use manifoldnet.load_points" in proc.stderr


def test_help_is_lazy():
    code = (
        "import sys\nfrom manifoldnet import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        # the numpy/scipy layers are imported plainly by `import manifoldnet`; what stays out of --help is the
        # slow or optional dependencies and the subcommands' modules
        "heavy = [m for m in ('torch', 'trimesh', 'pyvista', 'potpourri3d', 'pygeodesic', 'robust_laplacian',"
        " 'manifoldnet.commands.info', 'manifoldnet.nn') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert "COMMAND" in proc.stdout and "info" in proc.stdout
    assert "HEAVY []" in proc.stdout, proc.stdout


def test_importing_the_viewer_loads_no_pyvista():
    """The viewer's modules load pyvista (and VTK) only when they draw, so ``import manifoldnet_viewer`` works
    and stays light where pyvista is missing or has no display."""
    code = (
        "import sys\nimport manifoldnet_viewer as mv\nmv.show, mv.Scene, mv.load_labels\n"
        "heavy = ('pyvista', 'vtk', 'vtkmodules', 'torch', 'trame')\n"
        "print('HEAVY', [m for m in heavy if m in sys.modules])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert "HEAVY []" in proc.stdout, proc.stdout
