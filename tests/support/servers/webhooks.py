"""Receivers for the event tasks: generic webhooks, Slack, GitHub dispatches, GitLab triggers.

Each is a real HTTP server on 127.0.0.1 that records what it got and answers
the way the real receiver does, so a malformed payload fails the test the way
it would fail in production (Slack's `invalid_blocks`, GitHub's 422 for a
`client_payload` with more than ten top-level keys, GitLab's 404 for a wrong
trigger token).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from tests.support.servers.base import RecordingServer, Reply, Request

# Slack's published limits ("Block Kit: blocks", "Reference: text object")
SLACK_MAX_BLOCKS = 50
SLACK_HEADER_MAX = 150
SLACK_SECTION_MAX = 3000
SLACK_FIELD_MAX = 2000
SLACK_MAX_FIELDS = 10
_UNESCAPED_ANGLE = re.compile(r"<(?![@#!]|https?://|mailto:)")


class WebhookReceiver(RecordingServer):
    """Answers every request on any path with `reply` (default 200 `{"ok": true}`)."""

    def __init__(self, reply: Reply | None = None) -> None:
        super().__init__()
        answer = reply or Reply(200, {"ok": True})
        for method in ("GET", "POST", "PUT", "PATCH"):
            self.route(method, r"/.*", lambda request: answer)


class SlackReceiver(RecordingServer):
    """An incoming webhook at `path` that validates messages as Slack does."""

    path = "/services/T0001/B0001/abcdefSECRET123"

    def __init__(self) -> None:
        super().__init__()
        self.route("POST", self.path, self._receive)

    @property
    def webhook_url(self) -> str:
        return self.url + self.path

    def _receive(self, request: Request) -> Reply:
        try:
            message = request.json()
        except ValueError:
            return _text(400, "invalid_payload")
        problem = slack_problem(message)
        return _text(400, problem) if problem else _text(200, "ok")


def slack_problem(message: Any) -> str | None:
    """Slack's error code for `message`, or None when Slack would take it."""
    if not isinstance(message, dict) or not (message.get("text") or message.get("blocks")):
        return "no_text"
    blocks = message.get("blocks") or []
    if len(blocks) > SLACK_MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        texts: list[tuple[dict[str, Any], int]] = []
        if block.get("type") == "header":
            if block["text"].get("type") != "plain_text":
                return "invalid_blocks"
            texts.append((block["text"], SLACK_HEADER_MAX))
        elif block.get("type") == "section":
            if "text" in block:
                texts.append((block["text"], SLACK_SECTION_MAX))
            fields = block.get("fields") or []
            if len(fields) > SLACK_MAX_FIELDS:
                return "invalid_blocks"
            texts.extend((f, SLACK_FIELD_MAX) for f in fields)
        elif block.get("type") == "context":
            texts.extend((e, SLACK_SECTION_MAX) for e in block.get("elements") or [])
        else:
            return "invalid_blocks"
        for text, limit in texts:
            if not text.get("text") or len(text["text"]) > limit:
                return "invalid_blocks"
            if text.get("type") == "mrkdwn" and _UNESCAPED_ANGLE.search(text["text"]):
                return "invalid_blocks"
    return None


class GitHubDispatchReceiver(RecordingServer):
    """`repository_dispatch` and `workflow_dispatch` endpoints of one repository."""

    def __init__(
        self,
        *,
        owner: str = "acme",
        repo: str = "app",
        token: str = "ghp_dispatch_token_123",
        workflows: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.workflows = dict(workflows or {"deploy.yml": ("verdict", "winner")})
        base = f"/repos/{owner}/{repo}"
        self.route("POST", f"{base}/dispatches", self._repository_dispatch)
        self.route("POST", rf"{base}/actions/workflows/(?P<wf>[^/]+)/dispatches", self._workflow)

    def _denied(self, request: Request) -> Reply | None:
        if request.header("Authorization") != f"Bearer {self.token}":
            return Reply(401, {"message": "Bad credentials"})
        return None

    def _repository_dispatch(self, request: Request) -> Reply:
        denied = self._denied(request)
        if denied:
            return denied
        body = request.json()
        if not body.get("event_type"):
            return Reply(422, {"message": 'Invalid request.\n\n"event_type" wasn\'t supplied.'})
        if len(body.get("client_payload") or {}) > 10:
            return Reply(422, {"message": "client_payload: no more than 10 top-level properties"})
        return Reply(204)

    def _workflow(self, request: Request) -> Reply:
        denied = self._denied(request)
        if denied:
            return denied
        assert request.match is not None
        declared = self.workflows.get(unquote(request.match["wf"]))
        if declared is None:
            return Reply(404, {"message": "Not Found"})
        body = request.json()
        if not body.get("ref"):
            return Reply(422, {"message": 'Invalid request.\n\n"ref" wasn\'t supplied.'})
        unexpected = sorted(set(body.get("inputs") or {}) - set(declared))
        if unexpected:
            return Reply(422, {"message": f"Unexpected inputs provided: {json.dumps(unexpected)}"})
        return Reply(204)


class GitLabTriggerReceiver(RecordingServer):
    """`POST /api/v4/projects/:id/trigger/pipeline` of one project."""

    def __init__(
        self,
        *,
        project: str = "acme/app",
        project_id: int = 42,
        token: str = "glptt-trigger-123",
        refs: tuple[str, ...] = ("main",),
    ) -> None:
        super().__init__()
        self.token, self.refs = token, refs
        path = rf"/api/v4/projects/(?:{project_id}|{project.replace('/', '%2F')})/trigger/pipeline"
        self.route("POST", path, self._trigger)
        self.pipelines = 0

    def form(self, index: int = -1) -> dict[str, str]:
        return dict(parse_qsl(self.requests[index].body.decode()))

    def _trigger(self, request: Request) -> Reply:
        form = dict(parse_qsl(request.body.decode()))
        if form.get("token") != self.token:
            return Reply(404, {"message": "404 Not Found"})
        if form.get("ref") not in self.refs:
            return Reply(400, {"message": {"base": ["Reference not found"]}})
        self.pipelines += 1
        return Reply(
            201,
            {
                "id": 9000 + self.pipelines,
                "ref": form["ref"],
                "status": "created",
                "web_url": f"https://gitlab.example/acme/app/-/pipelines/{9000 + self.pipelines}",
            },
        )


def _text(status: int, body: str) -> Reply:
    return Reply(status, body, headers={"Content-Type": "text/plain"})
