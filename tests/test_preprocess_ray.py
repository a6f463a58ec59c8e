"""``precompute --backend ray`` / ``preprocess(backend="ray")`` (issue 17): the same verified cache entries as
the process pool, bit for bit; broken meshes reported; resumable; workers lost mid-write retried and never
leaving a partial entry. Each Ray test starts its own local Ray instance (``address=None``)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from manifoldnet.cli import main
from manifoldnet.data import generated as g
from manifoldnet.data.jobs import WORKER_DIED
from manifoldnet.data.preprocess import preprocess
from manifoldnet.io import load_mesh, save_mesh
from manifoldnet.operators import OperatorCache
from manifoldnet.operators.bundle import OperatorBundle
from manifoldnet.operators.cache import cache_key
from manifoldnet.operators.spec import OperatorSpec
from manifoldnet.operators.storage import read_arrays

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="Ray is not installed (pip install 'manifoldnet[ray]'; `make test` installs it)",
)
BROKEN = {
    "broken_index.off": "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n",  # face index out of range
    "broken_text.obj": "v 0 0 0\nv 1 0\nf 1 2 3\n",  # a vertex with two coordinates
}


@pytest.fixture(scope="module")
def mesh_dir(tmp_path_factory):
    """18 generated meshes of distinct vertex counts (every family, several poses) and two broken files."""
    root = tmp_path_factory.mktemp("meshes")
    families = list(g.FAMILIES)
    for i in range(18):
        save_mesh(root / f"m{i:02d}.off", g.generate_shape(families[i % len(families)], i, 150 + 7 * i).mesh)
    for name, text in BROKEN.items():
        (root / name).write_text(text)
    return root


def _entries(cache: Path) -> dict[str, str]:
    """Entry file name -> SHA-256 of its bytes (temporaries excluded)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(cache.glob("*.npz"))}


def _precompute(mesh_dir, cache, *extra):
    argv = ["precompute", str(mesh_dir), "--k", "12", "--cache", str(cache), "--workers", "2"]
    return main([*argv, "--no-progress", *extra])


@needs_ray
def test_ray_matches_process_pool_bit_for_bit(mesh_dir, tmp_path, capsys):
    assert _precompute(mesh_dir, tmp_path / "process") == 1
    out = capsys.readouterr().out
    assert "18 computed" in out and "2 failed" in out

    assert _precompute(mesh_dir, tmp_path / "ray", "--backend", "ray") == 1  # 1: some meshes failed
    out = capsys.readouterr().out
    assert "20 meshes" in out and "18 computed, 0 already cached, 2 failed" in out
    assert "FAILED broken_index: MeshError" in out and "references vertex 7" in out
    assert "FAILED broken_text: MeshError" in out and "OBJ line 2" in out

    ray_entries, process_entries = _entries(tmp_path / "ray"), _entries(tmp_path / "process")
    assert len(ray_entries) == 18 and ray_entries == process_entries  # same names, same bytes
    # What the cache verifies on every hit: the stored checksum of each array (read_arrays checks it), the
    # spec and the operator version; and the entry serves the mesh it was computed from.
    spec = OperatorSpec.make(None, k=12)
    for name in ray_entries:
        ours, theirs = read_arrays(tmp_path / "ray" / name), read_arrays(tmp_path / "process" / name)
        assert ours.keys() == theirs.keys()
        for key in ours:
            np.testing.assert_array_equal(ours[key], theirs[key], strict=True)
    for path in sorted(mesh_dir.glob("m*.off")):
        key = cache_key(load_mesh(path), spec)
        assert f"{key}-k12.npz" in ray_entries
        assert OperatorBundle.load(tmp_path / "ray" / f"{key}-k12.npz").spec == spec

    mtimes = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "ray").glob("*.npz")}
    assert _precompute(mesh_dir, tmp_path / "ray", "--backend", "ray") == 1  # resumed: nothing computed
    out = capsys.readouterr().out
    assert "0 computed, 18 already cached, 2 failed" in out
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "ray").glob("*.npz")} == mtimes  # untouched


TORN = """
import io
import os
import signal
from pathlib import Path


def torn_writes(mesh):
    '''Record each attempt; for the chosen meshes, kill this worker halfway through writing the bundle:
    on every attempt (MN_TEST_CRASH) or on the first one only (MN_TEST_FLAKY).'''
    v = len(mesh.verts)
    marks = Path(os.environ["MN_TEST_MARKS"])
    tries = len(list(marks.glob(f"{v}.*")))
    (marks / f"{v}.{tries}").touch()
    if v == int(os.environ["MN_TEST_CRASH"]) or (v == int(os.environ["MN_TEST_FLAKY"]) and tries == 0):
        from manifoldnet.operators.bundle import OperatorBundle

        real = OperatorBundle.save

        def save(self, fh):
            buf = io.BytesIO()
            real(self, buf)
            fh.write(buf.getvalue()[: len(buf.getvalue()) // 2])
            fh.flush()
            os.fsync(fh.fileno())
            os.kill(os.getpid(), signal.SIGKILL)

        OperatorBundle.save = save
    return mesh
"""


