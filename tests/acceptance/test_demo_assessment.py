"""Issue 4's end-to-end check on the demo's sample app, through `iter8 run` and `iter8 assert`.

Two versions, one twice as slow: the slower candidate violates the relative SLO
and the faster one is the winner, with the test, p-value and effect shown.
The same experiment with identical versions names no winner.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from iter8_action.cli.demo.app import VersionBehaviour, sample_app
from tests.support.cli import iter8_command, iter8_env

EXPERIMENT = """
spec:
- task: http
  with:
    numRequests: 300
    qps: 150
    connections: 4
    versions:
    - {{name: v1, url: "{v1}"}}
    - {{name: v2, url: "{v2}"}}
- task: assess
  with:
    baseline: v1
    SLOs:
      upper:
      - metric: http/latency-p95
        maxIncreasePercent: 10
    rewards:
      min: [http/latency-mean]
"""


def _run(tmp_path: Path, versions: tuple[VersionBehaviour, ...]) -> dict[str, object]:
    with sample_app(versions) as urls:
        (tmp_path / "experiment.yaml").write_text(EXPERIMENT.format(**urls))
        run = subprocess.run(
            iter8_command("run"), cwd=tmp_path, env=iter8_env(), capture_output=True, text=True
        )
    assert run.returncode == 0, run.stderr
    result = yaml.safe_load((tmp_path / "result.yaml").read_text())["result"]
    assessment: dict[str, object] = result["insights"]["assessment"]
    return assessment


def _assert(tmp_path: Path, *conditions: str) -> subprocess.CompletedProcess[str]:
    args = [arg for c in conditions for arg in ("-c", c)]
    return subprocess.run(
        iter8_command("assert", *args),
        cwd=tmp_path,
        env=iter8_env(),
        capture_output=True,
        text=True,
    )


def test_the_slower_candidate_violates_the_relative_slo_and_the_faster_wins(
    tmp_path: Path,
) -> None:
    versions = (
        VersionBehaviour("v1", median_latency_ms=5.0, error_rate=0.0),
        VersionBehaviour("v2", median_latency_ms=10.0, error_rate=0.0),
    )
    assessment = _run(tmp_path, versions)
    slo = assessment["slos"][0]  # type: ignore[index]
    assert [v["status"] for v in slo["versions"]] == ["not-applicable", "violated"]
    test = slo["versions"][1]["test"]
    assert test["test"] == "mann-whitney-u"
    assert test["pValue"] < 1e-6
    assert test["effect"] > 0.5
    assert assessment["winner"]["name"] == "v1"  # type: ignore[index]
    reward = assessment["rewards"][0]  # type: ignore[index]
    assert reward["verdict"] == "winner"
    assert reward["comparisons"][0]["significant"] is True
    assert _assert(tmp_path, "slos").returncode == 1
    assert _assert(tmp_path, "slos=v1", "winner=v1").returncode == 0
    report = subprocess.run(
        iter8_command("report", "-o", "markdown"),
        cwd=tmp_path,
        env=iter8_env(),
        capture_output=True,
        text=True,
    )
    assert "**Winner: v1**" in report.stdout
    assert "Mann-Whitney U" in report.stdout


def test_identical_versions_name_no_winner(tmp_path: Path) -> None:
    # the same draws for both, so that only the machine's noise tells them apart
    versions = (
        VersionBehaviour("v1", median_latency_ms=5.0, error_rate=0.0, seed=1),
        VersionBehaviour("v2", median_latency_ms=5.0, error_rate=0.0, seed=1),
    )
    assessment = _run(tmp_path, versions)
    assert assessment["winner"]["name"] is None  # type: ignore[index]
    reward = assessment["rewards"][0]  # type: ignore[index]
    assert reward["verdict"] == "no-winner-yet"
    assert "within noise" in reward["reason"]
    checked = _assert(tmp_path, "winner")
    assert checked.returncode == 1
