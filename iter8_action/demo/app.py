"""The demo's sample app: versions of a service on 127.0.0.1, each with its latency and error rate.

Each version is a small threaded HTTP server answering `GET /` (and any path)
with a JSON body naming the version. Latency is drawn from a log-normal
distribution around the version's median; a fraction of answers are 500s.
Seeded, so two runs of the demo see the same sequence of draws.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class VersionBehaviour:
    name: str
    median_latency_ms: float
    error_rate: float
    """Fraction of requests answered with 500."""
    latency_spread: float = 0.25
    """Sigma of the log-normal latency (0.25: p95 about 1.5x the median)."""


DEMO_VERSIONS = (
    VersionBehaviour("v1", median_latency_ms=12.0, error_rate=0.01),
    VersionBehaviour("v2", median_latency_ms=6.0, error_rate=0.0),
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def _handler(behaviour: VersionBehaviour, seed: int) -> type[BaseHTTPRequestHandler]:
    rng = random.Random(seed)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            with lock:
                delay_s = rng.lognormvariate(0.0, behaviour.latency_spread)
                delay_s *= behaviour.median_latency_ms / 1000
                failed = rng.random() < behaviour.error_rate
            time.sleep(delay_s)
            status = 500 if failed else 200
            body = json.dumps({"version": behaviour.name, "ok": not failed}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def sample_app(
    versions: tuple[VersionBehaviour, ...] = DEMO_VERSIONS, *, seed: int = 8
) -> Iterator[dict[str, str]]:
    """Start every version on a free loopback port; yields name -> base URL; stops them after."""
    servers = []
    try:
        for i, behaviour in enumerate(versions):
            server = _Server(("127.0.0.1", 0), _handler(behaviour, seed + i))
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append((behaviour.name, server))
        yield {name: f"http://127.0.0.1:{s.server_address[1]}/" for name, s in servers}
    finally:
        for _, server in servers:
            server.shutdown()
            server.server_close()
