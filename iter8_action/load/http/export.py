"""A stream's statistics as Iter8's built-in metrics in the metric store.

Pure: it reads `StreamStats` and writes a `MetricStore`. Latencies are in
milliseconds. A `Naming` spells the metrics for each load task: `HTTP`
(`http/latency-p95`, status codes as numbers) or the grpc task's
(`iter8_action.load.grpc.runner.NAMING`: Iter8's gRPC spelling `grpc/latency/p95`,
statuses by name such as `OK`, `UNAVAILABLE`). Besides
Iter8's metrics it stores, per version:

- `<prefix>/qps-achieved` (`rps-achieved` for gRPC): requests per second sent,
  from the first send to the last (n requests, n - 1 intervals);
- `<prefix>/status-codes` (summary): answers by status code, `{"200": n}`
  (`{"OK": n, "UNAVAILABLE": m}` for gRPC);
- `<prefix>/errors-by-kind` (summary): errors by kind (`stats.ERROR_KINDS`);
- `<prefix>/latency-hdr` (summary): the full-resolution latency distribution,
  `{"units": "msec", "relativeError": e, "values": [...], "counts": [...]}`,
  one entry per non-empty bucket of the HDR histogram (a few hundred at most),
  for rank statistics such as Mann-Whitney without millions of raw samples;
- `<prefix>/request-rate` (summary): requests per second over time,
  `{"intervalSeconds": 1, "values": [...]}`, where `values[i]` counts the
  recorded requests *sent* in second `i` after the start of the load (sends, as
  `qps-achieved` counts them; counted when their outcome is known, so the values
  add up to `request-count`). The HTML report charts it;
- `<prefix>/waited-count`: requests that were due while the client's every
  connection (gRPC: call slot) was busy and none could be added, so they waited;
- `<prefix>/client-limit` (summary, only when requests waited): the numbers behind
  the warning that the load generator, not the app, limited the rate: the rate asked
  for times the mean time a request held a connection gives the connections needed
  (Little's law), against the cap and the peak of the pool.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from iter8_action.load.http.histogram import RELATIVE_ERROR, LatencyHistogram
from iter8_action.load.http.stats import StreamStats
from iter8_action.metrics.names import percentile_suffix
from iter8_action.metrics.store import HistBucket, MetricMeta, MetricStore, MetricType

DEFAULT_PERCENTILES = (50.0, 75.0, 90.0, 95.0, 99.0, 99.9)
NS_PER_MS = 1_000_000
RATE_INTERVAL_S = 1
_R10 = (1.0, 1.25, 1.6, 2.0, 2.5, 3.2, 4.0, 5.0, 6.3, 8.0)
"""Renard's R10 preferred numbers: ten display buckets per decade of latency."""
_SMALLEST_DECADE = -3  # 1 microsecond


@dataclass(frozen=True)
class Naming:
    """How a load task spells its metrics."""

    latency_sep: str
    """Between `latency` and a statistic: `latency-mean` (http), `latency/mean` (grpc)."""
    status_label: Callable[[int], str]
    """A status code as the key of the `status-codes` summary."""
    status_description: str
    achieved: str
    """The achieved rate's metric: `qps-achieved` (http), `rps-achieved` (grpc, ghz's word)."""
    rate_unit: str = "qps"
    requests: str = "requests"
    holder: str = "connection"
    """What a request holds while in flight, the client's limited resource."""
    limit_field: str = "maxConnections"
    """The field that raises the client's limit."""


HTTP = Naming("-", str, "responses by HTTP status code", "qps-achieved")


