"""The event tasks against real receivers on 127.0.0.1."""

from __future__ import annotations

import io
import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_http_event

from iter8_action.core.errors import TaskFailed
from iter8_action.core.logs import setup_logging
from iter8_action.core.secrets import SECRETS
from iter8_action.events import slack as slack_payload
from iter8_action.events.summary import summarize
from iter8_action.tasks import cloudevent, github, gitlab, notify, slack
from iter8_action.tasks.base import TaskContext
from tests.support.contexts import experiment_context
from tests.support.results import assessed_result
from tests.support.servers.base import Reply
from tests.support.servers.webhooks import (
    GitHubDispatchReceiver,
    GitLabTriggerReceiver,
    SlackReceiver,
    WebhookReceiver,
)

CI_VARIABLES = (
    "GITHUB_SERVER_URL",
    "GITHUB_RUN_ID",
    "GITHUB_ACTIONS",
    "GITHUB_API_URL",
    "GITHUB_REPOSITORY",
    "CI_JOB_URL",
    "CI_PIPELINE_URL",
    "GITLAB_CI",
    "CI_API_V4_URL",
)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield
    SECRETS.clear()


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """The log as the command line writes it (with secrets redacted), at debug level."""
    stream = io.StringIO()
    logger = setup_logging("debug", stream)
    yield stream
    logger.handlers.clear()
    logger.propagate = True
    logger.setLevel(logging.NOTSET)


@pytest.fixture
def ctx(tmp_path: Path) -> TaskContext:
    return experiment_context(assessed_result(), tmp_path, name="checkout")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


def _summary(ctx: TaskContext) -> dict[str, Any]:
    return summarize(ctx.result.to_dict(), experiment_name="checkout")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- notify ----------------------------------------------------------------------------


def test_notify_posts_the_rendered_template_with_params_and_headers(
    receiver: WebhookReceiver,
    ctx: TaskContext,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("HOOK_TOKEN", "Bearer s3cr3t-hook-token")
    template = (
        '{"verdict": "{{ verdict }}", "winner": "{{ winner.name }}", '
        '"p95": {{ winnerMetrics["http/latency-p95"] }}}'
    )
    caplog.set_level(logging.DEBUG, logger="iter8")
    notify.TASK.execute(
        {
            "url": f"{receiver.url}/hooks/release",
            "params": {"team": "payments"},
            "headers": {"X-Source": "iter8"},
            "headersEnv": {"Authorization": "HOOK_TOKEN"},
            "payloadTemplate": template,
        },
        ctx,
    )
    [request] = receiver.requests
    assert (request.method, request.path, request.query) == (
        "POST",
        "/hooks/release",
        {"team": ["payments"]},
    )
    assert request.header("Content-Type") == "application/json"
    assert request.header("X-Source") == "iter8"
    assert request.header("Authorization") == "Bearer s3cr3t-hook-token"
    assert request.body == b'{"verdict": "pass", "winner": "v2", "p95": 92.5}'
    assert "s3cr3t-hook-token" not in caplog.text
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("request:")]
    assert logged == [
        f"request:\n  POST {receiver.url}/hooks/release\n  params: {{'team': 'payments'}}\n"
        "  X-Source: iter8\n  Authorization: ***\n  Content-Type: application/json\n"
        '  {"verdict": "pass", "winner": "v2", "p95": 92.5}'
    ]


def test_notify_without_a_payload_is_a_get_as_in_iter8(
    receiver: WebhookReceiver, ctx: TaskContext
) -> None:
    notify.TASK.execute({"url": f"{receiver.url}/ping", "params": {"exp": "checkout"}}, ctx)
    [request] = receiver.requests
    assert (request.method, request.path, request.query, request.body) == (
        "GET",
        "/ping",
        {"exp": ["checkout"]},
        b"",
    )
    assert request.header("Content-Type") is None


