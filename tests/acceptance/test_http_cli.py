"""`iter8 run` with the http task, as a user runs it: a subprocess and an experiment file."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers.targets import Target, closed_port

Iter8 = Callable[..., Any]


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