@needs_ray
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_workers_killed_mid_write_are_retried_and_leave_no_partial_entry(mesh_dir, tmp_path, monkeypatch):
    """A worker SIGKILLed halfway through writing an entry: the task is retried (MAX_RETRIES times); a mesh
    that kills its worker every time is reported and the run goes on; no partial entry is ever visible."""
    from manifoldnet.data.ray_backend import MAX_RETRIES

    files = sorted(mesh_dir.glob("m0*.off"))  # 10 meshes
    sizes = [len(load_mesh(f).verts) for f in files]
    assert len(set(sizes)) == len(sizes)
    crash, flaky = files[3].stem, files[6].stem
    (tmp_path / "tornmod.py").write_text(textwrap.dedent(TORN))
    (tmp_path / "marks").mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))  # pickled by name: the Ray workers import tornmod too
    pythonpath = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    monkeypatch.setenv("PYTHONPATH", pythonpath.rstrip(os.pathsep))
    monkeypatch.setenv("MN_TEST_MARKS", str(tmp_path / "marks"))
    monkeypatch.setenv("MN_TEST_CRASH", str(sizes[3]))
    monkeypatch.setenv("MN_TEST_FLAKY", str(sizes[6]))
    import tornmod

    cache = tmp_path / "cache"
    s = preprocess(
        files, cache=cache, workers=2, k=8, backend="ray", pre_transform=tornmod.torn_writes, progress=False
    )
    marks = tmp_path / "marks"
    tries = {f.stem: len(list(marks.glob(f"{v}.*"))) for f, v in zip(files, sizes, strict=True)}
    assert tries[crash] == MAX_RETRIES + 1 and tries[flaky] == 2
    assert all(n == 1 for name, n in tries.items() if name not in (crash, flaky))
    assert s.failed == [(crash, f"{WORKER_DIED}; {MAX_RETRIES + 1} attempts")]
    assert sorted(s.computed) == sorted(f.stem for f in files if f.stem != crash)  # flaky: its retry

    c = OperatorCache(cache)
    spec = OperatorSpec.make(None, k=8)
    assert c.candidates(cache_key(load_mesh(files[3]), spec), 8) == []  # the torn writes left no entry
    assert c.info().entries == 9
    assert c.info().live_temporaries == MAX_RETRIES + 2  # crash's three torn temporaries and flaky's first
    for f in files:  # every entry there is whole: its checksum verifies and it serves its mesh
        if f.stem != crash:
            assert c.lookup(load_mesh(f), spec) is not None
    again = preprocess(files, cache=cache, workers=1, k=8, progress=False)  # the process pool resumes it
    assert again.computed == [crash] and len(again.cached) == 9


def test_bad_backend_and_address_are_refused(mesh_dir, tmp_path, capsys):
    with pytest.raises(ValueError, match="backend must be one of 'process', 'ray', not 'dask'"):
        preprocess([], cache=tmp_path, backend="dask")
    with pytest.raises(ValueError, match="address='auto' names a Ray cluster; it needs backend='ray'"):
        preprocess([], cache=tmp_path, address="auto")
    assert _precompute(mesh_dir, tmp_path, "--address", "auto") == 2
    assert "--address names a Ray cluster: it needs --backend ray" in capsys.readouterr().err
    assert _precompute(mesh_dir, tmp_path, "--backend", "dask") == 2
    assert "invalid choice: 'dask'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # refused before any work


def test_missing_ray_names_the_extra(mesh_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'manifoldnet\[ray\]'"):
        preprocess(sorted(mesh_dir.glob("m*.off")), cache=tmp_path, backend="ray")
    assert _precompute(mesh_dir, tmp_path, "--backend", "ray") == 2
    err = capsys.readouterr().err
    assert "backend='ray' needs Ray: pip install 'manifoldnet[ray]'" in err and "unexpected" not in err
    assert not any(tmp_path.iterdir())


def test_help_names_the_backends(capsys):
    assert main(["precompute", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--backend {process,ray}" in text and "--address" in text and "ray start" in text


@needs_ray
def test_ray_errors_become_one_line_reasons():
    """What Ray raises around a task (rather than the task's own failure, which run_job reports) is named by
    its cause in one line, without Ray's coloured header."""
    import ray

    from manifoldnet.data.ray_backend import MAX_RETRIES, _failure

    cause = ModuleNotFoundError("No module named 'x'")
    wrapped = ray.exceptions.RayTaskError("run_job", "Traceback ...\nline", cause)
    assert _failure(ray, ("m1", "m1.off"), wrapped) == ("m1", "failed", 0.0, f"ModuleNotFoundError: {cause}")
    crashed = ray.exceptions.WorkerCrashedError()
    assert _failure(ray, ("m2", "m2.off"), crashed)[3] == f"{WORKER_DIED}; {MAX_RETRIES + 1} attempts"
    lost = ray.exceptions.NodeDiedError("node 3 died\n")
    assert _failure(ray, ("m3", "m3.off"), lost)[3] == "NodeDiedError: node 3 died"


@needs_ray
def test_a_refused_connection_names_token_mode(monkeypatch):
    """Ray 2.60 clients send the head's token only with RAY_AUTH_MODE=token: a cluster that refuses the
    connection is reported with that hint (ray.init stands in for the refusal here)."""
    import ray

    from manifoldnet.data.ray_backend import ray_session

    def refuse(*args, **kwargs):
        raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.1:6379")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", refuse)
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    with (
        pytest.raises(ConnectionError, match="10.0.0.1:6379 .*set RAY_AUTH_MODE=token"),
        ray_session("10.0.0.1:6379", 2),
    ):
        pass
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    plain = r"^Failed to connect to Ray cluster at 10.0.0.1:6379$"
    with pytest.raises(ConnectionError, match=plain), ray_session("10.0.0.1:6379", 2):
        pass
