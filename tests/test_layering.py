"""The layer order of DESIGN.md section 4, enforced: nothing imports upward.

``mesh/io`` <- ``geometry`` <- ``operators`` <- ``data``, ``nn`` <- ``robustness`` (the tasks)
<- ``commands``; ``analysis`` and ``testing`` may use geometry and operators; only ``viewer/`` imports
pyvista, and only ``operators``, ``data``, ``nn`` and the layers above them import torch.

Every import is read with :mod:`ast`, including those inside functions, relative ones and
``importlib.import_module("...")`` calls with a literal name, so a lazy import cannot hide an upward edge.

Imports of manifoldnet's own modules (and the viewer's) sit at the top of the module, where a reader and
static tools see them; one inside a function carries a ``# lazy: <reason>`` comment (a slow or optional
dependency it keeps out, such as torch or pyvista), on its line or the line above (issue 19 item 10).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "manifoldnet"

# the layer of each first-level name under manifoldnet (a subpackage or a module); a name not listed is an
# error, so a new module has to be placed
BASE = "base"  # the mesh/io layer: the Mesh, readers, writers, errors and small utilities
LAYER_OF = {
    **dict.fromkeys(
        [
            "errors",
            "mesh",
            "io",
            "readers",
            "repair",
            "atomic",
            "paths",
            "progress",
            "facts",
            "shapes",
            "bundled",
        ],
        BASE,
    ),
    "geometry": "geometry",
    "operators": "operators",
    "data": "data",
    "nn": "nn",
    "analysis": "analysis",
    "testing": "testing",
    "robustness": "robustness",
    "tasks": "tasks",
    "commands": "commands",
    "cli": "commands",
    "__init__": "facade",  # the package's own namespace re-exports the public names of every layer
}
_BELOW_OPERATORS = {BASE, "geometry", "operators"}
# layer -> the layers it may import (itself included); "facade" is `import manifoldnet`,
# `from manifoldnet import ...`
MAY_IMPORT = {
    BASE: {BASE},
    "geometry": {BASE, "geometry"},
    "operators": _BELOW_OPERATORS,
    "data": _BELOW_OPERATORS | {"data"},
    "nn": _BELOW_OPERATORS | {"nn"},
    "analysis": _BELOW_OPERATORS | {"analysis"},
    "testing": _BELOW_OPERATORS | {"testing"},
    "robustness": _BELOW_OPERATORS | {"data", "nn", "analysis", "testing", "robustness"},
    "tasks": _BELOW_OPERATORS | {"data", "nn", "analysis", "tasks"},
    "commands": set(LAYER_OF.values()) | {"viewer"},
    "facade": set(LAYER_OF.values()) - {"commands"},
}
TORCH_FREE = {BASE, "geometry", "analysis", "testing"}
# layer -> what it may import inside a function only (never at import time): the testing helpers for layers
# (assert_gauge_equivariant) need torch and nn when called, while `import manifoldnet.testing` stays light
LAZY_ALLOWED = {"testing": {"torch", "nn"}}
PYVISTA_FREE = set(MAY_IMPORT)  # every layer of manifoldnet: pyvista belongs to viewer/ alone


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``, wherever it sits in the file."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            if node.module:
                found.append((node.lineno, prefix))
            else:  # `from . import x`: x is a submodule (or a name of the package itself)
                found += [(node.lineno, f"{prefix}.{alias.name}") for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Attribute, ast.Name))
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and not node.args[0].value.startswith(".")
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def layer_of_import(name: str) -> str | None:
    """The layer an imported module belongs to; None for a third-party module other than torch and pyvista."""
    top, _, rest = name.partition(".")
    if top == "manifoldnet":
        return LAYER_OF["__init__"] if not rest else LAYER_OF.get(rest.partition(".")[0], f"unplaced {name}")
    if top == "manifoldnet_viewer":
        return "viewer"
    if top in ("torch", "pyvista"):
        return top
    return None


def layer_of_file(path: Path) -> str:
    first = path.relative_to(PACKAGE).with_suffix("").parts[0]
    assert first in LAYER_OF, f"{path.relative_to(ROOT)}: place {first!r} in a layer in {Path(__file__).name}"
    return LAYER_OF[first]


def function_lines(path: Path) -> set[int]:
    """Line numbers inside function bodies (where an import runs only when the function is called)."""
    lines = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines.update(range(node.body[0].lineno, node.end_lineno + 1))
    return lines


def violations(path: Path) -> list[str]:
    layer = layer_of_file(path)
    bad = []
    lazy_lines = function_lines(path) if layer in LAZY_ALLOWED else set()
    for line, name in imports_of(path):
        target = layer_of_import(name)
        if target is None:
            continue
        if line in lazy_lines and target in LAZY_ALLOWED[layer]:
            continue
        if target == "torch":
            ok = layer not in TORCH_FREE
        elif target == "pyvista":
            ok = layer not in PYVISTA_FREE
        else:
            ok = target in MAY_IMPORT[layer]
        if not ok:
            bad.append(f"{path.relative_to(ROOT)}:{line}: the {layer} layer imports {name} ({target})")
    return bad


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_is_placed_and_found():
    assert len(SOURCES) > 50
    for path in SOURCES:
        layer_of_file(path)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_imports_upward(path):
    assert violations(path) == []


def test_a_forbidden_import_is_caught(tmp_path, monkeypatch):
    """The checker sees imports inside functions, relative ones and import_module calls."""
    geometry = tmp_path / "manifoldnet" / "geometry"
    geometry.mkdir(parents=True)
    src = geometry / "spectral.py"
    src.write_text(
        "import numpy as np\n"
        "from ..mesh import Mesh\n"
        "def f():\n"
        "    from ..operators import compute_operators\n"
        "    import torch\n"
        "    import importlib\n"
        "    importlib.import_module('manifoldnet.nn')\n"
    )
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    monkeypatch.setitem(globals(), "PACKAGE", tmp_path / "manifoldnet")
    found = violations(src)
    assert [v.split(": ", 1)[1] for v in found] == [
        "the geometry layer imports manifoldnet.operators (operators)",
        "the geometry layer imports torch (torch)",
        "the geometry layer imports manifoldnet.nn (nn)",
    ]


def test_testing_imports_torch_and_nn_only_inside_functions(tmp_path, monkeypatch):
    testing = tmp_path / "manifoldnet" / "testing"
    testing.mkdir(parents=True)
    src = testing / "equivariance.py"
    src.write_text(
        "import torch\ndef f():\n    import torch\n    from ..nn import gem\nfrom ..nn import gem\n"
    )
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    monkeypatch.setitem(globals(), "PACKAGE", tmp_path / "manifoldnet")
    assert [v.split(": ", 1)[1] for v in violations(src)] == [
        "the testing layer imports torch (torch)",
        "the testing layer imports manifoldnet.nn (nn)",
    ]


def test_no_two_module_import_cycles():
    """No pair of modules imports each other, at the top or inside a function (a package and its own
    submodules excepted): the shared part of such a pair belongs one level down (issue 19 item 10)."""
    names = {_module_name(p): p for p in SOURCES}

    def resolve(name: str) -> str | None:
        parts = name.split(".")
        for k in range(len(parts), 0, -1):
            if ".".join(parts[:k]) in names:
                return ".".join(parts[:k])
        return None

    edges = {m: {resolve(n) for _, n in imports_of(p)} - {None, m} for m, p in names.items()}
    cycles = sorted(
        f"{a} <-> {b}"
        for a in edges
        for b in edges[a]
        if a < b and a in edges[b] and not (a.startswith(b + ".") or b.startswith(a + "."))
    )
    assert cycles == []


# ------------------------------------------------------------- imports of our own modules inside functions
OWN_PACKAGES = ("manifoldnet", "manifoldnet_viewer")
VIEWER = ROOT / "viewer" / "manifoldnet_viewer"
LAZY_REASON = re.compile(r"#\s*lazy:\s*\S")


def _is_own(node: ast.AST) -> bool:
    """An import statement of a manifoldnet or manifoldnet_viewer module (any relative import is one)."""
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] in OWN_PACKAGES
    return isinstance(node, ast.Import) and any(a.name.split(".")[0] in OWN_PACKAGES for a in node.names)


def unexplained_lazy_imports(source: str, filename: str) -> list[str]:
    """``filename:line`` of every import of our own modules inside a function (or method) body that has no
    ``# lazy: <reason>`` comment. The comment may sit on the statement's lines or on the comment or import
    lines right above it, so one comment explains a block of consecutive imports."""
    tree = ast.parse(source, filename=filename)
    lines = source.splitlines()
    import_lines = set()  # lines of every import statement, so a block of imports is read as one
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            import_lines.update(range(node.lineno, node.end_lineno + 1))
    inside = {
        node
        for fn in ast.walk(tree)
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(fn)
        if _is_own(node)
    }
    bad = []
    for node in sorted(inside, key=lambda n: n.lineno):
        candidates = list(range(node.lineno, node.end_lineno + 1))
        above = node.lineno - 1
        while above >= 1 and (above in import_lines or lines[above - 1].lstrip().startswith("#")):
            candidates.append(above)
            above -= 1
        if not any(LAZY_REASON.search(lines[k - 1]) for k in candidates):
            bad.append(f"{filename}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    return bad


OWN_SOURCES = SOURCES + sorted(VIEWER.rglob("*.py"))


@pytest.mark.parametrize("path", OWN_SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_own_imports_inside_functions_say_why(path):
    """Our own modules are imported at the module top; one imported inside a function says why there."""
    assert unexplained_lazy_imports(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT))) == []


def test_an_unexplained_lazy_import_is_caught():
    source = (
        "import numpy as np\n"
        "from .mesh import Mesh\n"  # the module top: fine
        "def f():\n"
        "    import scipy.sparse as sp\n"  # not ours: not this check's business
        "    from ..geometry import laplacian\n"  # 5: no reason
        "    from ..nn import gem  # lazy: torch\n"
        "    # lazy: torch and pyvista, for the two lines below\n"
        "    from ..nn import heads\n"
        "    import manifoldnet_viewer\n"
        "    x = 1\n"
        "    from ..operators import spec\n"  # 11: code between it and the last reason
        "    import manifoldnet.tasks  # lazy:\n"  # 12: a reason is needed, not just the word
        "class C:\n"
        "    def m(self):\n"
        "        def inner():\n"
        "            from manifoldnet.data import collate\n"  # 16: nested functions and methods count
        "        return inner\n"
    )
    assert [b.split(": ", 1)[0] for b in unexplained_lazy_imports(source, "planted.py")] == [
        "planted.py:5",
        "planted.py:11",
        "planted.py:12",
        "planted.py:16",
    ]
