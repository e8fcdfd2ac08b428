#!/usr/bin/env python3
"""Benchmark of the grpc task's load generator (unary calls, one process).

Usage (from the repository root, with the project's Python):

    python -m bench.grpcload [--quick] [--seconds S]

It installs nothing. It starts the tests' gRPC server (tests/support/servers/grpc_target.py,
a thread-pool server) in a process of its own on a free loopback port, then runs
the grpc task against it and prints:

1. closed-loop calls/s at concurrency 1, 10 and 50 (one channel), and at
   concurrency 50 over 4 channels, with p50 and p99 latency;
2. open-loop accuracy: achieved / requested rate at 200, 500 and 1000 rps.

ghz is not packaged for Debian and the machine reaches no other registry, so
there is no side-by-side figure: ghz (Go) is known to reach tens of thousands of
calls/s where grpc's Python client reaches a few thousand. `--quick`: runs of
0.5 s (a smoke run). Figures on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event

from iter8_action.tasks.base import TaskContext
from iter8_action.tasks.grpc import TASK
from tests.support.contexts import task_context
from tests.support.paths import ROOT
from tests.support.servers.grpc_target import CALL, PROTO, GrpcTarget

QUICK_S = 0.5


def _serve(ready: Queue[str], stop: Event) -> None:
    with GrpcTarget() as server:
        ready.put(server.host)
        stop.wait()


def _context() -> TaskContext:
    return task_context("grpc", ROOT, logger="bench.grpc")


def _load(host: str, **fields: str | int) -> tuple[float, dict[str, float | None]]:
    ctx = _context()
    started = time.monotonic()
    TASK.execute({"host": host, "call": CALL, "proto": str(PROTO), **fields}, ctx)
    elapsed = time.monotonic() - started
    store = ctx.store
    names = ("request-count", "error-count", "rps-achieved", "latency/p50", "latency/p99")
    return elapsed, {n: store.value(f"grpc/{n}", 0) for n in names}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"runs of {QUICK_S:g} s (a smoke run)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each run")
    args = parser.parse_args()
    duration = f"{QUICK_S if args.quick else args.seconds}s"
    ready: Queue[str] = multiprocessing.Queue()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=_serve, args=(ready, stop), daemon=True)
    server.start()
    host = ready.get(timeout=30)
    try:
        print(f"closed loop, {duration} each (server in its own process)")
        print(f"{'concurrency':>11} {'channels':>8} {'calls/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
        for concurrency, connections in ((1, 1), (10, 1), (50, 1), (50, 4)):
            _, m = _load(host, duration=duration, concurrency=concurrency, connections=connections)
            print(
                f"{concurrency:>11} {connections:>8} {m['rps-achieved'] or 0:>9.0f} "
                f"{m['latency/p50'] or 0:>8.2f} {m['latency/p99'] or 0:>8.2f}"
            )
        print(f"\nopen loop, {duration} each")
        print(f"{'requested':>9} {'achieved':>9} {'ratio':>6} {'p99 ms':>8} {'errors':>6}")
        for rps in (200, 500, 1000):
            _, m = _load(host, duration=duration, rps=rps, concurrency=100)
            achieved = m["rps-achieved"] or 0.0
            print(
                f"{rps:>9} {achieved:>9.0f} {achieved / rps:>6.3f} "
                f"{m['latency/p99'] or 0:>8.2f} {m['error-count'] or 0:>6.0f}"
            )
    finally:
        stop.set()
        server.join(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
