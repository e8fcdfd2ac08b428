"""Each allowed value has one StrEnum; its strings are the ones the schemas and the docs list."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any

import pytest

from iter8_action.assessment.spec import Correction
from iter8_action.cli.job import INVALID
from iter8_action.events.summary import EventVerdict
from iter8_action.platforms import AnnotationLevel
from iter8_action.report.model import ReportVerdict
from iter8_action.results.insights import RewardVerdict, SloStatus
from iter8_action.results.model import RunState, TaskStatus
from tests.support.paths import DOCS, SCHEMAS

_ITEM_STATUS = ("items", "properties", "status")


def _enum_at(schema: str, *path: str) -> list[str]:
    node: Any = json.loads((SCHEMAS / schema).read_text(encoding="utf-8"))
    for key in path:
        node = node[key]
    return list(node["enum"])


@pytest.mark.parametrize(
    ("values", "schema", "path"),
    [
        (RunState, "report.schema.json", ("properties", "run", "properties", "state")),
        (ReportVerdict, "report.schema.json", ("properties", "verdict", "properties", "status")),
        (
            TaskStatus,
            "report.schema.json",
            ("properties", "tasks", "items", "properties", "status"),
        ),
        (
            SloStatus,
            "report.schema.json",
            ("properties", "slos", "items", "properties", "versions", *_ITEM_STATUS),
        ),
        (
            SloStatus,
            "result.schema.json",
            ("$defs", "slo", "properties", "versions", "items", "properties", "status"),
        ),
        (RewardVerdict, "result.schema.json", ("$defs", "reward", "properties", "verdict")),
        (
            Correction,
            "experiment.schema.json",
            ("$defs", "assess", "properties", "correction"),
        ),
    ],
)
def test_the_enum_is_the_schemas_list(
    values: type[StrEnum], schema: str, path: tuple[str, ...]
) -> None:
    assert [str(v) for v in values] == _enum_at(schema, *path)


def test_a_result_records_every_task_status_but_not_run() -> None:
    recorded = _enum_at("result.schema.json", "$defs", "task", "properties", "status")
    assert recorded == [str(s) for s in TaskStatus if s is not TaskStatus.NOT_RUN]


def test_the_verdict_output_lists_the_report_verdicts_and_invalid() -> None:
    doc = (DOCS / "ci" / "inputs-outputs.md").read_text(encoding="utf-8")
    row = next(line for line in doc.splitlines() if line.startswith("| `verdict` |"))
    listed = re.findall(r"`([a-z-]+)`", row.split("|")[3])
    assert listed == [*(str(v) for v in ReportVerdict), INVALID]


def test_the_event_docs_list_the_event_verdicts() -> None:
    doc = (DOCS / "tasks" / "events.md").read_text(encoding="utf-8")
    start = doc.index("- `verdict`:")
    entry = doc[start : doc.index("\n- ", start + 1)]
    listed = [word for word in re.findall(r"`([a-z-]+)`", entry) if word != "verdict"]
    assert listed == [str(v) for v in EventVerdict]


def test_values_serialise_as_their_strings() -> None:
    assert json.dumps([SloStatus.NO_DATA, AnnotationLevel.WARNING]) == '["no-data", "warning"]'
    assert f"{ReportVerdict.NO_WINNER_YET}" == "no-winner-yet"
    assert type(str(TaskStatus.NOT_RUN)) is str
