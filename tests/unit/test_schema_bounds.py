"""Every count in the experiment schema has an upper bound, and the experiments page says it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from iter8_action.documents.schemas import load_schema
from tests.support.paths import DOCS

README = DOCS / "experiments.md"


def _integers(node: Any, path: str = "#") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        kind = node.get("type")
        if kind == "integer" or (isinstance(kind, list) and "integer" in kind):
            found.append((path, node))
        for key, value in node.items():
            found.extend(_integers(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_integers(value, f"{path}[{index}]"))
    return found


def test_every_integer_has_a_maximum() -> None:
    unbounded = [
        path
        for path, node in _integers(load_schema("experiment.schema.json"))
        if "maximum" not in node
    ]
    assert unbounded == []


def _readme_limits() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    table = text.split("| field | task | at most |", 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0]] = cells[2]
    return rows


@pytest.mark.parametrize(
    ("row", "definition", "field"),
    [
        ("`numRequests` (`numQueries`)", "http", "numRequests"),
        ("`errorRanges[].lower`, `.upper`", "http", "errorRanges"),
        ("`total`, `skipFirst`", "grpc", "total"),
        ("`rps`", "grpc", "rps"),
        ("`concurrency`", "grpc", "concurrency"),
        ("`minRequests`", "assess", "minRequests"),
    ],
)
def test_the_readme_table_shows_the_schema_maximum(row: str, definition: str, field: str) -> None:
    schema = load_schema("experiment.schema.json")["$defs"][definition]["properties"][field]
    if field == "errorRanges":
        schema = schema["items"]["properties"]["lower"]
    limits = _readme_limits()
    matching = [cells for name, cells in limits.items() if name == row]
    assert matching, f"no row in docs/experiments.md {row!r}"
    assert str(schema["maximum"]) in re.split(r"[ ,]+", matching[0])


def test_the_readme_table_shows_the_connection_bounds_of_both_load_tasks() -> None:
    schema = load_schema("experiment.schema.json")["$defs"]
    text = README.read_text(encoding="utf-8")
    for definition in ("http", "grpc"):
        bound = schema[definition]["properties"]["connections"]["maximum"]
        assert f"| `connections` | `{definition}` | {bound} |" in text
