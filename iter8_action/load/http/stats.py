"""What one stream of requests produced: counts, status codes, error kinds, latencies.

Plain data with exact merging, so the shares of several worker processes (and
of several runs) add up to the same numbers one process would have recorded.
Statistics never import the client: the client writes here, the task reads.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from iter8_action.load.http.histogram import LatencyHistogram

ERROR_KINDS = {
    "status": "the response's status code is in errorRanges",
    "refused": "the connection was refused (nothing listens on the port)",
    "reset": "the connection was reset or closed before a complete response",
    "timeout": "no complete response within the request timeout",
    "tls": "the TLS handshake failed (certificate, protocol)",
    "dns": "the host name did not resolve",
    "connect": "the connection failed for another reason (network unreachable, ...)",
    "protocol": "the response was not valid HTTP/1.1",
}
"""Every kind of error, with the meaning docs/tasks/http.md documents."""


@dataclass
class PoolStats:
    """How the client's own limit (connections, or gRPC call slots) held up the load."""

    waited: int = 0
    """Requests that were due while every connection was busy and the pool was full."""
    busy_ns: int = 0
    busy_count: int = 0
    """Time connections spent on requests, from send to outcome, over `busy_count` requests."""
    peak: int = 0
    """The largest pool held open (summed over worker processes)."""
    cap: int = 0
    """The most the pool could hold (summed over worker processes)."""

    def merge(self, other: PoolStats) -> None:
        self.waited += other.waited
        self.busy_ns += other.busy_ns
        self.busy_count += other.busy_count
        self.peak += other.peak
        self.cap += other.cap

    def busy_s(self) -> float | None:
        """The mean time one request held a connection (or slot), in seconds."""
        return self.busy_ns / self.busy_count / 1e9 if self.busy_count else None


@dataclass
class StreamStats:
    """Counts and latencies of one stream of requests (a version, or an endpoint of one)."""

    histogram: LatencyHistogram = field(default_factory=LatencyHistogram)
    requests: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    error_kinds: dict[str, int] = field(default_factory=dict)
    first_send_ns: int | None = None
    last_send_ns: int | None = None
    per_second: array[int] = field(default_factory=lambda: array("q"))
    """`per_second[i]`: the recorded requests sent in second `i` after the start of the
    load. One counter per second, however many requests: an hour is 3600 counters."""
    pool: PoolStats = field(default_factory=lambda: PoolStats())

    def count_sent_at(self, second: int, count: int = 1) -> None:
        """Count `count` recorded requests sent `second` whole seconds after the start.

        Called with the outcome (when `requests` grows), not at the send, so that the
        counts add up to `requests` and follow the request into `counted` or `initial`.
        """
        per_second = self.per_second
        if second >= len(per_second):
            per_second.frombytes(bytes(per_second.itemsize * (second + 1 - len(per_second))))
        per_second[second] += count

    def merge(self, other: StreamStats) -> None:
        """Add `other`'s requests to these, exactly."""
        self.histogram.merge(other.histogram)
        self.pool.merge(other.pool)
        for second, count in enumerate(other.per_second):
            if count:
                self.count_sent_at(second, count)
        self.requests += other.requests
        self.errors += other.errors
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count
        for kind, count in other.error_kinds.items():
            self.error_kinds[kind] = self.error_kinds.get(kind, 0) + count
        if other.first_send_ns is not None:
            self.first_send_ns = (
                other.first_send_ns
                if self.first_send_ns is None
                else min(self.first_send_ns, other.first_send_ns)
            )
        if other.last_send_ns is not None:
            self.last_send_ns = (
                other.last_send_ns
                if self.last_send_ns is None
                else max(self.last_send_ns, other.last_send_ns)
            )

    def achieved_qps(self) -> float | None:
        """Requests per second sent: n requests span n - 1 intervals from the first send
        to the last (so 3 requests at 8 qps give 8, not 12)."""
        if self.first_send_ns is None or self.last_send_ns is None or self.requests < 2:
            return None
        elapsed_ns = self.last_send_ns - self.first_send_ns
        if elapsed_ns <= 0:
            return None
        return (self.requests - 1) * 1e9 / elapsed_ns

    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None


@dataclass
class StreamOutcome:
    """A stream's share from one worker: its counted requests, and the errors it
    held back while waiting for a first success (`allowInitialErrors`)."""

    counted: StreamStats = field(default_factory=StreamStats)
    initial: StreamStats = field(default_factory=StreamStats)
    succeeded: bool = False
    sent: int = 0


def combine(outcomes: list[StreamOutcome]) -> tuple[StreamStats, int]:
    """Merge the shares of one stream; returns its stats and how many initial
    errors were left out. Errors are left out only when a success followed: a
    target that never answered well is reported with every error it gave."""
    total = StreamStats()
    initial = StreamStats()
    succeeded = False
    for outcome in outcomes:
        total.merge(outcome.counted)
        initial.merge(outcome.initial)
        succeeded = succeeded or outcome.succeeded
    if succeeded:
        return total, initial.requests
    total.merge(initial)
    return total, 0
