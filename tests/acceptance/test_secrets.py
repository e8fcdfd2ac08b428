"""Secrets through the real CLI and the CI job: registered at load, redacted in data, never
printed, and files that stay valid and readable.

Issue 11 items 1 (a masked value keeps every format valid), 6 (every secret of the
experiment is registered before the first task runs), 8 (what a `run:` script inherits)
and 9 (the mode of every file the job writes).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from tests.support.action import GITHUB_TOKEN, Run, commands, run_action
from tests.support.cli import Iter8, iter8_command, iter8_env
from tests.support.servers.github_api import FakeGitHub
from tests.support.servers.targets import Received, Target, closed_port
from tests.support.servers.webhooks import SlackReceiver, WebhookReceiver

BEARER = "abc123456"
REPORTS = {"text": "txt", "markdown": "md", "html": "html", "json": "json", "junit": "xml"}


@pytest.fixture
def target() -> Iterator[Target]:
    with Target() as server:
        yield server


@pytest.fixture
def slack() -> Iterator[SlackReceiver]:
    with SlackReceiver() as server:
        yield server


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=GITHUB_TOKEN) as server:
        yield server


def masked_experiment(target: Target, slack: SlackReceiver) -> str:
    return f"""\
metadata: {{name: masked}}
spec:
- task: http
  with:
    url: {target.url}/
    numRequests: 5
    qps: 50
    headers: {{Authorization: "Bearer {BEARER}"}}
- task: slack
  with:
    url: {slack.webhook_url}
"""


def _header(request: Received, name: str) -> str | None:
    return {k.lower(): v for k, v in request.headers.items()}.get(name)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_report(fmt: str, text: str) -> None:
    """The report parses as its format says, and shows the placeholder for the secrets."""
    if fmt == "json":
        shown = json.dumps(json.loads(text))
    elif fmt == "junit":
        shown = ET.tostring(ET.fromstring(text), encoding="unicode")
    elif fmt == "html":
        parser = _Text()
        parser.feed(text)
        parser.close()
        shown = "".join(parser.text)
    elif fmt == "markdown":
        shown = MarkdownIt("commonmark").enable("table").render(text)
    else:
        shown = text
    if fmt in ("markdown", "html"):  # the reports that show the experiment
        assert "Authorization: (redacted)" in shown, shown
        assert "url: (redacted)" in shown


@pytest.mark.parametrize("result_name", ["result.yaml", "result.json"])
def test_masked_values_keep_the_result_and_every_report_valid(
    iter8: Iter8, tmp_path: Path, target: Target, slack: SlackReceiver, result_name: str
) -> None:
    (tmp_path / "experiment.yaml").write_text(masked_experiment(target, slack))

    done = iter8("run", "-f", "experiment.yaml", "-o", result_name)

    assert done.returncode == 0, done.stderr
    assert {_header(r, "authorization") for r in target.requests} == {f"Bearer {BEARER}"}
    assert len(slack.requests) == 1
    text = (tmp_path / result_name).read_text()
    for secret in (BEARER, slack.path):
        assert secret not in text + done.stderr
    document = json.loads(text) if result_name.endswith(".json") else yaml.safe_load(text)
    assert document["spec"][0]["with"]["headers"] == {"Authorization": "(redacted)"}
    assert document["spec"][1]["with"]["url"] == "(redacted)"
    checked = iter8("assert", "-f", result_name, "-c", "completed", "-c", "nofailure")
    assert checked.returncode == 0, checked.stderr
    for fmt, ext in REPORTS.items():
        out = tmp_path / f"report.{ext}"
        done = iter8("report", "-f", result_name, "-o", fmt, "--output", out.name)
        assert done.returncode == 0, done.stderr
        report = out.read_text()
        assert BEARER not in report and slack.path not in report
        check_report(fmt, report)


def test_masked_values_through_the_ci_job(
    tmp_path: Path, github: FakeGitHub, target: Target, slack: SlackReceiver
) -> None:
    run = run_action(
        tmp_path,
        github,
        masked_experiment(target, slack),
        {"report-formats": ",".join(REPORTS)},
    )

    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["verdict"] == "no-assessment"
    assert len(slack.requests) == 1
    masks = commands(run.stdout, "add-mask")
    assert f"::add-mask::Bearer {BEARER}" in masks
    assert f"::add-mask::{slack.webhook_url}" in masks
    reports = tmp_path / "iter8-reports"
    written = {p.name: p.read_text() for p in reports.iterdir()}
    assert sorted(written) == [
        "junit.xml",
        "report.html",
        "report.json",
        "report.md",
        "report.txt",
        "result.yaml",
    ]
    assert yaml.safe_load(written["result.yaml"])["spec"][1]["with"]["url"] == "(redacted)"
    for fmt, ext in REPORTS.items():
        name = "junit.xml" if fmt == "junit" else f"report.{ext}"
        check_report(fmt, written[name])
    [comment] = github.comments_on(7)
    assert "Authorization: (redacted)" in comment["body"]
    _nowhere(run, [BEARER, slack.path], comment["body"])


def _nowhere(run: Run, secrets: list[str], *more: str) -> None:
    """No secret in the job's output (bar its own masks), files, summary or `more`."""
    out = "\n".join(line for line in run.stdout.splitlines() if not line.startswith("::add-mask::"))
    files = [p.read_text() for p in (run.workspace / "iter8-reports").iterdir()]
    for secret in secrets:
        for text in (out, run.stderr, run.summary, *files, *more):
            assert secret not in text


