from __future__ import annotations

import io
import sys

import pytest

from iter8_action.core.secrets import SECRETS
from iter8_action.platforms import detect
from iter8_action.platforms.base import CommentAction
from iter8_action.platforms.github import GitHubPlatform
from iter8_action.platforms.gitlab import GitLabPlatform
from iter8_action.platforms.terminal import TerminalPlatform


def test_detect_reads_the_runner_variables() -> None:
    assert isinstance(detect({"GITHUB_ACTIONS": "true"}), GitHubPlatform)
    assert isinstance(detect({"GITLAB_CI": "true"}), GitLabPlatform)
    assert isinstance(detect({"GITLAB_CI": "false"}), GitLabPlatform)  # gitlab-ci-local
    assert isinstance(detect({"GITHUB_ACTIONS": "false", "CI": "true"}), TerminalPlatform)


def test_terminal_messages_go_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    platform = TerminalPlatform(out=out)
    platform.error("boom", title="Task failed", file="e.yaml", line=3)
    platform.warning("careful", file="e.yaml")
    platform.notice("fine")
    platform.mask("secret-value")
    with platform.group("Run"):
        pass
    platform.set_output("verdict", "pass")
    platform.write_summary("# Report")
    assert capsys.readouterr().err.splitlines() == [
        "error: e.yaml:3: Task failed: boom",
        "warning: e.yaml: careful",
        "notice: fine",
        "== Run",
    ]
    assert out.getvalue() == "verdict: pass\n# Report\n"
    assert platform.log_stream is sys.stderr


def test_terminal_has_nothing_to_comment_on() -> None:
    outcome = TerminalPlatform().post_comment(key="k", body="b")
    assert outcome.action is CommentAction.SKIPPED
    assert outcome.detail == "no pull or merge request to comment on outside CI"


def test_messages_never_print_a_registered_secret(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    SECRETS.add("hunter2-secret")
    try:
        github = GitHubPlatform({}, out=out)
        github.mask("hunter2-secret")
        github.error("auth hunter2-secret failed")
        GitLabPlatform({}, out=out).warning("header hunter2-secret")
        TerminalPlatform(out=out).error("token hunter2-secret")
    finally:
        SECRETS.clear()
    assert out.getvalue().splitlines() == [
        "::add-mask::hunter2-secret",
        "::error::auth *** failed",
        "\x1b[33;1mWARNING:\x1b[0m header ***",
    ]
    assert capsys.readouterr().err == "error: token ***\n"
