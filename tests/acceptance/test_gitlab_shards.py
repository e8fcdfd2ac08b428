"""The GitLab recipe of sharded load run for real: gitlab-ci-local runs the component as
`parallel: 3` shard jobs and a merge job (`merge-from`) in a later stage, shell executor,
against a loopback target; the merge is compared with one process running the whole load."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from iter8_action.load.http.histogram import RELATIVE_ERROR
from tests.support.cli import iter8_command, iter8_env
from tests.support.gitlab_ci import gitlab_ci_local, project
from tests.support.servers.gitlab_api import FakeGitLab
from tests.support.servers.targets import Target
from tests.support.shards import JITTER_MS, result_section, start_in

PIPELINE = """\
stages: [load, merge]
include:
  - local: templates/iter8.yml
    inputs:
      job-prefix: load
      stage: load
      shard: auto
      start-at: $ITER8_START_AT
      comment: never
  - local: templates/iter8.yml
    inputs:
      job-prefix: merge
      stage: merge
      merge-from: iter8-reports
      comment: never
      report-formats: markdown,junit

load-experiment:
  parallel: 3
"""
ALONE = ("run", "-f", "experiment.yaml", "--shard", "1/1", "-o", "single.yaml")
EXPERIMENT = """\
spec:
- task: http
  with:
    numRequests: 100
    connections: 3
    qps: 0
    versions:
    - name: stable
      url: {url}/slow/20
    - name: broken
      url: {url}/status/500
- task: assess
  with:
    SLOs:
      upper:
      - metric: http/error-count
        limit: 0
"""


def _values(res: dict[str, Any], version: int) -> dict[str, list[float]]:
    values: dict[str, list[float]] = res["insights"]["nonHistMetricValues"][version]
    return values


@pytest.mark.requires("gitlab-ci-local")
def test_parallel_shard_jobs_and_a_merge_job_equal_one_process(tmp_path: Path) -> None:
    with Target() as target, FakeGitLab() as gitlab:
        experiment = EXPERIMENT.format(url=target.url)
        root = project(tmp_path / "demo", experiment)
        (root / ".gitlab-ci.yml").write_text(PIPELINE)
        subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
        start_at = start_in(10)
        # one process with the whole load, from the same instant as the shard jobs
        single = subprocess.Popen(
            iter8_command(*ALONE, "--start-at", start_at),
            cwd=root,
            env=iter8_env(),
            stderr=subprocess.PIPE,
            text=True,
        )
        run = gitlab_ci_local(root, gitlab, f"ITER8_START_AT={start_at}")
        _, single_log = single.communicate(timeout=120)
    assert single.returncode == 0, single_log
    out = run.stdout + run.stderr
    # the SLO on the broken version fails the merge job, as one job would fail
    assert run.returncode == 1, out
    for i in (1, 2, 3):
        assert f"load-experiment: [{i}/3]" in out or f"load-experiment [{i}/3]" in out, out
        assert f"shard {i}/3 done" in out, out
    assert "PASS  merge-experiment" not in out and "FAIL  merge-experiment" in out
    artifacts = root / ".gitlab-ci-local" / "artifacts" / "merge-experiment" / "iter8-reports"
    merged = result_section(artifacts / "result.yaml")
    assert merged["shards"]["merged"] == [1, 2, 3]
    one = result_section(root / "single.yaml")
    for version in (0, 1):
        for name in ("http/request-count", "http/error-count"):
            assert _values(merged, version)[name] == _values(one, version)[name], name
    assert _values(merged, 0)["http/request-count"] == [100.0]
    for p in (50, 99):
        a, b = (
            _values(one, 0)[f"http/latency-p{p}"][-1],
            _values(merged, 0)[f"http/latency-p{p}"][-1],
        )
        assert abs(a - b) <= a * RELATIVE_ERROR + JITTER_MS[p], (p, a, b)
    assert merged["insights"]["SLOsSatisfied"]["upper"] == [[True, False]]
    junit = (artifacts / "junit.xml").read_text()
    assert "http/error-count" in junit
    assert (
        yaml.safe_load((artifacts / "result.yaml").read_text())["result"]["tasks"][1]["status"]
        == "completed"
    )
