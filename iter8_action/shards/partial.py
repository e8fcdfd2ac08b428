"""What a shard writes beside its metrics so that N shards merge exactly.

A shard's result file is an ordinary result (its own metrics, readable by
`iter8 report`) plus `result.shard`::

    shard:
      index: 2            # 1-based
      total: 3
      experimentHash: sha256:...   # the canonical experiment: shards must agree
      startAt: 2026-11-30T12:00:00.000Z   # the common instant asked for (or null)
      loads:              # per load task index
        "1":
          task: http
          versions: [v1, v2]
          startedAt: ...  # when this shard's schedule began, by its clock
          startDelaySeconds: 0.004
          clockSkewSeconds: 0.0001
          streams:
          - {prefix: http, version: 0, rate: 33.3, percentiles: [...], stats: {...}}

`stats` is a stream's `StreamStats` in full: counts, status codes, error kinds,
the HDR histogram's non-empty buckets with its exact count, sum, sum of squares,
min and max, the per-second send counts, and the send times on the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from iter8_action.core.errors import InvalidValue
from iter8_action.load.grpc.plan import GrpcStream
from iter8_action.load.http.histogram import BUCKET_COUNT, LatencyHistogram
from iter8_action.load.http.plan import CommonStart, Stream
from iter8_action.load.http.stats import PoolStats, StreamStats
from iter8_action.shards import divide
from iter8_action.shards.spec import ShardSpec, format_instant, unix_ns

NS_PER_S = 1_000_000_000
MAX_SERIES_S = 7 * 24 * 3600
"""A per-second series (shifted onto the common clock) longer than a week is refused:
a shard's file is data, and its numbers must not size our memory."""


@dataclass
class ShardRun:
    """This process's shard, handed to the tasks on their context."""

    spec: ShardSpec
    experiment_hash: str
    start_at: datetime | None = None
    loads: dict[str, dict[str, Any]] = field(default_factory=dict)
    _started: bool = False

    def header(self) -> dict[str, Any]:
        return {
            "index": self.spec.index,
            "total": self.spec.total,
            "experimentHash": self.experiment_hash,
            "startAt": format_instant(self.start_at) if self.start_at else None,
            "loads": self.loads,
        }

    def http(self, stream: Stream) -> Stream:
        return divide.http_stream(stream, self.spec)

    def grpc(self, stream: GrpcStream) -> GrpcStream:
        return divide.grpc_stream(stream, self.spec)

    def start(self) -> CommonStart:
        """The start of a load task: the common instant for the first, at once after."""
        first = not self._started
        self._started = True
        at = unix_ns(self.start_at) if first and self.start_at is not None else 0
        return CommonStart(at)

    def keep(
        self,
        *,
        task_index: int,
        task: str,
        versions: Sequence[str],
        start: CommonStart,
        streams: Sequence[tuple[str, int, float | None, Sequence[float], StreamStats]],
    ) -> dict[str, Any]:
        """Record a load task's streams (prefix, version, rate, percentiles, stats)."""
        offset_now = time.time_ns() - time.perf_counter_ns()
        used = start.used_unix_ns
        load: dict[str, Any] = {
            "task": task,
            "versions": list(versions),
            "startedAt": _iso(used) if used is not None else None,
            "startDelaySeconds": (
                round((used - start.at_unix_ns) / NS_PER_S, 6)
                if used is not None and start.at_unix_ns
                else None
            ),
            # how far the wall clock moved against the steady clock during the load:
            # a clock stepped or slewed by NTP misplaces this shard's time series
            "clockSkewSeconds": round((offset_now - start.offset_ns) / NS_PER_S, 6)
            if used is not None
            else None,
            "streams": [
                {
                    "prefix": prefix,
                    "version": version,
                    "rate": rate,
                    "percentiles": list(percentiles),
                    "stats": stats_to_dict(stats, start.offset_ns),
                }
                for prefix, version, rate, percentiles, stats in streams
            ],
        }
        self.loads[str(task_index)] = load
        return load


