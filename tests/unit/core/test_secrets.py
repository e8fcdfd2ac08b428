"""Where secrets hide in an experiment, and how they leave the data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from iter8_action.core.secrets import (
    REDACTED,
    SECRETS,
    SecretRegistry,
    header_secrets,
    url_secrets,
)
from iter8_action.documents.schemas import load_schema
from iter8_action.engine.loader import load_text
from iter8_action.tasks import registry
from iter8_action.tasks.base import no_secrets


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    SECRETS.clear()
    yield
    SECRETS.clear()


@pytest.mark.parametrize(
    ("url", "found"),
    [
        ("http://127.0.0.1/", set()),
        ("http://TOKEN1@host.example/", {"TOKEN1", "VE9LRU4xOg=="}),
        (
            "https://me:p%40ss@host.example/",
            {"me:p%40ss", "me:p@ss", "p%40ss", "p@ss", "bWU6cEBzcw=="},
        ),
        ("https://host.example/?q=1&api_key=k3y-value&token=&auth=false", {"k3y-value"}),
        (None, set()),
        ("http://[::1", set()),
    ],
)
def test_credentials_in_a_url(url: object, found: set[str]) -> None:
    assert set(url_secrets(url)) == found


def test_credentials_in_headers() -> None:
    headers = {
        "Authorization": "Bearer abc123456",
        "Cookie": "sid=1",
        "X-Auth-Token": "t0ken",
        "Accept": "application/json-secret-looking",
    }
    assert set(header_secrets(headers)) == {"Bearer abc123456", "abc123456", "sid=1", "t0ken"}
    assert list(header_secrets(None)) == []


def test_data_is_redacted_in_keys_values_and_substrings() -> None:
    registry_ = SecretRegistry()
    registry_.add("s3cret")
    registry_.add("s3cret-longer")
    document: dict[str, Any] = {
        "a": ["x s3cret y", ("s3cret-longer",)],
        "s3cret": 1,
        "n": 2.5,
        "b": None,
    }
    assert registry_.redact_data(document) == {
        "a": [f"x {REDACTED} y", [REDACTED]],
        REDACTED: 1,
        "n": 2.5,
        "b": None,
    }
    assert document["a"][0] == "x s3cret y"  # a copy: the original is left alone
    assert registry_.redact("s3cret-longer") == "***"
    assert SecretRegistry().redact_data(document) is document


SECRET_FIELDS = ("url", "headers", "metadata", "auth", "tokenEnv", "urlEnv", "headersEnv")


def test_every_task_with_a_secret_bearing_field_names_its_secrets() -> None:
    """A task whose schema has a field that can carry a credential declares a `secrets`
    function, so that the loader registers them before any task runs."""
    defs = load_schema("experiment.schema.json")["$defs"]
    for name, task in registry().items():
        fields = set(defs[name].get("properties") or {})
        if fields & set(SECRET_FIELDS):
            assert task.secrets is not no_secrets, name


def _load(text: str, env: dict[str, str] | None = None) -> None:
    load_text(text, name="e.yaml", base_dir=Path(), env=env or {})


@pytest.mark.parametrize(
    ("experiment", "env", "secrets"),
    [
        ("- task: ready\n  with: {url: 'http://TOK3N@127.0.0.1:1/'}\n", {}, ["TOK3N"]),
        (
            "- task: ready\n  with: {url: 'http://127.0.0.1:1/', headers: {X-API-Key: k-123}}\n",
            {},
            ["k-123"],
        ),
        (
            "- task: http\n  with:\n    versions:\n    - url: http://127.0.0.1:1/\n"
            "      headers: {Authorization: Bearer v2-token-abc}\n",
            {},
            ["Bearer v2-token-abc", "v2-token-abc"],
        ),
        (
            "- task: http\n  with:\n    url: http://127.0.0.1:1/\n"
            "    endpoints: {a: {url: /a, headers: {Cookie: c00kie}}}\n",
            {},
            ["c00kie"],
        ),
        (
            "- task: grpc\n  with: {host: '127.0.0.1:1', call: a.B.C, protoURL: 'https://u:pw1@x.example/p',"
            " metadata: {authorization: md-token}}\n",
            {},
            ["pw1", "md-token"],
        ),
        (
            "- task: slack\n  with: {url: 'https://hooks.example/T/B/x'}\n",
            {},
            ["https://hooks.example/T/B/x"],
        ),
        (
            "- task: slack\n  with: {urlEnv: HOOK}\n",
            {"HOOK": "https://h.example/1"},
            ["https://h.example/1"],
        ),
        (
            "- task: notify\n"
            "  with: {url: 'http://x.example/?token=qv1-long', headersEnv: {X-Key: K}}\n",
            {"K": "from-env"},
            ["qv1-long", "from-env"],
        ),
        (
            "- task: cloudevent\n"
            "  with: {urlEnv: U, headers: {Authorization: Basic YWJjOmRlZg==}}\n",
            {"U": "https://ce.example/"},
            ["https://ce.example/", "YWJjOmRlZg=="],
        ),
        (
            "- task: github\n  with: {owner: a, repo: b, eventType: e}\n",
            {"GITHUB_TOKEN": "ghs_default"},
            ["ghs_default"],
        ),
        (
            "- task: gitlab\n  with: {project: a/b, ref: main, tokenEnv: TRIG}\n",
            {"TRIG": "glptt-1"},
            ["glptt-1"],
        ),
        (
            "- task: rollout\n  with:\n    platform: gitlab\n"
            "    edits: [{file: a.yaml, set: [{path: x, value: 1}]}]\n",
            {"GITLAB_TOKEN": "glpat-1"},
            ["glpat-1"],
        ),
        (
            "- task: custommetrics\n  with:\n    templates: {p: 'https://tok9@t.example/p.yaml'}\n"
            "    auth: {p: {type: bearer, tokenEnv: PROM}}\n",
            {"PROM": "prom-token"},
            ["tok9", "prom-token"],
        ),
    ],
)
def test_the_loader_registers_each_tasks_secrets(
    experiment: str, env: dict[str, str], secrets: list[str]
) -> None:
    _load(experiment, env)
    for secret in secrets:
        assert SECRETS.redact(f"<{secret}>") == "<***>", secret


def test_nothing_is_registered_for_an_experiment_without_credentials() -> None:
    _load("- task: ready\n  with: {url: 'http://127.0.0.1:1/', headers: {Accept: a/b}}\n", {})
    data: Any = {"a": "http://127.0.0.1:1/ a/b"}
    assert SECRETS.redact_data(data) is data
