"""A chart is data: neither its schema's patterns nor its templates' regular expressions
may hang `iter8 launch` (Python's regular expressions backtrack; Go's, which Helm
charts were written for, do not)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from iter8_action.charts import launch
from iter8_action.charts.chart import ChartError
from iter8_action.charts.launch import ChartRequest, render

BACKTRACKS = "^(a+)+$"
"""Exponential in Python's `re` on a run of a's that ends in b."""
VICTIM = "a" * 64 + "b"


def _chart(root: Path, *, template: str, schema: Mapping[str, object] | None = None) -> Path:
    chart = root / "hostile"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: hostile\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text(f"name: {VICTIM}\n")
    (chart / "templates" / "experiment.yaml").write_text(template)
    if schema is not None:
        (chart / "values.schema.json").write_text(json.dumps(schema))
    return chart


def _too_slow(monkeypatch: pytest.MonkeyPatch, chart: Path) -> str:
    monkeypatch.setattr(launch, "CHART_TIMEOUT_S", 1.0)
    with pytest.raises(ChartError) as refused:
        render(ChartRequest(chart=chart.name, local=True, base=chart.parent))
    return str(refused.value)


MESSAGE = (
    "chart 'hostile': checking the values and rendering took longer than 1s, the most a "
    "chart may take (a regular expression that backtracks without end, in "
    "values.schema.json or a template?)"
)


def test_a_template_regex_that_backtracks_without_end_is_stopped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    template = (
        f'spec:\n- task: run\n  with: {{run: "{{{{ regexMatch "{BACKTRACKS}" .Values.name }}}}"}}\n'
    )
    assert _too_slow(monkeypatch, _chart(tmp_path, template=template)) == MESSAGE


def test_a_schema_pattern_that_backtracks_without_end_is_stopped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string", "pattern": BACKTRACKS}}}
    chart = _chart(tmp_path, template="spec: []\n", schema=schema)
    assert _too_slow(monkeypatch, chart) == MESSAGE


def test_a_bounded_chart_still_renders_and_refuses_as_before(tmp_path: Path) -> None:
    template = 'spec:\n- task: run\n  with: {run: "echo {{ regexMatch "^a+b$" .Values.name }}"}\n'
    chart = _chart(tmp_path, template=template, schema={"required": ["name", "other"]})
    with pytest.raises(ChartError, match="other"):
        render(ChartRequest(chart=chart.name, local=True, base=chart.parent))
    (chart / "values.schema.json").unlink()
    hostile = render(ChartRequest(chart=chart.name, local=True, base=chart.parent))
    assert hostile.text == 'spec:\n- task: run\n  with: {run: "echo true"}\n'
