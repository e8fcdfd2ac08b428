"""The GitHub recipe of sharded load, in process: three matrix jobs (`shard: I/3`) whose
artifacts are downloaded one folder each, then the merge job (`merge-from`) that
reports and comments once."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from iter8_action.cli.job import main
from tests.support.action import github_environ
from tests.support.servers.github_api import FakeGitHub
from tests.support.servers.targets import Target
from tests.support.shards import start_in

EXPERIMENT = """\
spec:
- task: http
  with:
    numRequests: 30
    connections: 2
    qps: 0
    versions:
    - name: stable
      url: {url}/
    - name: broken
      url: {url}/status/500
- task: assess
  with:
    SLOs:
      upper:
      - metric: http/error-count
        limit: 0
"""
TOKEN = "ghs_shards_token_7"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN) as server:
        yield server


def _shard_jobs(workspace: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> str:
    """Run the three matrix jobs, the first one late; download their artifacts as
    actions/download-artifact does (one folder per artifact)."""
    logs = []
    with Target() as target:
        (workspace / "experiment.yaml").write_text(EXPERIMENT.format(url=target.url))
        for i in (1, 2, 3):
            start = start_in(-3) if i == 1 else ""
            env = github_environ(workspace, github, token=TOKEN, shard=f"{i}/3", start_at=start)
            assert main(env) == 0
            logs.append(capsys.readouterr().out)
            artifact = workspace / "shards" / f"iter8-shard-{i}"
            shutil.copytree(workspace / "iter8-reports", artifact)
            shutil.rmtree(workspace / "iter8-reports")
    return "".join(logs)


def test_three_matrix_jobs_and_a_merge_job_comment_once(
    workspace: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    shard_logs = _shard_jobs(workspace, github, capsys)
    assert "shard 2/3 done: " in shard_logs
    assert github.writes() == []  # shard jobs neither comment nor summarise
    assert not (workspace.parent / "summary.md").exists()
    assert (workspace / "shards" / "iter8-shard-3" / "result-shard-3-of-3.yaml").is_file()

    code = main(github_environ(workspace, github, token=TOKEN, merge_from="shards"))
    out = capsys.readouterr().out
    assert code == 1, out  # the broken version fails its SLO, as one job would
    assert "::warning title=Shards::shard 1/3 started its load " in out
    [comment] = github.comments_on(7)
    assert "Merged from 3 of 3 shards." in comment["body"]
    assert "> ⚠️ shard 1/3 started its load " in comment["body"]
    summary = (workspace.parent / "summary.md").read_text()
    assert "Merged from 3 of 3 shards." in summary
    result = yaml.safe_load((workspace / "iter8-reports" / "result.yaml").read_text())["result"]
    values = result["insights"]["nonHistMetricValues"]
    assert [v["http/request-count"] for v in values] == [[30.0], [30.0]]
    assert [v["http/error-count"] for v in values] == [[0.0], [30.0]]


def test_a_missing_artifact_fails_the_merge_job_naming_the_shard(
    workspace: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    _shard_jobs(workspace, github, capsys)
    shutil.rmtree(workspace / "shards" / "iter8-shard-2")
    assert main(github_environ(workspace, github, token=TOKEN, merge_from="shards")) == 2
    out = capsys.readouterr().out
    assert "::error title=Invalid inputs::shard 2/3 is missing (have 2 of 3)" in out
