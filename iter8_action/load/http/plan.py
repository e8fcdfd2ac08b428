"""What to send: streams of requests, and how they are shared among worker processes.

A `Stream` is one version (or one endpoint of a version): a prebuilt request,
a target, a load model. Open loop (`qps` set) sends request *i* at
`start + phase + i / qps`, whichever process sends it; closed loop (`qps`
None) keeps every connection busy. Several streams run at once, their open-loop
schedules offset by a fraction of a period so that versions interleave in time.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, replace
from time import perf_counter_ns

from iter8_action import __version__

USER_AGENT = f"iter8-py/{__version__}"
OPEN_LOOP_QPS_PER_PROCESS = 1500.0
"""Above this total rate an open-loop run spreads over the cores."""
CLOSED_LOOP_REQUESTS_PER_PROCESS = 2000
"""A closed-loop count below this is over before more processes would have started."""


@dataclass(frozen=True)
class TlsOptions:
    insecure_skip_verify: bool = False
    ca_file: str | None = None


@dataclass(frozen=True)
class Stream:
    """One stream of identical requests, with its load model."""

    host: str
    port: int
    request: bytes
    connections: int
    timeout_s: float
    tls: TlsOptions | None = None
    head: bool = False
    qps: float | None = None
    """Requests per second (open loop), or None for closed loop."""
    num_requests: int | None = None
    duration_s: float | None = None
    """Used when `num_requests` is None."""
    phase_s: float = 0.0
    max_connections: int | None = None
    """Open loop: the pool grows from `connections` up to this many when a request is due
    and every connection is busy (None: it does not grow)."""
    error_ranges: tuple[tuple[int | None, int | None], ...] = ((400, None),)
    allow_initial_errors: bool = False

    @property
    def rate(self) -> float | None:
        """The rate asked for (open loop), None in a closed loop."""
        return self.qps

    def is_error_status(self, status: int) -> bool:
        return any(
            (low is None or status >= low) and (high is None or status <= high)
            for low, high in self.error_ranges
        )

    def pool_cap(self) -> int:
        """The most connections this stream may hold open at once."""
        if self.qps is None or self.max_connections is None:
            return self.connections
        return max(self.connections, self.max_connections)

    def scheduled_count(self) -> int:
        """Open loop: how many requests the schedule holds."""
        if self.num_requests is not None:
            return self.num_requests
        assert self.qps is not None and self.duration_s is not None
        return max(1, math.ceil(self.duration_s * self.qps - 1e-9))


@dataclass(frozen=True)
class Share:
    """A worker's part of a stream: some connections and some of the requests."""

    stream: Stream
    connections: int
    num_requests: int | None
    """Closed loop with a count: how many this worker sends."""
    first: int = 0
    step: int = 1
    """Open loop: this worker sends schedule slots first, first+step, ..."""
    max_connections: int = 0
    """Open loop: how far this worker's pool may grow (at least `connections`)."""


def build_request(
    *,
    method: str,
    host_header: str,
    target: str,
    headers: dict[str, str],
    body: bytes | None,
    content_type: str | None,
) -> bytes:
    """The exact bytes of one HTTP/1.1 request (keep-alive is HTTP/1.1's default)."""
    fields: dict[str, tuple[str, str]] = {}
    for name, value in (("Host", host_header), ("User-Agent", USER_AGENT), ("Accept", "*/*")):
        fields[name.lower()] = (name, value)
    if content_type:
        fields["content-type"] = ("Content-Type", content_type)
    for name, value in headers.items():
        fields[name.lower()] = (name, value)
    if body is not None or method in ("POST", "PUT", "PATCH"):
        fields["content-length"] = ("Content-Length", str(len(body or b"")))
    head = f"{method} {target} HTTP/1.1\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in fields.values())
    return (head + "\r\n").encode("latin-1") + (body or b"")


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def process_count(streams: list[Stream], *, cores: int) -> int:
    """One process at low rates; one per core (at most one per connection) when
    the load is closed loop or its total rate is high."""
    connections = min(s.pool_cap() for s in streams)
    fast = (
        any(
            s.qps is None
            and (s.num_requests is None or s.num_requests >= CLOSED_LOOP_REQUESTS_PER_PROCESS)
            for s in streams
        )
        or sum(s.qps or 0.0 for s in streams) > OPEN_LOOP_QPS_PER_PROCESS
    )
    return max(1, min(cores, connections)) if fast else 1


def split(streams: list[Stream], workers: int) -> list[list[Share]]:
    """Each worker's shares: connections and requests divided as evenly as they go."""
    shares: list[list[Share]] = [[] for _ in range(workers)]
    for stream in streams:
        for w in range(workers):
            connections = _part(stream.connections, workers, w)
            if stream.qps is None:
                count = None
                if stream.num_requests is not None:
                    count = _part(stream.num_requests, workers, w)
                shares[w].append(Share(stream, connections, count))
            else:
                cap = max(connections, _part(stream.pool_cap(), workers, w))
                shares[w].append(
                    Share(stream, connections, None, first=w, step=workers, max_connections=cap)
                )
    return shares


def _part(total: int, parts: int, index: int) -> int:
    return total // parts + (1 if index < total % parts else 0)


def with_phases(streams: list[Stream]) -> list[Stream]:
    """Offset open-loop streams by a fraction of a period, so that versions alternate
    (on top of a shard's own offset, `phase_s`)."""
    n = len(streams)
    return [
        replace(s, phase_s=s.phase_s + (i / n) / s.qps) if s.qps else s
        for i, s in enumerate(streams)
    ]


@dataclass
class CommonStart:
    """A start instant on the wall clock, shared by load generators on several machines
    (the shards of `iter8 run --shard`), so that their open-loop schedules line up."""

    at_unix_ns: int
    used_unix_ns: int | None = None
    """The instant the schedule started, by this machine's wall clock (set by `resolve`)."""
    offset_ns: int = 0
    """Wall clock minus `perf_counter_ns` when the start was resolved."""

    def resolve(self, earliest_ns: int) -> int:
        """The `perf_counter_ns` to start at: the instant, or `earliest_ns` when later."""
        self.offset_ns = time.time_ns() - perf_counter_ns()
        start = max(self.at_unix_ns - self.offset_ns, earliest_ns)
        self.used_unix_ns = start + self.offset_ns
        return start