def test_every_secret_is_registered_before_the_first_task(
    tmp_path: Path, github: FakeGitHub, target: Target
) -> None:
    """`ready`'s credentials, a username-only userinfo, and the secrets of tasks that never
    run (their environment variables included) are masked from the first line on."""
    userinfo = "ghp_userinfoToken42"
    header = "probe-cookie-0123456"
    hook_key = "hook-api-key-987654"
    dispatch = "dispatch-token-13579"
    with WebhookReceiver() as hook:
        experiment = f"""\
spec:
- task: ready
  with:
    url: http://{userinfo}@127.0.0.1:{target.port}/
    headers: {{Cookie: "session={header}"}}
- run: |
    echo "dispatching with $DISPATCH_TOKEN"
    exit 5
- task: notify
  with:
    url: http://user:{hook_key}@127.0.0.1:{hook.port}/hook
    headers: {{X-API-Key: {hook_key}}}
- task: github
  with: {{owner: acme, repo: app, eventType: done, tokenEnv: DISPATCH_TOKEN}}
"""
        run = run_action(
            tmp_path, github, experiment, {"fail-on": "none"}, step_env={"DISPATCH_TOKEN": dispatch}
        )
        assert hook.requests == []

    assert run.code == 0, run.stdout + run.stderr
    assert _header(target.requests[0], "cookie") == f"session={header}"
    lines = run.stdout.splitlines()
    started = next(i for i, line in enumerate(lines) if "task 0 (ready) started" in line)
    masks = {
        line.removeprefix("::add-mask::") for line in lines[:started] if "::add-mask::" in line
    }
    assert {userinfo, f"session={header}", hook_key, dispatch} <= masks
    assert f"http://***@127.0.0.1:{target.port}/ is ready" in run.stdout
    assert "| dispatching with ***" in run.stdout
    spec = yaml.safe_load((tmp_path / "iter8-reports/result.yaml").read_text())["spec"]
    assert spec[0]["with"]["url"] == f"http://(redacted)@127.0.0.1:{target.port}/"
    assert spec[2]["with"]["url"] == f"http://(redacted)@127.0.0.1:{hook.port}/hook"
    assert spec[2]["with"]["headers"] == {"X-API-Key": "(redacted)"}
    [comment] = github.comments_on(7)
    _nowhere(run, [userinfo, header, hook_key, dispatch], comment["body"])