@dataclass(frozen=True)
class ClientLimit:
    """Requests waited for the client: how many, and what would have avoided it."""

    waited: int
    requests: int
    rate: float
    busy_ms: float
    needed: int
    """`rate` x `busy_ms`: how many requests are in flight at once on average."""
    cap: int
    peak: int

    def message(self, naming: Naming) -> str:
        """The warning, with its numbers and what to change."""
        what, holder = naming.requests, naming.holder
        text = (
            f"the load generator limited the rate: {self.waited} of {self.requests} {what} "
            f"waited for a free {holder} ({self.peak} in use, {naming.limit_field} {self.cap}); "
            f"{self.rate:g} {naming.rate_unit} x {self.busy_ms:.1f} ms per {what[:-1]} = "
            f"{self.needed} {holder}s needed"
        )
        if self.needed > self.cap:
            return f"{text}: raise {naming.limit_field} to at least {self.needed}"
        return (
            f"{text} on average, within the limit: the waits came from bursts or stalls "
            "of the app (see the latency percentiles)"
        )

    def summary(self, naming: Naming) -> dict[str, object]:
        holder = naming.holder
        return {
            f"{naming.requests} waited": self.waited,
            f"rate asked ({naming.rate_unit})": self.rate,
            f"time per {naming.requests[:-1]} (ms)": round(self.busy_ms, 3),
            f"{holder}s needed (rate x time)": self.needed,
            f"{holder}s allowed ({naming.limit_field})": self.cap,
            f"{holder}s used (peak)": self.peak,
        }


def client_limit(stats: StreamStats, rate: float | None) -> ClientLimit | None:
    """The client's limit on an open-loop stream at `rate`, if any request waited for it."""
    pool = stats.pool
    busy_s = pool.busy_s()
    if rate is None or not pool.waited:
        return None
    busy_ms = (busy_s or 0.0) * 1e3
    return ClientLimit(
        waited=pool.waited,
        requests=stats.requests,
        rate=rate,
        busy_ms=busy_ms,
        needed=math.ceil(rate * busy_ms / 1e3 - 1e-9),
        cap=pool.cap,
        peak=pool.peak,
    )


def percentile_list(extra: Sequence[float]) -> list[float]:
    """Iter8's percentiles (always reported) merged with those asked for, sorted."""
    return sorted({float(p) for p in DEFAULT_PERCENTILES} | {float(p) for p in extra})


def declare(
    store: MetricStore, prefix: str, percentiles: Sequence[float], *, naming: Naming = HTTP
) -> None:
    gauge, counter = MetricType.GAUGE, MetricType.COUNTER
    lat = f"latency{naming.latency_sep}"
    metas = {
        "request-count": MetricMeta(counter, "number of requests sent", None),
        "error-count": MetricMeta(counter, "number of responses that were errors", None),
        "error-rate": MetricMeta(gauge, "fraction of responses that were errors", None),
        f"{lat}mean": MetricMeta(gauge, "mean of observed latency values", "msec"),
        f"{lat}stddev": MetricMeta(gauge, "standard deviation of observed latency values", "msec"),
        f"{lat}min": MetricMeta(gauge, "minimum of observed latency values", "msec"),
        f"{lat}max": MetricMeta(gauge, "maximum of observed latency values", "msec"),
        "latency": MetricMeta(MetricType.HISTOGRAM, "latency histogram", "msec"),
        naming.achieved: MetricMeta(gauge, "requests per second achieved", "requests/sec"),
        "status-codes": MetricMeta(MetricType.SUMMARY, naming.status_description, None),
        "errors-by-kind": MetricMeta(MetricType.SUMMARY, "errors by kind", None),
        "latency-hdr": MetricMeta(
            MetricType.SUMMARY, "latency distribution at full resolution", "msec"
        ),
        "request-rate": MetricMeta(
            MetricType.SUMMARY,
            "requests sent per one-second interval since the start of the load",
            "requests/sec",
        ),
        "waited-count": MetricMeta(
            counter, f"number of {naming.requests} that waited for a free {naming.holder}", None
        ),
        "client-limit": MetricMeta(
            MetricType.SUMMARY,
            f"⚠ the load generator limited the rate: {naming.requests} waited for a free "
            f"{naming.holder} (raise {naming.limit_field})",
            None,
        ),
    }
    for p in percentiles:
        metas[f"{lat}p{percentile_suffix(p)}"] = MetricMeta(
            gauge, f"{percentile_suffix(p)}-th percentile of observed latency values", "msec"
        )
    for name, meta in metas.items():
        store.declare(f"{prefix}/{name}", meta)


