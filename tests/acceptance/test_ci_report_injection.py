"""An attacker's result file, reported by the privileged `from-result` job: data stays text.

`iter8 ci` runs in process with the runner's environment, comments on a local
GitHub API, and the comment, the step summary and the HTML report are parsed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from iter8_action.cli.job import main
from iter8_action.core.secrets import SECRETS
from tests.support.action import github_environ
from tests.support.hostile import (
    HOSTILE,
    HOSTILE_MARKUP,
    assert_html_is_ours,
    assert_markdown_is_ours,
    hostile_result,
    html_elements,
)
from tests.support.servers.github_api import FakeGitHub

TOKEN = "ghs_report_injection_token_7"
XSS_STATUS = 'failed" onmouseover="alert(1)" data-x="<script>alert(2)</script>'


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN) as server:
        yield server
    SECRETS.clear()


def from_result(workspace: Path, server: FakeGitHub, text: str, status: str = "failed") -> int:
    hostile_result(workspace / "untrusted" / "result.yaml", text, status=status)
    return main(
        github_environ(
            workspace, server, token=TOKEN, from_result="untrusted/result.yaml", fail_on="none"
        )
    )


@pytest.mark.parametrize("text", [HOSTILE_MARKUP, HOSTILE])
def test_the_comment_and_the_summary_show_a_result_as_text(
    workspace: Path, github: FakeGitHub, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert from_result(workspace, github, text) == 0
    capsys.readouterr()
    comment = github.comments_on(7)[0]["body"]
    summary = (workspace.parent / "summary.md").read_text(encoding="utf-8")
    for markdown in (comment, summary):
        assert_markdown_is_ours(markdown)
    footer = summary.rstrip().splitlines()[-1]
    assert footer.startswith("<sub>") and footer.endswith(" · failed</sub>")
    if text is HOSTILE_MARKUP:
        assert "started @\u2060admin &lt;img src=" in footer


def test_the_html_report_escapes_every_attribute_and_text(
    workspace: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    assert from_result(workspace, github, HOSTILE_MARKUP) == 0
    capsys.readouterr()
    page = (workspace / "iter8-reports" / "report.html").read_text(encoding="utf-8")
    elements, _ = html_elements(page)
    assert_html_is_ours(elements)


def test_a_status_that_would_be_markup_is_refused_at_its_line(
    workspace: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    """A task status becomes a class name in the HTML report; the result schema only
    lets the known statuses in, so a forged one is bad input, with its line."""
    assert from_result(workspace, github, HOSTILE_MARKUP, status=XSS_STATUS) == 2
    out = capsys.readouterr().out
    assert "::error title=Invalid result file,file=untrusted/result.yaml,line=" in out
    assert "$.result.tasks[1].status: " in out
    assert not (workspace / "iter8-reports" / "report.html").exists()
