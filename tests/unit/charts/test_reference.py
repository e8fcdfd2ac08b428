"""The docs' values reference is generated from the built-in chart's schema, which
stays in step with the experiment schema."""

from __future__ import annotations

import json

import jsonschema
import pytest

from iter8_action.charts.reference import SCHEMA, builtin_reference
from tests.support.paths import DOCS, SCHEMAS

CHART_ONLY = {
    "http": {"warmupNumRequests", "warmupDuration"},
    "grpc": {"warmupNumRequests", "warmupDuration"},
    "ready": {"service", "deploy", "ksvc", "isvc", "namespace"},
    "slack": {"if", "payloadTemplateURL"},
    "github": {"if", "token"},
    "notify": {"if"},
    "rollout": {"if"},
    "gitlab": {"if"},
    "cloudevent": {"if"},
}


def test_the_docs_hold_the_generated_reference() -> None:
    page = (DOCS / "reference" / "chart-values.md").read_text()
    assert page.endswith(builtin_reference()), "run: python scripts/gen_docs.py"
    section = builtin_reference()
    assert "| `assess.SLOs.upper.<metric>` | number or object |" in section
    assert (
        "| `iter8Image` | string | Iter8 (Kubernetes): the runner image. Accepted with a notice"
        in (section)
    )


@pytest.mark.parametrize("task", [*sorted(CHART_ONLY), "custommetrics", "assess"])
def test_task_values_are_fields_of_the_task(task: str) -> None:
    chart = json.loads(SCHEMA.read_text())["properties"][task]["properties"]
    experiment = json.loads((SCHEMAS / "experiment.schema.json").read_text())
    fields = set(experiment["$defs"][task]["properties"])
    assert set(chart) - fields - CHART_ONLY.get(task, set()) == set()


@pytest.mark.parametrize("chart", ["iter8", "load-test-http", "load-test-grpc"])
def test_the_builtin_schemas_are_valid_schemas(chart: str) -> None:
    # launch skips this check for built-in charts (it costs 0.1 s)
    schema = json.loads((SCHEMA.parent.parent / chart / "values.schema.json").read_text())
    jsonschema.validators.validator_for(schema).check_schema(schema)


@pytest.mark.parametrize("task", ["http", "grpc"])
def test_load_test_chart_values_are_fields_of_the_task(task: str) -> None:
    schema = SCHEMA.parent.parent / f"load-test-{task}" / "values.schema.json"
    chart = json.loads(schema.read_text())["properties"]
    experiment = json.loads((SCHEMAS / "experiment.schema.json").read_text())
    fields = set(experiment["$defs"][task]["properties"])
    assert set(chart) - fields == {"SLOs", "iter8lib"}
