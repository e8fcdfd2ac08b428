"""Data cannot write runner commands: `iter8 ci` (in process) with the runner's environment.

What the GitHub runner reads as a command is described in `tests.support.hostile`. What
GitLab's log reads: ANSI sequences and `section_start:`/`section_end:` markers,
which need ESC and CR.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from iter8_action.cli.job import main
from iter8_action.core.secrets import SECRETS
from tests.support import action
from tests.support.hostile import HOSTILE, assert_no_forged_command, hostile_result
from tests.support.servers.base import Reply
from tests.support.servers.github_api import FakeGitHub
from tests.support.servers.gitlab_api import FakeGitLab
from tests.support.servers.webhooks import WebhookReceiver

TOKEN = "ghs_log_injection_token_42"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN) as server:
        yield server
    SECRETS.clear()


def github_environ(workspace: Path, server: FakeGitHub, **inputs: str) -> dict[str, str]:
    return action.github_environ(workspace, server, token=TOKEN, **inputs)


def test_a_webhook_error_text_cannot_write_commands(
    workspace: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    with WebhookReceiver(Reply(400, HOSTILE.encode())) as hook:
        (workspace / "experiment.yaml").write_text(
            f"spec:\n- task: notify\n  with:\n    url: {hook.url}/hook\n    retries: 0\n"
        )
        code = main(github_environ(workspace, github, comment="never", fail_on="none"))
    out = capsys.readouterr().out
    assert code == 0
    assert_no_forged_command(out)
    # The log line and the annotation both carry the receiver's text, escaped on one line.
    assert r"x\r::warning::forged-by-cr ::set-output" in out  # (the task folds LF itself)
    assert r"\u2028::error::forged-by-ls" in out
    assert r"\x1b[31mred" in out
    assert r"##\[add-mask]forged-legacy" in out


def test_from_result_of_an_attacker_writes_no_command(
    workspace: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile_result(workspace / "untrusted" / "result.yaml")
    code = main(
        github_environ(workspace, github, from_result="untrusted/result.yaml", fail_on="none")
    )
    out = capsys.readouterr().out
    assert code == 0
    assert_no_forged_command(out)
    errors = [line for line in out.splitlines() if line.startswith("::warning title=Task failed")]
    assert len(errors) == 1
    assert errors[0].endswith(
        r"x%0D::warning::forged-by-cr%0A::set-output name=verdict::passed"
        r"\u2028::error::forged-by-ls\u2029::notice::forged-by-ps"
        r"\x85::debug::forged-by-nel\x0b::group::forged-by-vt"
        r"\x0c::endgroup::forged-by-ff ##\[add-mask]forged-legacy"
        r" \x1b[31mred\x1b[0m \x9b31m"
    )


def test_the_cli_prints_an_attacker_result_inertly(tmp_path: Path, iter8: Any) -> None:
    # `iter8 report` and `iter8 assert` in a workflow's `run:` step print to the runner too.
    hostile_result(tmp_path / "result.yaml")
    for args in (("report",), ("assert", "-c", "completed", "-c", "nofailure")):
        done = iter8(*args, "-f", "result.yaml")
        assert done.returncode in (0, 1), done.stderr
        assert_no_forged_command(done.stdout + done.stderr)
        assert "forged-by-cr" in done.stdout


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with FakeGitLab() as server:
        yield server
    SECRETS.clear()


def test_gitlab_from_result_cannot_open_sections_or_colour_the_log(
    workspace: Path, gitlab: FakeGitLab, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = (
        "x\r\x1b[0Ksection_end:1700000000:iter8_1\r\x1b[0K\n"
        "\x1b[0Ksection_start:1700000000:fake[collapsed=true]\r\x1b[0Kforged \x1b[32mOK\x1b[0m"
    )
    path = workspace / "untrusted" / "result.yaml"
    hostile_result(path)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["result"]["failureReason"] = hostile
    document["result"]["insights"]["versionNames"] = [hostile, "v2"]
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    env = {
        "GITLAB_CI": "true",
        "CI_SERVER_URL": gitlab.url,
        "CI_PROJECT_ID": str(gitlab.project_id),
        "CI_MERGE_REQUEST_IID": "3",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "INPUT_TOKEN": gitlab.token,
        "INPUT_FROM-RESULT": "untrusted/result.yaml",
        "INPUT_FAIL-ON": "none",
        "INPUT_COMMENT": "never",
    }
    assert main(env) == 0
    out = capsys.readouterr().out
    # Only the job's own sections, each opened and closed once, and only its own colours.
    markers = re.findall(r"\x1b\[0Ksection_(start|end):\d+:([\w.-]+)", out)
    assert markers == [("start", "iter8_1"), ("end", "iter8_1")]
    assert "\r" not in out.replace("\r\x1b[0K", "")
    own = re.sub(r"\x1b\[(0K|0m|3[136];1m)", "", out)
    assert "\x1b" not in own
    assert r"\r\x1b[0Ksection_end:1700000000:iter8_1" in out
