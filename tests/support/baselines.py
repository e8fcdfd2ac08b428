"""Result files with known data for the baseline tests, built directly (no load generation)."""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from iter8_action.baselines.model import BaselineRun, Baselines
from iter8_action.metrics.store import MetricStore
from tests.support.stores import add_http, lognormal_latencies, store_with


def http_store(medians: Sequence[float], *, n: int = 500, names: Sequence[str] = ()) -> MetricStore:
    store = store_with(list(names) or [f"v{i + 1}" for i in range(len(medians))])
    for v, median in enumerate(medians):
        add_http(store, v, lognormal_latencies(n, median))
    return store


def result_bytes(store: MetricStore, *, baseline: int | None = None) -> bytes:
    insights = store.to_insights()
    if baseline is not None:
        insights["assessment"] = {"baseline": baseline}
    document = {"spec": [], "result": {"failure": False, "insights": insights}}
    return yaml.safe_dump(document).encode()


def baselines_of(*medians: float, branch: str = "main") -> Baselines:
    """One single-version run per median, newest first, with made-up commits."""
    runs = tuple(
        BaselineRun(branch, f"{i}a2b3c4{'0' * 33}", f"run {i}", http_store([median]))
        for i, median in enumerate(medians)
    )
    return Baselines("base-branch", runs, branch=branch)
