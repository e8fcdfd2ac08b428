"""The custommetrics task against a real Prometheus scraping an exporter with two versions.

Prometheus (Debian's package) starts once for the module on 127.0.0.1 with a
1s scrape interval. The exporter's series exist at 0 from the first scrape;
then each version serves known traffic. The experiment pins the evaluation
time to the last scrape (the `time` value), so `increase` over the window is
exactly the traffic served and the values are asserted exactly: counts, rates,
the mean, and percentiles by Prometheus's own `histogram_quantile` rule.

Issue 7's done-when runs the docs' combined experiment through `iter8 run`:
the http task loads two versions of the sample app, custommetrics fetches the
same versions' metrics from this Prometheus, and assess judges SLOs on both.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from iter8_action.cli.demo.app import VersionBehaviour, sample_app
from iter8_action.core.errors import TaskFailed
from iter8_action.core.secrets import SECRETS
from iter8_action.metrics.store import MetricMeta, MetricStore, MetricType
from iter8_action.tasks import registry
from tests.support.contexts import custommetrics_context
from tests.support.paths import ROOT
from tests.support.servers.prometheus import LATENCY_BUCKETS_S, Exporter, PrometheusServer

# Traffic per version: (status code -> requests) and latencies in seconds (binary fractions,
# so sums and means are exact).
TRAFFIC: dict[str, tuple[dict[str, int], list[float]]] = {
    "v1": ({"200": 38, "500": 2}, [0.0625] * 20 + [0.125] * 10 + [0.25] * 8 + [0.5] * 2),
    "v2": ({"200": 40, "500": 0}, [0.0625] * 30 + [0.125] * 10),
}
PERCENTILES = (50, 90, 95, 99)


@dataclass(frozen=True)
class Backend:
    url: str
    at: str
    """Evaluation time: the last scrape, after all traffic."""
    starting: str
    """A startingTime before the first scrape (the series were 0 then)."""


pytestmark = pytest.mark.requires("prometheus")


@pytest.fixture(scope="module")
def prometheus() -> Iterator[Backend]:
    with Exporter(versions=("v1", "v2")) as exporter, PrometheusServer(exporter.target) as prom:
        prom.wait_for("count(http_requests_total)", 4)  # every series scraped once, at 0
        for version, (codes, latencies) in TRAFFIC.items():
            exporter.serve(version, codes=codes, latencies_s=latencies)
        total = sum(sum(codes.values()) for codes, _ in TRAFFIC.values())
        prom.wait_for("sum(http_requests_total)", total)
        starting = datetime.fromtimestamp(exporter.started - 5, UTC).isoformat()
        yield Backend(
            prom.url, prom.last_sample("http_requests_total"), starting.replace("+00:00", "Z")
        )


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    SECRETS.clear()
    yield
    SECRETS.clear()


def _inputs(backend: Backend, versions: Sequence[str], **values: Any) -> dict[str, Any]:
    return {
        "templates": {"prometheus": "prometheus"},
        "values": {
            "url": backend.url,
            "time": backend.at,
            "startingTime": backend.starting,
            "percentiles": list(PERCENTILES),
            **values,
        },
        "versionValues": [{"labels": {"version": v}} for v in versions],
    }


def _bucket_quantile(q: float, latencies: Sequence[float]) -> float:
    """Prometheus's histogram_quantile over cumulative buckets (promql/quantile.go)."""
    bounds = [*LATENCY_BUCKETS_S, float("inf")]
    counts = [float(sum(1 for x in latencies if x <= b)) for b in bounds]
    rank = q * counts[-1]
    b = next(i for i in range(len(counts) - 1) if counts[i] >= rank)
    start, end, count = 0.0, bounds[b], counts[b]
    if b > 0:
        start = bounds[b - 1]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    return start + (end - start) * (rank / count)


def _expected(version: str) -> dict[str, float]:
    codes, latencies = TRAFFIC[version]
    requests, errors = float(sum(codes.values())), float(codes["500"])
    out = {
        "prometheus/request-count": requests,
        "prometheus/error-count": errors,
        "prometheus/error-rate": errors / requests,
        "prometheus/latency-mean": 1000 * sum(latencies) / len(latencies),
    }
    for p in PERCENTILES:
        out[f"prometheus/latency-p{p}"] = 1000 * _bucket_quantile(p / 100, latencies)
    return out


def _values(store: MetricStore, prefix: str, version: int) -> dict[str, float | None]:
    return {n: store.value(n, version) for n in store.names() if n.startswith(prefix)}


