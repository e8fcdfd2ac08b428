from __future__ import annotations

import pytest

from iter8_action.metrics.store import (
    HistBucket,
    MetricMeta,
    MetricStore,
    MetricType,
    histogram_quantile,
    sample_quantile,
    weighted_quantile,
)


def test_values_per_version_and_latest_wins() -> None:
    store = MetricStore()
    store.ensure_versions(2, ["stable", "canary"])
    store.declare("built-in/error-rate", MetricMeta(MetricType.GAUGE, "errors / requests"))
    store.add_value("http/error-rate", 0, 0.5)
    store.add_value("http/error-rate", 0, 0.25)
    store.add_value("built-in/error-rate", 1, 0.0)
    assert store.value("http/error-rate", 0) == 0.25
    assert store.value("built-in/error-rate", 1) == 0.0
    assert store.value("http/error-rate", 2) is None
    assert store.meta("http/error-rate") == MetricMeta(MetricType.GAUGE, "errors / requests")
    assert store.version_index("canary") == 1
    assert store.version_index("nope") is None
    assert store.version_index(1) == 1
    assert store.version_index(5) is None


def test_writing_beyond_the_known_versions_grows_them() -> None:
    store = MetricStore()
    store.add_value("x/y", 2, 1.0)
    assert store.version_names == ["v1", "v2", "v3"]
    with pytest.raises(ValueError, match="negative"):
        store.add_value("x/y", -1, 1.0)


def test_percentiles_from_histograms_and_samples() -> None:
    store = MetricStore()
    store.declare("http/latency", MetricMeta(MetricType.HISTOGRAM, "latency", "msec"))
    store.set_histogram("http/latency", 0, [HistBucket(0, 10, 50), HistBucket(10, 20, 50)])
    store.add_samples("grpc/latency", 0, [float(v) for v in range(1, 101)])
    assert store.value("http/latency-p50", 0) == 10.0
    assert store.value("http/latency-p75", 0) == 15.0
    assert store.value("http/latency-p95.0", 0) == 19.0
    assert store.value("grpc/latency/p50", 0) == pytest.approx(50.5)
    assert store.value("grpc/latency/p99", 0) == pytest.approx(99.01)
    meta = store.meta("http/latency-p95")
    assert meta == MetricMeta(MetricType.GAUGE, "latency (http/latency-p95)", "msec")
    assert store.value("nothing/latency-p50", 0) is None


def test_quantile_edges() -> None:
    assert histogram_quantile([], 50) is None
    assert histogram_quantile([HistBucket(0, 1, 0)], 50) is None
    assert histogram_quantile([HistBucket(0, 1, 2), HistBucket(5, 7, 0)], 100) == 1.0
    assert sample_quantile([], 50) is None
    assert sample_quantile([3.0], 99) == 3.0


def test_round_trip_through_insights() -> None:
    store = MetricStore()
    store.ensure_versions(2, ["a", "b"])
    store.declare("http/request-count", MetricMeta(MetricType.COUNTER, "requests", None))
    store.add_value("http/request-count", 0, 10)
    store.add_value("http/request-count", 1, 12)
    store.set_histogram("http/latency", 1, [HistBucket(1.0, 2.0, 3)])
    store.add_samples("s/x", 0, [1.0, 2.0])
    store.set_summary("http/status-codes", 1, {"200": 12})
    insights = store.to_insights()
    assert insights == {
        "numVersions": 2,
        "versionNames": ["a", "b"],
        "metricsInfo": {"http/request-count": {"type": "counter", "description": "requests"}},
        "nonHistMetricValues": [{"http/request-count": [10.0]}, {"http/request-count": [12.0]}],
        "histMetricValues": [{}, {"http/latency": [{"lower": 1.0, "upper": 2.0, "count": 3}]}],
        "sampleMetricValues": [{"s/x": [1.0, 2.0]}, {}],
        "summaryMetricValues": [{}, {"http/status-codes": {"200": 12}}],
    }
    again = MetricStore.from_insights(insights)
    assert again.to_insights() == insights
    assert again.names() == ["http/latency", "http/request-count", "http/status-codes", "s/x"]
    assert again.histogram("http/latency", 1) == [HistBucket(1.0, 2.0, 3)]
    assert again.samples("s/x", 0) == [1.0, 2.0]
    assert again.summary("http/status-codes", 1) == {"200": 12}


def test_unlisted_percentiles_come_from_the_full_resolution_summary() -> None:
    store = MetricStore()
    store.set_histogram("http/latency", 0, [HistBucket(0, 100, 100)])
    store.set_summary(
        "http/latency-hdr", 0, {"values": [3.0, 1.0, 2.0], "counts": [10, 80, 10], "units": "msec"}
    )
    assert store.value("http/latency-p80", 0) == 1.0
    assert store.value("http/latency-p80.5", 0) == 2.0
    assert store.value("http/latency-p97.5", 0) == 3.0
    store.set_summary("http/latency-hdr", 1, {"values": [1.0], "counts": []})
    store.set_histogram("http/latency", 1, [HistBucket(0, 10, 10)])
    assert store.value("http/latency-p50", 1) == 5.0  # a malformed summary is passed over


def test_weighted_quantile_edges() -> None:
    assert weighted_quantile([], [], 50) is None
    assert weighted_quantile([5.0], [0], 50) is None
    assert weighted_quantile([1.0, 9.0], [1, 1], 100) == 9.0