def _iso(ns: int) -> str:
    return format_instant(datetime.fromtimestamp(ns / NS_PER_S).astimezone())


def stats_to_dict(stats: StreamStats, offset_ns: int) -> dict[str, Any]:
    """`stats` in full; send times moved from the steady clock to the wall clock."""
    hist = stats.histogram
    indexes = [i for i, c in enumerate(hist.counts) if c]
    return {
        "requests": stats.requests,
        "errors": stats.errors,
        "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
        "errorKinds": dict(sorted(stats.error_kinds.items())),
        "firstSendUnixNs": None if stats.first_send_ns is None else stats.first_send_ns + offset_ns,
        "lastSendUnixNs": None if stats.last_send_ns is None else stats.last_send_ns + offset_ns,
        "perSecond": stats.per_second.tolist(),
        "pool": {
            "waited": stats.pool.waited,
            "busyNs": stats.pool.busy_ns,
            "busyCount": stats.pool.busy_count,
            "peak": stats.pool.peak,
            "cap": stats.pool.cap,
        },
        "histogram": {
            "total": hist.total,
            "sumNs": hist.sum_ns,
            "sumSquaresNs": hist.sum_squares_ns,
            "minNs": hist.min_ns,
            "maxNs": hist.max_ns,
            "buckets": indexes,
            "counts": [hist.counts[i] for i in indexes],
        },
    }


class PartialInvalid(InvalidValue):
    """A shard's stats are not in the shape `stats_to_dict` writes."""


def stats_from_dict(data: Mapping[str, Any], *, shift_s: int = 0) -> StreamStats:
    """The stats back; `shift_s` moves the per-second series later by whole seconds
    (to align it with the earliest shard's start). Send times stay on the wall clock."""
    try:
        hist_data = data["histogram"]
        hist = LatencyHistogram()
        for index, count in zip(hist_data["buckets"], hist_data["counts"], strict=True):
            if not 0 <= int(index) < BUCKET_COUNT or int(count) < 0:
                raise PartialInvalid(f"histogram bucket {index} with count {count}")
            hist.counts[int(index)] = int(count)
        hist.restore(
            total=int(hist_data["total"]),
            sum_ns=int(hist_data["sumNs"]),
            sum_squares_ns=int(hist_data["sumSquaresNs"]),
            min_ns=int(hist_data["minNs"]),
            max_ns=int(hist_data["maxNs"]),
        )
        if sum(hist.counts) != hist.total:
            raise PartialInvalid("the histogram's counts do not add up to its total")
        pool = data["pool"]
        stats = StreamStats(
            histogram=hist,
            requests=int(data["requests"]),
            errors=int(data["errors"]),
            statuses={int(k): int(v) for k, v in (data["statuses"] or {}).items()},
            error_kinds={str(k): int(v) for k, v in (data["errorKinds"] or {}).items()},
            first_send_ns=_int_or_none(data["firstSendUnixNs"]),
            last_send_ns=_int_or_none(data["lastSendUnixNs"]),
            pool=PoolStats(
                waited=int(pool["waited"]),
                busy_ns=int(pool["busyNs"]),
                busy_count=int(pool["busyCount"]),
                peak=int(pool["peak"]),
                cap=int(pool["cap"]),
            ),
        )
        series = [int(c) for c in data["perSecond"] or []]
        if len(series) + shift_s > MAX_SERIES_S or shift_s < 0 or min(series, default=0) < 0:
            raise PartialInvalid(
                f"a per-second series of {len(series)} s starting {shift_s} s after the "
                "earliest shard (at most a week, counts not negative)"
            )
        if min(stats.requests, stats.errors, hist.total) < 0:
            raise PartialInvalid("a negative count")
        for second, count in enumerate(series):
            if count:
                stats.count_sent_at(second + shift_s, count)
    except (KeyError, TypeError, ValueError) as exc:
        raise PartialInvalid(f"{type(exc).__name__}: {exc}") from exc
    return stats


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
