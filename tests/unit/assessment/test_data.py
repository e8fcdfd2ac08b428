"""Which per-request data a metric has, and its value when the store has no scalar."""

from __future__ import annotations

from iter8_action.assessment.data import metric_data
from iter8_action.metrics.store import HistBucket
from tests.support.stores import store_with


def test_error_rate_from_counts_alone() -> None:
    store = store_with(["v1", "v2"])
    store.add_value("http-login/request-count", 0, 200)
    store.add_value("http-login/error-count", 0, 5)
    store.add_value("http-login/request-count", 1, 10)
    store.add_value("http-login/error-count", 1, 11)  # more errors than requests: not a rate
    data = metric_data(store, "http-login/error-rate")
    assert data.proportions == ((5, 200), None)
    assert data.values == (0.025, None)


def test_statistics_of_histograms_and_samples() -> None:
    store = store_with(["v1", "v2"])
    store.set_histogram("grpc/latency", 0, [HistBucket(0, 10, 5), HistBucket(10, 20, 15)])
    store.add_samples("grpc/latency", 1, [1.0, 2.0, 3.0, 4.0])
    mean = metric_data(store, "grpc/latency/mean")
    assert (mean.statistic, mean.values) == ("mean", (12.5, 2.5))
    p50 = metric_data(store, "grpc/latency/p50.0")
    assert (p50.metric, p50.statistic, p50.values) == (
        "grpc/latency/p50",
        "p50",
        (13.333333333333332, 2.5),
    )
    assert metric_data(store, "grpc/latency").statistic == "mean"


def test_plain_metrics_have_no_per_request_data() -> None:
    store = store_with(["v1"])
    store.add_value("prom/latency-p95", 0, 12.0)
    data = metric_data(store, "prom/latency-p95")
    assert (data.statistic, data.distributions, data.proportions) == ("", (None,), (None,))
    assert data.values == (12.0,)
    empty = store_with(["v1"])
    empty.set_histogram("http/latency", 0, [HistBucket(0, 10, 0)])
    assert metric_data(empty, "http/latency-mean").values == (None,)


def test_the_http_tasks_full_resolution_latencies_are_preferred() -> None:
    store = store_with(["v1"])
    store.set_histogram("http/latency", 0, [HistBucket(0, 10, 3)])
    store.set_summary("http/latency-hdr", 0, {"values": [1.0, 7.0], "counts": [2, 1]})
    data = metric_data(store, "http/latency-mean")
    distribution = data.distributions[0]
    assert distribution is not None
    assert distribution.observations().tolist() == [1.0, 1.0, 7.0]
    assert data.values == (3.0,)
