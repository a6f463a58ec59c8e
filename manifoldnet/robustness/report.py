"""Printing sweep results: a case x operator matrix of one-letter codes, counts, and the failures in full."""

from __future__ import annotations

from collections import Counter

from .runner import FAILURES, STATUSES

__all__ = ["CODES", "format_failures", "format_table", "summary"]

CODES = {
    "OK": ".", "MESHERROR": "e", "SKIP": "-", "VAGUE": "V", "REFUSED": "R", "CRASH": "C", "HANG": "H",
    "NAN": "N", "MISMATCH": "M", "WRONG": "W",
}


def summary(results) -> Counter:
    """Counter of statuses."""
    return Counter(r.status for r in results)


def format_table(results) -> str:
    """Rows: cases; columns: operators (numbered, legend below); cells: :data:`CODES`."""
    cases = list(dict.fromkeys(r.case for r in results))
    ops = list(dict.fromkeys(r.operator for r in results))
    cell = {(r.case, r.operator): CODES[r.status] for r in results}
    w = max([len(c) for c in cases] + [4])
    head = " " * w + " " + "".join(f"{i % 100:>3d}" for i in range(len(ops)))
    lines = [head]
    for c in cases:
        lines.append(f"{c:<{w}} " + "".join(f"{cell.get((c, o), '?'):>3s}" for o in ops))
    lines.append("")
    lines.append("operators: " + ", ".join(f"{i}={o}" for i, o in enumerate(ops)))
    lines.append("codes: " + ", ".join(f"{CODES[s]}={s}" for s in STATUSES))
    cnt = summary(results)
    lines.append("counts: " + ", ".join(f"{s}={cnt[s]}" for s in STATUSES if cnt[s]))
    lines.append(f"failures: {sum(cnt[s] for s in FAILURES)} of {len(results)}")
    return "\n".join(lines)


def format_failures(results, statuses=FAILURES, width: int = 300) -> str:
    """One line per result whose status is in ``statuses``: status, case, operator, message."""
    out = []
    for r in results:
        if r.status in statuses:
            msg = " ".join(str(r.message).split())
            out.append(f"{r.status:<9s} {r.case} :: {r.operator}: {msg[:width]}")
    return "\n".join(out)
