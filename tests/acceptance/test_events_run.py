"""Event and rollout tasks run by `iter8 run`, as a user runs them, against servers on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import yaml

from tests.support.cli import Iter8
from tests.support.servers.github_repo_api import GitHubRepoServer
from tests.support.servers.webhooks import WebhookReceiver


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_experiment_notifies_opens_a_rollout_pr_and_survives_a_down_receiver(
    iter8: Iter8, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = "# chart values\nimage:\n  tag: v1   # set by iter8\n"
    with WebhookReceiver() as hooks, GitHubRepoServer(files={"values.yaml": values}) as gh:
        monkeypatch.setenv("GITHUB_TOKEN", gh.token)
        monkeypatch.setenv("HOOK_SECRET", "hook-secret-value-42")
        experiment = {
            "metadata": {"name": "release-7"},
            "spec": [
                {"run": "true"},
                {
                    "task": "notify",
                    "with": {
                        "url": f"{hooks.url}/events",
                        "headersEnv": {"X-Secret": "HOOK_SECRET"},
                        "payloadTemplate": (
                            '{"name": "{{ experiment.name }}", "verdict": "{{ verdict }}"}'
                        ),
                    },
                },
                {
                    "task": "slack",
                    "softFailure": True,
                    "with": {"url": f"http://127.0.0.1:{_closed_port()}/hook", "retries": 0},
                },
                {
                    "task": "notify",
                    "with": {
                        "url": f"http://127.0.0.1:{_closed_port()}/x",
                        "retries": 0,
                        "softFailure": True,
                    },
                },
                {
                    "if": "SLOs()",
                    "task": "rollout",
                    "with": {
                        "platform": "github",
                        "repository": "acme/app",
                        "apiURL": gh.url,
                        "title": "Release {{ experiment.name }}",
                        "edits": [
                            {"file": "values.yaml", "set": [{"path": "image.tag", "value": "v7"}]}
                        ],
                    },
                },
            ],
        }
        (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(experiment, sort_keys=False))
        done = iter8("run", "-f", "experiment.yaml", "-o", "result.json", "--log-level", "debug")
    assert done.returncode == 0, done.stderr
    assert "hook-secret-value-42" not in done.stderr + done.stdout
    assert hooks.requests[0].json() == {"name": "release-7", "verdict": "no-slos"}
    assert hooks.requests[0].header("X-Secret") == "hook-secret-value-42"
    assert gh.files_at("iter8/rollout-release-7")["values.yaml"] == values.replace("v1 ", "v7 ")
    assert gh.pulls[0]["title"] == "Release release-7"
    result = json.loads((tmp_path / "result.json").read_text())["result"]
    assert result["failure"] is False
    assert [t["status"] for t in result["tasks"]] == [
        "completed",
        "completed",
        "failed",
        "failed",
        "completed",
    ]
    # Iter8's `with: {softFailure: true}` and the task-level `softFailure:` mean the same
    assert result["tasks"][2]["softFailure"] is True
    assert result["tasks"][3]["softFailure"] is True
    assert result["tasks"][2]["error"].startswith("slack: cannot connect to ***: ")