def test_values_match_what_the_exporter_served(prometheus: Backend, tmp_path: Path) -> None:
    ctx = custommetrics_context(tmp_path)
    registry()["custommetrics"].execute(_inputs(prometheus, ["v1", "v2"]), ctx)
    assert _values(ctx.store, "prometheus/", 0) == _expected("v1")
    assert _values(ctx.store, "prometheus/", 1) == _expected("v2")
    # the numbers themselves, for the reader
    assert _expected("v1")["prometheus/latency-mean"] == 137.5
    assert _expected("v1")["prometheus/latency-p50"] == 100.0
    assert _expected("v2")["prometheus/error-rate"] == 0.0
    assert ctx.store.meta("prometheus/latency-p95") == MetricMeta(
        MetricType.GAUGE, "95th percentile latency", "msec"
    )
    assert ctx.result.tasks[-1].output is None


def test_a_version_without_series_has_no_data(prometheus: Backend, tmp_path: Path) -> None:
    ctx = custommetrics_context(tmp_path)
    registry()["custommetrics"].execute(_inputs(prometheus, ["v3"], percentiles=[95]), ctx)
    assert _values(ctx.store, "prometheus/", 0) == {
        "prometheus/error-count": 0.0,
        "prometheus/error-rate": None,
        "prometheus/latency-mean": None,
        "prometheus/latency-p95": None,
        "prometheus/request-count": None,
    }
    no_series = (
        "the jq expression found null where it expected a value (null (null) cannot be parsed "
        "as a number); the query matched no series (check the labels and the metric names)"
    )
    assert ctx.result.tasks[-1].output == "\n".join(
        [
            "no data for:",
            f"  prometheus/request-count (v1): {no_series}",
            f"  prometheus/error-rate (v1): {no_series}",
            f"  prometheus/latency-mean (v1): {no_series}",
            f"  prometheus/latency-p95 (v1): {no_series}",
        ]
    )


def test_a_query_prometheus_rejects_is_no_data_with_its_error(
    prometheus: Backend, tmp_path: Path
) -> None:
    (tmp_path / "bad.yaml").write_text(
        "url: {{ url }}/api/v1/query\n"
        "metrics:\n"
        "- name: broken\n"
        "  params: [{name: query, value: 'sum(http_requests_total[{{ elapsedTimeSeconds }}s'}]\n"
        "  jqExpression: .data.result[0].value[1] | tonumber\n"
        "  required: true\n"
    )
    ctx = custommetrics_context(tmp_path)
    with pytest.raises(TaskFailed) as caught:
        registry()["custommetrics"].execute(
            {
                "templates": {"mine": "bad.yaml"},
                "values": {"url": prometheus.url, "elapsedTimeSeconds": 60},
            },
            ctx,
        )
    assert str(caught.value) == (
        "required metric(s) without data:\n"
        f"  mine/broken (v1): {prometheus.url}/api/v1/query answered 400 Bad Request: "
        '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\": '
        '1:28: parse error: unclosed left parenthesis"}'
    )
    assert ctx.store.meta("mine/broken") == MetricMeta(MetricType.GAUGE, "", None)


# Two versions of an app for the http task, in the story the exporter's traffic tells too:
# the candidate v2 fixes v1's errors and answers 4x faster. Latencies and failures are seeded
# draws, the same on every run (the machine can only add latency), and the p95 limit sits about
# 2x from both versions' (v1 near 560 ms, v2 near 150 ms).
APP = (
    VersionBehaviour("v1", median_latency_ms=400.0, error_rate=0.1, seed=1),
    VersionBehaviour("v2", median_latency_ms=100.0, error_rate=0.0, seed=2),
)
HTTP_LOAD = {"numRequests": 100, "qps": 50, "connections": 32}
SLOS = {
    "upper": [
        {"metric": "http/error-rate", "limit": 0.01},
        {"metric": "http/latency-p95", "limit": 300},
        {"metric": "prometheus/error-rate", "limit": 0.01},
        {"metric": "prometheus/latency-p95", "limit": 300},
    ],
    "lower": [{"metric": "prometheus/request-count", "limit": 30}],
}


def _readme_experiment() -> dict[str, Any]:
    """The custommetrics page's experiment that combines the http task and Prometheus."""
    page = (ROOT / "docs" / "tasks" / "custommetrics.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", page, flags=re.S)
    assert block is not None
    experiment: dict[str, Any] = yaml.safe_load(block[1])
    return experiment


def _failures(behaviour: VersionBehaviour, requests: int) -> int:
    """The app's 500s in its first answers: per request it draws a latency, then a failure."""
    rng = random.Random(behaviour.seed)
    failures = 0
    for _ in range(requests):
        rng.lognormvariate(0.0, behaviour.latency_spread)
        failures += rng.random() < behaviour.error_rate
    return failures


