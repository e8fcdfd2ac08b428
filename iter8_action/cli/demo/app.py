"""The demo's sample app: versions of a service on 127.0.0.1, each with its latency and error rate.

Each version is a small threaded HTTP server answering `GET /` (and any path)
with a JSON body naming the version. Latency is drawn from a log-normal
distribution around the version's median; a fraction of answers are 500s.
Seeded, so two runs of the demo see the same sequence of draws.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from typing import Any


@dataclass(frozen=True)
class VersionBehaviour:
    name: str
    median_latency_ms: float
    error_rate: float
    """Fraction of requests answered with 500."""
    latency_spread: float = 0.25
    """Sigma of the log-normal latency (0.25: p95 about 1.5x the median)."""
    seed: int | None = None
    """Seed of this version's draws; by default the app's seed plus the version's index."""


DEMO_VERSIONS = (
    VersionBehaviour("v1", median_latency_ms=6.0, error_rate=0.0),
    VersionBehaviour("v2", median_latency_ms=12.0, error_rate=0.01),
)
"""v1 is in production; v2, the candidate, answers twice as slowly and fails 1% of requests."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def _handler(behaviour: VersionBehaviour, seed: int) -> type[BaseHTTPRequestHandler]:
    rng = random.Random(seed)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body leave in two writes; with Nagle's algorithm and the
        # peer's delayed ACK, each keep-alive answer would wait some 40 ms
        disable_nagle_algorithm = True

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


START_TIMEOUT_S = 30.0


@contextmanager
def sample_app(
    versions: tuple[VersionBehaviour, ...] = DEMO_VERSIONS, *, seed: int = 8
) -> Iterator[dict[str, str]]:
    """Start every version on a free loopback port; yields name -> base URL; stops them after.

    The app runs in a process of its own: in the load generator's process its
    threads would compete for the GIL and the load generator would measure that.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_serve, args=(versions, seed, sender), name="iter8-sample-app", daemon=True
    )
    process.start()
    try:
        if not receiver.poll(START_TIMEOUT_S):
            raise RuntimeError("the sample app did not start")
        urls: dict[str, str] = receiver.recv()
        yield urls
    finally:
        process.terminate()
        process.join(timeout=5)


def _serve(versions: tuple[VersionBehaviour, ...], seed: int, sender: Connection) -> None:
    servers = []
    for i, behaviour in enumerate(versions):
        own_seed = behaviour.seed if behaviour.seed is not None else seed + i
        server = _Server(("127.0.0.1", 0), _handler(behaviour, own_seed))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append((behaviour.name, server))
    sender.send({name: f"http://127.0.0.1:{s.server_address[1]}/" for name, s in servers})
    threading.Event().wait()  # serve until terminated
