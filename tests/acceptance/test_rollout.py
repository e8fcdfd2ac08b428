"""The rollout task against local GitHub and GitLab API servers (real PyGithub, python-gitlab)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from iter8_action.core.errors import TaskFailed
from iter8_action.core.secrets import SECRETS
from iter8_action.events.summary import summarize
from iter8_action.rollout.description import MARKER, body
from iter8_action.tasks import rollout
from iter8_action.tasks.base import TaskContext
from tests.support.contexts import experiment_context
from tests.support.results import assessed_result
from tests.support.servers.base import Reply
from tests.support.servers.github_repo_api import GitHubRepoServer
from tests.support.servers.gitlab_repo_api import GitLabRepoServer

DEPLOYMENT = """\
# The checkout service. iter8 sets the image tag of the app container.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout   # matches the Service
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: envoy
          image: envoyproxy/envoy:v1.30.1
        - name: app
          image: "ghcr.io/acme/checkout:v1"   # rolled out by iter8
          resources: {limits: {cpu: "1"}}
"""

DEPLOYMENT_4 = DEPLOYMENT.replace("replicas: 3", "replicas: 4")

VALUES = """\
# Helm values for the router
image:
  tag: v1
# traffic split (percent)
weights:
  v1: 100   # stable
  v2: 0     # candidate
"""

DOCKERFILE = "FROM ghcr.io/acme/checkout:v1 AS app\nCOPY . /srv\n"

EDITS: list[dict[str, Any]] = [
    {
        "file": "deploy/checkout.yaml",
        "set": [
            {
                "path": "spec.template.spec.containers[name=app].image",
                "value": "ghcr.io/acme/checkout:{{ winner.name }}",
            }
        ],
    },
    {
        "file": "charts/router/values.yaml",
        "set": [
            {"path": "image.tag", "value": "{{ winner.name }}"},
            {"path": "weights.v1", "value": 0},
            {"path": "weights.v2", "value": "{{ 100 }}"},
        ],
    },
    {
        "file": "Dockerfile",
        "replace": [{"pattern": r"(checkout):v\d+", "with": r"\1:{{ winner.name }}"}],
    },
]

DEPLOYMENT_V2 = DEPLOYMENT.replace('"ghcr.io/acme/checkout:v1"', '"ghcr.io/acme/checkout:v2"')
VALUES_V2 = """\
# Helm values for the router
image:
  tag: v2
# traffic split (percent)
weights:
  v1: 0   # stable
  v2: 100     # candidate
