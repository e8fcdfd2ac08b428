"""The action run as the GitHub runner runs it.

- In a subprocess: `run_action` builds the environment the runner gives a Docker action
  (`INPUT_*` from `action.yml`'s inputs and their defaults, hyphens kept; the event
  payload file; the command files; `GITHUB_API_URL` at a local GitHub API), runs
  `entrypoint.py` and reads back what the runner would read (`Run`).
- In this process (`iter8_action.cli.job.main`): `github_environ` is the environment
  for a `pull_request` event whose files live beside the workspace (event payload,
  outputs, step summary).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.paths import ROOT
from tests.support.servers.github_api import FakeGitHub, pull_request_event

ACTION: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
GITHUB_TOKEN = "ghs_workflowtoken0123456789"
"""The token the runner puts for `${{ github.token }}`."""


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    workspace: Path


def run_action(
    workspace: Path,
    server: FakeGitHub,
    experiment: str,
    with_: dict[str, str] | None = None,
    *,
    event_name: str = "pull_request",
    event: dict[str, Any] | None = None,
    step_env: dict[str, str] | None = None,
    umask: int = 0o022,
) -> Run:
    """Run the entrypoint with the environment the runner builds for `uses: ./` + `with:`
    (and the step's `env:`, which the runner passes to a Docker action as they are)."""
    with_ = with_ or {}
    unknown = set(with_) - set(ACTION["inputs"])
    assert not unknown, f"the runner would warn: unexpected inputs {unknown}"
    (workspace / "experiment.yaml").write_text(experiment)
    runner_temp = workspace.with_name(workspace.name + ".runner")
    runner_temp.mkdir(exist_ok=True)
    event_path = runner_temp / "event.json"
    event_path.write_text(json.dumps(event if event is not None else pull_request_event()))
    output, summary = runner_temp / "output", runner_temp / "summary.md"
    output.touch()
    summary.touch()
    env = {"PATH": os.environ["PATH"], "HOME": str(runner_temp), "PYTHONPATH": str(ROOT)}
    for name, spec in ACTION["inputs"].items():
        value = with_.get(name, spec.get("default", ""))
        # The runner evaluates expressions before the step starts.
        value = value.replace("${{ github.token }}", GITHUB_TOKEN)
        env[f"INPUT_{name.replace(' ', '_').upper()}"] = value
    env.update(
        CI="true",
        GITHUB_ACTIONS="true",
        GITHUB_WORKSPACE=str(workspace),
        GITHUB_EVENT_NAME=event_name,
        GITHUB_EVENT_PATH=str(event_path),
        GITHUB_OUTPUT=str(output),
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_API_URL=server.url,
        GITHUB_SERVER_URL="https://github.com",
        GITHUB_REPOSITORY=server.repo,
        GITHUB_RUN_ID="4242",
        RUNNER_TEMP=str(runner_temp),
    )
    env.update(step_env or {})
    done = subprocess.run(
        [sys.executable, str(ROOT / "entrypoint.py")],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        umask=umask,
    )
    return Run(
        done.returncode,
        done.stdout,
        done.stderr,
        parse_outputs(output.read_text()),
        summary.read_text(),
        workspace,
    )


def parse_outputs(text: str) -> dict[str, str]:
    """Read `$GITHUB_OUTPUT` as the runner does (`name<<delimiter` blocks)."""
    outputs: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if not line:
            continue
        name, delimiter = line.split("<<", 1)
        value: list[str] = []
        for item in lines:
            if item == delimiter:
                break
            value.append(item)
        outputs[name] = "\n".join(value)
    return outputs


def commands(stdout: str, name: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith(f"::{name}")]


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
