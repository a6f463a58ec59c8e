"""The CPU dropout and the cached-transpose sparse product behave like torch's own."""

from __future__ import annotations

import pytest
import torch

from manifoldnet.nn.dropout import Dropout
from manifoldnet.nn.sparse import spmm, transpose_csr


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_drops_a_fraction_p_and_keeps_the_mean(p):
    torch.manual_seed(0)
    x = torch.ones(400, 500, requires_grad=True)
    d = Dropout(p).train()
    y = d(x)
    dropped = float((y == 0).float().mean())
    assert abs(dropped - p) < 0.005  # 200k entries: 5 standard deviations at most ~0.0034
    assert abs(float(y.mean()) - 1.0) < 0.02
    kept = y[y != 0]
    p16 = round(p * 65536) / 65536  # p as used: rounded to 2^-16, the scale matches it so the mean is kept
    assert abs(p16 - p) <= 2**-17
    torch.testing.assert_close(kept, torch.full_like(kept, 1.0 / (1.0 - p16)))
    y.sum().backward()
    torch.testing.assert_close(x.grad, y.detach())  # d y / d x = mask * scale


def test_dropout_eval_identity_seed_repeats_and_bounds():
    x = torch.randn(50, 8)
    d = Dropout(0.5)
    assert d.eval()(x) is x
    d.train()
    torch.manual_seed(3)
    a = d(x)
    torch.manual_seed(3)
    torch.testing.assert_close(d(x), a)
    assert bool((Dropout(1.0).train()(x) == 0).all())
    torch.testing.assert_close(Dropout(0.0).train()(x), x)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        Dropout(1.5)


def test_spmm_gradient_is_the_transposed_product():
    gen = torch.Generator().manual_seed(0)
    dense = torch.randn(30, 20, dtype=torch.float64, generator=gen) * (
        torch.rand(30, 20, generator=gen) < 0.2
    )
    A = dense.to_sparse_csr()
    x = torch.randn(20, 4, dtype=torch.float64, generator=gen, requires_grad=True)
    y = spmm(A, x)
    torch.testing.assert_close(y, dense @ x)
    g = torch.randn(30, 4, dtype=torch.float64, generator=gen)
    y.backward(g)
    torch.testing.assert_close(x.grad, dense.T @ g)
    assert transpose_csr(A) is transpose_csr(A)  # built once per operator
    torch.testing.assert_close(transpose_csr(A).to_dense(), dense.T)
    assert torch.autograd.gradcheck(lambda x: spmm(A, x), (x.detach().requires_grad_(),))
