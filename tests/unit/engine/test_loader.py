from __future__ import annotations

import os
from pathlib import Path

import pytest

from iter8_action.core.errors import ExperimentInvalid
from iter8_action.engine.loader import load_experiment, load_text
from tests.support.paths import EXAMPLES

VALID = EXAMPLES / "valid"


def load(text: str) -> dict[str, object]:
    return load_text(text, name="e.yaml", base_dir=Path(), env=os.environ).to_document()


def test_the_seed_translates_to_the_current_form() -> None:
    experiment = load_experiment(VALID / "seed-load-test.yaml", env=os.environ)
    assert experiment.legacy_form
    assert experiment.base_dir == VALID
    assert experiment.to_document() == {
        "spec": [
            {
                "task": "http",
                "with": {"versions": [{"name": "v1", "url": "http://127.0.0.1:8080/get"}]},
            },
            {
                "task": "assess",
                "with": {
                    "SLOs": {
                        "upper": [
                            {"metric": "http/error-rate", "limit": 0},
                            {"metric": "http/latency-p95", "limit": 100},
                        ]
                    }
                },
            },
        ]
    }


def test_old_http_fields() -> None:
    assert load((VALID / "legacy-http-with-url.yaml").read_text()) == {
        "spec": [
            {
                "task": "http",
                "with": {
                    "url": "http://127.0.0.1:8080/",
                    "numRequests": 40,
                    "errorRanges": [{"lower": 500}],
                },
            },
            {
                "task": "assess",
                "with": {
                    "SLOs": {
                        "upper": [{"metric": "http/latency-p95", "limit": 100}],
                        "lower": [{"metric": "http/latency-p95", "limit": 1}],
                    }
                },
            },
        ]
    }


def test_version_info_keeps_headers_and_names() -> None:
    text = """
- task: gen-load-and-collect-metrics
  with:
    numQueries: 5
    versionInfo:
    - url: http://a.invalid/
      headers: {Host: a.example}
    - url: http://b.invalid/
      name: canary
"""
    assert load(text)["spec"] == [
        {
            "task": "http",
            "with": {
                "numRequests": 5,
                "versions": [
                    {"name": "v1", "url": "http://a.invalid/", "headers": {"Host": "a.example"}},
                    {"name": "canary", "url": "http://b.invalid/"},
                ],
            },
        }
    ]


def test_rewards_and_current_slos_get_canonical_metric_names() -> None:
    text = """
spec:
- task: assess
  with:
    SLOs: {upper: [{metric: built-in/p99.0, limit: 5}]}
    rewards: {max: [built-in/request-count], min: [built-in/mean-latency]}
"""
    assert load(text)["spec"] == [
        {
            "task": "assess",
            "with": {
                "SLOs": {"upper": [{"metric": "http/latency-p99", "limit": 5}]},
                "rewards": {"max": ["http/request-count"], "min": ["http/latency-mean"]},
            },
        }
    ]


def test_case_variants_are_accepted_with_a_warning() -> None:
    experiment = load_experiment(VALID / "go-case-variants.yaml", env=os.environ)
    path = VALID / "go-case-variants.yaml"
    assert experiment.warnings == (
        f"{path}:6: $.spec[0].with.SLOs.Upper: accepted 'Upper' as 'upper'; "
        "write 'upper', its canonical spelling",
        f"{path}:7: $.spec[0].with.SLOs.upper[0].Metric: accepted 'Metric' as 'metric'; "
        "write 'metric', its canonical spelling",
        f"{path}:8: $.spec[0].with.SLOs.upper[0].Limit: accepted 'Limit' as 'limit'; "
        "write 'limit', its canonical spelling",
    )
    assert experiment.to_document()["spec"] == [
        {"task": "assess", "with": {"SLOs": {"upper": [{"metric": "http/error-rate", "limit": 0}]}}}
    ]


def test_an_error_after_a_case_variant_points_at_the_right_line() -> None:
    with pytest.raises(ExperimentInvalid) as info:
        load("spec:\n- task: http\n  with:\n    URL: 5\n")
    assert (
        str(info.value) == "e.yaml:4: $.spec[0].with.url: expected a string, found 5 (an integer)"
    )


def test_soft_failure_from_inside_with_moves_to_the_task() -> None:
    text = "spec:\n- task: slack\n  with: {url: 'http://x.invalid/', softFailure: true}\n"
    experiment = load_text(text, name="e.yaml", base_dir=Path(), env=os.environ)
    assert experiment.tasks[0].soft_failure is True
    assert experiment.tasks[0].inputs == {"url": "http://x.invalid/"}
    assert experiment.to_document()["spec"] == [
        {"task": "slack", "with": {"url": "http://x.invalid/"}, "softFailure": True}
    ]


def test_conditions_and_run_tasks() -> None:
    experiment = load_experiment(VALID / "conditions.yaml", env=os.environ)
    assert [t.name for t in experiment.tasks] == ["run"] * 4
    assert experiment.tasks[0].condition is None
    assert experiment.tasks[1].condition is not None
    assert experiment.tasks[1].label == "task 1 (run)"
    assert experiment.tasks[1].line == 3
    assert experiment.tasks[3].to_document() == {
        "if": "result.insights.numVersions == 0 && !SLOs()",
        "run": "echo never",
        "softFailure": True,
    }


def test_metadata_is_kept() -> None:
    experiment = load_experiment(VALID / "current-form.yaml", env=os.environ)
    assert experiment.name == "current-form"
    assert experiment.to_document()["metadata"] == {"name": "current-form"}
    assert load_text("- run: x\n", name="e", base_dir=Path(), env=os.environ).name is None
