"""What one stream of gRPC calls sends, and how fast."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tls:
    """TLS for a channel; None in a stream means plaintext (ghz's `insecure`)."""

    root_certificates: bytes | None
    """PEM CA certificates; None uses the system's trust store."""
    server_name: str | None
    """Name to verify the certificate against instead of the host (ghz's `cname`)."""


@dataclass(frozen=True)
class GrpcStream:
    """One version, or one endpoint of one version: a method on a host, with its load model.

    Exactly one of `total` and `duration_s` is set. `rps` None is a closed loop
    (`concurrency` calls in flight, each followed at once by the next); a number is
    an open loop: call i is due at `start + i / rps`, and its latency is measured
    from that due time, so a stalled server shows in the latencies of the calls it
    held up (no coordinated omission).
    """

    host: str
    path: str
    request: bytes
    metadata: tuple[tuple[str, str | bytes], ...]
    total: int | None
    duration_s: float | None
    rps: float | None
    concurrency: int
    connections: int
    timeout_s: float
    skip_first: int
    tls: Tls | None
    phase_s: float = 0.0
    """Open loop: how far into each interval this stream's calls fall (versions interleave)."""
    connect_timeout_s: float | None = None
    """ghz's `connect-timeout`: how long the channels may take to connect before the clock
    starts; None waits at most min(timeout, 1s)."""
    channel_options: tuple[tuple[str, int | str], ...] = ()
    """gRPC channel arguments from ghz's fields (`keepalive`, message size limits)."""
    max_duration_s: float | None = None
    """ghz's `max-duration`: no call is sent (or due) this long after the start."""
    count_errors: bool = True
    """ghz's `count-errors`: calls that end in an error count in the latency statistics."""

    @property
    def rate(self) -> float | None:
        """The rate asked for (open loop), None in a closed loop."""
        return self.rps