def write(
    store: MetricStore,
    prefix: str,
    version: int,
    stats: StreamStats,
    percentiles: Sequence[float],
    *,
    naming: Naming = HTTP,
    rate: float | None = None,
) -> None:
    """Write one stream's metrics for `version` under `prefix` (`http`, `http-<id>`, `grpc`...);
    `rate` is the rate the stream asked for (None: closed loop)."""
    store.add_value(f"{prefix}/request-count", version, stats.requests)
    store.add_value(f"{prefix}/waited-count", version, stats.pool.waited)
    limit = client_limit(stats, rate)
    if limit is not None:
        store.set_summary(f"{prefix}/client-limit", version, limit.summary(naming))
    store.add_value(f"{prefix}/error-count", version, stats.errors)
    error_rate = stats.error_rate()
    store.add_value(f"{prefix}/error-rate", version, 0.0 if error_rate is None else error_rate)
    qps = stats.achieved_qps()
    if qps is not None:
        store.add_value(f"{prefix}/{naming.achieved}", version, qps)
    store.set_summary(
        f"{prefix}/status-codes",
        version,
        {naming.status_label(k): v for k, v in sorted(stats.statuses.items())},
    )
    store.set_summary(f"{prefix}/errors-by-kind", version, dict(sorted(stats.error_kinds.items())))
    store.set_summary(f"{prefix}/request-rate", version, request_rate(stats))
    hist = stats.histogram
    if hist.total == 0:
        return  # no latency was observed: latency metrics stay missing, not zero
    lat = f"{prefix}/latency{naming.latency_sep}"
    mean, stddev = hist.mean_ns(), hist.stddev_ns()
    assert mean is not None and stddev is not None
    store.add_value(f"{lat}mean", version, mean / NS_PER_MS)
    store.add_value(f"{lat}stddev", version, stddev / NS_PER_MS)
    store.add_value(f"{lat}min", version, hist.min_ns / NS_PER_MS)
    store.add_value(f"{lat}max", version, hist.max_ns / NS_PER_MS)
    for p in percentiles:
        value = hist.percentile_ns(p)
        assert value is not None
        store.add_value(f"{lat}p{percentile_suffix(p)}", version, value / NS_PER_MS)
    store.set_histogram(f"{prefix}/latency", version, display_buckets(hist))
    store.set_summary(f"{prefix}/latency-hdr", version, fine_summary(hist))


def request_rate(stats: StreamStats) -> dict[str, object]:
    """The per-second send counts, in the shape the report charts as a rate over time."""
    return {"intervalSeconds": RATE_INTERVAL_S, "values": stats.per_second.tolist()}


def display_buckets(hist: LatencyHistogram) -> list[HistBucket]:
    """Tens of buckets (ten per decade, on a grid shared by every version) for charts."""
    if hist.total == 0:
        return []
    edges = _edges(hist.min_ns / NS_PER_MS, hist.max_ns / NS_PER_MS)
    counts = [0] * (len(edges) - 1)
    for bucket in hist.buckets():
        value = bucket.middle_ns / NS_PER_MS
        index = min(max(bisect.bisect_right(edges, value) - 1, 0), len(counts) - 1)
        counts[index] += bucket.count
    return [HistBucket(edges[i], edges[i + 1], count) for i, count in enumerate(counts) if count]


def _edges(low_ms: float, high_ms: float) -> list[float]:
    """Grid edges from the last one at or below `low_ms` to the first one above `high_ms`."""
    smallest = 10.0**_SMALLEST_DECADE
    if low_ms < smallest:
        edges, decade = [0.0], _SMALLEST_DECADE
    else:
        edges, decade = [], math.floor(math.log10(low_ms))
    while True:
        for mantissa in _R10:
            edge = round(mantissa * 10.0**decade, 9)
            if edge <= low_ms:
                edges = [edge]
                continue
            edges.append(edge)
            if edge > high_ms:
                return edges
        decade += 1


def fine_summary(hist: LatencyHistogram) -> dict[str, object]:
    values: list[float] = []
    counts: list[int] = []
    for bucket in hist.buckets():
        values.append(round(bucket.middle_ns / NS_PER_MS, 6))
        counts.append(bucket.count)
    return {
        "units": "msec",
        "relativeError": RELATIVE_ERROR / 2,
        "values": values,
        "counts": counts,
    }
