"""The GitHub platform as the CI job builds it, from a runner's environment."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from iter8_action.platforms.github import GitHubPlatform
from tests.support.servers.github_api import FakeGitHub, pull_request_event


def github_env(
    tmp_path: Path,
    server: FakeGitHub,
    *,
    event_name: str = "pull_request",
    event: dict[str, Any] | None = None,
) -> dict[str, str]:
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(event if event is not None else pull_request_event()))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": server.url,
        "GITHUB_REPOSITORY": server.repo,
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }


def github_platform(
    env: dict[str, str], token: str, *, backoff_factor: float = 0.5
) -> tuple[GitHubPlatform, io.StringIO]:
    out = io.StringIO()
    platform = GitHubPlatform(env, out=out, backoff_factor=backoff_factor)
    platform.set_token(token)
    return platform, out
