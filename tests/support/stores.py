"""Metric stores with known data, built directly (no load generation)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from iter8_action.metrics.store import HistBucket, MetricStore

EDGES_MS = np.geomspace(1.0, 10_000.0, 401)
"""Histogram buckets 2.3% wide, from 1 ms to 10 s."""


def lognormal_latencies(n: int, median_ms: float, sigma: float = 0.5) -> np.ndarray:
    """`n` latencies at the quantiles of a log-normal: the same data every time, no RNG."""
    quantiles = (np.arange(n) + 0.5) / n
    return np.asarray(median_ms * np.exp(sigma * stats.norm.ppf(quantiles)))


def histogram(values: Sequence[float] | np.ndarray) -> list[HistBucket]:
    counts, _ = np.histogram(np.asarray(values), EDGES_MS)
    return [
        HistBucket(float(EDGES_MS[i]), float(EDGES_MS[i + 1]), int(c))
        for i, c in enumerate(counts)
        if c
    ]


def store_with(names: Sequence[str]) -> MetricStore:
    store = MetricStore()
    store.ensure_versions(len(names), list(names))
    return store


def add_http(store: MetricStore, version: int, latencies: np.ndarray, *, errors: int = 0) -> None:
    """What the http task writes for a version: a histogram, gauges and counts."""
    n = len(latencies)
    store.set_histogram("http/latency", version, histogram(latencies))
    store.add_value("http/latency-mean", version, float(np.mean(latencies)))
    store.add_value("http/latency-p95", version, float(np.percentile(latencies, 95)))
    store.add_value("http/request-count", version, n)
    store.add_value("http/error-count", version, errors)
    store.add_value("http/error-rate", version, errors / n)


def two_versions(
    *,
    n: int = 1000,
    medians: tuple[float, float] = (50.0, 50.0),
    errors: tuple[int, int] = (10, 10),
) -> MetricStore:
    store = store_with(["v1", "v2"])
    for v in (0, 1):
        add_http(store, v, lognormal_latencies(n, medians[v]), errors=errors[v])
    return store
