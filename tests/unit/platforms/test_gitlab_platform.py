"""The GitLab platform against a local GitLab API, driven by the real python-gitlab."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from iter8_action.platforms import CommentFailed
from iter8_action.platforms.base import CommentAction
from iter8_action.platforms.gitlab import GitLabPlatform
from iter8_action.platforms.sticky import with_marker
from tests.support.servers.base import Reply
from tests.support.servers.gitlab_api import REVIEWER, FakeGitLab

BODY = "## iter8 report"
NOTES = "/api/v4/projects/42/merge_requests/3/notes"
TOKEN_FIX = (
    "Fix: create a project access token with the `api` scope and the Reporter role "
    "(Settings > Access tokens), store it as a masked CI/CD variable such as "
    "ITER8_GITLAB_TOKEN, and pass it to the component: `token: $ITER8_GITLAB_TOKEN`."
)


def gitlab_env(tmp_path: Path, server: FakeGitLab, **extra: str) -> dict[str, str]:
    return {
        "GITLAB_CI": "true",
        "CI_SERVER_URL": server.url,
        "CI_PROJECT_ID": str(server.project_id),
        "CI_MERGE_REQUEST_IID": "3",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_JOB_TOKEN": "job-token-abc",
        "CI_PROJECT_DIR": str(tmp_path),
        **extra,
    }


def platform_for(env: dict[str, str], token: str) -> tuple[GitLabPlatform, io.StringIO]:
    out = io.StringIO()
    platform = GitLabPlatform(env, out=out)
    platform.set_token(token)
    return platform, out


def test_creates_the_note_then_updates_it_in_place(tmp_path: Path, fake_gitlab: FakeGitLab) -> None:
    platform, _ = platform_for(gitlab_env(tmp_path, fake_gitlab), fake_gitlab.token)
    first = platform.post_comment(key="load", body=BODY)
    second = platform.post_comment(key="load", body="## second run")
    assert (first.action, first.detail) == (
        CommentAction.CREATED,
        "added a note to merge request !3",
    )
    assert (second.action, second.detail) == (
        CommentAction.UPDATED,
        "updated the note on merge request !3",
    )
    assert [n["body"] for n in fake_gitlab.notes_on(3)] == [with_marker("## second run", "load")]
    assert [(r.method, r.path) for r in fake_gitlab.writes()] == [
        ("POST", NOTES),
        ("PUT", f"{NOTES}/7001"),
    ]


def test_finds_its_note_past_the_first_page_and_ignores_system_notes(
    tmp_path: Path, fake_gitlab: FakeGitLab
) -> None:
    fake_gitlab.add_note(3, with_marker("forged by a system note", "load"), system=True)
    for i in range(25):
        fake_gitlab.add_note(3, f"review {i}")
    mine = fake_gitlab.add_note(3, with_marker("old", "load"), author=fake_gitlab.user)
    platform, _ = platform_for(gitlab_env(tmp_path, fake_gitlab), fake_gitlab.token)
    assert platform.post_comment(key="load", body=BODY).action is CommentAction.UPDATED
    assert fake_gitlab.notes[mine]["body"] == with_marker(BODY, "load")


def test_a_marker_planted_by_a_reviewer_is_left_alone(
    tmp_path: Path, fake_gitlab: FakeGitLab
) -> None:
    planted = fake_gitlab.add_note(3, with_marker("I wrote this", "load"), author=REVIEWER)
    platform, _ = platform_for(gitlab_env(tmp_path, fake_gitlab), fake_gitlab.token)
    assert platform.post_comment(key="load", body=BODY, create=False).action is (
        CommentAction.SKIPPED
    )
    first = platform.post_comment(key="load", body=BODY)
    second = platform.post_comment(key="load", body="## second run")
    assert (first.action, second.action) == (CommentAction.CREATED, CommentAction.UPDATED)
    assert fake_gitlab.notes[planted]["body"] == with_marker("I wrote this", "load")
    assert [(n["author"]["id"], n["body"]) for n in fake_gitlab.notes_on(3)] == [
        (REVIEWER["id"], with_marker("I wrote this", "load")),
        (fake_gitlab.user["id"], with_marker("## second run", "load")),
    ]


def test_a_note_posted_through_the_api_by_another_user_is_not_ours(tmp_path: Path) -> None:
    with FakeGitLab(users={"glpat-reviewer-000": REVIEWER}) as server:
        env = gitlab_env(tmp_path, server)
        reviewer, _ = platform_for(env, "glpat-reviewer-000")
        bot, _ = platform_for(env, server.token)
        assert reviewer.post_comment(key="load", body="forged").action is CommentAction.CREATED
        assert bot.post_comment(key="load", body=BODY).action is CommentAction.CREATED
        assert bot.post_comment(key="load", body=BODY).action is CommentAction.UPDATED
        assert [(n["author"]["username"], n["body"]) for n in server.notes_on(3)] == [
            ("reviewer", with_marker("forged", "load")),
            (server.user["username"], with_marker(BODY, "load")),
        ]


def test_when_the_token_user_cannot_be_known_a_new_note_is_added(
    tmp_path: Path, fake_gitlab: FakeGitLab
) -> None:
    mine = fake_gitlab.add_note(3, with_marker("old", "load"), author=fake_gitlab.user)
    fake_gitlab.server.script("GET", "/api/v4/user", [Reply(403, {"message": "403 Forbidden"})])
    platform, _ = platform_for(gitlab_env(tmp_path, fake_gitlab), fake_gitlab.token)
    assert platform.post_comment(key="load", body=BODY).action is CommentAction.CREATED
    assert fake_gitlab.notes[mine]["body"] == with_marker("old", "load")


def test_on_failure_mode_never_creates(tmp_path: Path, fake_gitlab: FakeGitLab) -> None:
    platform, _ = platform_for(gitlab_env(tmp_path, fake_gitlab), fake_gitlab.token)
    outcome = platform.post_comment(key="k", body=BODY, create=False)
    assert (
        outcome.detail == "no note on merge request !3: the experiment passed and none exists yet"
    )
    assert fake_gitlab.writes() == []


def test_only_the_job_token_says_exactly_that(tmp_path: Path, fake_gitlab: FakeGitLab) -> None:
    platform, _ = platform_for(gitlab_env(tmp_path, fake_gitlab), "")
    with pytest.raises(CommentFailed) as caught:
        platform.post_comment(key="k", body=BODY)
    assert str(caught.value) == (
        "cannot post the merge-request note: only CI_JOB_TOKEN is available, and GitLab does "
        f"not accept the job token on the notes API.\n{TOKEN_FIX}"
    )
    assert fake_gitlab.server.requests == []


def test_passing_the_job_token_as_the_token_is_the_same_mistake(
    tmp_path: Path, fake_gitlab: FakeGitLab
) -> None:
    platform, _ = platform_for(gitlab_env(tmp_path, fake_gitlab), "job-token-abc")
    with pytest.raises(CommentFailed, match="only CI_JOB_TOKEN is available"):
        platform.post_comment(key="k", body=BODY)


def test_no_token_at_all(tmp_path: Path, fake_gitlab: FakeGitLab) -> None:
    env = gitlab_env(tmp_path, fake_gitlab)
    del env["CI_JOB_TOKEN"]
    platform, _ = platform_for(env, "")
    with pytest.raises(CommentFailed, match=r"^cannot post the merge-request note: no token is"):
        platform.post_comment(key="k", body=BODY)


def test_a_wrong_token_is_rejected_with_the_fix(tmp_path: Path, fake_gitlab: FakeGitLab) -> None:
    platform, _ = platform_for(gitlab_env(tmp_path, fake_gitlab), "glpat-wrong-token")
    with pytest.raises(CommentFailed) as caught:
        platform.post_comment(key="k", body=BODY)
    assert str(caught.value) == f"GitLab rejected the token (401 401 Unauthorized).\n{TOKEN_FIX}"


def test_an_unknown_merge_request(tmp_path: Path, fake_gitlab: FakeGitLab) -> None:
    env = gitlab_env(tmp_path, fake_gitlab, CI_MERGE_REQUEST_IID="9")
    platform, _ = platform_for(env, fake_gitlab.token)
    with pytest.raises(CommentFailed) as caught:
        platform.post_comment(key="k", body=BODY)
    assert str(caught.value) == (
        "GitLab refused the merge-request note (404 404 Not found): the token may not write "
        f"notes on this project.\n{TOKEN_FIX}"
    )


def test_502_then_success_and_rate_limit_with_retry_after(
    tmp_path: Path, fake_gitlab: FakeGitLab
) -> None:
    fake_gitlab.server.script("GET", NOTES, [Reply(502, {"message": "Bad Gateway"})])
    fake_gitlab.server.script(
        "POST", NOTES, [Reply(429, {"message": "Retry later"}, {"Retry-After": "1"})]
    )
    platform, _ = platform_for(gitlab_env(tmp_path, fake_gitlab), fake_gitlab.token)
    assert platform.post_comment(key="k", body=BODY).action is CommentAction.CREATED
    assert [(r.method, r.path) for r in fake_gitlab.server.requests] == [
        ("GET", "/api/v4/user"),
        ("GET", NOTES),
        ("GET", NOTES),
        ("POST", NOTES),
        ("POST", NOTES),
    ]
    assert len(fake_gitlab.notes_on(3)) == 1


def test_persistent_errors_stop_after_the_retries(tmp_path: Path, fake_gitlab: FakeGitLab) -> None:
    fake_gitlab.server.script("GET", NOTES, [Reply(500, {"message": "boom"})] * 5)
    platform, _ = platform_for(gitlab_env(tmp_path, fake_gitlab), fake_gitlab.token)
    with pytest.raises(CommentFailed, match=r"^GitLab answered 500 boom; the note was not posted$"):
        platform.post_comment(key="k", body=BODY)
    assert len([r for r in fake_gitlab.server.requests if r.path == NOTES]) == 5


def test_an_unreachable_server(tmp_path: Path, fake_gitlab: FakeGitLab) -> None:
    env = gitlab_env(tmp_path, fake_gitlab, CI_SERVER_URL="http://127.0.0.1:9")
    platform, _ = platform_for(env, fake_gitlab.token)
    with pytest.raises(
        CommentFailed, match=r"^could not reach the GitLab API at http://127.0.0.1:9 "
    ):
        platform.post_comment(key="k", body=BODY)


def test_a_branch_pipeline_does_nothing_but_say_so(tmp_path: Path, fake_gitlab: FakeGitLab) -> None:
    env = gitlab_env(tmp_path, fake_gitlab, CI_PIPELINE_SOURCE="push")
    del env["CI_MERGE_REQUEST_IID"]
    platform, _ = platform_for(env, fake_gitlab.token)
    outcome = platform.post_comment(key="k", body=BODY)
    assert outcome.action is CommentAction.SKIPPED
    assert outcome.detail.startswith(
        "no merge request to comment on: this is a push pipeline, not a merge-request pipeline"
    )


def test_outputs_go_to_a_dotenv_file(
    tmp_path: Path, fake_gitlab: FakeGitLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    platform, _ = platform_for(gitlab_env(tmp_path, fake_gitlab), "")
    platform.set_output("verdict", "pass")
    platform.set_output("slos-met", "two\nlines")
    assert (tmp_path / "iter8.env").read_text() == "ITER8_VERDICT=pass\nITER8_SLOS_MET=two lines\n"


def test_the_dotenv_path_can_be_absolute(tmp_path: Path, fake_gitlab: FakeGitLab) -> None:
    target = tmp_path / "sub" / "out.env"
    target.parent.mkdir()
    platform, _ = platform_for(gitlab_env(tmp_path, fake_gitlab, ITER8_DOTENV=str(target)), "")
    platform.set_output("winner", "v2")
    assert target.read_text() == "ITER8_WINNER=v2\n"


def test_log_lines_sections_and_summary(tmp_path: Path, fake_gitlab: FakeGitLab) -> None:
    platform, out = platform_for(gitlab_env(tmp_path, fake_gitlab), "")
    platform.error("120 > 100", title="SLO violated", file="exp.yaml", line=4)
    platform.warning("no data", file="exp.yaml")
    platform.notice("fine")
    platform.mask("a-secret")
    platform.write_summary("# Report")
    text = re.sub(r":\d{9,}:", ":T:", out.getvalue())
    assert text.split("\n")[:-1] == [
        "\x1b[31;1mERROR:\x1b[0m exp.yaml:4: SLO violated: 120 > 100",
        "\x1b[33;1mWARNING:\x1b[0m exp.yaml: no data",
        "\x1b[36;1mNOTICE:\x1b[0m fine",
        "\x1b[0Ksection_start:T:iter8_1[collapsed=true]\r\x1b[0Kiter8 summary",
        "# Report",
        "\x1b[0Ksection_end:T:iter8_1\r\x1b[0K",
    ]


def test_the_run_url_is_the_job_page(tmp_path: Path, fake_gitlab: FakeGitLab) -> None:
    env = gitlab_env(tmp_path, fake_gitlab, CI_JOB_URL="https://gitlab.example.com/g/p/-/jobs/9")
    assert GitLabPlatform(env).run_url() == "https://gitlab.example.com/g/p/-/jobs/9"
    assert GitLabPlatform({}).run_url() is None
