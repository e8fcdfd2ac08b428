"""Fixed result documents for the report tests, and a builder for large ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from iter8_action.metrics import MetricMeta, MetricStore, MetricType
from iter8_action.result import Result, TaskRecord, TaskStatus

ROOT = Path(__file__).resolve().parents[3]
RESULTS = ROOT / "tests" / "fixtures" / "results"
GOLDEN = ROOT / "tests" / "golden" / "report"
FIXTURES = sorted(p.stem for p in RESULTS.glob("*.yaml"))


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


@pytest.fixture(params=FIXTURES)
def fixture_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)
