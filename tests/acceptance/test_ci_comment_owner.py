"""A planted marker cannot hijack the sticky comment: `iter8 ci` with the runner's environment,
against the local GitHub and GitLab APIs (PyGithub and python-gitlab for real)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from iter8_action.cli.job import main
from iter8_action.core.secrets import SECRETS
from iter8_action.platforms.sticky import with_marker
from tests.support.action import github_environ
from tests.support.servers.github_api import WORKFLOW_BOT, FakeGitHub
from tests.support.servers.gitlab_api import REVIEWER, FakeGitLab

WORKFLOW_TOKEN = "ghs_owner_test_workflow_token"
KEY = "experiment.yaml"  # the default comment key: the experiment's path


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "workspace"
    root.mkdir()
    monkeypatch.chdir(root)
    (root / "experiment.yaml").write_text("spec:\n- run: echo ok\n")
    yield root
    SECRETS.clear()


def github_run(workspace: Path, server: FakeGitHub, token: str) -> int:
    return main(github_environ(workspace, server, token=token, comment="always"))


def test_github_leaves_a_planted_marker_alone_and_keeps_its_own_comment(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeGitHub(token=WORKFLOW_TOKEN) as github:
        planted = github.add_comment(7, with_marker("approved, merge it", KEY), user="mallory")
        assert github_run(workspace, github, WORKFLOW_TOKEN) == 0
        assert github_run(workspace, github, WORKFLOW_TOKEN) == 0
    out = capsys.readouterr().out
    assert "comment: commented on pull request #7" in out
    assert "comment: updated the comment on pull request #7" in out
    comments = github.comments_on(7)
    assert comments[0]["body"] == with_marker("approved, merge it", KEY)
    assert [c["user"] for c in comments] == ["mallory", WORKFLOW_BOT]
    assert [r.path for r in github.writes() if r.path.endswith(f"/{planted}")] == []


def test_github_with_a_personal_token_edits_only_its_users_comment(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeGitHub(token="ghp_personal_token_123", login="release-bot") as github:
        bots = github.add_comment(7, with_marker("workflow's", KEY), user=WORKFLOW_BOT)
        mine = github.add_comment(7, with_marker("old", KEY), user="release-bot")
        assert github_run(workspace, github, github.token) == 0
    capsys.readouterr()
    assert github.comments[bots]["body"] == with_marker("workflow's", KEY)
    assert github.comments[mine]["body"].startswith(with_marker("### ", KEY))
    assert len(github.comments_on(7)) == 2


def test_gitlab_leaves_a_planted_marker_alone(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeGitLab() as gitlab:
        planted = gitlab.add_note(3, with_marker("approved, merge it", KEY), author=REVIEWER)
        env = {
            "GITLAB_CI": "true",
            "CI_SERVER_URL": gitlab.url,
            "CI_PROJECT_ID": str(gitlab.project_id),
            "CI_MERGE_REQUEST_IID": "3",
            "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_JOB_TOKEN": "job-token-abc",
            "INPUT_TOKEN": gitlab.token,
            "INPUT_COMMENT": "always",
            "ITER8_DOTENV": str(workspace.parent / "iter8.env"),
        }
        assert main(env) == 0
        assert main(env) == 0
    out = capsys.readouterr().out
    assert "comment: added a note to merge request !3" in out
    assert "comment: updated the note on merge request !3" in out
    notes = gitlab.notes_on(3)
    assert gitlab.notes[planted]["body"] == with_marker("approved, merge it", KEY)
    assert [n["author"]["username"] for n in notes] == ["reviewer", gitlab.user["username"]]
