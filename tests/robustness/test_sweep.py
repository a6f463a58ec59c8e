"""The sweep: every pathology x every registered operator, in subprocess workers with a timeout.

CI fails on any crash, hang, NaN, silent shape mismatch, violated identity, vague MeshError, or a refusal of
the clean mesh. The runner itself is tested on deliberately broken operators (robustness_faulty_ops.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from manifoldnet.robustness import (
    FAILURES,
    REGISTRY,
    format_failures,
    format_table,
    operator_names,
    pathology_cases,
    run_sweep,
)

FAULTY = str(Path(__file__).with_name("robustness_faulty_ops.py"))
OPERATORS = [n for n in operator_names() if not n.startswith("faulty.")]


@pytest.fixture(scope="module")
def sweep():
    results = run_sweep(pathology_cases(), OPERATORS, timeout=60, workers=2)
    print("\n" + format_table(results))
    return results


def test_sweep_covers_every_pathology_and_operator(sweep):
    assert {r.operator for r in sweep} == set(OPERATORS)
    assert len(sweep) == len(OPERATORS) * len(pathology_cases())


# Failures found by this sweep and reported to the owners (issue 8 note), not yet fixed:
# operator -> (pathologies, owner and story). The test fails on any other failure, and on a listed one that
# now passes (then remove it here): the list can only shrink.
KNOWN: dict[str, tuple[frozenset, str]] = {}


@pytest.mark.parametrize("op", OPERATORS)
def test_operator_survives_every_pathology(sweep, op):
    mine = [r for r in sweep if r.operator == op]
    bad = [r for r in mine if r.status in FAILURES]
    known, story = KNOWN.get(op, (frozenset(), ""))
    new = [r for r in bad if r.case not in known]
    assert not new, "\n" + format_failures(new)
    fixed = sorted(known - {r.case for r in bad})
    assert not fixed, f"{op} now survives {fixed}: remove them from KNOWN"
    if bad:
        pytest.xfail(f"known ({story}):\n" + format_failures(bad))


def test_invalid_meshes_are_refused_by_mesh(sweep):
    for r in sweep:
        if r.case in ("nan_coordinate", "out_of_range_index", "no_faces"):
            assert r.status == "MESHERROR", (r.case, r.operator, r.status, r.message)


def test_runner_classifies_broken_operators():
    cases = pathology_cases(["clean", "holes", "nan_coordinate"], subdivisions=1)
    res = run_sweep(cases, ["faulty"], timeout=3, workers=2, modules=[FAULTY])
    got = {(r.case, r.operator): r for r in res}
    want = {
        "faulty.ok": "OK", "faulty.segfault": "CRASH", "faulty.hang": "HANG", "faulty.nan": "NAN",
        "faulty.mismatch": "MISMATCH", "faulty.wrong": "WRONG", "faulty.exception": "CRASH",
        "faulty.vague": "VAGUE",
    }
    for op, status in want.items():
        r = got[("holes", op)]
        assert r.status == status, (op, r.status, r.message)
    assert "SIGSEGV" in got[("holes", "faulty.segfault")].message
    assert "KeyError" in got[("holes", "faulty.exception")].message
    # a MeshError naming the problem is accepted on a messy mesh, refused on the clean one
    assert got[("holes", "faulty.refuses_boundaries")].status == "MESHERROR"
    assert got[("clean", "faulty.refuses_boundaries")].status == "OK"
    assert got[("clean", "faulty.vague")].status == "REFUSED"
    # the worker was replaced after the crash and the hang: later operators still ran
    assert all(got[("nan_coordinate", op)].status == "MESHERROR" for op in want)
    assert "faulty.ok" in REGISTRY  # registered in this process too (modules are imported by the parent)