def test_http_and_prometheus_metrics_of_two_versions_are_assessed_against_slos(
    prometheus: Backend, tmp_path: Path, iter8: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """Issue 7's done-when, through `iter8 run`: the docs' experiment loads two real
    versions with the http task, fetches their Prometheus metrics, and assesses both sources'
    SLOs; v2 meets every SLO, v1 misses some on each source."""
    experiment = _readme_experiment()
    http, custom, assess = experiment["spec"]
    assert (http["task"], custom["task"], assess["task"]) == ("http", "custommetrics", "assess")
    assert assess["with"] == {"SLOs": SLOS}
    with sample_app(APP) as urls:
        http["with"] = {**HTTP_LOAD, "versions": [{"url": urls["v1"]}, {"url": urls["v2"]}]}
        custom["with"] = _inputs(prometheus, ["v1", "v2"])
        (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(experiment))
        run = iter8("run", "-f", "experiment.yaml", "-o", "result.json")
    assert run.returncode == 0, run.stderr
    insights = json.loads((tmp_path / "result.json").read_text())["result"]["insights"]

    assert insights["SLOs"] == SLOS
    assert insights["SLOsSatisfied"] == {
        "upper": [[False, True], [False, True], [False, True], [False, True]],
        "lower": [[True, True]],
    }
    slos = {s["metric"]: s["versions"] for s in insights["assessment"]["slos"]}
    assert {m: [v["status"] for v in versions] for m, versions in slos.items()} == {
        "http/error-rate": ["violated", "satisfied"],
        "http/latency-p95": ["violated", "satisfied"],
        "prometheus/error-rate": ["violated", "satisfied"],
        "prometheus/latency-p95": ["violated", "satisfied"],
        "prometheus/request-count": ["satisfied", "satisfied"],
    }
    # the values judged are each task's own: the app's seeded failures (6 of v1's 100 requests)
    # and the exporter's traffic
    assert _failures(APP[0], HTTP_LOAD["numRequests"]) == 6
    assert [v["value"] for v in slos["http/error-rate"]] == [0.06, 0.0]
    for name in ("prometheus/error-rate", "prometheus/latency-p95", "prometheus/request-count"):
        assert [v["value"] for v in slos[name]] == [_expected(v)[name] for v in ("v1", "v2")]
    assert [v["note"] for v in slos["prometheus/latency-p95"]] == ["400 > 300", "180 <= 300"]
    assert [v["slosViolated"] for v in insights["assessment"]["versions"]] == [
        ["http/error-rate", "http/latency-p95", "prometheus/error-rate", "prometheus/latency-p95"],
        [],
    ]

    missed = iter8("assert", "-c", "slos", "-f", "result.json")
    assert missed.returncode == 1, missed.stderr
    assert missed.stdout.startswith(
        "✗ slos: SLOs missed: v1: upper SLO on http/error-rate violated (0.06 > 0.01); "
        "v1: upper SLO on http/latency-p95 violated ("
    )
    met = iter8("assert", "-c", "slos=v2", "-f", "result.json")
    assert (met.returncode, met.stdout) == (0, "✓ slos=v2: v2 meets the SLOs\n"), met.stderr

    report = iter8("report", "-o", "markdown", "-f", "result.json")
    assert report.returncode == 0, report.stderr
    assert "### ❌ SLOs failed: v1\n" in report.stdout
    table = report.stdout.split("#### SLOs\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    table[3] = re.sub(r"([❌✅]) [\d.]+ msec", r"\1 (measured) msec", table[3])
    assert table == [
        "| SLO | v1 | v2 |",
        "|---|---|---|",
        "| http/error-rate ≤ 0.01 | ❌ 0.06 | ✅ 0 |",
        "| http/latency-p95 ≤ 300 msec | ❌ (measured) msec | ✅ (measured) msec |",
        "| prometheus/error-rate ≤ 0.01 | ❌ 0.05 | ✅ 0 |",
        "| prometheus/latency-p95 ≤ 300 msec | ❌ 400 msec | ✅ 180.0 msec |",
        "| prometheus/request-count ≥ 30 requests | ✅ 40 requests | ✅ 40 requests |",
    ]


def test_an_experiment_file_runs_end_to_end(
    prometheus: Backend, tmp_path: Path, iter8: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """`iter8 run` with the foundation's tasks: wait for Prometheus, then fetch its metrics."""
    experiment = {
        "metadata": {"name": "shop-prometheus"},
        "spec": [
            {"task": "ready", "with": {"url": f"{prometheus.url}/-/ready", "timeout": "10s"}},
            {"task": "custommetrics", "with": _inputs(prometheus, ["v1", "v2"])},
        ],
    }
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(experiment))
    run = iter8("run", "-f", "experiment.yaml", "-o", "result.json")
    assert run.returncode == 0, run.stderr
    insights = json.loads((tmp_path / "result.json").read_text())["result"]["insights"]
    assert insights["numVersions"] == 2
    assert insights["nonHistMetricValues"] == [
        {name: [value] for name, value in sorted(_expected(v).items())} for v in ("v1", "v2")
    ]
    assert insights["metricsInfo"]["prometheus/request-count"] == {
        "type": "counter",
        "description": "Requests in the window",
        "units": "requests",
    }
    check = iter8("assert", "-c", "completed", "-c", "nofailure", "-f", "result.json")
    assert check.returncode == 0, check.stderr
