"""`cli.job.main` called in-process with a runner's environment (what `iter8 ci` does)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from iter8_action.cli.job import main
from iter8_action.core.secrets import SECRETS
from tests.support.action import github_environ
from tests.support.servers.base import Reply
from tests.support.servers.github_api import FakeGitHub

TOKEN = "ghs_inprocess_token_42"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN) as server:
        yield server
    SECRETS.clear()


def environ(workspace: Path, server: FakeGitHub, **inputs: str) -> dict[str, str]:
    return github_environ(workspace, server, token=TOKEN, **inputs)


def test_a_run_in_process(
    workspace: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    (workspace / "experiment.yaml").write_text("spec:\n- run: echo in-process\n")
    assert main(environ(workspace, github, report_formats="text,json")) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"::add-mask::{TOKEN}\n")
    assert "comment: commented on pull request #7" in out
    assert sorted(p.name for p in (workspace / "iter8-reports").iterdir()) == [
        "report.json",
        "report.txt",
        "result.yaml",
    ]
    outputs = (workspace.parent / "output").read_text()
    assert "\nhtml-report<<" in outputs


def test_a_comment_fault_is_a_warning(
    workspace: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    (workspace / "experiment.yaml").write_text("spec:\n- run: echo ok\n")
    github.server.script(
        "GET", "/repos/iter8-py/demo/issues/7/comments", [Reply(404, {"message": "Not Found"})]
    )
    assert main(environ(workspace, github, summary="false")) == 0
    out = capsys.readouterr().out
    assert "::warning title=Comment not posted::GitHub refused the pull-request comment (404" in out
    assert not (workspace.parent / "summary.md").exists()


def test_a_missing_experiment_file(
    workspace: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(environ(workspace, github, experiment="nope.yaml", comment="never")) == 2
    errors = [line for line in capsys.readouterr().out.splitlines() if line.startswith("::error")]
    assert len(errors) == 1
    assert errors[0].startswith("::error title=Invalid experiment,file=nope.yaml::")


def test_a_report_dir_that_is_a_file(
    workspace: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    (workspace / "experiment.yaml").write_text("spec:\n- run: echo ok\n")
    (workspace / "taken").write_text("a file")
    assert main(environ(workspace, github, report_dir="taken")) == 2
    assert (
        "::error title=Invalid inputs::cannot create the report directory taken: File exists. "
        "Fix: point `report-dir` at a directory the job may write."
    ) in capsys.readouterr().out


def test_experiment_warnings_become_annotations(
    workspace: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    (workspace / "experiment.yaml").write_text("spec:\n- run: echo ok\n  SoftFailure: true\n")
    assert main(environ(workspace, github, comment="never")) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines() if "::warning" in line]
    assert warnings == [
        "::warning title=Experiment,file=experiment.yaml,line=3::$.spec[0].SoftFailure: accepted"
        " 'SoftFailure' as 'softFailure'; write 'softFailure', its canonical spelling"
    ]


def test_from_result_reports_and_comments_without_running(
    workspace: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    (workspace / "experiment.yaml").write_text("spec:\n- run: exit 9\n")
    assert main(environ(workspace, github, comment="never", report_dir="untrusted")) == 3
    assert github.server.requests == []
    capsys.readouterr()

    code = main(environ(workspace, github, from_result="untrusted/result.yaml", fail_on="none"))

    out = capsys.readouterr().out
    assert code == 0
    assert "task 0 (run) started" not in out
    assert (
        "::warning title=Task failed%3A task 0 (run)::task 0 (run) failed: the script exited "
        "with status 9"
    ) in out
    assert (workspace / "iter8-reports" / "report.html").is_file()
    assert "Experiment failed" in github.comments_on(7)[0]["body"]


def test_from_result_that_is_missing(
    workspace: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(environ(workspace, github, from_result="gone.yaml")) == 2
    assert (
        "::error title=Invalid inputs::from-result: gone.yaml does not exist. Fix: upload the "
        "report directory as an artifact in the workflow that ran the experiment, and download "
        "it here before this step.\n"
    ) in capsys.readouterr().out


def test_from_result_that_is_not_a_result(
    workspace: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    (workspace / "experiment.yaml").write_text("spec:\n- run: echo\n")
    assert main(environ(workspace, github, from_result="experiment.yaml")) == 2
    assert "::error title=Invalid inputs::experiment.yaml: not a result file" in (
        capsys.readouterr().out
    )
