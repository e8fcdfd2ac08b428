"""The GitHub platform against a local GitHub API, driven by the real PyGithub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iter8_action.platforms import CommentFailed
from iter8_action.platforms.base import CommentAction
from iter8_action.platforms.github import SUMMARY_LIMIT_BYTES, pull_request_number
from iter8_action.platforms.sticky import with_marker
from tests.support.platforms import github_env, github_platform
from tests.support.servers.base import Reply
from tests.support.servers.github_api import (
    SECONDARY_RATE_LIMIT,
    WORKFLOW_BOT,
    FakeGitHub,
    PullRequestInfo,
    pull_request_event,
)

BODY = "## iter8 report\nv2 meets every SLO"


def test_creates_the_comment_then_updates_it_in_place(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    platform, _ = github_platform(github_env(tmp_path, fake_github), fake_github.token)
    first = platform.post_comment(key="load", body=BODY)
    second = platform.post_comment(key="load", body="## iter8 report\nv2 violates an SLO")

    assert first.action is CommentAction.CREATED
    assert first.detail == "commented on pull request #7"
    assert first.url == "https://github.com/iter8-py/demo/pull/7#issuecomment-1001"
    assert second.action is CommentAction.UPDATED
    assert second.detail == "updated the comment on pull request #7"
    assert [c["body"] for c in fake_github.comments_on(7)] == [
        "<!-- iter8-py:comment key=load -->\n## iter8 report\nv2 violates an SLO"
    ]
    assert [(r.method, r.path) for r in fake_github.writes()] == [
        ("POST", "/repos/iter8-py/demo/issues/7/comments"),
        ("PATCH", "/repos/iter8-py/demo/issues/comments/1001"),
    ]


def test_each_key_keeps_its_own_comment_even_past_the_first_page(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    for i in range(35):
        fake_github.add_comment(7, f"chatter {i}")
    other = fake_github.add_comment(7, with_marker("old", "other"))
    mine = fake_github.add_comment(7, with_marker("old", "mine"), user=WORKFLOW_BOT)
    platform, _ = github_platform(github_env(tmp_path, fake_github), fake_github.token)

    outcome = platform.post_comment(key="mine", body=BODY)

    assert outcome.action is CommentAction.UPDATED
    assert fake_github.comments[mine]["body"] == with_marker(BODY, "mine")
    assert fake_github.comments[other]["body"] == with_marker("old", "other")


def test_a_marker_planted_by_someone_else_is_left_alone(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    planted = fake_github.add_comment(7, with_marker("I wrote this", "load"), user="mallory")
    platform, _ = github_platform(github_env(tmp_path, fake_github), fake_github.token)

    first = platform.post_comment(key="load", body=BODY)
    second = platform.post_comment(key="load", body="## second run")

    assert (first.action, second.action) == (CommentAction.CREATED, CommentAction.UPDATED)
    assert fake_github.comments[planted]["body"] == with_marker("I wrote this", "load")
    assert [(c["user"], c["body"]) for c in fake_github.comments_on(7)][1:] == [
        (WORKFLOW_BOT, with_marker("## second run", "load"))
    ]
    assert not [r for r in fake_github.writes() if r.path.endswith(f"/comments/{planted}")]


def test_a_marker_posted_through_the_api_by_another_user_is_not_ours(tmp_path: Path) -> None:
    with FakeGitHub(users={"ghp_mallory_token_000": "mallory"}) as server:
        env = github_env(tmp_path, server)
        mallory, _ = github_platform(env, "ghp_mallory_token_000")
        workflow, _ = github_platform(env, server.token)
        assert mallory.post_comment(key="load", body="forged").action is CommentAction.CREATED
        assert workflow.post_comment(key="load", body=BODY).action is CommentAction.CREATED
        assert workflow.post_comment(key="load", body=BODY).action is CommentAction.UPDATED
        assert [(c["user"], c["body"]) for c in server.comments_on(7)] == [
            ("mallory", with_marker("forged", "load")),
            (WORKFLOW_BOT, with_marker(BODY, "load")),
        ]


def test_a_planted_marker_does_not_count_as_the_comment_to_update(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    fake_github.add_comment(7, with_marker("old failure", "load"), user="mallory")
    platform, _ = github_platform(github_env(tmp_path, fake_github), fake_github.token)
    outcome = platform.post_comment(key="load", body=BODY, create=False)
    assert outcome.action is CommentAction.SKIPPED
    assert fake_github.writes() == []


def test_a_personal_token_finds_the_comments_of_its_user(tmp_path: Path) -> None:
    with FakeGitHub(token="ghp_personal_0123456789", login="Release-Bot") as server:
        bots = server.add_comment(7, with_marker("by the workflow", "load"), user=WORKFLOW_BOT)
        own = server.add_comment(7, with_marker("old", "load"), user="release-bot")
        platform, _ = github_platform(github_env(tmp_path, server), server.token)
        outcome = platform.post_comment(key="load", body=BODY)
        assert outcome.action is CommentAction.UPDATED
        assert server.comments[own]["body"] == with_marker(BODY, "load")
        assert server.comments[bots]["body"] == with_marker("by the workflow", "load")
        assert ("GET", "/user") in [(r.method, r.path) for r in server.server.requests]


def test_when_the_author_cannot_be_known_a_new_comment_is_posted(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    mine = fake_github.add_comment(7, with_marker("old", "load"), user=WORKFLOW_BOT)
    fake_github.server.script("GET", "/user", [Reply(404, {"message": "Not Found"})] * 2)
    platform, _ = github_platform(github_env(tmp_path, fake_github), fake_github.token)
    assert platform.post_comment(key="load", body=BODY).action is CommentAction.CREATED
    assert platform.post_comment(key="load", body=BODY, create=False).action is (
        CommentAction.SKIPPED
    )
    assert fake_github.comments[mine]["body"] == with_marker("old", "load")


def test_on_failure_mode_updates_but_never_creates(tmp_path: Path, fake_github: FakeGitHub) -> None:
    platform, _ = github_platform(github_env(tmp_path, fake_github), fake_github.token)
    outcome = platform.post_comment(key="k", body=BODY, create=False)
    assert outcome.action is CommentAction.SKIPPED
    assert outcome.detail == (
        "no comment on pull request #7: the experiment passed and none exists yet"
    )
    assert fake_github.writes() == []


def test_a_fork_gets_403_and_a_message_with_the_fix(tmp_path: Path) -> None:
    with FakeGitHub(read_only=True) as server:
        env = github_env(tmp_path, server, event=pull_request_event(fork=True))
        platform, _ = github_platform(env, server.token)
        with pytest.raises(CommentFailed) as caught:
            platform.post_comment(key="k", body=BODY)
    assert str(caught.value) == (
        "GitHub refused the pull-request comment (403 Resource not accessible by integration): "
        "a pull request from a fork gets a read-only token. The summary, outputs and reports "
        "are complete.\nFix: comment from a second workflow triggered by `workflow_run`, which "
        "gets a token that may write; see "
        "https://github.com/iter8-py/action#pull-requests-from-forks"
    )


def test_403_outside_a_fork_points_at_the_permissions(tmp_path: Path) -> None:
    with FakeGitHub(read_only=True) as server:
        platform, _ = github_platform(github_env(tmp_path, server), server.token)
        with pytest.raises(CommentFailed) as caught:
            platform.post_comment(key="k", body=BODY)
    assert str(caught.value).startswith(
        "GitHub refused the pull-request comment (403 Resource not accessible by integration): "
        "the token may not write pull requests.\nFix: give the job "
        "`permissions: {pull-requests: write}`"
    )


def test_a_bad_token_says_so(tmp_path: Path, fake_github: FakeGitHub) -> None:
    platform, _ = github_platform(github_env(tmp_path, fake_github), "ghs_wrong_token")
    with pytest.raises(CommentFailed, match=r"^GitHub rejected the token \(401 Bad credentials\)"):
        platform.post_comment(key="k", body=BODY)


def test_an_empty_token_says_how_to_fix_it(tmp_path: Path, fake_github: FakeGitHub) -> None:
    platform, _ = github_platform(github_env(tmp_path, fake_github), "")
    with pytest.raises(CommentFailed, match="the `token` input is empty"):
        platform.post_comment(key="k", body=BODY)
    assert fake_github.server.requests == []


def test_502_is_retried_then_succeeds(tmp_path: Path, fake_github: FakeGitHub) -> None:
    fake_github.server.script(
        "POST", "/repos/iter8-py/demo/issues/7/comments", [Reply(502, {"message": "Bad Gateway"})]
    )
    platform, _ = github_platform(github_env(tmp_path, fake_github), fake_github.token)
    assert platform.post_comment(key="k", body=BODY).action is CommentAction.CREATED
    posts = [r for r in fake_github.server.requests if r.method == "POST"]
    assert len(posts) == 2
    assert len(fake_github.comments_on(7)) == 1


def test_secondary_rate_limit_waits_for_retry_after(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    fake_github.server.script(
        "GET",
        "/repos/iter8-py/demo/issues/7/comments",
        [Reply(403, SECONDARY_RATE_LIMIT, {"Retry-After": "1"})],
    )
    platform, _ = github_platform(github_env(tmp_path, fake_github), fake_github.token)
    assert platform.post_comment(key="k", body=BODY).action is CommentAction.CREATED
    gets = [r.path for r in fake_github.server.requests if r.method == "GET"]
    assert gets.count("/repos/iter8-py/demo/issues/7/comments") == 2


def test_persistent_5xx_gives_up_after_the_retries(tmp_path: Path, fake_github: FakeGitHub) -> None:
    fake_github.server.script(
        "GET", "/repos/iter8-py/demo/issues/7/comments", [Reply(503, {"message": "down"})] * 5
    )
    env = github_env(tmp_path, fake_github)
    platform, _ = github_platform(env, fake_github.token, backoff_factor=0.01)
    with pytest.raises(CommentFailed) as caught:
        platform.post_comment(key="k", body=BODY)
    assert str(caught.value).startswith(
        f"could not reach the GitHub API at {fake_github.url} after 4 retries (RetryError:"
    )
    lists = [r for r in fake_github.server.requests if r.path.endswith("/issues/7/comments")]
    assert len(lists) == 5


def test_a_push_does_nothing_but_say_so(tmp_path: Path, fake_github: FakeGitHub) -> None:
    env = github_env(tmp_path, fake_github, event_name="push", event={"ref": "refs/heads/main"})
    platform, _ = github_platform(env, fake_github.token)
    outcome = platform.post_comment(key="k", body=BODY)
    assert outcome.action is CommentAction.SKIPPED
    assert outcome.detail == (
        "no pull request to comment on: the workflow runs on push "
        "(comments are posted on pull_request, pull_request_target, workflow_run)"
    )
    assert fake_github.server.requests == []


def test_workflow_run_reads_the_pull_request_from_the_payload(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    event = {"workflow_run": {"pull_requests": [{"number": 7}], "head_branch": "feature"}}
    env = github_env(tmp_path, fake_github, event_name="workflow_run", event=event)
    platform, _ = github_platform(env, fake_github.token)
    assert platform.post_comment(key="k", body=BODY).detail == "commented on pull request #7"


def test_workflow_run_from_a_fork_finds_the_pull_request_by_its_head(tmp_path: Path) -> None:
    pulls = [PullRequestInfo(7, "contributor", "feature", "f" * 40)]
    with FakeGitHub(pulls=pulls) as server:
        event = {
            "workflow_run": {
                "pull_requests": [],
                "head_branch": "feature",
                "head_sha": "f" * 40,
                "head_repository": {"owner": {"login": "contributor"}},
            }
        }
        env = github_env(tmp_path, server, event_name="workflow_run", event=event)
        platform, _ = github_platform(env, server.token)
        assert platform.post_comment(key="k", body=BODY).action is CommentAction.CREATED
        pulls_request = next(r for r in server.server.requests if r.path.endswith("/pulls"))
        assert pulls_request.query["head"] == ["contributor:feature"]


def test_pull_request_number_from_each_event() -> None:
    assert pull_request_number("pull_request_target", pull_request_event(number=12)) == 12
    assert pull_request_number("pull_request", {"number": 5}) == 5
    assert pull_request_number("push", {}) is None
    assert pull_request_number("workflow_run", {"workflow_run": {"pull_requests": []}}) is None
    assert pull_request_number("pull_request", {}) is None


def test_unreadable_event_payload(tmp_path: Path, fake_github: FakeGitHub) -> None:
    env = github_env(tmp_path, fake_github)
    Path(env["GITHUB_EVENT_PATH"]).write_text("{not json")
    platform, _ = github_platform(env, fake_github.token)
    with pytest.raises(CommentFailed, match=r"^cannot read the event payload .*event\.json"):
        platform.post_comment(key="k", body=BODY)


def test_annotations_masks_and_groups_are_workflow_commands(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    platform, out = github_platform(github_env(tmp_path, fake_github), "")
    platform.error("v2: 120 > 100", title="SLO violated: p95", file="exp.yaml", line=9)
    platform.warning("no data", title="t")
    platform.notice("fine")
    platform.mask("s3cret\nline2")
    with platform.group("Run"):
        out.write("inside\n")
    lines = out.getvalue().splitlines()
    assert lines == [
        "::error title=SLO violated%3A p95,file=exp.yaml,line=9::v2: 120 > 100",
        "::warning title=t::no data",
        "::notice::fine",
        "::add-mask::s3cret%0Aline2",
        "::add-mask::s3cret\\nline2",  # as the log shows it, escaped
        "::add-mask::s3cret",
        "::add-mask::line2",
        "::group::Run",
        "inside",
        "::endgroup::",
    ]


def test_an_output_with_a_lone_surrogate_is_written_escaped(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    platform, _ = github_platform(github_env(tmp_path, fake_github), "")
    platform.set_output("winner", "v2\ud800")
    assert "\nv2\\ud800\n" in (tmp_path / "output").read_text(encoding="utf-8")


def test_outputs_and_summary_go_to_their_files(tmp_path: Path, fake_github: FakeGitHub) -> None:
    env = github_env(tmp_path, fake_github)
    platform, _ = github_platform(env, "")
    platform.set_output("verdict", "pass")
    platform.write_summary("# Report")
    text = Path(env["GITHUB_OUTPUT"]).read_text()
    delimiter = text.splitlines()[0].split("<<")[1]
    assert text == f"verdict<<{delimiter}\npass\n{delimiter}\n"
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text() == "# Report\n"


def test_an_oversized_summary_is_cut_with_a_note(tmp_path: Path, fake_github: FakeGitHub) -> None:
    env = github_env(tmp_path, fake_github)
    platform, _ = github_platform(env, "")
    platform.write_summary("x" * (SUMMARY_LIMIT_BYTES + 10))
    text = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert len(text.encode()) == SUMMARY_LIMIT_BYTES
    assert text.endswith(
        "_The summary was cut at GitHub's 1 MiB limit; the full report is in the artifacts._\n"
    )


def test_without_the_runner_files_it_warns(
    tmp_path: Path, fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    env = {
        k: v
        for k, v in github_env(tmp_path, fake_github).items()
        if "OUTPUT" not in k and "SUMMARY" not in k
    }
    platform, _ = github_platform(env, "")
    platform.set_output("verdict", "pass")
    platform.write_summary("# Report")
    assert [r.getMessage() for r in caplog.records] == [
        "GITHUB_OUTPUT is not set; output verdict=pass is not recorded",
        "GITHUB_STEP_SUMMARY is not set; the step summary is not written",
    ]
    assert json.loads(Path(env["GITHUB_EVENT_PATH"]).read_text())["number"] == 7
