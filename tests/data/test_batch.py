"""Batching meshes of different sizes: a batch of three gives the same outputs as one mesh at a time."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.linalg
from numpy.testing import assert_allclose, assert_array_equal

from manifoldnet import shapes
from manifoldnet.data import generated as g
from manifoldnet.operators import compute_operators

torch = pytest.importorskip("torch")
from manifoldnet.data.batch import collate, collate_operators
from manifoldnet.nn import functional as F

K = 12
FIELDS = ("mass", "laplacian", "gradient", "normals", "logmap", "transport")


def _with_dense_eigenbasis(b):
    """The bundle plus K eigenpairs from a dense generalized solve (the batching under
    test, not the solver)."""
    L = b.laplacian.toarray()
    evals, evecs = scipy.linalg.eigh(L, np.diag(b.mass), subset_by_index=(0, K - 1))
    spec = b.spec.replace(fields=(*b.spec.fields, "eigenbasis"), k=K)
    return replace(b, spec=spec, evals=evals, evecs=evecs)


@pytest.fixture(scope="module")
def bundles():
    meshes = [
        shapes.icosphere(2),
        g.generate_shape("torus", 0, 260).mesh,
        g.generate_shape("star", 0, 330).mesh,
    ]
    return [_with_dense_eigenbasis(compute_operators(m, fields=FIELDS, dtype="float64")) for m in meshes]


def test_batch_of_three_equals_one_at_a_time(bundles):
    singles = [b.to() for b in bundles]
    batch = collate_operators(bundles)
    sizes = [b.n_verts for b in bundles]
    assert batch.n_meshes == 3 and batch.sizes == sizes and batch.n_verts == sum(sizes)
    assert_array_equal(batch.batch.numpy(), np.repeat(np.arange(3), sizes))
    assert_array_equal(batch.offsets.numpy(), np.cumsum([0, *sizes]))
    assert batch.laplacian.layout == torch.sparse_csr
    rng = np.random.default_rng(0)
    xs = [torch.from_numpy(rng.normal(size=(n, 5))) for n in sizes]
    x = torch.cat(xs)
    t = torch.tensor([0.01, 0.1, 0.5, 1.0, 3.0], dtype=torch.float64)
    outs = {
        "laplacian": (batch.laplacian @ x, [s.laplacian @ xi for s, xi in zip(singles, xs, strict=True)]),
        "gradient": (F.gradient(x, batch), [F.gradient(xi, s) for s, xi in zip(singles, xs, strict=True)]),
        "heat": (
            F.diffuse_spectral(x, batch, t),
            [F.diffuse_spectral(xi, s, t) for s, xi in zip(singles, xs, strict=True)],
        ),
    }
    for name, (whole, parts) in outs.items():
        for got, want in zip(batch.split(whole), parts, strict=True):
            assert_allclose(got.numpy(), want.numpy(), atol=1e-6, rtol=0, err_msg=name)
    coeffs = F.to_spectral(x, batch)
    assert coeffs.shape == (3, K, 5)
    for b, xi, c in zip(bundles, xs, coeffs, strict=True):
        assert_allclose(c.numpy(), b.evecs.T @ (b.mass[:, None] * xi.numpy()), atol=1e-10)
    # spectral heat against the dense formula on one mesh
    b0 = bundles[0]
    dense = b0.evecs @ (
        np.exp(-b0.evals[:, None] * t.numpy()[None]) * (b0.evecs.T @ (b0.mass[:, None] * xs[0].numpy()))
    )
    assert_allclose(batch.split(outs["heat"][0])[0].numpy(), dense, atol=1e-10)


def test_edge_message_passing_and_indices_are_offset(bundles):
    batch = collate_operators(bundles)
    singles = [b.to() for b in bundles]
    rng = np.random.default_rng(1)
    z = torch.from_numpy(rng.normal(size=batch.n_verts) + 1j * rng.normal(size=batch.n_verts))

    def transported_sum(ops, z):  # sum over j of exp(i rho_ij) z_j: a gauge-equivariant aggregation
        i, j = ops.edge_index
        msg = torch.exp(1j * ops.transport_rho) * z[j]
        return torch.zeros_like(z).index_add_(0, i, msg)

    whole = transported_sum(batch, z)
    for got, s, zi in zip(batch.split(whole), singles, batch.split(z), strict=True):
        assert_allclose(got.numpy(), transported_sum(s, zi).numpy(), atol=1e-12)
    # faces and edges point into their own mesh's vertex range
    for b_idx, (lo, hi) in enumerate(zip(batch.offsets[:-1], batch.offsets[1:], strict=True)):
        f = batch.faces[batch.face_offsets[b_idx] : batch.face_offsets[b_idx + 1]]
        assert ((f >= lo) & (f < hi)).all()
    assert (batch.batch[batch.edge_index[0]] == batch.batch[batch.edge_index[1]]).all()


def test_collate_samples_and_errors(bundles):
    samples = [{"ops": b, "y": torch.arange(b.n_verts), "name": f"m{i}"} for i, b in enumerate(bundles)]
    out = collate(samples)
    assert out["name"] == ["m0", "m1", "m2"]
    assert out["y"].shape == (sum(b.n_verts for b in bundles),)
    assert [len(p) for p in out["ops"].split(out["y"])] == [b.n_verts for b in bundles]
    other = compute_operators(shapes.icosphere(1), fields=("mass",), dtype="float64")
    with pytest.raises(ValueError, match="spec"):
        collate_operators([bundles[0], other])
    with pytest.raises(ValueError, match="empty"):
        collate_operators([])
    single = collate_operators(bundles[:1])
    assert single.n_meshes == 1


def test_collate_concatenates_per_vertex_and_per_face_arrays(bundles):
    """labels (numpy, per vertex or per face) become one tensor; other lengths and
    non-numeric values stay lists."""
    nv = [b.n_verts for b in bundles]
    nf = [b.faces.shape[0] for b in bundles]
    samples = [
        {
            "ops": b,
            "labels": np.full(v, i, dtype=np.int64),
            "face_labels": (np.arange(f) % 3).astype(np.int32),
            "feat": np.ones((v, 2)),
            "corres": np.arange(7),  # landmark ids, neither V nor F long: per sample
            "label_kind": "vertex",
            "maybe": None,
        }
        for i, (b, v, f) in enumerate(zip(bundles, nv, nf, strict=True))
    ]
    for s in samples:
        s["labels"].flags.writeable = False  # as FolderDataset returns them
    out = collate(samples)
    assert out["labels"].dtype == torch.int64 and out["labels"].shape == (sum(nv),)
    assert_array_equal(out["labels"].numpy(), np.repeat(np.arange(3), nv))
    assert [p.unique().tolist() for p in out["ops"].split(out["labels"])] == [[0], [1], [2]]
    assert out["face_labels"].dtype == torch.int32 and out["face_labels"].shape == (sum(nf),)
    assert_array_equal(out["ops"].face_offsets.numpy(), np.cumsum([0, *nf]))
    assert out["feat"].shape == (sum(nv), 2) and out["feat"].dtype == torch.float64
    assert isinstance(out["corres"], list) and len(out["corres"]) == 3
    assert out["label_kind"] == ["vertex"] * 3 and out["maybe"] == [None] * 3
    mixed = [dict(samples[0], labels=samples[0]["face_labels"]), samples[1]]  # per face, then per vertex
    assert isinstance(collate(mixed)["labels"], list)
    # no ops: numeric arrays are concatenated whatever their length
    plain = collate([{"labels": np.arange(3)}, {"labels": np.arange(2)}])
    assert_array_equal(plain["labels"].numpy(), [0, 1, 2, 0, 1])
