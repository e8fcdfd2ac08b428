"""The GitLab component run for real by gitlab-ci-local, against a local GitLab API.

The project includes the template with `include: local:` and inputs, as a
user's `.gitlab-ci.yml` would; gitlab-ci-local expands the inputs, runs the job
in shell mode (the component's image is the action's, which cannot be pulled
here) and collects the artifacts and the dotenv report. A second job reads the
verdict from the dotenv report, as a deploy job would.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.action import ACTION
from tests.support.gitlab_ci import TEMPLATE, gitlab_ci_local, project
from tests.support.servers.gitlab_api import FakeGitLab

PASSING = "spec:\n- run: echo hello from the experiment\n"
FAILING = "spec:\n- run: exit 5\n"
JOB_TOKEN_MESSAGE = (
    "WARNING:\x1b[0m Comment not posted: cannot post the merge-request note: only "
    "CI_JOB_TOKEN is available, and GitLab does not accept the job token on the notes API."
)


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with FakeGitLab() as server:
        yield server


@pytest.mark.requires("gitlab-ci-local")
def test_the_component_runs_notes_and_keeps_artifacts(tmp_path: Path, gitlab: FakeGitLab) -> None:
    root = project(tmp_path / "demo", PASSING)
    first = gitlab_ci_local(root, gitlab, f"ITER8_GITLAB_TOKEN={gitlab.token}")
    second = gitlab_ci_local(root, gitlab, f"ITER8_GITLAB_TOKEN={gitlab.token}")

    assert first.returncode == 0, first.stdout + first.stderr
    assert second.returncode == 0, second.stdout + second.stderr
    assert "| hello from the experiment\n" in first.stdout
    assert "comment: added a note to merge request !3" in first.stdout
    assert "comment: updated the note on merge request !3" in second.stdout
    [note] = gitlab.notes_on(3)
    assert note["body"].startswith("<!-- iter8-py:comment key=smoke -->\n### ")
    assert [r.method for r in gitlab.writes()] == ["POST", "PUT"]
    assert "<sub>[Reports and logs of this run](" in note["body"]
    artifacts = root / ".gitlab-ci-local" / "artifacts" / "iter8-experiment"
    for name in ("result.yaml", "report.html", "report.md", "junit.xml"):
        assert (artifacts / "iter8-reports" / name).is_file(), name
    dotenv = next((artifacts / ".gitlab-ci-reports" / "dotenv").iterdir()).read_text()
    assert "ITER8_VERDICT=no-assessment\n" in dotenv
    assert "deploy           > deploying after verdict=no-assessment slos-met=true" in first.stdout


@pytest.mark.requires("gitlab-ci-local")
def test_with_only_the_job_token_it_says_how_to_fix_it(tmp_path: Path, gitlab: FakeGitLab) -> None:
    root = project(tmp_path / "demo", PASSING)
    run = gitlab_ci_local(root, gitlab)
    assert run.returncode == 0, run.stdout + run.stderr
    assert JOB_TOKEN_MESSAGE in run.stdout
    assert "`token: $ITER8_GITLAB_TOKEN`" in run.stdout
    assert gitlab.server.requests == []


@pytest.mark.requires("gitlab-ci-local")
def test_a_failing_task_fails_the_job_but_keeps_the_artifacts(
    tmp_path: Path, gitlab: FakeGitLab
) -> None:
    root = project(tmp_path / "demo", FAILING, extra_inputs="      report-formats: html,junit")
    run = gitlab_ci_local(root, gitlab, f"ITER8_GITLAB_TOKEN={gitlab.token}")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "ERROR:\x1b[0m experiment.yaml:2: Task failed: task 0 (run): task 0 (run) failed: " in (
        run.stdout
    )
    assert "FAIL  iter8-experiment" in run.stdout
    artifacts = root / ".gitlab-ci-local" / "artifacts" / "iter8-experiment" / "iter8-reports"
    assert sorted(p.name for p in artifacts.iterdir()) == [
        "junit.xml",
        "report.html",
        "result.yaml",
    ]
    assert "failed" in gitlab.notes_on(3)[0]["body"]


def test_the_template_has_the_actions_inputs_and_no_global_keywords() -> None:
    header, jobs = yaml.safe_load_all(TEMPLATE.read_text())
    action = {
        name: spec
        for name, spec in ACTION["inputs"].items()
        if "deprecationMessage" not in spec  # Iter8's action's names: GitHub only
    }
    inputs = header["spec"]["inputs"]
    assert set(inputs) == set(action) | {"stage", "job-prefix", "image"}
    for name, spec in action.items():
        if name != "token":  # GitHub's default is an expression GitLab does not have
            assert str(inputs[name]["default"]).lower() == spec["default"].lower(), name
    assert list(jobs) == ["$[[ inputs.job-prefix ]]-experiment"]
    variables = jobs["$[[ inputs.job-prefix ]]-experiment"]["variables"]
    for name in action:
        assert variables[f"INPUT_{name.upper().replace('-', '_')}"] == f"$[[ inputs.{name} ]]"


@pytest.mark.requires("gitlab-ci-local")
def test_the_component_renders_a_chart_with_values(tmp_path: Path, gitlab: FakeGitLab) -> None:
    inputs = (
        "      chart: iter8\n"
        "      values: values.yaml\n"
        "      set: |-\n"
        "        run=echo hello from the chart\n"
        "        metadata.name=charted\n"
        "      report-formats: markdown"
    )
    root = project(tmp_path / "demo", PASSING, extra_inputs=inputs)
    (root / "values.yaml").write_text("tasks: [run]\nrun: echo overridden by set\n")
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    run = gitlab_ci_local(root, gitlab, f"ITER8_GITLAB_TOKEN={gitlab.token}")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "| hello from the chart\n" in run.stdout
    report = root / ".gitlab-ci-local" / "artifacts" / "iter8-experiment" / "iter8-reports"
    assert "- run: echo hello from the chart" in (report / "report.md").read_text()
    assert "charted" in gitlab.notes_on(3)[0]["body"]