"""
FILES = {
    "deploy/checkout.yaml": DEPLOYMENT,
    "charts/router/values.yaml": VALUES,
    "Dockerfile": DOCKERFILE,
    "README.md": "# checkout\n",
}
BRANCH = "iter8/rollout-checkout"


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("GITHUB_ACTIONS", "GITLAB_CI", "GITHUB_REPOSITORY", "CI_PROJECT_PATH"):
        monkeypatch.delenv(name, raising=False)
    for name in ("GITHUB_SERVER_URL", "GITHUB_RUN_ID", "CI_JOB_URL", "CI_PIPELINE_URL"):
        monkeypatch.delenv(name, raising=False)
    yield
    SECRETS.clear()


@pytest.fixture
def ctx(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> TaskContext:
    caplog.set_level(logging.INFO, logger="iter8")
    return experiment_context(assessed_result(), tmp_path, name="checkout", task="rollout")


@pytest.fixture
def gh(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubRepoServer]:
    with GitHubRepoServer(files=FILES) as server:
        monkeypatch.setenv("GITHUB_TOKEN", server.token)
        yield server


@pytest.fixture
def gl(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitLabRepoServer]:
    with GitLabRepoServer(files=FILES) as server:
        monkeypatch.setenv("GITLAB_TOKEN", server.token)
        yield server


def _github(gh: GitHubRepoServer, **more: Any) -> dict[str, Any]:
    return {
        "platform": "github",
        "repository": "acme/app",
        "apiURL": gh.url,
        "edits": EDITS,
        **more,
    }


def _gitlab(gl: GitLabRepoServer, **more: Any) -> dict[str, Any]:
    inputs = {"platform": "gitlab", "repository": "acme/app", "apiURL": f"{gl.url}/api/v4"}
    return {**inputs, "edits": EDITS, **more}


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("iter8.task")]


# -- GitHub ----------------------------------------------------------------------------


def test_github_first_run_commits_every_file_once_and_opens_the_pull_request(
    gh: GitHubRepoServer, ctx: TaskContext, caplog: pytest.LogCaptureFixture
) -> None:
    main_before = gh.refs["main"]
    rollout.TASK.execute(
        _github(gh, labels=["rollout", "iter8"], reviewers=["alice"], draft=True, autoMerge=True),
        ctx,
    )
    assert gh.files_at(BRANCH) == {
        "deploy/checkout.yaml": DEPLOYMENT_V2,
        "charts/router/values.yaml": VALUES_V2,
        "Dockerfile": "FROM ghcr.io/acme/checkout:v2 AS app\nCOPY . /srv\n",
        "README.md": "# checkout\n",
    }
    assert gh.refs["main"] == main_before
    commit = gh.commit_on(BRANCH)
    assert commit["parents"] == [main_before]
    assert commit["message"] == "Roll out v2"
    [pull] = gh.pulls
    summary = summarize(ctx.result.to_dict(), experiment_name="checkout")
    assert {k: pull[k] for k in ("number", "title", "head", "base", "draft", "body")} == {
        "number": 1,
        "title": "Roll out v2",
        "head": BRANCH,
        "base": "main",
        "draft": True,
        "body": body(ctx.document(), summary),
    }
    assert pull["labels"] == ["rollout", "iter8"]
    assert pull["requested_reviewers"] == ["alice"]
    assert pull["auto_merge"] is True
    assert _messages(caplog) == [
        "rollout: committed Dockerfile, charts/router/values.yaml, deploy/checkout.yaml to "
        f"{BRANCH}",
        "rollout: opened pull request https://github.example/acme/app/pull/1",
    ]


def test_github_second_run_updates_the_same_pull_request(
    gh: GitHubRepoServer, ctx: TaskContext, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rollout.TASK.execute(_github(gh), ctx)
    first_commit = gh.refs[BRANCH]
    rollout.TASK.execute(_github(gh), ctx)
    assert gh.refs[BRANCH] == first_commit
    assert len(gh.pulls) == 1
    assert _messages(caplog)[-2:] == [
        f"rollout: {BRANCH} already holds these changes",
        "rollout: updated pull request https://github.example/acme/app/pull/1",
    ]

    # main moves on and the next experiment measures other numbers: same PR, fresh branch
    gh.push("main", {"README.md": "# checkout service\n", "deploy/checkout.yaml": DEPLOYMENT_4})
    later = experiment_context(
        assessed_result(v2_p95=95.75), tmp_path, name="checkout", task="rollout"
    )
    rollout.TASK.execute(_github(gh, title="Release {{ winner.name }}"), later)
    assert len(gh.pulls) == 1
    assert gh.pulls[0]["title"] == "Release v2"
    assert "| http/latency-p95 ≤ 100 msec | ✅ 87.25 msec | ✅ 95.75 msec |" in gh.pulls[0]["body"]
    assert gh.pulls[0]["body"].endswith(f"\n{MARKER}\n")
    assert gh.commit_on(BRANCH)["parents"] == [gh.refs["main"]]
    assert gh.files_at(BRANCH)["README.md"] == "# checkout service\n"
    assert gh.files_at(BRANCH)["deploy/checkout.yaml"] == DEPLOYMENT_4.replace("t:v1", "t:v2")


def test_github_edits_that_change_nothing_open_nothing(
    gh: GitHubRepoServer, ctx: TaskContext, caplog: pytest.LogCaptureFixture
) -> None:
    gh.push("main", {"deploy/checkout.yaml": DEPLOYMENT_V2})
    rollout.TASK.execute(_github(gh, edits=EDITS[:1]), ctx)
    assert BRANCH not in gh.refs
    assert gh.pulls == []
    assert _messages(caplog) == [
        "rollout: the edits change nothing on main (it already has these values); "
        "no pull request opened"
    ]


def test_github_target_and_branch_names_are_options(gh: GitHubRepoServer, ctx: TaskContext) -> None:
    gh.refs["release"] = gh.refs["main"]
    rollout.TASK.execute(
        _github(
            gh,
            targetBranch="release",
            branch="deploy/{{ winner.name }}",
            commitMessage="chore: roll out {{ winner.name }}\n\n{{ winner.reason }}",
        ),
        ctx,
    )
    assert gh.pulls[0]["base"] == "release"
    assert gh.pulls[0]["head"] == "deploy/v2"
    assert gh.commit_on("deploy/v2")["message"] == (
        "chore: roll out v2\n\nv2 meets every SLO and is best on every reward"
    )


def test_github_auto_merge_refused_by_the_repository_is_a_warning(
    monkeypatch: pytest.MonkeyPatch, ctx: TaskContext, caplog: pytest.LogCaptureFixture
) -> None:
    with GitHubRepoServer(files=FILES, allow_auto_merge=False) as server:
        monkeypatch.setenv("GITHUB_TOKEN", server.token)
        rollout.TASK.execute(_github(server, autoMerge=True), ctx)
    assert len(server.pulls) == 1
    assert server.pulls[0]["auto_merge"] is False
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "rollout: auto-merge not enabled: "
        "Pull request Auto merge is not allowed for this repository"
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"reviewers": ["mallory"]},
            "rollout: GitHub answered 422 requesting reviews on pull request #1: Reviews may only "
            "be requested from collaborators. One or more of the users or teams you specified is "
            "not a collaborator of the acme/app repository.; GitHub refused the request",
        ),
        (
            {"edits": [{"file": "deploy/missing.yaml", "set": [{"path": "a", "value": "b"}]}]},
            "rollout: edits[0]: deploy/missing.yaml does not exist on main",
        ),
        (
            {"edits": [{"file": "Dockerfile", "replace": [{"pattern": "alpine", "with": "x"}]}]},
            "rollout: edits[0] (Dockerfile): the pattern 'alpine' matches nothing",
        ),
        (
            {"edits": [{"file": "Dockerfile", "set": [{"path": "a", "value": "b"}]}]},
            "rollout: edits[0] (Dockerfile): the document is not a mapping, so it has no key 'a'",
        ),
        (
            {"repository": "acme/other"},
            "rollout: GitHub answered 404 reading the repository acme/other: Not Found; not found: "
            "check the repository name and that the token can see it",
        ),
    ],
)
def test_github_failures_say_what_to_fix(
    gh: GitHubRepoServer, ctx: TaskContext, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(TaskFailed) as caught:
        rollout.TASK.execute(_github(gh, **change), ctx)
    assert str(caught.value).startswith(message)


def test_github_wrong_token_is_refused_and_never_shown(
    gh: GitHubRepoServer, ctx: TaskContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLLOUT_TOKEN", "ghp_not_the_right_one")
    with pytest.raises(TaskFailed) as caught:
        rollout.TASK.execute(_github(gh, tokenEnv="ROLLOUT_TOKEN"), ctx)
    assert str(caught.value) == (
        "rollout: GitHub answered 401 reading the repository acme/app: Bad credentials; "
        "the token was refused: check the token in ROLLOUT_TOKEN"
    )
    assert SECRETS.redact("ghp_not_the_right_one") == "***"


def test_no_winner_means_no_image_tag(gh: GitHubRepoServer, tmp_path: Path) -> None:
    failing = experiment_context(
        assessed_result(v2_p95=150), tmp_path, name="checkout", task="rollout"
    )
    with pytest.raises(TaskFailed) as caught:
        rollout.TASK.execute(_github(gh), failing)
    assert str(caught.value).startswith(
        "rollout: template edits[0] (deploy/checkout.yaml) set "
        "spec.template.spec.containers[name=app].image: 'None' has no attribute 'name' "
        "(values available: "
    )
    assert str(caught.value).endswith(
        "; the assessment found no winner: run this task only when there is one "
        "(e.g. under `if: SLOs()` with rewards, or a winner condition)"
    )
    assert gh.pulls == []


def test_the_platform_and_repository_come_from_the_ci_environment(
    gh: GitHubRepoServer, ctx: TaskContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(TaskFailed) as caught:
        rollout.TASK.execute({"edits": EDITS}, ctx)
    assert str(caught.value) == (
        "rollout: cannot tell the code host outside GitHub Actions and GitLab CI; "
        "set `platform: github` or `platform: gitlab`"
    )
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    with pytest.raises(TaskFailed) as caught:
        rollout.TASK.execute({"edits": EDITS, "apiURL": gh.url}, ctx)
    assert (
        str(caught.value)
        == "rollout: set `repository` (GITHUB_REPOSITORY is not there to default it)"
    )
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/app")
    monkeypatch.setenv("GITHUB_API_URL", gh.url)
    rollout.TASK.execute({"edits": EDITS}, ctx)
    assert len(gh.pulls) == 1


# -- GitLab ----------------------------------------------------------------------------


def test_gitlab_first_run_opens_a_merge_request_and_the_second_updates_it(
    gl: GitLabRepoServer, ctx: TaskContext, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    inputs = _gitlab(gl, labels=["rollout"], reviewers=["bob"], draft=True, autoMerge=True)
    rollout.TASK.execute(inputs, ctx)
    assert gl.files_at(BRANCH) == {
        "deploy/checkout.yaml": DEPLOYMENT_V2,
        "charts/router/values.yaml": VALUES_V2,
        "Dockerfile": "FROM ghcr.io/acme/checkout:v2 AS app\nCOPY . /srv\n",
        "README.md": "# checkout\n",
    }
    assert len(gl.commits) == 1
    [mr] = gl.merge_requests
    summary = summarize(ctx.result.to_dict(), experiment_name="checkout")
    assert {
        k: mr[k] for k in ("iid", "title", "source_branch", "target_branch", "description")
    } == {
        "iid": 1,
        "title": "Draft: Roll out v2",
        "source_branch": BRANCH,
        "target_branch": "main",
        "description": body(ctx.document(), summary),
    }
    assert mr["labels"] == ["rollout"]
    assert mr["reviewer_ids"] == [101]
    assert mr["merge_when_pipeline_succeeds"] is True

    gl.merge_requests[0]["reviewer_ids"].insert(0, 100)  # someone asks alice too
    later = experiment_context(
        assessed_result(v2_p95=99.5), tmp_path, name="checkout", task="rollout"
    )
    rollout.TASK.execute(inputs, later)
    assert gl.merge_requests[0]["reviewer_ids"] == [100, 101]
    assert len(gl.merge_requests) == 1
    assert len(gl.commits) == 1
    assert gl.merge_requests[0]["title"] == "Draft: Roll out v2"
    assert "| ✅ 87.25 msec | ✅ 99.50 msec |" in gl.merge_requests[0]["description"]
    assert _messages(caplog)[-1] == (
        "rollout: updated merge request https://gitlab.example/acme/app/-/merge_requests/1"
    )


def test_gitlab_branch_is_re_pointed_when_the_target_moved(
    gl: GitLabRepoServer, ctx: TaskContext
) -> None:
    rollout.TASK.execute(_gitlab(gl), ctx)
    gl.branches["main"]["README.md"] = "# moved on\n"
    gl.branches["main"]["Dockerfile"] = "FROM ghcr.io/acme/checkout:v1 AS app\nCOPY . /app\n"
    rollout.TASK.execute(_gitlab(gl), ctx)
    assert len(gl.commits) == 2
    assert gl.files_at(BRANCH)["README.md"] == "# moved on\n"
    assert (
        gl.files_at(BRANCH)["Dockerfile"] == "FROM ghcr.io/acme/checkout:v2 AS app\nCOPY . /app\n"
    )
    assert len(gl.merge_requests) == 1


def test_gitlab_no_op_unknown_reviewer_and_wrong_token(
    gl: GitLabRepoServer,
    ctx: TaskContext,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rollout.TASK.execute(
        _gitlab(
            gl,
            edits=[{"file": "README.md", "replace": [{"pattern": "checkout", "with": "checkout"}]}],
        ),
        ctx,
    )
    assert _messages(caplog) == [
        "rollout: the edits change nothing on main (it already has these values); "
        "no merge request opened"
    ]
    with pytest.raises(TaskFailed) as caught:
        rollout.TASK.execute(_gitlab(gl, reviewers=["mallory"]), ctx)
    assert str(caught.value) == "rollout: no GitLab user named 'mallory' (in `reviewers`)"
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-wrong")
    with pytest.raises(TaskFailed) as caught:
        rollout.TASK.execute(_gitlab(gl), ctx)
    assert str(caught.value) == (
        "rollout: GitLab answered 401 reading the project acme/app: 401 Unauthorized; "
        "the token was refused: check the token in GITLAB_TOKEN"
    )


def test_gitlab_auto_merge_refused_is_a_warning(
    monkeypatch: pytest.MonkeyPatch, ctx: TaskContext, caplog: pytest.LogCaptureFixture
) -> None:
    with GitLabRepoServer(files=FILES, auto_merge_allowed=False) as server:
        monkeypatch.setenv("GITLAB_TOKEN", server.token)
        monkeypatch.setenv("GITLAB_CI", "true")
        monkeypatch.setenv("CI_PROJECT_PATH", "acme/app")
        monkeypatch.setenv("CI_API_V4_URL", f"{server.url}/api/v4")
        rollout.TASK.execute({"edits": EDITS, "autoMerge": True}, ctx)
    assert len(server.merge_requests) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["rollout: auto-merge not enabled: 405 Method Not Allowed"]


# -- hosts that are down or answer oddly ------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "suffix", "host", "what"),
    [("github", "", "GitHub", "repository"), ("gitlab", "/api/v4", "GitLab", "project")],
)
def test_an_api_that_is_down_is_retried_then_reported(
    ctx: TaskContext,
    monkeypatch: pytest.MonkeyPatch,
    platform: str,
    suffix: str,
    host: str,
    what: str,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "a-token-value")
    monkeypatch.setenv("GITLAB_TOKEN", "a-token-value")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inputs = {
        "platform": platform,
        "repository": "acme/app",
        "apiURL": f"http://127.0.0.1:{port}{suffix}",
    }
    with pytest.raises(TaskFailed) as caught:
        rollout.TASK.execute({**inputs, "edits": EDITS}, ctx)
    assert str(caught.value) == (
        f"rollout: cannot reach the {host} API reading the {what} acme/app: Connection refused"
    )


def test_gitlab_answering_502_once_is_retried(gl: GitLabRepoServer, ctx: TaskContext) -> None:
    gl.script("GET", "/api/v4/projects/acme%2Fapp", [Reply(502, {"message": "502 Bad Gateway"})])
    rollout.TASK.execute(_gitlab(gl), ctx)
    assert [r.path for r in gl.requests[:2]] == ["/api/v4/projects/acme%2Fapp"] * 2
    assert len(gl.merge_requests) == 1


@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_only_utf8_text_files_can_be_edited(
    monkeypatch: pytest.MonkeyPatch, ctx: TaskContext, platform: str
) -> None:
    files = {"logo.png": "\udcff\udcfe"}  # lone surrogates: bytes that are not UTF-8 once encoded
    server: GitHubRepoServer | GitLabRepoServer
    if platform == "github":
        server = GitHubRepoServer(files={})
        server.trees[server.commit_on("main")["tree"]]["logo.png"] = files["logo.png"]
        inputs = _github(server)
    else:
        server = GitLabRepoServer(files=files)
        inputs = _gitlab(server)
    monkeypatch.setenv("GITHUB_TOKEN", getattr(server, "token", ""))
    monkeypatch.setenv("GITLAB_TOKEN", getattr(server, "token", ""))
    edit = {"file": "logo.png", "replace": [{"pattern": "x", "with": "y"}]}
    with server, pytest.raises(TaskFailed) as caught:
        rollout.TASK.execute({**inputs, "edits": [edit]}, ctx)
    assert str(caught.value) == "rollout: logo.png is not UTF-8 text; only text files can be edited"


def test_a_branch_template_that_renders_empty(gh: GitHubRepoServer, ctx: TaskContext) -> None:
    with pytest.raises(TaskFailed) as caught:
        rollout.TASK.execute(_github(gh, branch="{{ '' }}"), ctx)
    assert str(caught.value) == "rollout: the branch and title templates must not render empty"


# -- which code host: decided in one place (platforms.ci_host) ---------------------------


@pytest.mark.parametrize("gitlab_ci", ["true", "false"])
def test_iter8_run_in_gitlab_ci_opens_a_merge_request_without_platform(
    tmp_path: Path, gitlab_ci: str
) -> None:
    """gitlab-ci-local sets GITLAB_CI=false: the rollout task, like the platform layer,
    takes that for GitLab too (it used to demand "true" and fail the task)."""
    import subprocess

    import yaml

    from tests.support.cli import iter8_command, iter8_env

    experiment = {
        "metadata": {"name": "checkout"},
        "spec": [
            {
                "task": "rollout",
                "with": {
                    "edits": [
                        {
                            "file": "Dockerfile",
                            "replace": [{"pattern": r"(checkout):v\d+", "with": r"\1:v2"}],
                        }
                    ]
                },
            }
        ],
    }
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(experiment))
    with GitLabRepoServer(files=FILES) as server:
        env = iter8_env(
            GITLAB_TOKEN=server.token,
            CI_PROJECT_PATH="acme/app",
            CI_API_V4_URL=f"{server.url}/api/v4",
        )
        env["GITLAB_CI"] = gitlab_ci  # iter8_env drops the runner's own
        done = subprocess.run(
            iter8_command("run"), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 0, done.stderr
    assert len(server.merge_requests) == 1
    assert server.files_at(BRANCH)["Dockerfile"].startswith("FROM ghcr.io/acme/checkout:v2 AS app")
