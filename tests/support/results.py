"""Results with known data: built in memory (`assessed_result`, `make_document`) or read from
`tests/fixtures/results/` (`load`)."""

from __future__ import annotations

from typing import Any

import yaml

from iter8_action.metrics.store import MetricMeta, MetricStore, MetricType
from iter8_action.results.model import Result, TaskRecord, TaskStatus
from tests.support.paths import RESULTS


def assessed_result(*, v2_p95: float = 92.5, failure: bool = False) -> Result:
    """v1 and v2 load-tested; SLO p95 <= 100 and error-rate <= 0.01; v2 wins latency-mean."""
    result = Result(start_time="2026-11-27T08:00:00.000Z")
    store = result.store
    store.ensure_versions(2, ["v1", "v2"])
    store.declare("http/latency-mean", MetricMeta(MetricType.GAUGE, "mean latency", "msec"))
    store.declare("http/latency-p95", MetricMeta(MetricType.GAUGE, "p95 latency", "msec"))
    store.declare("http/error-rate", MetricMeta(MetricType.GAUGE, "error rate", None))
    for version, (mean, p95, errors) in enumerate([(40.0, 87.25, 0.0), (35.5, v2_p95, 0.005)]):
        store.add_value("http/latency-mean", version, mean)
        store.add_value("http/latency-p95", version, p95)
        store.add_value("http/error-rate", version, errors)
    p95_ok = v2_p95 <= 100
    result.tasks = [
        TaskRecord(0, "http", TaskStatus.COMPLETED),
        TaskRecord(1, "assess", TaskStatus.COMPLETED),
    ]
    result.assessment = {
        "SLOs": {
            "upper": [
                {"metric": "http/latency-p95", "limit": 100},
                {"metric": "http/error-rate", "limit": 0.01},
            ]
        },
        "SLOsSatisfied": {"upper": [[True, p95_ok], [True, True]]},
        "rewards": {"min": ["http/latency-mean"]},
        "rewardsWinners": {"min": [1]},
        "assessment": {
            "baseline": 0,
            "confidence": 0.95,
            "slos": [
                _slo("http/latency-p95", 100, [87.25, v2_p95]),
                _slo("http/error-rate", 0.01, [0.0, 0.005]),
            ],
            "rewards": [
                {
                    "metric": "http/latency-mean",
                    "direction": "min",
                    "verdict": "winner",
                    "winner": 1,
                    "tied": [],
                    "reason": "v2 is 11.3% lower than v1",
                    "comparisons": [],
                }
            ],
            "versions": [
                {"name": "v1", "slosSatisfied": True, "rewardsWon": []},
                {"name": "v2", "slosSatisfied": p95_ok, "rewardsWon": ["http/latency-mean"]},
            ],
            "winner": {
                "version": 1 if p95_ok else None,
                "name": "v2" if p95_ok else None,
                "reason": "v2 meets every SLO and is best on every reward"
                if p95_ok
                else "no version meets every SLO and wins every reward",
            },
        },
    }
    if failure:
        result.failure = True
        result.failure_reason = "task 0 (http) failed: cannot connect"
        result.failed_task = 0
    return result


def _slo(metric: str, limit: float, values: list[float]) -> dict[str, Any]:
    return {
        "metric": metric,
        "kind": "upper",
        "limit": limit,
        "relative": None,
        "versions": [
            {
                "value": v,
                "limit": limit,
                "status": "satisfied" if v <= limit else "violated",
                "test": None,
            }
            for v in values
        ],
    }


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((RESULTS / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def make_document(
    versions: list[str], metrics: list[str], *, slos: tuple[str, ...] = (), reason: str = "ok"
) -> dict[str, Any]:
    """A completed result with every metric in every version, and an upper SLO per `slos`."""
    store = MetricStore()
    store.ensure_versions(len(versions), versions)
    for m, name in enumerate(metrics):
        store.declare(name, MetricMeta(MetricType.GAUGE, f"metric {name}", "ms"))
        for v in range(len(versions)):
            store.add_value(name, v, 10.0 + m + v / 10)
    entries = [
        {
            "metric": name,
            "kind": "upper",
            "limit": 100.0,
            "relative": None,
            "versions": [
                {"value": store.value(name, v), "limit": 100.0, "status": "satisfied", "test": None}
                for v in range(len(versions))
            ],
        }
        for name in slos
    ]
    result = Result(
        store=store,
        start_time="2026-11-20T10:00:00.000Z",
        end_time="2026-11-20T10:00:10.000Z",
        iter8_version="iter8-py 0.1.0",
        tasks=[TaskRecord(0, "http", TaskStatus.COMPLETED, duration_s=10.0)],
    )
    result.assessment = {
        "assessment": {
            "baseline": 0,
            "confidence": 0.95,
            "slos": entries,
            "rewards": [],
            "winner": {"version": None, "name": None, "reason": reason},
        }
    }
    return {
        "metadata": {"name": "generated"},
        "spec": [{"task": "http", "with": {"url": "http://127.0.0.1:8080/"}}],
        "result": result.to_dict(),
    }
