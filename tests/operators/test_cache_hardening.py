"""The operator cache under crashes and sharing (issue 18, items 6-9): stale temporaries of killed writers
are removed, an entry that is not a regular file is corrupt (never a hang, IsADirectoryError or a read
until memory runs out), an empty root is refused, entries follow the umask."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import time

import pytest

from manifoldnet import shapes
from manifoldnet.operators import OperatorCache, OperatorSpec, cache_key

FIELDS = ("mass", "laplacian")


@pytest.fixture(scope="module")
def mesh():
    return shapes.icosphere(1)


def _stale(root, name, age_s, size=1000):
    p = root / name
    p.write_bytes(b"\0" * size)
    t = time.time() - age_s
    os.utime(p, (t, t))
    return p


# ------------------------------------------------------------------------- item 6: stale temporaries
def test_a_write_removes_temporaries_older_than_an_hour(mesh, tmp_path):
    c = OperatorCache(tmp_path)
    old = _stale(tmp_path, f".{'a' * 64}-k0.x1y2z3.tmp", 2 * 3600)
    fresh = _stale(tmp_path, f".{'b' * 64}-k0.q9w8e7.tmp", 60)  # a writer at work right now
    other = _stale(tmp_path, "notes.tmp", 2 * 3600)  # not ours: left alone
    c.get(mesh, fields=FIELDS)
    assert not old.exists() and fresh.exists() and other.exists()


def test_info_and_clean(mesh, tmp_path):
    c = OperatorCache(tmp_path)
    c.get(mesh, fields=FIELDS)
    _stale(tmp_path, f".{'a' * 64}-k0.x1y2z3.tmp", 2 * 3600, size=500)
    info = c.info()
    assert info.entries == 1 and info.entry_bytes > 0
    assert info.stale_temporaries == 1 and info.stale_bytes == 500
    assert c.clean() == 1
    info = c.info()
    assert info.entries == 1 and info.stale_temporaries == 0
    assert c.clean(everything=True) == 1 and c.info().entries == 0


def test_info_of_a_missing_root(tmp_path):
    info = OperatorCache(tmp_path / "absent").info()
    assert (info.entries, info.entry_bytes, info.stale_temporaries) == (0, 0, 0)


# ------------------------------------------------------------------------- item 7: entries not regular files
def _entry(c, mesh):
    spec = OperatorSpec(fields=FIELDS)
    return c.path(cache_key(mesh, spec), 0)


def test_entry_replaced_by_a_directory_is_skipped_and_recomputed(mesh, tmp_path, caplog):
    c = OperatorCache(tmp_path)
    _entry(c, mesh).mkdir(parents=True)
    with caplog.at_level(logging.WARNING, logger="manifoldnet.operators.cache"):
        b = c.get(mesh, fields=FIELDS)
    assert b.laplacian is not None
    assert "not a regular file" in caplog.text


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_entry_replaced_by_a_fifo_or_a_device_link_does_not_block_or_fill_memory(tmp_path):
    code = r"""
import os, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31))
from manifoldnet import shapes
from manifoldnet.operators import OperatorCache, OperatorSpec, cache_key
m = shapes.icosphere(1)
c = OperatorCache(sys.argv[1])
p = c.path(cache_key(m, OperatorSpec(fields=("mass", "laplacian"))), 0)
p.parent.mkdir(parents=True, exist_ok=True)
os.mkfifo(p) if sys.argv[2] == "fifo" else p.symlink_to("/dev/zero")
print(c.get(m, fields=("mass", "laplacian")).laplacian.shape)
print(c.lookup(m, fields=("mass", "laplacian")) is not None)
"""
    for kind in ("fifo", "zero"):
        root = tmp_path / kind
        proc = subprocess.run(
            [sys.executable, "-c", code, str(root), kind],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-1500:]
        assert proc.stdout.split() == ["(42,", "42)", "True"], proc.stdout


# ------------------------------------------------------------------------- item 8: empty root
@pytest.mark.parametrize("root", ["", " "])
def test_empty_root_is_refused(root):
    with pytest.raises(ValueError, match="cache root"):
        OperatorCache(root)


# ------------------------------------------------------------------------- item 9: modes follow the umask
@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_entries_follow_the_umask(mesh, tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        c = OperatorCache(tmp_path)
        c.get(mesh, fields=FIELDS)
    finally:
        os.umask(old)
    (entry,) = tmp_path.glob("*.npz")
    assert stat.S_IMODE(entry.stat().st_mode) == mode


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600)])
def test_saved_meshes_follow_the_umask(tmp_path, umask, mode):
    from manifoldnet.io import save_mesh

    old = os.umask(umask)
    try:
        p = save_mesh(tmp_path / "m.obj", shapes.icosphere(0))
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == mode


# ------------------------------------------------------------------------- the command
def test_cache_command_info_and_clean(mesh, tmp_path, capsys):
    import json

    from manifoldnet.cli import main

    OperatorCache(tmp_path).get(mesh, fields=FIELDS)
    _stale(tmp_path, f".{'a' * 64}-k0.x1y2z3.tmp", 2 * 3600, size=2_000_000)
    assert main(["cache", "info", "--cache", str(tmp_path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["entries"] == 1 and info["stale_temporaries"] == 1 and info["stale_bytes"] == 2_000_000
    assert main(["cache", "info", "--cache", str(tmp_path)]) == 0
    assert "stale temporaries:    1 (2.0 MB" in capsys.readouterr().out
    assert main(["cache", "clean", "--cache", str(tmp_path)]) == 0
    assert "removed 1 files" in capsys.readouterr().out
    assert OperatorCache(tmp_path).info().entries == 1
    assert main(["cache", "clean", "--all", "--cache", str(tmp_path)]) == 0
    assert OperatorCache(tmp_path).info().entries == 0
