"""`iter8 run` with the grpc task, as a user runs it: a subprocess and an experiment file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Iter8
from tests.support.servers.grpc_target import CALL, PROTO, GrpcTarget


@pytest.fixture
def target() -> Iterator[GrpcTarget]:
    with GrpcTarget() as server:
        yield server


def _result(tmp_path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((tmp_path / "result.json").read_text())["result"]
    return data


def test_grpc_and_assess_end_to_end(iter8: Iter8, tmp_path: Path, target: GrpcTarget) -> None:
    (tmp_path / "experiment.yaml").write_text(
        f"""\
spec:
- task: grpc
  with:
    call: {CALL}
    proto: {PROTO}
    total: 20
    rps: 200
    data: {{name: frodo}}
    percentiles: [97.5]
    versions:
    - name: stable
      host: {target.host}
    - name: canary
      host: {target.host}
      metadata: {{x-fail-with: INTERNAL}}
- task: assess
  with:
    SLOs:
      upper:
      - metric: grpc/latency/p95
        limit: 500
      - metric: grpc/error-rate
        limit: 0
"""
    )
    done = iter8("run", "-f", "experiment.yaml", "-o", "result.json")
    assert done.returncode == 0, done.stderr
    assert target.count() == 40
    insights = _result(tmp_path)["insights"]
    assert insights["versionNames"] == ["stable", "canary"]
    values = insights["nonHistMetricValues"]
    assert [v["grpc/request-count"] for v in values] == [[20.0], [20.0]]
    assert [v["grpc/error-rate"] for v in values] == [[0.0], [1.0]]
    assert "grpc/latency/p97.5" in values[0]
    assert insights["summaryMetricValues"][1]["grpc/status-codes"] == {"INTERNAL": 20}
    assert insights["metricsInfo"]["grpc/latency/p95"]["units"] == "msec"
    # rows are SLOs (p95, error-rate), columns versions (stable, canary)
    assert insights["SLOsSatisfied"] == {"upper": [[True, True], [True, False]], "lower": []}
    assert "every call failed (INTERNAL 20): INTERNAL: asked to fail" in done.stderr

    report = iter8("report", "-f", "result.json")
    assert report.returncode == 0, report.stderr
    assert "grpc/latency/p95 ≤ 500 msec" in report.stdout
    assert "grpc/error-rate ≤ 0" in report.stdout
    assert "Winner: stable: stable is the only version that meets every SLO." in report.stdout

    markdown = iter8("report", "-f", "result.json", "-o", "markdown")
    assert "| grpc/latency/p95 ≤ 500 msec | ✅ " in markdown.stdout
    assert "<summary>Answers by gRPC status</summary>" in markdown.stdout
    assert "| INTERNAL | — | 20 |" in markdown.stdout

    verdict = iter8("assert", "-f", "result.json", "-c", "slos")
    assert verdict.returncode == 1
    assert "canary: upper SLO on grpc/error-rate violated (1 > 0)" in verdict.stdout


def test_the_older_form_maps_onto_grpc(iter8: Iter8, tmp_path: Path, target: GrpcTarget) -> None:
    (tmp_path / "experiment.yaml").write_text(
        f"""\
- task: gen-load-and-collect-metrics-grpc
  with:
    host: {target.host}
    call: {CALL}
    total: 7
    concurrency: 2
    data: {{name: gandalf}}
- task: assess-app-versions
  with:
    SLOs:
    - metric: grpc/error-rate
      upperLimit: 0
"""
    )
    done = iter8("run", "-f", "experiment.yaml", "-o", "result.json")
    assert done.returncode == 0, done.stderr
    insights = _result(tmp_path)["insights"]
    assert insights["nonHistMetricValues"][0]["grpc/request-count"] == [7.0]
    assert [c.request for c in target.calls] == [{"name": "gandalf"}] * 7
    assert iter8("assert", "-f", "result.json", "-c", "slos").returncode == 0


@pytest.mark.parametrize(
    ("load", "count"),
    # a call after a held one has half a second (1/rps) to spare: enough on a busy machine
    [("total: 4\n    rps: 2", 4), ("duration: 2s\n    rps: 2", 4)],
    ids=["total", "duration"],
)
def test_every_call_due_is_recorded_when_half_are_never_answered(
    iter8: Iter8, tmp_path: Path, target: GrpcTarget, load: str, count: int
) -> None:
    """The server answers the odd calls at once and never the even ones: every call that
    was due is recorded (answered, or DEADLINE_EXCEEDED counted from its due time), so
    the error rate is the true 50% and an SLO of 40% fails."""
    (tmp_path / "experiment.yaml").write_text(
        f"""\
spec:
- task: grpc
  with:
    host: {target.host}
    call: {CALL}
    proto: {PROTO}
    {load}
    concurrency: 1
    timeout: 3s
    metadata: {{x-answer: odd}}
- task: assess
  with:
    SLOs:
      upper:
      - metric: grpc/error-rate
        limit: 0.4
"""
    )
    done = iter8("run", "-f", "experiment.yaml", "-o", "result.json")
    assert done.returncode == 0, done.stderr
    assert target.count() == count
    insights = _result(tmp_path)["insights"]
    values = insights["nonHistMetricValues"][0]
    assert values["grpc/request-count"] == [float(count)]
    assert values["grpc/error-count"] == [float(count // 2)]
    assert values["grpc/error-rate"] == [0.5]
    # all but the first two waited for the one call slot, held by a call never answered
    assert values["grpc/waited-count"] == [float(count - 2)]
    # a call never answered ends 3 s after it was due, however long it waited
    assert 3000 <= values["grpc/latency/max"][0] < 3500
    summaries = insights["summaryMetricValues"][0]
    assert summaries["grpc/status-codes"] == {"DEADLINE_EXCEEDED": count // 2, "OK": count // 2}
    assert sum(summaries["grpc/request-rate"]["values"]) == count

    verdict = iter8("assert", "-f", "result.json", "-c", "completed", "-c", "slos")
    assert verdict.returncode == 1, verdict.stdout
    assert "v1: upper SLO on grpc/error-rate violated (0.5 > 0.4)" in verdict.stdout
