from __future__ import annotations

import math

from iter8_action.load.grpc.runner import NAMING as GRPC
from iter8_action.load.http.export import (
    HTTP,
    client_limit,
    declare,
    display_buckets,
    fine_summary,
    percentile_list,
    write,
)
from iter8_action.load.http.histogram import LatencyHistogram
from iter8_action.load.http.stats import PoolStats, StreamStats
from iter8_action.metrics.store import HistBucket, MetricMeta, MetricStore, MetricType


def _histogram_ms(values_ms: list[float]) -> LatencyHistogram:
    hist = LatencyHistogram()
    for value in values_ms:
        hist.record(int(value * 1_000_000))
    return hist


def test_percentiles_always_include_iter8s() -> None:
    assert percentile_list([97.5, 99]) == [50.0, 75.0, 90.0, 95.0, 97.5, 99.0, 99.9]


def test_display_buckets_follow_ten_per_decade_between_min_and_max() -> None:
    hist = _histogram_ms([1.1, 1.3, 1.3, 2.2, 9.0, 11.0])
    assert display_buckets(hist) == [
        HistBucket(1.0, 1.25, 1),
        HistBucket(1.25, 1.6, 2),
        HistBucket(2.0, 2.5, 1),
        HistBucket(8.0, 10.0, 1),
        HistBucket(10.0, 12.5, 1),
    ]
    assert display_buckets(LatencyHistogram()) == []


def test_display_buckets_start_at_zero_below_a_microsecond() -> None:
    hist = LatencyHistogram()
    hist.record(500)  # 0.5 microseconds
    hist.record(1_500)
    assert display_buckets(hist) == [HistBucket(0.0, 0.001, 1), HistBucket(0.00125, 0.0016, 1)]


def test_fine_summary_lists_every_non_empty_bucket() -> None:
    hist = LatencyHistogram()
    for value in (100, 100, 200):
        hist.record(value)
    assert fine_summary(hist) == {
        "units": "msec",
        "relativeError": 1 / 512,
        "values": [0.0001, 0.0002],
        "counts": [2, 1],
    }


def test_write_stores_iter8s_metrics_for_a_version() -> None:
    store = MetricStore()
    store.ensure_versions(2, ["a", "b"])
    stats = StreamStats(requests=4, errors=1, first_send_ns=0, last_send_ns=2_000_000_000)
    stats.statuses = {200: 3, 503: 1}
    stats.error_kinds = {"status": 1}
    stats.histogram = _histogram_ms([1.0, 2.0, 3.0, 4.0])
    declare(store, "http", [50.0, 97.5])
    write(store, "http", 1, stats, [50.0, 97.5])
    assert store.value("http/request-count", 1) == 4
    assert store.value("built-in/error-count", 1) == 1
    assert store.value("built-in/error-rate", 1) == 0.25
    assert store.value("http/qps-achieved", 1) == 1.5  # 3 intervals in 2 s
    assert store.value("built-in/mean-latency", 1) == 2.5
    # population stddev of 1, 2, 3, 4 ms: sqrt(4 * 30 - 10**2) / 4 ms, from exact integer sums
    assert store.value("http/latency-stddev", 1) == math.sqrt(20e12) / 4 / 1e6
    assert store.value("http/latency-min", 1) == 1.0
    assert store.value("http/latency-max", 1) == 4.0
    # the middle of the HDR bucket [1998848, 2007039] ns; p97.5 is the exact maximum
    assert store.value("http/latency-p50.0", 1) == 2.0029435
    assert store.value("built-in/p97.5", 1) == 4.0
    assert store.summary("http/status-codes", 1) == {"200": 3, "503": 1}
    assert store.summary("http/errors-by-kind", 1) == {"status": 1}
    summary = store.summary("http/latency-hdr", 1)
    assert summary is not None and summary["counts"] == [1, 1, 1, 1]
    assert store.histogram("http/latency", 1) == [
        HistBucket(1.0, 1.25, 1),
        HistBucket(2.0, 2.5, 1),
        HistBucket(2.5, 3.2, 1),
        HistBucket(4.0, 5.0, 1),
    ]
    meta = store.meta("http/latency-p97.5")
    assert meta is not None and (meta.type, meta.units) == (MetricType.GAUGE, "msec")
    assert store.value("http/request-count", 0) is None


def test_without_latencies_the_error_rate_is_still_written() -> None:
    store = MetricStore()
    stats = StreamStats(requests=3, errors=3)
    stats.error_kinds = {"refused": 3}
    write(store, "http-login", 0, stats, [50.0])
    assert store.value("http-login/error-rate", 0) == 1.0
    assert store.value("http-login/latency-p50", 0) is None
    assert store.value("http-login/qps-achieved", 0) is None
    assert store.summary("http-login/errors-by-kind", 0) == {"refused": 3}


