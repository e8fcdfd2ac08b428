"""The JSON report: the report model itself, as described by `schemas/report.schema.json`."""

from __future__ import annotations

import json

from iter8_action.report.model import Report


def render(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
