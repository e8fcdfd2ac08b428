"""The `$defs` of the event and rollout tasks accept what the README shows and reject mistakes."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from tests.support.paths import SCHEMAS

SCHEMA = json.loads((SCHEMAS / "experiment.schema.json").read_text())


def _errors(task: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    return sorted(e.message for e in validator.iter_errors({"spec": [task]}))


@pytest.mark.parametrize(
    "task",
    [
        {"task": "notify", "with": {"url": "https://hooks.example/x", "softFailure": True}},
        {
            "task": "notify",
            "with": {
                "urlEnv": "HOOK_URL",
                "method": "PUT",
                "params": {"a": "b"},
                "headersEnv": {"Authorization": "HOOK_AUTH"},
                "payloadTemplate": "{}",
                "timeout": "5s",
                "retries": 0,
            },
        },
        {"if": "not SLOs()", "task": "slack", "with": {"urlEnv": "SLACK_WEBHOOK_URL"}},
        {"task": "github", "with": {"owner": "acme", "repo": "app", "eventType": "release"}},
        {"task": "github", "with": {"workflow": "deploy.yml", "ref": "main", "inputs": {"a": "b"}}},
        {"task": "gitlab", "with": {"project": 42, "ref": "main", "variables": {"A": "b"}}},
        {
            "task": "cloudevent",
            "with": {
                "url": "http://broker.invalid",
                "mode": "structured",
                "extensions": {"team": "x"},
            },
        },
        {
            "if": "SLOs()",
            "task": "rollout",
            "softFailure": True,
            "with": {
                "platform": "github",
                "labels": ["rollout"],
                "reviewers": ["alice"],
                "draft": True,
                "autoMerge": True,
                "edits": [
                    {
                        "file": "k8s/app.yaml",
                        "set": [{"path": "a.b", "value": "{{ winner.name }}"}],
                    },
                    {
                        "file": "Dockerfile",
                        "replace": [{"pattern": "v1", "with": "v2", "count": 1}],
                    },
                ],
            },
        },
    ],
)
def test_valid_tasks(task: dict[str, Any]) -> None:
    assert _errors(task) == []


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        (
            {"task": "github", "with": {"owner": "a", "repo": "b", "token": "ghp_x"}},
            "Additional properties are not allowed ('token' was unexpected)",
        ),
        (
            {"task": "github", "with": {"workflow": "deploy.yml"}},
            "'ref' is a dependency of 'workflow'",
        ),
        ({"task": "gitlab", "with": {"project": "a/b"}}, "'ref' is a required property"),
        (
            {"task": "notify", "with": {"url": "x", "urlEnv": "Y"}},
            "is not valid under any of the given schemas",
        ),
        ({"task": "slack", "with": {}}, "is not valid under any of the given schemas"),
        (
            {
                "task": "notify",
                "with": {"url": "x", "payloadTemplate": "a", "payloadTemplateURL": "b"},
            },
            "should not be valid under",
        ),
        (
            {"task": "cloudevent", "with": {"url": "x", "extensions": {"Team": "x"}}},
            "does not match",
        ),
        (
            {"task": "rollout", "with": {"edits": [{"file": "a"}]}},
            "is not valid under any of the given schemas",
        ),
        ({"task": "rollout", "with": {"edits": []}}, "[] should be non-empty"),
    ],
)
def test_invalid_tasks(task: dict[str, Any], expected: str) -> None:
    errors = _errors(task)
    assert any(expected in e for e in errors), errors


def test_new_task_names_are_known_to_the_schema_and_the_registry() -> None:
    from iter8_action.tasks import registry

    names = SCHEMA["$defs"]["task"]["properties"]["task"]["enum"]
    for name in ("notify", "slack", "github", "gitlab", "cloudevent", "rollout"):
        assert name in names
        assert name in registry()
        assert name in SCHEMA["$defs"]
