"""The action contract: `action.yml` read as the runner reads it, the entrypoint run as it runs it.

Each test builds the environment the GitHub runner gives a Docker action
(`INPUT_*` from the inputs and their defaults, hyphens kept; the event payload
file; the command files; `GITHUB_API_URL` at a local GitHub API) and runs
`entrypoint.py` in a subprocess, then reads what the runner would read.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.action import ACTION, GITHUB_TOKEN, commands, parse_outputs, run_action
from tests.support.paths import ROOT
from tests.support.servers.github_api import FakeGitHub, pull_request_event

PASSING = """\
metadata: {name: smoke}
spec:
- run: echo "all good"
"""
FAILING_TASK = """\
spec:
- run: echo ok
- run: |
    echo "checking the deployment"
    exit 4
"""
INVALID = """\
spec:
- task: ready
  with:
    url: http://127.0.0.1:1/
    timeot: 5s
"""


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=GITHUB_TOKEN) as server:
        yield server


def test_action_yml_follows_the_conventions() -> None:
    assert ACTION["runs"] == {"using": "docker", "image": "Dockerfile"}
    for name, spec in ACTION["inputs"].items():
        # Iter8's own action's camelCase names are read too, deprecated
        deprecated = "deprecationMessage" in spec
        assert re.fullmatch(r"[a-z]+([A-Z]+[a-z]*)+" if deprecated else r"[a-z]+(-[a-z]+)*", name)
        assert spec["description"] and "\n" not in spec["description"]
        assert isinstance(spec["default"], str)
    assert set(ACTION["outputs"]) == {
        "result-file",
        "verdict",
        "winner",
        "slos-met",
        "html-report",
        "markdown-report",
    }


def test_a_passing_run_writes_everything_and_comments(tmp_path: Path, github: FakeGitHub) -> None:
    run = run_action(tmp_path, github, PASSING)

    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs == {
        "result-file": "iter8-reports/result.yaml",
        "verdict": "no-assessment",
        "winner": "",
        "slos-met": "true",
        "html-report": "iter8-reports/report.html",
        "markdown-report": "iter8-reports/report.md",
    }
    for name in ("result.yaml", "report.html", "report.md", "junit.xml"):
        assert (tmp_path / "iter8-reports" / name).is_file(), name
    report_md = (tmp_path / "iter8-reports/report.md").read_text()
    assert run.summary.rstrip("\n") == report_md.rstrip("\n")
    [comment] = github.comments_on(7)
    assert comment["body"].startswith("<!-- iter8-py:comment key=experiment.yaml -->\n")
    assert "Completed" in comment["body"]
    assert comment["body"].endswith(
        "\n\n<sub>[Reports and logs of this run]"
        "(https://github.com/iter8-py/demo/actions/runs/4242)</sub>\n"
    )
    assert commands(run.stdout, "add-mask") == [f"::add-mask::{GITHUB_TOKEN}"]
    assert run.stdout.splitlines()[0] == f"::add-mask::{GITHUB_TOKEN}"
    assert "commented on pull request #7" in run.stdout


def test_a_second_run_updates_the_same_comment(tmp_path: Path, github: FakeGitHub) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = run_action(tmp_path / "a", github, PASSING)
    second = run_action(tmp_path / "b", github, FAILING_TASK)
    assert (first.code, second.code) == (0, 3)
    [comment] = github.comments_on(7)
    assert "Experiment failed" in comment["body"]
    assert [r.method for r in github.writes()] == ["POST", "PATCH"]


def test_two_experiments_keep_one_comment_each(tmp_path: Path, github: FakeGitHub) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    run_action(tmp_path / "a", github, PASSING, {"comment-key": "smoke"})
    run_action(tmp_path / "b", github, PASSING, {"comment-key": "load"})
    run_action(tmp_path / "b", github, PASSING, {"comment-key": "load"})
    bodies = sorted(c["body"].split("\n", 1)[0] for c in github.comments_on(7))
    assert bodies == [
        "<!-- iter8-py:comment key=load -->",
        "<!-- iter8-py:comment key=smoke -->",
    ]


def test_a_failing_task_is_an_annotation_and_exit_code_3(
    tmp_path: Path, github: FakeGitHub
) -> None:
    run = run_action(tmp_path, github, FAILING_TASK)
    assert run.code == 3
    assert commands(run.stdout, "error") == [
        "::error title=Task failed%3A task 1 (run),file=experiment.yaml,line=3::"
        "task 1 (run) failed: the script exited with status 4; last line: checking the deployment"
    ]
    assert run.outputs["verdict"] == "error"


def test_fail_on_none_reports_but_passes(tmp_path: Path, github: FakeGitHub) -> None:
    run = run_action(tmp_path, github, FAILING_TASK, {"fail-on": "none"})
    assert run.code == 0
    assert commands(run.stdout, "warning")[0].startswith(
        "::warning title=Task failed%3A task 1 (run),file=experiment.yaml,line=3::"
    )


def test_an_invalid_experiment_points_at_the_line(tmp_path: Path, github: FakeGitHub) -> None:
    run = run_action(tmp_path, github, INVALID, {"comment": "on-failure"})
    assert run.code == 2
    assert commands(run.stdout, "error") == [
        "::error title=Invalid experiment%3A $.spec[0].with.timeot,file=experiment.yaml,line=5::"
        "unknown field 'timeot' of this task; did you mean 'timeout'?"
    ]
    assert run.outputs["verdict"] == "invalid"
    assert run.summary.startswith("## ❌ Invalid experiment: experiment.yaml\n")
    [comment] = github.comments_on(7)
    assert "The experiment was not run: 1 problem to fix." in comment["body"]
    assert not (tmp_path / "iter8-reports").exists()


def test_a_fork_warns_keeps_summary_and_outputs_and_exits_by_the_verdict(
    tmp_path: Path,
) -> None:
    with FakeGitHub(token=GITHUB_TOKEN, read_only=True) as fork:
        run = run_action(tmp_path, fork, PASSING, event=pull_request_event(fork=True))
    assert run.code == 0
    [warning] = commands(run.stdout, "warning")
    assert warning.startswith(
        "::warning title=Comment not posted::GitHub refused the pull-request comment "
        "(403 Resource not accessible by integration): a pull request from a fork"
    )
    assert run.outputs["verdict"] == "no-assessment"
    assert run.summary


def test_on_a_push_it_says_there_is_nothing_to_comment_on(
    tmp_path: Path, github: FakeGitHub
) -> None:
    run = run_action(tmp_path, github, PASSING, event_name="push", event={"ref": "refs/heads/main"})
    assert run.code == 0
    assert "comment: no pull request to comment on: the workflow runs on push" in run.stdout
    assert github.server.requests == []


def test_comment_never_makes_no_api_call(tmp_path: Path, github: FakeGitHub) -> None:
    run = run_action(tmp_path, github, PASSING, {"comment": "never"})
    assert run.code == 0
    assert github.server.requests == []


def test_on_failure_does_not_comment_on_a_pass(tmp_path: Path, github: FakeGitHub) -> None:
    run = run_action(tmp_path, github, PASSING, {"comment": "on-failure"})
    assert run.code == 0
    assert github.writes() == []


def test_secrets_are_masked_first_and_redacted_everywhere(
    tmp_path: Path, github: FakeGitHub
) -> None:
    experiment = 'spec:\n- run: echo "the token is ${INPUT_TOKEN:-not given to scripts}"\n'
    run = run_action(tmp_path, github, experiment, step_env={"GH_TOKEN": GITHUB_TOKEN})
    assert run.code == 0
    assert run.stdout.splitlines()[0] == f"::add-mask::{GITHUB_TOKEN}"
    assert GITHUB_TOKEN not in run.stdout.replace(f"::add-mask::{GITHUB_TOKEN}", "")
    assert "the token is not given to scripts" in run.stdout
    assert GITHUB_TOKEN not in (tmp_path / "iter8-reports/result.yaml").read_text()
    assert GITHUB_TOKEN not in github.comments_on(7)[0]["body"]


def test_invalid_inputs_are_listed_at_once(tmp_path: Path, github: FakeGitHub) -> None:
    run = run_action(
        tmp_path,
        github,
        PASSING,
        {"comment": "sometimes", "summary": "yes", "report-formats": "html,pdf"},
    )
    assert run.code == 2
    assert commands(run.stdout, "error") == [
        "::error title=Invalid inputs::invalid inputs:%0A"
        "  comment: 'sometimes' is not valid; use one of: always, on-failure, never%0A"
        "  report-formats: 'html,pdf' is not valid; use a comma-separated list of: "
        "text, markdown, html, json, junit, none%0A"
        "  summary: 'yes' is not a boolean; use true or false "
        "(YAML 1.2 core schema: true | True | TRUE | false | False | FALSE)"
    ]


def test_underscored_input_names_are_read_too(tmp_path: Path, github: FakeGitHub) -> None:
    run = run_action(tmp_path, github, PASSING, {"report-dir": "ignored"})
    assert run.code == 0
    assert run.outputs["result-file"] == "ignored/result.yaml"


def test_sigterm_writes_reports_and_outputs_but_makes_no_api_call(
    tmp_path: Path, github: FakeGitHub
) -> None:
    experiment = "spec:\n- run: echo started; sleep 30\n"
    (tmp_path / "experiment.yaml").write_text(experiment)
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
    }
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "entrypoint.py")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    for line in process.stdout:
        if "| started" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGTERM)
    rest = process.stdout.read()
    assert process.wait(timeout=30) == 130
    assert "::error title=Interrupted::interrupted by SIGTERM; the result has what finished" in rest
    assert parse_outputs(output.read_text())["verdict"] == "error"
    assert (tmp_path / "iter8-reports" / "report.html").is_file()
    assert github.server.requests == []


def test_a_chart_with_values_renders_the_experiment_and_runs_it(
    tmp_path: Path, github: FakeGitHub
) -> None:
    (tmp_path / "values.yaml").write_text(
        "tasks: [run, assess]\nrun: echo rendered from a chart\n"
        "assess: {SLOs: {upper: {http/latency-mean: 1}}}\n"
    )
    run = run_action(
        tmp_path,
        github,
        "spec: [{run: echo this file is replaced}]\n",
        {
            "chart": "iter8",
            "values": "values.yaml",
            "set": "tasks={run}\nmetadata.name=from-chart\n",
            "comment": "never",
        },
    )
    assert run.code == 0, run.stdout + run.stderr
    experiment = yaml.safe_load((tmp_path / "experiment.yaml").read_text())
    assert experiment == {
        "metadata": {"name": "from-chart"},
        "spec": [{"run": "echo rendered from a chart"}],
    }
    assert "::group::Render chart iter8 into experiment.yaml" in run.stdout
    report_md = (tmp_path / "iter8-reports" / "report.md").read_text()
    assert "- run: echo rendered from a chart" in report_md  # the Experiment section


def test_bad_chart_values_are_an_annotation_and_exit_2(tmp_path: Path, github: FakeGitHub) -> None:
    run = run_action(
        tmp_path,
        github,
        PASSING,
        {"chart": "iter8", "set": "tasks={http}\nhttp.qps=fast", "comment": "never"},
    )
    assert run.code == 2
    assert commands(run.stdout, "error")[0].startswith(
        "::error title=Invalid chart or values::the values do not fit chart 'iter8'"
    )
    assert "values: http.qps: 'fast' is not of type 'number'" in run.stdout


def test_iter8_action_input_names_are_read_with_a_notice(
    tmp_path: Path, github: FakeGitHub
) -> None:
    (tmp_path / "v.yaml").write_text("tasks: [run]\nrun: exit 0\n")
    run = run_action(
        tmp_path,
        github,
        PASSING,
        {
            "chart": "iter8",
            "valuesFile": "v.yaml",
            "validateSLOs": "false",
            "logLevel": "debug",
            "comment": "never",
        },
    )
    assert run.code == 0, run.stdout + run.stderr
    assert commands(run.stdout, "warning") == [
        "::warning title=Deprecated input::input `validateSLOs` (Iter8's action) is deprecated; "
        "use `fail-on: task-failure`",
        "::warning title=Deprecated input::input `logLevel` (Iter8's action) is deprecated; "
        "use `log-level`",
        "::warning title=Deprecated input::input `valuesFile` (Iter8's action) is deprecated; "
        "use `values`",
    ]
    assert yaml.safe_load((tmp_path / "experiment.yaml").read_text()) == {
        "spec": [{"run": "exit 0"}]
    }


def test_chart_inputs_without_a_chart_are_invalid(tmp_path: Path, github: FakeGitHub) -> None:
    run = run_action(tmp_path, github, PASSING, {"set": "a=b"})
    assert run.code == 2
    assert "set: given without `chart`; name the chart, e.g. `chart: iter8`" in run.stdout
