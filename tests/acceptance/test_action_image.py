"""The action's image, built and run by Docker the way GitHub's and GitLab's runners use it.

The image is built from the Dockerfile as the runner builds it (`docker build`
of the repository, nothing passed), on a local engine (scripts/docker-engine)
from a stand-in for the base image (scripts/stand-in-base, Debian with Python
3.11), with `--network host` so that pip reaches the package registry. Then:

- GitHub: `docker run` with the runner's mounts (/github/workspace,
  /github/home, /github/workflow, /github/file_commands), working directory,
  `INPUT_*` (action.yml's defaults, hyphens kept) and `GITHUB_*` variables and a
  `pull_request` event, on the host network so that the container reaches the
  load-test target and the GitHub API server on 127.0.0.1. What the runner and
  the job's later steps (uid 1001) read is checked.
- GitLab: the component run by gitlab-ci-local's docker executor in the image,
  under the component's default image name.

Needs Docker; scripts/test provides it (see README, Development).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.utils import canonicalize_name

from tests.support.action import parse_outputs
from tests.support.gitlab_ci import TEMPLATE, project
from tests.support.paths import ROOT
from tests.support.servers.github_api import FakeGitHub, pull_request_event
from tests.support.servers.gitlab_api import FakeGitLab
from tests.support.servers.targets import Target

pytestmark = [pytest.mark.slow, pytest.mark.requires("docker")]

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
IMAGE = "iter8-py-action:test"
STAND_IN = "iter8-test/bookworm:latest"
GITHUB_TOKEN = "ghs_imagetesttoken0123456789"
RUNNER_UID = 1001

EXPERIMENT = """\
metadata: {{name: image}}
spec:
- task: http
  with: {{url: "{url}", numRequests: 40, qps: 200}}
- task: assess
  with:
    SLOs:
      upper:
      - {{metric: http/error-rate, limit: 0}}
"""


def docker(*args: str, timeout: float = 120, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )


@pytest.fixture(scope="module")
def image() -> str:
    """The image, built by `docker build` of the repository as the runner builds it."""
    for script, timeout in (("docker-engine", 120), ("stand-in-base", 900)):
        subprocess.run([str(ROOT / "scripts" / script)], check=True, timeout=timeout)
    build = docker("build", "--network", "host", "-t", IMAGE, str(ROOT), timeout=900)
    assert build.returncode == 0, build.stdout + build.stderr
    return IMAGE


@dataclass
class GitHubRun:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str
    workspace: Path
    temp: Path


def run_as_github_runner(
    image: str,
    tmp_path: Path,
    server: FakeGitHub,
    experiment: str,
    with_: dict[str, str] | None = None,
) -> GitHubRun:
    """`docker run` as actions/runner runs a Docker action's container (ContainerStepHost)."""
    with_ = with_ or {}
    assert not set(with_) - set(ACTION["inputs"])
    workspace, temp = tmp_path / "workspace", tmp_path / "_temp"
    home, workflow = temp / "_github_home", temp / "_github_workflow"
    file_commands = temp / "_runner_file_commands"
    for directory in (workspace, home, workflow, file_commands):
        directory.mkdir(parents=True)
    (workspace / "experiment.yaml").write_text(experiment)
    (workflow / "event.json").write_text(json.dumps(pull_request_event()))
    step = "c0ffee00-0000-4000-8000-000000000001"
    for command in ("set_output", "step_summary", "set_env", "add_path", "save_state"):
        (file_commands / f"{command}_{step}").touch()
    # The runner's user owns its workspace and temp directory; the container runs as root.
    if os.getuid() == 0:
        for path in [tmp_path, *tmp_path.rglob("*")]:
            os.chown(path, RUNNER_UID, RUNNER_UID)

    env: dict[str, str] = {"PATH": os.environ["PATH"]}
    names: list[str] = []
    for name, spec in ACTION["inputs"].items():
        value = with_.get(name, spec.get("default", ""))
        env[f"INPUT_{name.upper()}"] = value.replace("${{ github.token }}", GITHUB_TOKEN)
        names.append(f"INPUT_{name.upper()}")
    variables = {
        "HOME": "/github/home",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_JOB": "iter8",
        "GITHUB_REF": "refs/pull/7/merge",
        "GITHUB_SHA": "a" * 40,
        "GITHUB_REPOSITORY": server.repo,
        "GITHUB_REPOSITORY_OWNER": server.repo.split("/")[0],
        "GITHUB_RUN_ID": "4242",
        "GITHUB_RUN_NUMBER": "12",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_ACTOR": "contributor",
        "GITHUB_WORKFLOW": "Performance",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_API_URL": server.url,
        "GITHUB_WORKSPACE": "/github/workspace",
        "GITHUB_ACTION": "__iter8-py_action",
        "GITHUB_EVENT_PATH": "/github/workflow/event.json",
        "GITHUB_ACTION_REPOSITORY": "iter8-py/action",
        "GITHUB_ACTION_REF": "v1",
        "GITHUB_PATH": f"/github/file_commands/add_path_{step}",
        "GITHUB_ENV": f"/github/file_commands/set_env_{step}",
        "GITHUB_STEP_SUMMARY": f"/github/file_commands/step_summary_{step}",
        "GITHUB_STATE": f"/github/file_commands/save_state_{step}",
        "GITHUB_OUTPUT": f"/github/file_commands/set_output_{step}",
        "RUNNER_OS": "Linux",
        "RUNNER_ARCH": "X64",
        "RUNNER_NAME": "GitHub Actions 2",
        "RUNNER_TEMP": "/home/runner/work/_temp",
        "RUNNER_TOOL_CACHE": "/opt/hostedtoolcache",
    }
    env.update(variables)
    names += list(variables)
    args = ["run", "--name", f"iter8-test-{os.getpid()}-{tmp_path.name}", "--label", "iter8-test"]
    args += ["--workdir", "/github/workspace", "--rm", "--network", "host"]
    for name in names:  # `-e NAME`: the value comes from docker's environment, as the runner does
        args += ["-e", name]
    args += [
        "-v", "/var/run/docker.sock:/var/run/docker.sock",
        "-v", f"{home}:/github/home",
        "-v", f"{workflow}:/github/workflow",
        "-v", f"{file_commands}:/github/file_commands",
        "-v", f"{workspace}:/github/workspace",
        image,
    ]  # fmt: skip
    done = docker(*args, env=env, timeout=180)
    return GitHubRun(
        code=done.returncode,
        log=done.stdout + done.stderr,
        outputs=parse_outputs((file_commands / f"set_output_{step}").read_text()),
        summary=(file_commands / f"step_summary_{step}").read_text(),
        workspace=workspace,
        temp=temp,
    )


