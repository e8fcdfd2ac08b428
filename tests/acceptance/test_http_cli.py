"""`iter8 run` with the http task, as a user runs it: a subprocess and an experiment file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Iter8
from tests.support.servers.targets import Target, closed_port


@pytest.fixture
def target() -> Iterator[Target]:
    with Target() as server:
        yield server


def _result(tmp_path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((tmp_path / "result.json").read_text())["result"]
    return data


def test_the_current_form_with_two_versions(iter8: Iter8, tmp_path: Path, target: Target) -> None:
    (tmp_path / "experiment.yaml").write_text(
        f"""\
spec:
- task: http
  with:
    numRequests: 12
    qps: 100
    percentiles: [97.5]
    versions:
    - name: stable
      url: {target.url}/
    - name: canary
      url: {target.url}/status/500
"""
    )
    done = iter8("run", "-f", "experiment.yaml", "-o", "result.json")
    assert done.returncode == 0, done.stderr
    insights = _result(tmp_path)["insights"]
    assert insights["versionNames"] == ["stable", "canary"]
    values = insights["nonHistMetricValues"]
    assert [v["http/request-count"] for v in values] == [[12.0], [12.0]]
    assert [v["http/error-rate"] for v in values] == [[0.0], [1.0]]
    assert "http/latency-p97.5" in values[0]
    assert insights["summaryMetricValues"][1]["http/status-codes"] == {"500": 12}
    assert insights["metricsInfo"]["http/latency-mean"]["units"] == "msec"
    assert sum(b["count"] for b in insights["histMetricValues"][0]["http/latency"]) == 12
    assert "http stable (" in done.stderr and ": 12 requests, 0 errors, p50 " in done.stderr


def test_the_older_form_with_version_info_and_num_queries(
    iter8: Iter8, tmp_path: Path, target: Target
) -> None:
    (tmp_path / "experiment.yaml").write_text(
        f"""\
- task: gen-load-and-collect-metrics
  with:
    numQueries: 5
    errorsAbove: 500
    versionInfo:
    - url: {target.url}/status/404
    - url: {target.url}/
"""
    )
    done = iter8("run", "-f", "experiment.yaml", "-o", "result.json")
    assert done.returncode == 0, done.stderr
    insights = _result(tmp_path)["insights"]
    assert insights["versionNames"] == ["v1", "v2"]
    values = insights["nonHistMetricValues"]
    assert [v["http/request-count"] for v in values] == [[5.0], [5.0]]
    assert [v["http/error-count"] for v in values] == [[0.0], [0.0]]  # 404 < 500
    assert target.count("/status/404") == 5 and target.count("/") == 5


def test_a_target_that_is_down_completes_with_all_errors(iter8: Iter8, tmp_path: Path) -> None:
    port = closed_port()
    (tmp_path / "experiment.yaml").write_text(
        f"spec:\n- task: http\n  with: {{url: 'http://127.0.0.1:{port}/', numRequests: 3}}\n"
    )
    done = iter8("run", "-f", "experiment.yaml", "-o", "result.json")
    assert done.returncode == 0, done.stderr
    assert "every request failed (refused 3): is the app running" in done.stderr
    values = _result(tmp_path)["insights"]["nonHistMetricValues"][0]
    assert values["http/error-rate"] == [1.0]


def test_a_bad_url_is_invalid_input_before_anything_runs(iter8: Iter8, tmp_path: Path) -> None:
    (tmp_path / "experiment.yaml").write_text(
        "spec:\n- task: http\n  with: {url: 'ftp://example.com/', numRequests: 3}\n"
    )
    done = iter8("run", "-f", "experiment.yaml", "-o", "result.json")
    assert done.returncode == 2
    assert done.stderr == (
        "error: experiment.yaml:3: $.spec[0].with.url: the URL has 'ftp://'; write an http:// "
        "or https:// URL like http://host:port/path\n"
    )
    assert not (tmp_path / "result.json").exists()


@pytest.mark.parametrize(
    ("load", "count", "waited"),
    [
        # the issue's case: request 2 waits for request 1's connection, which is held
        ("numRequests: 4\n    qps: 2\n    maxConnections: 1", 4, 2),
        # the same with the pool growing: no request waits
        ("numRequests: 4\n    qps: 2", 4, 0),
        # by duration: the 4 requests due in 2 s at 2 qps
        ("duration: 2s\n    qps: 2\n    maxConnections: 1", 4, 2),
    ],
    ids=["issue-case", "pool-grows", "duration"],
)
def test_every_request_due_is_recorded_when_half_are_never_answered(
    iter8: Iter8,
    tmp_path: Path,
    target: Target,
    load: str,
    count: int,
    waited: int,
) -> None:
    """The app answers the odd requests at once and never the even ones: every request
    that was due is recorded (answered or timed out, the timeout counted from its due
    time), so the error rate is the true 50% and an SLO of 40% fails."""
    (tmp_path / "experiment.yaml").write_text(
        f"""\
spec:
- task: http
  with:
    url: {target.url}/odd
    {load}
    connections: 1
    timeout: 3s
- task: assess
  with:
    SLOs:
      upper:
      - metric: http/error-rate
        limit: 0.4
"""
    )
    done = iter8("run", "-f", "experiment.yaml", "-o", "result.json")
    assert done.returncode == 0, done.stderr
    assert target.count("/odd") == count
    values = _result(tmp_path)["insights"]["nonHistMetricValues"][0]
    assert values["http/request-count"] == [float(count)]
    assert values["http/error-count"] == [float(count // 2)]
    assert values["http/error-rate"] == [0.5]
    summaries = _result(tmp_path)["insights"]["summaryMetricValues"][0]
    assert summaries["http/errors-by-kind"] == {"timeout": count // 2}
    assert summaries["http/status-codes"] == {"200": count // 2}
    assert sum(summaries["http/request-rate"]["values"]) == count
    assert values["http/waited-count"] == [float(waited)]
    # a request never answered times out 3 s after it was due, however long it waited
    assert 3000 <= values["http/latency-max"][0] < 3500

    verdict = iter8("assert", "-f", "result.json", "-c", "completed", "-c", "slos")
    assert verdict.returncode == 1, verdict.stdout
    assert "v1: upper SLO on http/error-rate violated (0.5 > 0.4)" in verdict.stdout


def test_a_client_limited_rate_is_a_warning_in_the_log_and_the_report(
    iter8: Iter8, tmp_path: Path, target: Target
) -> None:
    """100 qps to an app that takes 50 ms over at most 2 connections: the client, not
    the app, limits the rate, and both the log and the report say so with the numbers."""
    (tmp_path / "experiment.yaml").write_text(
        f"""\
spec:
- task: http
  with:
    url: {target.url}/slow/50
    numRequests: 100
    qps: 100
    connections: 1
    maxConnections: 2
"""
    )
    done = iter8("run", "-f", "experiment.yaml", "-o", "result.json")
    assert done.returncode == 0, done.stderr
    assert "the load generator limited the rate: " in done.stderr
    assert "raise maxConnections to at least " in done.stderr
    markdown = iter8("report", "-f", "result.json", "-o", "markdown")
    assert markdown.returncode == 0, markdown.stderr
    assert (
        "<summary>⚠ the load generator limited the rate: requests waited for a free "
        "connection (raise maxConnections)</summary>"
    ) in markdown.stdout
    assert "| connections allowed (maxConnections) | 2 |" in markdown.stdout
    html = iter8("report", "-f", "result.json", "-o", "html")
    assert "the load generator limited the rate" in html.stdout
