"""The command line's one error path (issue 18, items 13-15), per command: a bad argument, a missing file and
an unreadable mesh each end in exactly one line on stderr and exit code 2, never a traceback; ``--debug``
shows the traceback. Plus the argument fixes: one source syntax everywhere, ``-o`` writes exactly the path
printed, a cache root that is a file is refused before any work."""

from __future__ import annotations

import numpy as np
import pytest

from manifoldnet import save_mesh, shapes
from manifoldnet.cli import COMMANDS, main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    save_mesh(d / "m.off", shapes.icosphere(1))
    (d / "bad.obj").write_bytes(b"\xff\xfe" + "v 0 0 0\n".encode("utf-16-le"))
    (d / "meshes").mkdir()
    (d / "afile").write_text("x")
    (d / "bad.yaml").write_text("train: {epochs: many}\n")
    return d


def _cases(d, out):
    missing = str(d / "missing.off")
    return {
        "info": [["info", str(d / "m.off"), "--bogus"], ["info", missing], ["info", str(d / "bad.obj")]],
        "geodesic": [
            ["geodesic", str(d / "m.off"), "--source", "abc", "-o", out],
            ["geodesic", missing, "--source", "0", "-o", out],
            ["geodesic", str(d / "bad.obj"), "--source", "0", "-o", out],
        ],
        "precompute": [
            ["precompute", str(d / "meshes"), "--fields", "nonsense"],
            ["precompute", str(d / "missing_dir")],
            ["precompute", str(d / "meshes"), "--cache", str(d / "afile")],
        ],
        "view": [
            ["view", str(d / "m.off"), "--geodesic", "abc", "--screenshot", out],
            ["view", missing, "--screenshot", out],
            ["view", str(d / "bad.obj"), "--screenshot", out],
        ],
        "demo": [["demo", "--per-family", "x"], ["demo", "--out", str(d / "afile" / "sub")]],
        "train": [
            ["train", str(d / "bad.yaml"), "--bogus"],
            ["train", str(d / "missing.yaml")],
            ["train", str(d / "bad.yaml")],
            ["train", str(d / "afile")],
        ],
        "eval": [
            ["eval", str(d / "missing.pt")],
            ["eval", str(d / "missing.pt"), "test"],
            ["eval", str(d / "afile"), "test"],
        ],
        "cache": [
            ["cache", "frob"],
            ["cache", "info", "--cache", ""],
            ["cache", "info", "--cache", str(d / "afile")],
        ],
    }


def test_every_command_is_covered(files, tmp_path):
    assert set(_cases(files, str(tmp_path / "o"))) == set(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_errors_are_one_line_and_exit_2(files, tmp_path, capsys, command):
    if command == "view":
        pytest.importorskip("pyvista")
    for argv in _cases(files, str(tmp_path / "o.png"))[command]:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"manifoldnet {command}: error: "), (argv, err)
        assert "Traceback" not in err


def test_debug_shows_the_traceback(files, capsys):
    assert main(["info", str(files / "bad.obj"), "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.strip().splitlines()[-1].startswith("manifoldnet info: error: ")


def test_error_line_summarizes():
    from manifoldnet.cli import error_line

    line = error_line(ValueError("x = " + str(np.arange(100000))))
    assert "\n" not in line and len(line) <= 400
    assert "report the traceback" in error_line(AssertionError("boom"))


def test_geodesic_writes_exactly_the_printed_path_and_takes_commas(files, tmp_path, capsys):
    out = tmp_path / "out.txt"
    assert (
        main(
            [
                "geodesic",
                str(files / "m.off"),
                "--source",
                "0,5",
                "--source",
                "7",
                "--method",
                "exact",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out.split(":")[0]
    assert printed == str(out) and out.exists() and not (tmp_path / "out.txt.npy").exists()
    d = np.load(out)
    assert d.shape == (42,)
    np.testing.assert_allclose(d[[0, 5, 7]], 0, atol=1e-6)
    assert main(["geodesic", str(files / "m.off"), "--source", "99", "-o", str(out)]) == 2
    assert "--source 99 is not a vertex" in capsys.readouterr().err


def test_view_hks_scale_out_of_range_is_refused(files, tmp_path, capsys):
    pytest.importorskip("pyvista")
    assert (
        main(["view", str(files / "m.off"), "--scalar", "hks:999", "--screenshot", str(tmp_path / "h.png")])
        == 2
    )
    assert "scale 999 does not exist" in capsys.readouterr().err
    assert not (tmp_path / "h.png").exists()
