"""The custommetrics page's examples are valid: the experiment, the auth snippet, the template."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import yaml

from iter8_action.metrics.backends.render import render_spec
from iter8_action.metrics.backends.sources import TemplateSource
from iter8_action.metrics.backends.spec import AuthSpec
from tests.support.paths import ROOT


def _blocks() -> list[str]:
    page = (ROOT / "docs" / "tasks" / "custommetrics.md").read_text(encoding="utf-8")
    return re.findall(r"```yaml\n(.*?)```", page, flags=re.S)


def _validate(document: Any) -> list[str]:
    schema = json.loads((ROOT / "schemas" / "experiment.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_the_example_experiment_is_valid() -> None:
    experiment = yaml.safe_load(_blocks()[0])
    assert _validate(experiment) == []
    assert [t["task"] for t in experiment["spec"]] == ["http", "custommetrics", "assess"]


def test_the_auth_example_is_valid() -> None:
    task = yaml.safe_load(_blocks()[1])
    assert _validate({"spec": task}) == []


def test_the_template_example_renders_to_a_valid_spec() -> None:
    source = TemplateSource(_blocks()[2], "docs")
    values = {"versionName": "v2", "elapsedTimeSeconds": 60}
    spec = render_spec(source, values, provider="shop", version="v2")
    assert spec.auth == AuthSpec(type="bearer", token_env="METRICS_TOKEN")
    assert spec.metrics[0].params == (
        (
            "query",
            'sum(increase(checkouts_total{version="v2"}[60s])) / '
            'sum(increase(http_requests_total{version="v2"}[60s]))',
        ),
    )
    assert (spec.metrics[0].body, spec.metrics[0].required) == ('{"any":"json"}', True)