def unreadable_by_the_runner_user(run: GitHubRun) -> list[str]:
    """Files and directories the job's later steps (uid 1001) cannot read, seen from a container."""
    found = docker(
        "run", "--rm", "--user", f"{RUNNER_UID}:{RUNNER_UID}", "--network", "none",
        "-v", f"{run.workspace}:/github/workspace:ro",
        "-v", f"{run.temp / '_runner_file_commands'}:/github/file_commands:ro",
        "--entrypoint", "find", STAND_IN, "/github/workspace", "/github/file_commands",
        "(", "-type", "f", "!", "-readable", ")", "-o",
        "(", "-type", "d", "(", "!", "-readable", "-o", "!", "-executable", ")", ")",
    )  # fmt: skip
    assert found.returncode in (0, 1), found.stderr
    return found.stdout.split()


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=GITHUB_TOKEN) as server:
        yield server


@pytest.fixture
def target() -> Iterator[Target]:
    with Target() as server:
        yield server


def test_the_image_passes_writes_the_outputs_and_comments(
    image: str, tmp_path: Path, github: FakeGitHub, target: Target
) -> None:
    run = run_as_github_runner(image, tmp_path, github, EXPERIMENT.format(url=target.url + "/"))

    assert run.code == 0, run.log
    assert target.count("/") == 40
    assert run.outputs == {
        "result-file": "iter8-reports/result.yaml",
        "verdict": "passed",
        "winner": "v1",
        "slos-met": "true",
        "html-report": "iter8-reports/report.html",
        "markdown-report": "iter8-reports/report.md",
    }
    reports = run.workspace / "iter8-reports"
    assert sorted(p.name for p in reports.iterdir()) == [
        "junit.xml",
        "report.html",
        "report.md",
        "result.yaml",
    ]
    assert run.summary.rstrip("\n") == (reports / "report.md").read_text().rstrip("\n")
    # The page embeds plotly.js's basic bundle (1.2 MB), not the full one (4.8 MB).
    assert (reports / "report.html").stat().st_size < 1_500_000
    assert "http/error-rate" in run.summary
    [comment] = github.comments_on(7)
    assert comment["body"].startswith("<!-- iter8-py:comment key=experiment.yaml -->\n")
    assert comment["body"].endswith(
        "(https://github.example/iter8-py/demo/actions/runs/4242)</sub>\n"
    )
    assert run.log.splitlines()[0] == f"::add-mask::{GITHUB_TOKEN}"
    assert GITHUB_TOKEN not in "\n".join(run.log.splitlines()[1:])
    assert unreadable_by_the_runner_user(run) == []


