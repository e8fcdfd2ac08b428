"""SIGINT and SIGTERM through the real command and CI job: exit 130, the signal named.

Handled one way for the whole `iter8` command and CI job (`iter8_action.core.signals`):
during the load generators' event loops, between tasks, while the reports are
written and while the comment is posted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.action import GITHUB_TOKEN, parse_outputs
from tests.support.cli import iter8_command, iter8_env
from tests.support.paths import ROOT
from tests.support.servers.base import Reply, Request
from tests.support.servers.github_api import FakeGitHub, pull_request_event
from tests.support.servers.grpc_target import CALL, PROTO, GrpcTarget
from tests.support.servers.targets import Target


@pytest.fixture
def target() -> Iterator[Target]:
    with Target() as server:
        yield server


def _run_until(tmp_path: Path, marker: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        iter8_command("run"), cwd=tmp_path, env=iter8_env(), stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 60
    for line in process.stderr:
        if marker in line or time.monotonic() > deadline:
            break
    return process


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_http_load_is_named_in_the_log_and_the_result(
    tmp_path: Path, target: Target, sig: signal.Signals
) -> None:
    experiment = {"spec": [{"task": "http", "with": {"url": target.url, "duration": "30s"}}]}
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(experiment))
    process = _run_until(tmp_path, "loading 1 version(s)")
    time.sleep(1.0)  # inside the load generator's event loop
    process.send_signal(sig)
    assert process.wait(timeout=20) == 130
    assert process.stderr is not None
    rest = process.stderr.read()
    # it used to print "Exception in callback ..." with a traceback and blame SIGINT
    assert "Traceback" not in rest
    assert "Exception in callback" not in rest
    assert f"interrupted by {sig.name}: the result of what finished is in" in rest
    assert rest.endswith(f"error: interrupted by {sig.name}\n")
    result = yaml.safe_load((tmp_path / "result.yaml").read_text())["result"]
    assert result["interrupted"] is True
    assert result["tasks"][0]["error"] == f"interrupted by {sig.name}"


def test_sigterm_during_grpc_load_is_named_too(tmp_path: Path) -> None:
    with GrpcTarget() as grpc_target:
        experiment = {
            "spec": [
                {
                    "task": "grpc",
                    "with": {
                        "host": grpc_target.host,
                        "call": CALL,
                        "proto": str(PROTO),
                        "duration": "30s",
                        "rps": 20,
                    },
                }
            ]
        }
        (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(experiment))
        process = _run_until(tmp_path, "loading 1 version(s)")
        time.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 130
    assert process.stderr is not None
    rest = process.stderr.read()
    assert "Traceback" not in rest
    assert rest.endswith("error: interrupted by SIGTERM\n")
    result = yaml.safe_load((tmp_path / "result.yaml").read_text())["result"]
    assert result["tasks"][0]["error"] == "interrupted by SIGTERM"


def test_sigterm_while_the_comment_is_posted_exits_130_not_143(tmp_path: Path) -> None:
    """The job's handler stays in place after the run: a SIGTERM during the one API
    call used to find the default action restored and kill the process (143)."""
    with FakeGitHub(token=GITHUB_TOKEN) as github:
        stalled: list[Request] = []

        def stall(request: Request) -> Reply:
            stalled.append(request)
            return Reply(200, [], delay_s=30)

        github.server.route("GET", r".*", stall)
        (tmp_path / "experiment.yaml").write_text("spec:\n- run: echo done\n")
        event_path = tmp_path.with_name(tmp_path.name + ".event.json")
        event_path.write_text(json.dumps(pull_request_event()))
        output = tmp_path.with_name(tmp_path.name + ".output")
        env = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT),
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_API_URL": github.url,
            "GITHUB_REPOSITORY": github.repo,
            "INPUT_TOKEN": GITHUB_TOKEN,
            "INPUT_COMMENT": "always",
        }
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "entrypoint.py")],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not stalled and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert stalled, "the job never called the API"
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)
        elapsed = time.monotonic() - sent
    assert process.stdout is not None
    rest = process.stdout.read()
    assert code == 130, rest
    assert elapsed < 5
    assert "Traceback" not in rest
    assert (
        "::error title=Interrupted::interrupted by SIGTERM; the reports written so far are kept"
        in rest
    )
    assert parse_outputs(output.read_text())["verdict"] == "no-assessment"
    assert (tmp_path / "iter8-reports" / "report.html").is_file()