def test_a_run_without_errors_has_error_rate_zero() -> None:
    store = MetricStore()
    write(store, "http", 0, StreamStats(requests=2), [])
    assert store.value("http/error-rate", 0) == 0.0


def test_request_rate_is_a_per_second_series_the_report_charts() -> None:
    store = MetricStore()
    store.ensure_versions(2, ["a", "b"])
    declare(store, "http-login", [])
    stats = StreamStats(requests=7)
    for second, count in ((0, 3), (1, 0), (2, 4)):
        if count:
            stats.count_sent_at(second, count)
    write(store, "http-login", 1, stats, [])
    assert store.summary("http-login/request-rate", 1) == {
        "intervalSeconds": 1,
        "values": [3, 0, 4],
    }
    assert store.summary("http-login/request-rate", 0) is None
    meta = store.meta("http-login/request-rate")
    assert meta == MetricMeta(
        MetricType.SUMMARY,
        "requests sent per one-second interval since the start of the load",
        "requests/sec",
    )


def test_grpc_naming_spells_latency_with_a_slash_and_statuses_by_name() -> None:
    store = MetricStore()
    store.ensure_versions(1, ["v1"])
    stats = StreamStats(requests=4, errors=2, first_send_ns=0, last_send_ns=3_000_000_000)
    stats.statuses = {0: 2, 14: 1, 99: 1}
    stats.error_kinds = {"UNAVAILABLE": 1, "99": 1}
    stats.histogram = _histogram_ms([1.0, 2.0, 3.0, 4.0])
    declare(store, "grpc", [50.0, 95.0], naming=GRPC)
    write(store, "grpc", 0, stats, [50.0, 95.0], naming=GRPC)
    assert store.value("grpc/error-rate", 0) == 0.5
    assert store.value("grpc/rps-achieved", 0) == 1.0  # 3 intervals in 3 s
    assert store.value("grpc/latency/mean", 0) == 2.5
    assert store.value("grpc/latency/min", 0) == 1.0
    assert store.value("grpc/latency/p95.0", 0) == 4.0
    assert store.value("grpc/latency/p50", 0) == 2.0029435
    # a status code gRPC does not define keeps its number
    assert store.summary("grpc/status-codes", 0) == {"OK": 2, "UNAVAILABLE": 1, "99": 1}
    meta = store.meta("grpc/status-codes")
    assert meta is not None and meta.description == "answers by gRPC status"
    assert store.meta("grpc/latency/stddev") is not None
    assert store.meta("grpc/qps-achieved") is None


def _limited(waited: int, *, busy_ms: float, cap: int) -> StreamStats:
    stats = StreamStats(requests=1000)
    stats.pool = PoolStats(
        waited=waited, busy_ns=int(busy_ms * 1e6) * 1000, busy_count=1000, peak=cap, cap=cap
    )
    return stats


def test_no_client_limit_without_waits_or_in_closed_loop() -> None:
    assert client_limit(_limited(0, busy_ms=20, cap=4), 1000.0) is None
    assert client_limit(_limited(5, busy_ms=20, cap=4), None) is None


def test_the_client_limit_says_how_many_connections_the_rate_needs() -> None:
    limit = client_limit(_limited(730, busy_ms=20, cap=4), 1000.0)
    assert limit is not None
    assert limit.message(HTTP) == (
        "the load generator limited the rate: 730 of 1000 requests waited for a free "
        "connection (4 in use, maxConnections 4); 1000 qps x 20.0 ms per request = "
        "20 connections needed: raise maxConnections to at least 20"
    )
    assert limit.message(GRPC).startswith(
        "the load generator limited the rate: 730 of 1000 calls waited for a free call slot "
        "(4 in use, concurrency 4); 1000 rps x 20.0 ms per call = 20 call slots needed: "
        "raise concurrency to at least 20"
    )
    store = MetricStore()
    store.ensure_versions(1, ["v1"])
    declare(store, "http", [])
    write(store, "http", 0, _limited(730, busy_ms=20, cap=4), [], rate=1000.0)
    assert store.value("http/waited-count", 0) == 730
    assert store.summary("http/client-limit", 0) == {
        "requests waited": 730,
        "rate asked (qps)": 1000.0,
        "time per request (ms)": 20.0,
        "connections needed (rate x time)": 20,
        "connections allowed (maxConnections)": 4,
        "connections used (peak)": 4,
    }


def test_waits_within_the_limit_point_at_the_app() -> None:
    limit = client_limit(_limited(12, busy_ms=20, cap=256), 1000.0)
    assert limit is not None
    assert limit.message(HTTP).endswith(
        "= 20 connections needed on average, within the limit: the waits came from "
        "bursts or stalls of the app (see the latency percentiles)"
    )
