"""CHOLMOD's own messages (printed from C) become one warning of ours (issue 18 item 15).

Before: ``CHOLMOD warning: not positive definite. file: /project/ext/suitesparse-.../t_cholmod_rowfac.c line:
430`` appeared raw (on stdout, at exit when it is a pipe), outside Python's warning system (no filter, no
stack level, no matrix named).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from manifoldnet.errors import MeshError
from manifoldnet.geometry.factor import SolverWarning, SPDFactor

pytest.importorskip("cholespy")

# symmetric, non-singular, indefinite (eigenvalues -1 and 3, then 2, 2, 2): CHOLMOD refuses it, SuperLU solves
A = sp.csr_matrix(
    np.block([[np.array([[1.0, 2.0], [2.0, 1.0]]), np.zeros((2, 3))], [np.zeros((3, 2)), 2 * np.eye(3)]])
)


def test_cholmod_message_becomes_one_warning_naming_the_size(capfd):
    with pytest.warns(SolverWarning) as rec:
        f = SPDFactor(A, what="test matrix")
    out, err = capfd.readouterr()
    assert "CHOLMOD" not in err and "CHOLMOD" not in out, err
    assert len(rec) == 1
    msg = str(rec[0].message)
    assert "5 x 5" in msg and "test matrix" in msg and "not positive definite" in msg, msg
    assert "SuperLU" in msg and "file:" not in msg, msg
    b = np.arange(5.0)
    assert_allclose(A @ f.solve(b), b, atol=1e-12)


def test_silent_factorization_warns_nothing(capfd):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SPDFactor(sp.eye(4, format="csr") * 3.0)
    assert capfd.readouterr().err == ""


def test_torch_heat_method_cholmod_factor_is_quiet_and_refuses_clearly(capfd):
    torch = pytest.importorskip("torch")
    from manifoldnet.nn.heat_method import _cholmod

    with pytest.raises(MeshError, match=r"5 x 5.*not positive definite"):
        _cholmod(A, torch.device("cpu"), what="heat operator")
    assert "CHOLMOD" not in capfd.readouterr().err
