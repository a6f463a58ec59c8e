"""One source for each fact of the command line (issue 19 item 9): the version is written once
(``manifoldnet.__version__``; pyproject.toml reads it, the CLI prints it) and each command's one-line help
is written once (``manifoldnet.cli.COMMANDS``), shown by both ``manifoldnet --help`` and
``manifoldnet COMMAND --help``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import manifoldnet
from manifoldnet.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parent.parent


def test_version_written_once_and_printed(capsys):
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"], "pyproject.toml writes the version again"
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "manifoldnet.__version__"}
    # setuptools reads the attribute statically: it must stay a plain string literal
    tree = ast.parse((ROOT / "manifoldnet" / "__init__.py").read_text())
    literal = [
        n.value.value
        for n in tree.body
        if isinstance(n, ast.Assign)
        and any(getattr(t, "id", None) == "__version__" for t in n.targets)
        and isinstance(n.value, ast.Constant)
    ]
    assert literal == [manifoldnet.__version__]
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", manifoldnet.__version__)
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"manifoldnet {manifoldnet.__version__}"
    # no other file of the package spells the version out
    hits = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "manifoldnet").rglob("*.py")
        if f'"{manifoldnet.__version__}"' in p.read_text()
    ]
    assert hits == ["manifoldnet/__init__.py"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_help_written_once(name, capsys):
    source = (ROOT / "manifoldnet" / "commands" / f"{name}.py").read_text()
    assert not re.search(r"^HELP\s*=", source, re.M), f"commands/{name}.py writes its help again"
    assert main([name, "--help"]) == 0
    sub = " ".join(capsys.readouterr().out.split())
    assert " ".join(COMMANDS[name].split()) in sub
    with pytest.raises(SystemExit):
        main(["--help"])
    top = " ".join(capsys.readouterr().out.split())
    assert " ".join(COMMANDS[name].split()) in top