def test_notify_template_from_a_file_and_from_a_url(
    receiver: WebhookReceiver, ctx: TaskContext, tmp_path: Path
) -> None:
    (tmp_path / "message.txt").write_text("{{ experiment.name }}: {{ reason }}\n")
    notify.TASK.execute({"url": f"{receiver.url}/a", "payloadTemplateFile": "message.txt"}, ctx)
    assert receiver.requests[0].body == b"checkout: every version meets all 2 SLO(s)\n"
    assert receiver.requests[0].header("Content-Type") == "text/plain; charset=utf-8"

    receiver.script("GET", "/template", [Reply(200, "verdict={{ .verdict }}")])
    notify.TASK.execute(
        {
            "url": f"{receiver.url}/b",
            "method": "PUT",
            "contentType": "application/x-verdict",
            "payloadTemplateURL": f"{receiver.url}/template",
        },
        ctx,
    )
    assert [(r.method, r.path) for r in receiver.requests[1:]] == [
        ("GET", "/template"),
        ("PUT", "/b"),
    ]
    assert receiver.requests[2].body == b"verdict=pass"
    assert receiver.requests[2].header("Content-Type") == "application/x-verdict"


def test_a_500_then_a_200_is_delivered_on_the_retry(
    receiver: WebhookReceiver, ctx: TaskContext, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.script("POST", "/hook", [Reply(500, {"error": "busy"})])
    notify.TASK.execute({"url": f"{receiver.url}/hook", "payloadTemplate": "{}"}, ctx)
    assert [r.method for r in receiver.requests] == ["POST", "POST"]
    assert (
        f"{receiver.url}/hook answered 500 Internal Server Error; retrying in 0.5s" in caplog.text
    )


def test_a_receiver_that_keeps_failing_fails_the_task(
    receiver: WebhookReceiver, ctx: TaskContext
) -> None:
    receiver.script("POST", "/hook", [Reply(503), Reply(503)])
    with pytest.raises(TaskFailed) as caught:
        notify.TASK.execute(
            {"url": f"{receiver.url}/hook", "payloadTemplate": "{}", "retries": 1}, ctx
        )
    assert str(caught.value) == (
        f"notify: {receiver.url}/hook answered 503 Service Unavailable (2 attempts)"
    )


def test_a_receiver_that_does_not_answer_in_time(
    receiver: WebhookReceiver, ctx: TaskContext
) -> None:
    receiver.script("POST", "/slow", [Reply(200, delay_s=1.0)])
    with pytest.raises(TaskFailed) as caught:
        notify.TASK.execute(
            {
                "url": f"{receiver.url}/slow",
                "payloadTemplate": "{}",
                "timeout": "200ms",
                "retries": 0,
            },
            ctx,
        )
    assert (
        str(caught.value) == f"notify: no complete answer from {receiver.url}/slow within 200ms "
        "(the deadline set by timeout) (1 attempt)"
    )


def test_a_client_error_is_reported_with_the_answer(
    receiver: WebhookReceiver, ctx: TaskContext
) -> None:
    receiver.script("POST", "/hook", [Reply(404, {"message": "no such hook"})])
    with pytest.raises(TaskFailed) as caught:
        notify.TASK.execute({"url": f"{receiver.url}/hook?key=abc", "payloadTemplate": "{}"}, ctx)
    assert str(caught.value) == (
        f'notify: {receiver.url}/hook answered 404 Not Found: {{"message": "no such hook"}}'
    )


def test_a_receiver_that_is_down(ctx: TaskContext) -> None:
    # softFailure is the engine's (see test_events_run.py): the task reports the failure
    url = f"http://127.0.0.1:{_closed_port()}/hook"
    with pytest.raises(TaskFailed) as caught:
        notify.TASK.execute({"url": url, "retries": 0}, ctx)
    assert str(caught.value) == (
        f"notify: cannot connect to {url}: [Errno 111] Connection refused (1 attempt)"
    )


def test_template_problems_are_reported_in_the_users_terms(
    receiver: WebhookReceiver, ctx: TaskContext
) -> None:
    with pytest.raises(TaskFailed) as caught:
        notify.TASK.execute({"url": receiver.url, "payloadTemplate": "{{ nope }}"}, ctx)
    assert str(caught.value).startswith(
        "notify: payload template payloadTemplate: 'nope' is undefined (values available: "
    )
    with pytest.raises(TaskFailed) as caught:
        notify.TASK.execute({"url": receiver.url, "payloadTemplateFile": "missing.json"}, ctx)
    assert str(caught.value) == (
        f"notify: cannot read payloadTemplateFile {ctx.base_dir / 'missing.json'}: "
        "No such file or directory; the path is relative to the experiment file"
    )
    receiver.script("GET", "/t", [Reply(404)])
    with pytest.raises(TaskFailed) as caught:
        notify.TASK.execute({"url": receiver.url, "payloadTemplateURL": f"{receiver.url}/t"}, ctx)
    assert str(caught.value) == (
        f"notify: cannot fetch payloadTemplateURL: {receiver.url}/t answered 404 Not Found"
    )
    with pytest.raises(TaskFailed) as caught:
        notify.TASK.execute(
            {
                "url": receiver.url,
                "payloadTemplateURL": f"http://127.0.0.1:{_closed_port()}/t",
                "retries": 0,
            },
            ctx,
        )
    assert str(caught.value).startswith(
        "notify: cannot fetch payloadTemplateURL: cannot connect to"
    )
    assert receiver.requests[-1].path == "/t"


# -- slack -----------------------------------------------------------------------------


def test_slack_posts_block_kit_that_slack_accepts_and_never_logs_the_url(
    ctx: TaskContext, monkeypatch: pytest.MonkeyPatch, debug_log: io.StringIO
) -> None:
    with SlackReceiver() as receiver:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", receiver.webhook_url)
        slack.TASK.execute({"urlEnv": "SLACK_WEBHOOK_URL"}, ctx)
    [request] = receiver.requests
    assert request.path == SlackReceiver.path
    assert request.header("Content-Type") == "application/json; charset=utf-8"
    assert request.json() == slack_payload.message(_summary(ctx))
    log = debug_log.getvalue()
    assert "abcdefSECRET123" not in log
    assert "POST *** (attempt 1)" in log
    assert "slack: delivered (200 OK)" in log


def test_slack_refusing_the_message_fails_without_showing_the_url(ctx: TaskContext) -> None:
    refusal = Reply(400, "invalid_blocks", {"Content-Type": "text/plain"})
    with WebhookReceiver(refusal) as receiver, pytest.raises(TaskFailed) as caught:
        slack.TASK.execute(
            {"url": f"{receiver.url}/services/T/B/secretpart", "title": "Release"}, ctx
        )
    assert str(caught.value) == "slack: *** answered 400 Bad Request: invalid_blocks"
    assert receiver.requests[0].json()["blocks"][0]["text"]["text"] == ":white_check_mark: Release"


# -- github ----------------------------------------------------------------------------


def test_github_repository_dispatch_carries_the_summary(
    ctx: TaskContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    with GitHubDispatchReceiver() as receiver:
        monkeypatch.setenv("GITHUB_TOKEN", receiver.token)
        monkeypatch.setenv("GITHUB_REPOSITORY", "acme/app")
        github.TASK.execute({"apiURL": receiver.url}, ctx)
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/repos/acme/app/dispatches")
    assert request.header("Authorization") == f"Bearer {receiver.token}"
    assert request.header("Accept") == "application/vnd.github+json"
    assert request.header("X-GitHub-Api-Version") == "2022-11-28"
    assert request.json() == {"event_type": "iter8", "client_payload": _summary(ctx)}


def test_github_dispatch_with_an_iter8_payload_template(
    ctx: TaskContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    with GitHubDispatchReceiver(token="t0ken-dispatch") as receiver:
        monkeypatch.setenv("DISPATCH_TOKEN", receiver.token)
        monkeypatch.setenv("GITHUB_API_URL", receiver.url)
        inputs = {
            "owner": "acme",
            "repo": "app",
            "tokenEnv": "DISPATCH_TOKEN",
            "payloadTemplate": '{"event_type": "release", '
            '"client_payload": {"ok": {{ (verdict == "pass") | tojson }}}}',
        }
        github.TASK.execute(inputs, ctx)
        assert receiver.requests[0].json() == {
            "event_type": "release",
            "client_payload": {"ok": True},
        }
        with pytest.raises(TaskFailed) as caught:
            github.TASK.execute({**inputs, "payloadTemplate": "verdict: {{ verdict }}"}, ctx)
    assert str(caught.value) == (
        "github: the payload template payloadTemplate did not render to JSON (Expecting value: "
        'line 1 column 1 (char 0)); the body must be {"event_type": ..., "client_payload": {...}}'
    )


def test_github_workflow_dispatch_with_templated_inputs(
    ctx: TaskContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    with GitHubDispatchReceiver() as receiver:
        monkeypatch.setenv("GITHUB_TOKEN", receiver.token)
        inputs = {
            "owner": "acme",
            "repo": "app",
            "apiURL": receiver.url,
            "workflow": "deploy.yml",
            "ref": "main",
            "inputs": {"verdict": "{{ verdict }}", "winner": "{{ winner.name }}"},
        }
        github.TASK.execute(inputs, ctx)
        with pytest.raises(TaskFailed) as caught:
            github.TASK.execute({**inputs, "inputs": {"tag": "{{ winner.name }}"}}, ctx)
    assert receiver.requests[0].path == "/repos/acme/app/actions/workflows/deploy.yml/dispatches"
    assert receiver.requests[0].json() == {
        "ref": "main",
        "inputs": {"verdict": "pass", "winner": "v2"},
    }
    assert str(caught.value) == (
        f"github workflow_dispatch of deploy.yml: {receiver.url}/repos/acme/app/actions/"
        'workflows/deploy.yml/dispatches answered 422 Unprocessable Entity: {"message": '
        '"Unexpected inputs provided: [\\"tag\\"]"}'
    )


def test_github_with_a_wrong_token_or_no_repository(
    ctx: TaskContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_wrong_token")
    with GitHubDispatchReceiver() as receiver, pytest.raises(TaskFailed) as caught:
        github.TASK.execute({"owner": "acme", "repo": "app", "apiURL": receiver.url}, ctx)
    assert str(caught.value) == (
        f"github repository_dispatch: {receiver.url}/repos/acme/app/dispatches answered "
        '401 Unauthorized: {"message": "Bad credentials"}'
    )
    assert receiver.requests[0].header("Authorization") == "Bearer ghp_wrong_token"
    assert SECRETS.redact("ghp_wrong_token") == "***"
    with pytest.raises(TaskFailed) as caught:
        github.TASK.execute({"owner": "acme"}, ctx)
    assert str(caught.value) == (
        "github: no repository: set `owner` and `repo` (outside GitHub Actions, "
        "GITHUB_REPOSITORY is not there to default them)"
    )


# -- gitlab ----------------------------------------------------------------------------


def test_gitlab_triggers_a_pipeline_with_the_verdict(
    ctx: TaskContext, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="iter8")
    with GitLabTriggerReceiver() as receiver:
        monkeypatch.setenv("GITLAB_TRIGGER_TOKEN", receiver.token)
        monkeypatch.setenv("CI_API_V4_URL", f"{receiver.url}/api/v4")
        gitlab.TASK.execute(
            {"project": "acme/app", "ref": "main", "variables": {"IMAGE_TAG": "{{ winner.name }}"}},
            ctx,
        )
        form = receiver.form()
    assert receiver.requests[0].path == "/api/v4/projects/acme%2Fapp/trigger/pipeline"
    assert receiver.requests[0].header("Content-Type") == "application/x-www-form-urlencoded"
    assert form == {
        "token": receiver.token,
        "ref": "main",
        "variables[ITER8_VERDICT]": "pass",
        "variables[ITER8_WINNER]": "v2",
        "variables[ITER8_EXPERIMENT]": "checkout",
        "variables[ITER8_SUMMARY]": json.dumps(_summary(ctx), separators=(",", ":")),
        "variables[IMAGE_TAG]": "v2",
    }
    assert (
        "gitlab: pipeline 9001 started: https://gitlab.example/acme/app/-/pipelines/9001"
        in caplog.text
    )


def test_gitlab_with_a_wrong_trigger_token(
    ctx: TaskContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_TRIGGER", "wrong-trigger-token")
    with GitLabTriggerReceiver() as receiver, pytest.raises(TaskFailed) as caught:
        gitlab.TASK.execute(
            {
                "project": 42,
                "ref": "main",
                "tokenEnv": "MY_TRIGGER",
                "apiURL": f"{receiver.url}/api/v4",
            },
            ctx,
        )
    assert str(caught.value) == (
        f"gitlab pipeline trigger: {receiver.url}/api/v4/projects/42/trigger/pipeline answered "
        '404 Not Found: {"message": "404 Not Found"}'
    )


def test_a_bad_template_in_gitlab_variables(
    ctx: TaskContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITLAB_TRIGGER_TOKEN", "a-trigger-token")
    with pytest.raises(TaskFailed) as caught:
        gitlab.TASK.execute({"project": "a/b", "ref": "main", "variables": {"X": "{{ 1 + }}"}}, ctx)
    assert str(caught.value) == (
        "gitlab: template variables.X:1: unexpected 'end of print statement'"
    )


# -- cloudevent ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_cloudevent_in_both_modes_reads_back_with_the_sdk(
    receiver: WebhookReceiver, ctx: TaskContext, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROKER_KEY", "broker-key-123")
    cloudevent.TASK.execute(
        {
            "url": f"{receiver.url}/broker",
            "mode": mode,
            "headers": {"X-Tenant": "acme"},
            "headersEnv": {"X-Api-Key": "BROKER_KEY"},
        },
        ctx,
    )
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/broker")
    assert request.header("X-Tenant") == "acme"
    assert request.header("X-Api-Key") == "broker-key-123"
    event = from_http_event(HTTPMessage(request.headers, request.body))
    assert event.get_specversion() == "1.0"
    assert event.get_type() == "dev.iter8-py.experiment.result"
    assert event.get_source() == "iter8-py/checkout"
    assert event.get_subject() == "checkout"
    assert event.get_extension("iter8verdict") == "pass"
    assert event.get_data() == _summary(ctx)
    if mode == "binary":
        assert request.header("ce-type") == "dev.iter8-py.experiment.result"
        assert request.header("Content-Type") == "application/json"
    else:
        assert request.header("Content-Type") == "application/cloudevents+json"
        assert request.header("ce-type") is None


def test_cloudevent_source_is_the_ci_run_and_attributes_are_checked(
    receiver: WebhookReceiver, ctx: TaskContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI_JOB_URL", "https://gitlab.example/acme/app/-/jobs/7")
    cloudevent.TASK.execute({"url": receiver.url, "type": "com.acme.release.assessed"}, ctx)
    assert receiver.requests[0].header("ce-source") == "https://gitlab.example/acme/app/-/jobs/7"
    assert receiver.requests[0].header("ce-type") == "com.acme.release.assessed"
    with pytest.raises(TaskFailed) as caught:
        cloudevent.TASK.execute({"url": receiver.url, "extensions": {"Team-Name": "a"}}, ctx)
    assert str(caught.value) == (
        "cloudevent: invalid event attributes: Failed to create CloudEvent due to the validation "
        "errors:: Team-Name: Extension attribute 'Team-Name' should only contain lowercase letters "
        "and numbers"
    )


def test_github_payload_template_errors_name_the_task(
    ctx: TaskContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "a-token-value")
    with pytest.raises(TaskFailed) as caught:
        github.TASK.execute({"owner": "a", "repo": "b", "payloadTemplate": "{{ missing }}"}, ctx)
    assert str(caught.value).startswith(
        "github: payload template payloadTemplate: 'missing' is undefined (values available: "
    )


def test_gitlab_accepts_an_answer_without_a_pipeline_document(
    ctx: TaskContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITLAB_TRIGGER_TOKEN", "a-trigger-token")
    with WebhookReceiver(Reply(201, "created", {"Content-Type": "text/plain"})) as receiver:
        gitlab.TASK.execute({"project": "a/b", "ref": "main", "apiURL": receiver.url}, ctx)
    assert receiver.requests[0].path == "/projects/a%2Fb/trigger/pipeline"
