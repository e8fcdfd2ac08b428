"""The JSON report: the report model itself, as described by `schemas/report.schema.json`."""

from __future__ import annotations

from iter8_action import finite
from iter8_action.report.model import Report


def render(report: Report) -> str:
    document = report.to_dict()
    return finite.dumps(document, what="the JSON report", indent=2, ensure_ascii=False) + "\n"
