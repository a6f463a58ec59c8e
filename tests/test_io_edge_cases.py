"""Every file of ../shared/data/format_edge_cases either loads or raises MeshError saying what is wrong.

The walk runs in a subprocess with a timeout, so a hang or a crash of the interpreter fails this test
instead of stalling CI. Loaded files are checked against the folder's MANIFEST.tsv: the vertex count
equals the file header's (we never split or merge OBJ/OFF/PLY vertices) and the triangle count equals
trimesh's. Files we refuse are exactly those where trimesh found no triangle either.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from conftest import shared_data

WALKER = r"""
import json, sys, warnings
from pathlib import Path
from manifoldnet import MeshError
from manifoldnet.io import load_mesh, load_points
root = Path(sys.argv[1])
for p in sorted(root.rglob("*")):
    if p.is_dir() or p.suffix.lower() not in (".obj", ".off", ".ply", ".stl"):
        continue
    rec = {"file": p.relative_to(root).as_posix()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            m = load_mesh(p)
            rec.update(status="ok", V=m.n_verts, F=m.n_faces)
        except MeshError as exc:
            rec.update(status="MeshError", message=str(exc))
            try:
                rec["points"] = len(load_points(p))
            except MeshError as exc2:
                rec["points_error"] = str(exc2)
        except BaseException as exc:  # what the test forbids
            rec.update(status=type(exc).__name__, message=str(exc))
    rec["warnings"] = [str(w.message) for w in caught]
    print(json.dumps(rec), flush=True)
"""


@pytest.fixture(scope="module")
def walk():
    root = shared_data("format_edge_cases")
    proc = subprocess.run(
        [sys.executable, "-c", WALKER, str(root)], capture_output=True, text=True, timeout=180, check=False
    )
    assert proc.returncode == 0, f"the walker crashed: {proc.stderr[-2000:]}"
    recs = {r["file"]: r for r in map(json.loads, proc.stdout.splitlines())}
    with open(root / "MANIFEST.tsv", newline="") as fh:
        manifest = {r["file"]: r for r in csv.DictReader(fh, delimiter="\t")}
    return root, recs, manifest


def test_every_file_loads_or_raises_mesh_error(walk):
    root, recs, manifest = walk
    assert set(manifest) <= set(recs), f"files not walked: {sorted(set(manifest) - set(recs))}"
    bad = {
        f: (r["status"], r.get("message")) for f, r in recs.items() if r["status"] not in ("ok", "MeshError")
    }
    assert not bad
    for f, r in recs.items():
        if r["status"] == "MeshError":
            msg = r["message"]
            assert "\n" not in msg and str(root / f) in msg, msg
        assert all("Warning" not in w or "MeshIOWarning" in w for w in r["warnings"])


def test_loaded_counts_match_manifest(walk):
    _, recs, manifest = walk
    for f, row in manifest.items():
        r = recs[f]
        if r["status"] != "ok":
            continue
        assert r["F"] == int(row["n_triangles"]), (f, r, row)
        if row["header_vertices"] not in ("", "None"):  # STL has no header: welded counts differ
            assert r["V"] == int(row["header_vertices"]), (f, r, row)
        else:
            assert r["V"] <= int(row["n_vertices"]), (f, r, row)


def test_refused_files_hold_no_triangles(walk):
    _, recs, manifest = walk
    refused = [f for f in manifest if recs[f]["status"] == "MeshError"]
    assert len(refused) == 19  # empty files, point clouds, wireframes, a header with no element
    for f in refused:
        row, r = manifest[f], recs[f]
        assert int(row["n_triangles"]) == 0, (f, r["message"])
        n_head = row["header_vertices"]
        if n_head not in ("", "None", "0"):  # vertices but no faces: a point cloud, and we say so
            assert "point cloud" in r["message"] and "load_points" in r["message"], r["message"]
            assert r["points"] == int(n_head)
        else:
            assert "empty" in r["message"] or "no 'vertex' element" in r["message"], r["message"]


def test_polygon_files_warn(walk):
    _, recs, manifest = walk
    for f, row in manifest.items():
        r = recs[f]
        if r["status"] != "ok" or row["header_faces"] in ("", "None"):
            continue
        if int(row["header_faces"]) < r["F"]:  # fewer polygons than triangles: something was triangulated
            assert any("triangulated" in w for w in r["warnings"]), (f, r["warnings"])
        if f.lower().endswith(".stl"):
            assert any("STL welded" in w for w in r["warnings"])