def test_a_violated_slo_exits_1_with_an_annotation(
    image: str, tmp_path: Path, github: FakeGitHub, target: Target
) -> None:
    experiment = EXPERIMENT.format(url=target.url + "/status/500")
    run = run_as_github_runner(image, tmp_path, github, experiment, {"comment": "on-failure"})

    assert run.code == 1, run.log
    assert (run.outputs["verdict"], run.outputs["slos-met"]) == ("failed", "false")
    assert re.search(
        r"^::error title=SLO violated%3A http/error-rate \(v1\),file=experiment\.yaml,line=\d+::",
        run.log,
        re.M,
    ), run.log
    assert len(github.comments_on(7)) == 1
    assert unreadable_by_the_runner_user(run) == []


def test_an_invalid_input_exits_2_before_anything_runs(
    image: str, tmp_path: Path, github: FakeGitHub, target: Target
) -> None:
    run = run_as_github_runner(
        image, tmp_path, github, EXPERIMENT.format(url=target.url), {"comment": "sometimes"}
    )

    assert run.code == 2, run.log
    assert "comment" in run.log and "sometimes" in run.log
    assert target.requests == []
    assert github.server.requests == []
    assert not (run.workspace / "iter8-reports").exists()


def test_the_image_holds_the_pinned_environment_only(image: str) -> None:
    probe = docker(
        "run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c",
        "iter8 version; command -v python; python -c 'import iter8_action; "
        "print(iter8_action.__file__)'; python -m pip --version 2>&1; ls /action",
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    version, python, package, pip, action = probe.stdout.splitlines()
    assert version.startswith("iter8-py 0.0.0 (Python 3.")  # no tag in the build context
    assert python == "/opt/iter8/bin/python"
    assert package.startswith("/opt/iter8/lib/python3.")
    assert "No module named pip" in pip
    assert action == "entrypoint.py"
    lock = {
        canonicalize_name(line.split("==")[0])
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith(" ")
    }
    listed = docker(
        "run", "--rm", "--network", "none", "--entrypoint", "python", image, "-c",
        "import importlib.metadata as m; print('\\n'.join(sorted(d.metadata['Name'] "
        "for d in m.distributions())))",
    )  # fmt: skip
    installed = {canonicalize_name(name) for name in listed.stdout.split()}
    assert installed - lock == {"iter8-py"}


def test_a_release_build_carries_the_tags_version(image: str) -> None:
    build = docker(
        "build", "--network", "host", "--build-arg", "VERSION=1.2.3", "-t", f"{image}-release",
        str(ROOT), timeout=600,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout + build.stderr
    out = docker("run", "--rm", "--network", "none", "--entrypoint", "iter8", f"{image}-release",
                 "version")  # fmt: skip
    assert out.stdout.startswith("iter8-py 1.2.3 (Python 3."), out.stdout + out.stderr


# --- GitLab: the component in the image, by gitlab-ci-local's docker executor ---


@pytest.mark.requires("gitlab-ci-local")
def test_the_gitlab_component_runs_in_the_image(image: str, tmp_path: Path, target: Target) -> None:
    header, _ = yaml.safe_load_all(TEMPLATE.read_text())
    default_image = header["spec"]["inputs"]["image"]["default"]
    tagged = docker("tag", image, default_image)
    assert tagged.returncode == 0, tagged.stderr
    root = project(
        tmp_path / "demo",
        EXPERIMENT.format(url=target.url + "/"),
        comment_key="image",
        deploy_image=STAND_IN,
        remote="https://gitlab.example/iter8/demo.git",
    )
    with FakeGitLab() as gitlab:
        args = ["gitlab-ci-local", "--no-color", "--home", str(tmp_path / "home")]
        args += ["--helper-image", STAND_IN, "--network", "host", "--pull-policy", "if-not-present"]
        args += ["--no-json-schema-validation"]
        for variable in (
            f"CI_SERVER_URL={gitlab.url}",
            f"CI_PROJECT_ID={gitlab.project_id}",
            "CI_MERGE_REQUEST_IID=3",
            "CI_PIPELINE_SOURCE=merge_request_event",
            f"ITER8_GITLAB_TOKEN={gitlab.token}",
        ):
            args += ["--variable", variable]
        run = subprocess.run(
            args, cwd=root, capture_output=True, text=True, timeout=300, check=False
        )
        assert run.returncode == 0, run.stdout + run.stderr
        [note] = gitlab.notes_on(3)

    assert f"{default_image}" in run.stdout
    assert target.count("/") == 40
    assert note["body"].startswith("<!-- iter8-py:comment key=image -->\n### ")
    artifacts = root / ".gitlab-ci-local" / "artifacts" / "iter8-experiment"
    for name in ("result.yaml", "report.html", "report.md", "junit.xml"):
        assert (artifacts / "iter8-reports" / name).is_file(), name
    dotenv = next((artifacts / ".gitlab-ci-reports" / "dotenv").iterdir()).read_text()
    assert "ITER8_VERDICT=passed\n" in dotenv
    assert "deploying after verdict=passed slos-met=true" in run.stdout
