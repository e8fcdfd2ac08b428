"""The CI job run in this process (`iter8_action.pipeline.main`), as a GitHub runner runs it.

The environment the runner gives a Docker action's step, for a `pull_request` event
whose files live beside the workspace (event payload, outputs, step summary).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.servers.github_api import FakeGitHub, pull_request_event


def github_environ(
    workspace: Path, server: FakeGitHub, *, token: str, **inputs: str
) -> dict[str, str]:
    """The runner's variables for a pull request, and `INPUT_*` for the token and `inputs`
    (`fail_on="none"` becomes `INPUT_FAIL-ON`, keeping the hyphen as the runner does)."""
    event = workspace.parent / "event.json"
    event.write_text(json.dumps(pull_request_event()))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_OUTPUT": str(workspace.parent / "output"),
        "GITHUB_STEP_SUMMARY": str(workspace.parent / "summary.md"),
        "GITHUB_API_URL": server.url,
        "GITHUB_REPOSITORY": server.repo,
        "INPUT_TOKEN": token,
        **{f"INPUT_{k.upper().replace('_', '-')}": v for k, v in inputs.items()},
    }
