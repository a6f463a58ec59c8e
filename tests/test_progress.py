"""Progress bars (issue 19 item 6): shown on a terminal, silent in logs and pipes,
forced or off on request."""

from __future__ import annotations

import io

import numpy as np
import pytest

from manifoldnet import shapes
from manifoldnet.analysis import spectral_shape, zoomout
from manifoldnet.progress import progress_bar, show_progress


class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


def test_default_follows_whether_stderr_is_a_terminal(monkeypatch):
    monkeypatch.setattr("sys.stderr", _Stream(True))
    assert show_progress(None) is True and show_progress(False) is False
    monkeypatch.setattr("sys.stderr", _Stream(False))
    assert show_progress(None) is False and show_progress(True) is True
    monkeypatch.setattr("sys.stderr", None)  # pythonw, some daemons
    assert show_progress(None) is False


def test_bar_writes_to_stderr_only_when_shown(monkeypatch):
    for tty, progress, shown in (
        (True, None, True),
        (False, None, False),
        (False, True, True),
        (True, False, False),
    ):
        err = _Stream(tty)
        monkeypatch.setattr("sys.stderr", err)
        with progress_bar(3, "work", progress) as bar:
            for _ in range(3):
                bar.update(1)
        assert ("work" in err.getvalue()) == shown, (tty, progress)


@pytest.fixture(scope="module")
def two_shapes():
    return spectral_shape(shapes.icosphere(2), k=16), spectral_shape(shapes.noisy_sphere(2, 0.02, 1), k=16)


def test_zoomout_progress(two_shapes, capsys):
    src, dst = two_shapes
    C0 = np.eye(6)
    C, p2p = zoomout(C0, src, dst, 16, step=4, progress=True)
    err = capsys.readouterr().err
    assert "zoomout" in err and "3/3" in err  # 6 -> 10 -> 14 -> 16
    C2, p2p2 = zoomout(C0, src, dst, 16, step=4)  # captured stderr is not a terminal: silent
    assert capsys.readouterr().err == ""
    np.testing.assert_array_equal(C, C2)
    np.testing.assert_array_equal(p2p, p2p2)


def test_preprocess_progress(tmp_path, capsys):
    from manifoldnet.data.datasets import MeshSample
    from manifoldnet.data.preprocess import preprocess

    meshes = [MeshSample("a", shapes.icosphere(1)), MeshSample("b", shapes.icosphere(2))]
    preprocess(meshes, cache=tmp_path, fields=("mass",))
    assert capsys.readouterr().err == ""
    preprocess(meshes, cache=tmp_path, fields=("mass",), progress=True)
    assert "precompute" in capsys.readouterr().err