def test_a_secret_goes_only_where_it_is_needed(tmp_path: Path) -> None:
    """A script's output and a failure's reason reach an event payload redacted; the
    header that needs the secret still carries it."""
    token, probe = "hook-token-24680", "probe-token-13579"
    with WebhookReceiver() as hook:
        (tmp_path / "experiment.yaml").write_text(
            f"""\
spec:
- run: echo "deploying with $HOOK_TOKEN"
- task: ready
  with: {{url: "http://{probe}@127.0.0.1:{closed_port()}/", timeout: 1s, interval: 0.2s}}
  softFailure: true
- task: notify
  with:
    url: http://127.0.0.1:{hook.port}/hook
    headersEnv: {{X-Hook-Token: HOOK_TOKEN}}
    payloadTemplate: '{{{{ [result.tasks[0].output, result.tasks[1].error] | tojson }}}}'
"""
        )
        done = subprocess.run(
            iter8_command("run", "-f", "experiment.yaml"),
            cwd=tmp_path,
            env=iter8_env(HOOK_TOKEN=token),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    [request] = hook.requests
    assert request.header("x-hook-token") == token
    output, error = request.json()
    assert output == "deploying with (redacted)\n"
    assert error.startswith("http://(redacted)@127.0.0.1:")
    assert "| deploying with ***" in done.stderr
    for secret in (token, probe):
        assert secret not in done.stderr + (tmp_path / "result.yaml").read_text()


def test_a_run_script_gets_the_documented_environment(tmp_path: Path, github: FakeGitHub) -> None:
    step_env = {
        "GITHUB_TOKEN": "ghs_stepGithubToken0",
        "GH_TOKEN": "ghs_stepGhToken00000",
        "ACTIONS_RUNTIME_TOKEN": "runtime-token-000000",
        "DEPLOY_KEY": "the script's own key",
    }
    experiment = 'spec:\n- run: env -0 > "$GITHUB_WORKSPACE/script.env"\n'

    run = run_action(tmp_path, github, experiment, {"comment": "never"}, step_env=step_env)

    assert run.code == 0, run.stdout + run.stderr
    raw = (tmp_path / "script.env").read_text()
    env = dict(item.split("=", 1) for item in raw.split("\0") if item)
    assert [name for name in env if name.startswith("INPUT_")] == []
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "ACTIONS_RUNTIME_TOKEN"):
        assert name not in env
    for value in (GITHUB_TOKEN, *step_env.values()):
        assert (value in raw) == (value == step_env["DEPLOY_KEY"])
    assert env["DEPLOY_KEY"] == "the script's own key"
    assert env["GITHUB_REPOSITORY"] == github.repo
    assert env["ITER8_RESULT"] == str((tmp_path / "iter8-reports/result.yaml").resolve())
    assert env["ITER8_TASK_INDEX"] == "0"
    assert Path(env["ITER8_TMPDIR"]).name.startswith("iter8-")


def test_a_run_script_under_the_gitlab_component(tmp_path: Path) -> None:
    """`iter8 ci` as the GitLab component runs it: inputs as INPUT_* with underscores,
    the job token and the comment token in the job's variables."""
    (tmp_path / "experiment.yaml").write_text("spec:\n- run: env -0 > script.env\n")
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": iter8_env()["PYTHONPATH"],
        "GITLAB_CI": "true",
        "CI_JOB_TOKEN": "job-token-0123456",
        "CI_REGISTRY_PASSWORD": "registry-pass-0123",
        "ITER8_GITLAB_TOKEN": "glpat-comment-0123",
        "CI_PROJECT_PATH": "group/app",
        "INPUT_TOKEN": "glpat-comment-0123",
        "INPUT_COMMENT": "never",
        "INPUT_REPORT_FORMATS": "none",
    }
    done = subprocess.run(
        iter8_command("ci"), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    raw = (tmp_path / "script.env").read_text()
    names = {item.split("=", 1)[0] for item in raw.split("\0") if item}
    assert not {n for n in names if n.startswith("INPUT_") or "TOKEN" in n or "PASSWORD" in n}
    assert {"GITLAB_CI", "CI_PROJECT_PATH", "ITER8_RESULT", "PATH"} <= names
    for value in ("job-token-0123456", "registry-pass-0123", "glpat-comment-0123"):
        assert value not in raw


@pytest.mark.parametrize("umask", [0o002, 0o022])
def test_every_file_the_job_writes_gets_the_mode_the_umask_gives(
    tmp_path: Path, github: FakeGitHub, umask: int
) -> None:
    """Not 0600: in a Docker action the files are root's, and later steps read them."""
    run = run_action(
        tmp_path,
        github,
        "spec:\n- run: echo hi\n",
        {"report-formats": ",".join(REPORTS), "report-dir": "out/reports"},
        umask=umask,
    )
    assert run.code == 0, run.stdout + run.stderr

    modes = {
        str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode)
        for p in tmp_path.rglob("*")
        if p.name != "experiment.yaml"  # the test's, not the job's
    }
    assert modes == {
        "out": 0o777 & ~umask,
        "out/reports": 0o777 & ~umask,
        **{
            f"out/reports/{name}": 0o666 & ~umask
            for name in (
                "junit.xml",
                "report.html",
                "report.json",
                "report.md",
                "report.txt",
                "result.yaml",
            )
        },
    }
