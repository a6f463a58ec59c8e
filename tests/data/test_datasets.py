"""Folder dataset (labels, correspondences, validation) and the FAUST / RNA readers on real data."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_data
from numpy.testing import assert_array_equal

from manifoldnet import MeshError
from manifoldnet.data import generated as g
from manifoldnet.data.datasets import FolderDataset, OperatorDataset, faust_5k, read_int_file, rna
from manifoldnet.io import save_mesh


def _vts(n):
    return (np.arange(50) * 7) % n


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("ds")
    for sub in ("meshes", "labels", "corres"):
        (root / sub).mkdir()
    shapes = [g.generate_shape("body", i, 200 + 30 * i) for i in range(3)]
    for s in shapes:
        save_mesh(root / "meshes" / f"{s.name}.off", s.mesh)
        np.savetxt(root / "labels" / f"{s.name}.txt", s.labels, fmt="%d")
        np.savetxt(root / "corres" / f"{s.name}.vts", _vts(s.mesh.n_verts) + 1, fmt="%d")
    return root, shapes


def test_folder_dataset_reads_meshes_labels_and_correspondences(folder):
    root, shapes = folder
    ds = FolderDataset(root / "meshes", labels_dir=root / "labels", corres_dir=root / "corres")
    assert len(ds) == 3 and ds.names == sorted(s.name for s in shapes)
    for item, s in zip(ds, sorted(shapes, key=lambda s: s.name), strict=True):
        assert item.name == s.name and item.label_kind == "vertex"
        assert_array_equal(item.mesh.faces, s.mesh.faces)
        np.testing.assert_allclose(item.mesh.verts, s.mesh.verts, rtol=0, atol=0)
        assert_array_equal(item.labels, s.labels)
        assert_array_equal(item.corres, _vts(s.mesh.n_verts))  # 1-based on disk, 0-based in memory
        assert not item.labels.flags.writeable
    assert [x.name for x in ds[1:]] == ds.names[1:]
    with pytest.raises(IndexError):
        ds[3]


def test_folder_dataset_validates(folder, tmp_path):
    root, shapes = folder
    name = min(s.name for s in shapes)
    with pytest.raises(FileNotFoundError, match="mesh folder not found"):
        FolderDataset(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="missing"):
        FolderDataset(root / "meshes", names=["nope"])
    with pytest.raises(ValueError, match="label_kind"):
        FolderDataset(root / "meshes", labels_dir=root / "labels", label_kind="edge")
    # face labels with a vertex count: the count check fires and names the file
    ds = FolderDataset(root / "meshes", names=[name], labels_dir=root / "labels", label_kind="face")
    with pytest.raises(MeshError, match=r"labels for \d+ faces"):
        ds[0]
    bad = tmp_path / "corres"
    bad.mkdir()
    (bad / f"{name}.vts").write_text("1\n2\n100000\n")
    ds = FolderDataset(root / "meshes", names=[name], corres_dir=bad)
    with pytest.raises(MeshError, match="line 3 holds vertex 100000"):
        ds[0]
    (tmp_path / "x.txt").write_text("1\n2\nthree\n")
    with pytest.raises(MeshError, match="three"):
        read_int_file(tmp_path / "x.txt")


def test_readers_say_where_they_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="MANIFOLDNET_DATA"):
        faust_5k(tmp_path)
    with pytest.raises(FileNotFoundError, match="rna"):
        rna(tmp_path)


def test_operator_dataset(folder, tmp_path):
    root, _ = folder
    ds = OperatorDataset(
        FolderDataset(root / "meshes", labels_dir=root / "labels"),
        cache=tmp_path,
        fields=("mass", "laplacian"),
    )
    item = ds[0]
    assert item["ops"].n_verts == item["mesh"].n_verts == len(item["labels"])
    assert item["label_kind"] == "vertex"
    assert len(list(tmp_path.glob("*.npz"))) == 1


def test_faust_5k_real_data():
    shared_data("faust_5k")
    train, test = faust_5k(split="train"), faust_5k(split="test")
    assert len(train) == 80 and len(test) == 20 and len(faust_5k(split=None)) == 100
    assert train.names[0] == "tr_reg_000" and test.names[0] == "tr_reg_080"
    a, b = train[0], test[-1]
    for s in (a, b):
        assert s.corres.shape == (5000,) and s.corres.min() >= 0 and s.corres.max() < s.mesh.n_verts
        assert 4990 <= s.mesh.n_verts <= 5010
    with pytest.raises(ValueError, match="split"):
        faust_5k(split="val")


def test_rna_real_data():
    shared_data("rna")
    train, test = rna(split="train"), rna(split="test")
    assert len(train) == 60 and len(test) == 30 and not set(train.names) & set(test.names)
    s = test[0]
    assert s.labels.shape == (s.mesh.n_verts,) and s.labels.min() >= 0 and s.labels.max() < 260


def test_folder_dataset_keeps_meshes_that_share_a_stem(tmp_path):
    """box.obj and box.STL both load (named with their suffix); labels follow the names; a unique stem keeps
    its short name and its stem-named labels; an ambiguous stem in ``names`` is refused, naming both files."""
    shapes = [g.generate_shape("body", i, 200 + 30 * i) for i in range(3)]
    mdir, ldir = tmp_path / "meshes", tmp_path / "labels"
    mdir.mkdir()
    ldir.mkdir()
    save_mesh(mdir / "box.obj", shapes[0].mesh)
    save_mesh(mdir / "box.STL", shapes[1].mesh)
    save_mesh(mdir / "cat.off", shapes[2].mesh)
    np.savetxt(ldir / "box.obj.txt", shapes[0].labels, fmt="%d")
    np.savetxt(ldir / "box.STL.txt", shapes[1].labels, fmt="%d")
    np.savetxt(ldir / "cat.txt", shapes[2].labels, fmt="%d")
    ds = FolderDataset(mdir, labels_dir=ldir)
    assert ds.names == ["box.STL", "box.obj", "cat"]
    assert [p.name for p in ds.paths] == ["box.STL", "box.obj", "cat.off"]
    for name, s in (("box.obj", shapes[0]), ("box.STL", shapes[1]), ("cat", shapes[2])):
        item = ds[ds.names.index(name)]
        assert item.mesh.n_faces == s.mesh.n_faces  # each file read, none dropped
        assert_array_equal(item.labels, s.labels)
    with pytest.raises(FileNotFoundError, match=r"'box' is ambiguous.*box\.STL and box\.obj"):
        FolderDataset(mdir, names=["box"])
    assert FolderDataset(mdir, names=["box.obj"]).paths[0].name == "box.obj"


def test_folder_dataset_recursive_is_opt_in(tmp_path):
    shapes = [g.generate_shape("body", i, 200 + 30 * i) for i in range(2)]
    mdir, ldir = tmp_path / "meshes", tmp_path / "labels"
    (mdir / "sub").mkdir(parents=True)
    (ldir / "sub").mkdir(parents=True)
    save_mesh(mdir / "a.off", shapes[0].mesh)
    save_mesh(mdir / "sub" / "a.off", shapes[1].mesh)  # same stem, other folder: no collision
    np.savetxt(ldir / "sub" / "a.txt", shapes[1].labels, fmt="%d")
    assert FolderDataset(mdir).names == ["a"]
    ds = FolderDataset(mdir, labels_dir=ldir, recursive=True)
    assert ds.names == ["a", "sub/a"]
    assert_array_equal(ds[1].labels, shapes[1].labels)
    assert ds[1].mesh.n_verts == shapes[1].mesh.n_verts


def test_folder_dataset_label_formats_and_kinds(tmp_path):
    """.seg / .eseg / .txt / .npy label files; per vertex or per face decided by the count and reported."""
    shapes = [g.generate_shape("body", i, 200 + 30 * i) for i in range(4)]
    mdir, ldir = tmp_path / "meshes", tmp_path / "labels"
    mdir.mkdir()
    ldir.mkdir()
    face_labels = [np.arange(s.mesh.n_faces) % 5 for s in shapes]
    for i, s in enumerate(shapes):
        save_mesh(mdir / f"m{i}.off", s.mesh)
    np.savetxt(ldir / "m0.seg", face_labels[0], fmt="%d")  # PSB / COSEG: one per face
    np.savetxt(ldir / "m1.eseg", shapes[1].labels, fmt="%.1f")  # integral floats read as integers
    np.savetxt(ldir / "m2.txt", face_labels[2], fmt="%d")
    np.save(ldir / "m3.npy", shapes[3].labels.astype(np.int32))
    ds = FolderDataset(mdir, labels_dir=ldir)
    kinds = [ds[i].label_kind for i in range(4)]
    assert kinds == ["face", "vertex", "face", "vertex"]
    want = [face_labels[0], shapes[1].labels, face_labels[2], shapes[3].labels]
    for i in range(4):
        assert ds[i].labels.dtype == np.int64
        assert_array_equal(ds[i].labels, want[i])
    # told the kind: the count is checked against it
    with pytest.raises(MeshError, match=r"labels for \d+ vertices"):
        FolderDataset(mdir, names=["m0"], labels_dir=ldir, label_kind="vertex")[0]
    assert FolderDataset(mdir, names=["m0"], labels_dir=ldir, label_kind="face")[0].label_kind == "face"


def test_folder_dataset_label_errors(tmp_path):
    s = g.generate_shape("body", 0, 200)
    mdir, ldir = tmp_path / "meshes", tmp_path / "labels"
    mdir.mkdir()
    ldir.mkdir()
    save_mesh(mdir / "m.off", s.mesh)
    ds = FolderDataset(mdir, labels_dir=ldir)
    with pytest.raises(FileNotFoundError, match=r"no label file for 'm'.*m\.seg\|\.eseg\|\.txt\|\.npy"):
        ds[0]
    np.save(ldir / "m.npy", s.labels)
    np.savetxt(ldir / "m.txt", s.labels, fmt="%d")
    with pytest.raises(MeshError, match=r"several label files for 'm': m\.txt, m\.npy; .*label_suffix"):
        ds[0]
    assert_array_equal(FolderDataset(mdir, labels_dir=ldir, label_suffix=".npy")[0].labels, s.labels)
    with pytest.raises(ValueError, match="label_suffix"):
        FolderDataset(mdir, labels_dir=ldir, label_suffix=".csv")
    (ldir / "m.npy").unlink()
    E = s.mesh.n_edges
    np.savetxt(ldir / "m.txt", np.zeros(E), fmt="%d")  # MeshCNN .eseg: one per edge
    with pytest.raises(MeshError, match=rf"{E} labels match neither.*per-edge labels"):
        ds[0]
    np.savetxt(ldir / "m.txt", np.zeros(7), fmt="%d")
    with pytest.raises(MeshError, match=r"m\.txt: 7 labels match neither"):
        ds[0]
    (ldir / "m.txt").write_text("1\n2.5\n")
    with pytest.raises(MeshError, match=r"label 1 is 2.5"):
        ds[0]
    (ldir / "m.txt").write_text("1\nhead\n")
    with pytest.raises(MeshError, match="'head'"):
        ds[0]
    (ldir / "m.txt").unlink()
    np.save(ldir / "m.npy", np.zeros((s.mesh.n_verts, 2), dtype=int))
    with pytest.raises(MeshError, match=r"1D array, got shape"):
        ds[0]
    np.save(ldir / "m.npy", np.array(["a"] * s.mesh.n_verts))
    with pytest.raises(MeshError, match="must be integers"):
        ds[0]
