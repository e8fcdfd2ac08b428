"""Tests and benches take the repository's locations from tests/support/paths.py.

A module that works them out from its own file (`Path(__file__).resolve().parents[2]`)
reads another folder, silently, once it moves to a folder of another depth; only
paths.py may, and its constants (`ROOT`, `DOCS`, `SCHEMAS`, `EXAMPLES`, `RESULTS`, ...)
stay right wherever a test goes. A module may still read a file beside itself
(`Path(__file__).parent / "validate.mjs"`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.paths import ROOT

PATHS = ROOT / "tests" / "support" / "paths.py"


def _mentions_own_file(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "__file__" for n in ast.walk(node))


def _is_dirname(func: ast.expr) -> bool:
    return isinstance(func, ast.Attribute) and func.attr == "dirname"


def _climbs(node: ast.AST) -> bool:
    """Whether `node` goes above the folder of a path made from `__file__`:
    `.parents`, `.parent.parent`, `os.path.dirname(os.path.dirname(...))`."""
    if isinstance(node, ast.Attribute) and node.attr == "parents":
        return _mentions_own_file(node.value)
    if (
        isinstance(node, ast.Attribute)
        and node.attr == "parent"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "parent"
    ):
        return _mentions_own_file(node.value.value)
    if isinstance(node, ast.Call) and _is_dirname(node.func) and node.args:
        inner = node.args[0]
        return isinstance(inner, ast.Call) and _is_dirname(inner.func) and _mentions_own_file(inner)
    return False


def climbing_lines(source: str) -> list[int]:
    """The lines of `source` that work out a location above their module's folder."""
    return sorted(
        {n.lineno for n in ast.walk(ast.parse(source)) if _climbs(n) and hasattr(n, "lineno")}
    )


def modules() -> list[Path]:
    """Every module of the tests, their support and the benches, but paths.py."""
    found = [*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]
    return sorted(path for path in found if path != PATHS)


def test_no_module_but_paths_works_out_the_repository_from_its_own_file() -> None:
    offending = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in modules()
        for line in climbing_lines(path.read_text(encoding="utf-8"))
    ]
    assert offending == [], "use the constants of tests/support/paths.py instead:\n" + "\n".join(
        offending
    )


def test_the_scan_covers_the_tests_their_support_and_the_benches() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in modules()}
    assert {"tests/conftest.py", "tests/support/k8s/__init__.py", "bench/image.py"} <= names
    assert "tests/support/paths.py" not in names
    assert climbing_lines(PATHS.read_text(encoding="utf-8")) != []


@pytest.mark.parametrize(
    "line",
    [
        "ROOT = Path(__file__).resolve().parents[2]",
        "DATA = Path(__file__).parents[1] / 'fixtures'",
        "ROOT = Path(__file__).parent.parent",
        "ROOT = pathlib.Path(__file__).resolve().parent.parent / 'docs'",
        "ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))",
        "def f():\n    return Path(__file__).resolve().parents[3] / 'shared'",
    ],
)
def test_a_climb_from_the_module_s_own_file_is_found(line: str) -> None:
    assert climbing_lines(f"import os\n{line}\n") != []


@pytest.mark.parametrize(
    "line",
    [
        "HERE = Path(__file__).resolve().parent",
        "SCRIPT = Path(__file__).parent / 'validate.mjs'",
        "SOURCE = Path(__file__).read_text()",
        "PACKAGE = Path(iter8_action.__file__).parent",
        "DOCS = ROOT.parents[0] / 'docs'",
        "HOME = Path(sys.executable).parent.parent",
    ],
)
def test_a_file_beside_the_module_and_other_paths_are_allowed(line: str) -> None:
    assert climbing_lines(f"{line}\n") == []
