"""What one stream of gRPC calls sends, and how fast."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_MESSAGE_BYTES = 2**31 - 1
"""gRPC's message size limits are 32-bit signed integers."""
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(i?)b?|b)?\s*", re.IGNORECASE)
_POWERS = {"k": 1, "m": 2, "g": 3, "t": 4}


def message_size(value: str | int) -> int:
    """Bytes in `10485760`, `"10MB"` (10^7) or `"10MiB"` (10 x 2^20), as ghz's
    `max-recv-message-size` reads them (go-humanize's ParseBytes); ValueError if
    it is not a size from 1 byte to `MAX_MESSAGE_BYTES`."""
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.fullmatch(value)
        if match is None:
            raise ValueError(f"{value!r} is not a size; write it like 4194304, 4MB or 4MiB")
        number, unit, binary = match.groups()
        base = 1024 if binary else 1000
        size = int(float(number) * base ** _POWERS[unit.lower()]) if unit else int(float(number))
    if not 1 <= size <= MAX_MESSAGE_BYTES:
        raise ValueError(f"{value!r} is not a size from 1 byte to {MAX_MESSAGE_BYTES} bytes")
    return size


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
