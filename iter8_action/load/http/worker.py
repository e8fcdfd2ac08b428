"""One worker: an event loop that runs its shares of the streams to the end.

It runs inside the calling process at low rates, or as `python -m
iter8_action.load.http.worker` (one per core) when the load is heavy. A worker
process reads pickled messages on stdin (its shares, then `go` with the common
start time, maybe `stop`) and writes pickled messages (`ready`, `progress`,
`result`) on a pipe of their own, `--messages-fd`. `perf_counter_ns` is
CLOCK_MONOTONIC on Linux, one clock for every process, so all workers follow the
same schedule.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import socket
import sys
import threading
import traceback
from collections.abc import Callable
from time import perf_counter_ns
from typing import Any, BinaryIO

from iter8_action.load.http.client import StreamDriver
from iter8_action.load.http.plan import Share
from iter8_action.load.http.stats import StreamOutcome

FILES_MARGIN = 64
"""Descriptors kept for everything but the pool: the event loop, pipes, logs, imports."""
HOUSEKEEPING_S = 0.05
PROGRESS_S = 0.5
GRACE_S = 1.0
"""How long past `duration + timeout` a run may last before it is cut (never reached
unless the event loop itself was starved)."""

ProgressCallback = Callable[[list[StreamOutcome]], None]


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; kept for odd platforms
        return asyncio.new_event_loop
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run_shares(
    shares: list[Share],
    *,
    wait_start: Callable[[], int | None],
    stop: threading.Event,
    on_progress: ProgressCallback | None = None,
    on_ready: Callable[[], None] | None = None,
) -> list[StreamOutcome]:
    """Run the shares; `wait_start` blocks until the common start time (None: do not start)."""
    raise_open_files_limit(
        sum(max(s.connections, s.max_connections) for s in shares) + FILES_MARGIN
    )
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        return runner.run(_run(shares, wait_start, stop, on_progress, on_ready))


def raise_open_files_limit(wanted: int) -> int:
    """Raise this process's soft limit on open files towards `wanted` (at most the hard
    limit), as Go's runtime does at start: a pool of hundreds of connections would
    otherwise fail with EMFILE under a shell's default of 1024 (256 on macOS).
    Returns the soft limit in force."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return int(soft)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (OSError, ValueError):
        return int(soft)
    return int(target)


async def _run(
    shares: list[Share],
    wait_start: Callable[[], int | None],
    stop: threading.Event,
    on_progress: ProgressCallback | None,
    on_ready: Callable[[], None] | None,
) -> list[StreamOutcome]:
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()
    drivers: list[StreamDriver] = []

    def on_idle() -> None:
        if not finished.done() and all(d.done for d in drivers):
            finished.set_result(None)

    for share in shares:
        address, resolve_error = await _resolve(loop, share.stream.host, share.stream.port)
        drivers.append(
            StreamDriver(share, loop, address=address, resolve_error=resolve_error, on_idle=on_idle)
        )
    await asyncio.gather(*(d.preconnect() for d in drivers))
    if on_ready is not None:
        on_ready()
    start_ns = await loop.run_in_executor(None, wait_start)
    if start_ns is None or stop.is_set():
        return [d.outcome for d in drivers]
    delay_ns = start_ns - perf_counter_ns()
    if delay_ns > 0:
        await asyncio.sleep(delay_ns / 1e9)
    for driver in drivers:
        driver.start(start_ns)
    deadline_ns = start_ns + int(max(_longest_s(d) for d in drivers) * 1e9)
    housekeeping = asyncio.ensure_future(
        _housekeep(drivers, finished, stop, on_progress, deadline_ns)
    )
    on_idle()
    try:
        await finished
    finally:
        housekeeping.cancel()
        for driver in drivers:
            for conn in driver.connections:
                conn.close()
    if on_progress is not None:
        on_progress([d.outcome for d in drivers])
    return [d.outcome for d in drivers]


async def _housekeep(
    drivers: list[StreamDriver],
    finished: asyncio.Future[None],
    stop: threading.Event,
    on_progress: ProgressCallback | None,
    deadline_ns: int,
) -> None:
    """Expire timed-out requests, report progress, honour a stop, and cut a run that
    outlives its deadline (so it never hangs past duration plus the request timeout;
    what it cuts is recorded as timed out, not dropped)."""
    last_progress = perf_counter_ns()
    while not finished.done():
        await asyncio.sleep(HOUSEKEEPING_S)
        now = perf_counter_ns()
        if stop.is_set():
            for driver in drivers:
                driver.stop()
        elif now > deadline_ns:
            for driver in drivers:
                driver.cut(now)
        for driver in drivers:
            driver.expire(now)
        if on_progress is not None and now - last_progress >= PROGRESS_S * 1e9:
            last_progress = now
            on_progress([d.outcome for d in drivers])
        if not finished.done() and all(d.done for d in drivers):
            finished.set_result(None)


def _longest_s(driver: StreamDriver) -> float:
    """How long a stream may take at most: its schedule or duration, plus a timeout."""
    stream = driver.stream
    if stream.qps is not None:
        length = stream.phase_s + stream.scheduled_count() / stream.qps
    elif stream.num_requests is None:
        length = stream.duration_s or 0.0
    else:
        # Closed loop with a count has no schedule: each request may take a timeout.
        length = stream.timeout_s * (stream.num_requests / max(1, stream.connections) + 1)
    return length + stream.timeout_s + GRACE_S


async def _resolve(
    loop: asyncio.AbstractEventLoop, host: str, port: int
) -> tuple[tuple[str, int] | None, str | None]:
    """Resolve once, before the clock starts; a failure makes every request a `dns` error."""
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return None, "dns"
    sockaddr = infos[0][4]
    return (str(sockaddr[0]), int(sockaddr[1])), None


# -- as a process ---------------------------------------------------------------------


def _send(out: BinaryIO, lock: threading.Lock, message: tuple[Any, ...]) -> None:
    with lock:
        pickle.dump(message, out)
        out.flush()


def main(out: BinaryIO | None = None) -> int:
    """Run the shares read from stdin; report on `out`, the pipe named by `--messages-fd`.

    Messages have a pipe of their own, not stdout: whatever else writes to stdout (a
    `sitecustomize`, a library's print) must not garble them.
    """
    inp = sys.stdin.buffer
    if out is None:
        out = os.fdopen(_messages_fd(sys.argv[1:]), "wb")
    lock = threading.Lock()
    shares: list[Share] = pickle.load(inp)
    stop = threading.Event()
    start: list[int | None] = []
    started = threading.Event()

    def listen() -> None:
        try:
            while True:
                message = pickle.load(inp)
                if message[0] == "go":
                    start.append(int(message[1]))
                    started.set()
                elif message[0] == "stop":
                    stop.set()
                    started.set()
        except EOFError:  # the parent is gone: stop at once
            stop.set()
            started.set()

    threading.Thread(target=listen, daemon=True).start()

    def wait_start() -> int | None:
        started.wait()
        return start[0] if start else None

    outcomes = run_shares(
        shares,
        wait_start=wait_start,
        stop=stop,
        on_progress=lambda o: _send(
            out, lock, ("progress", [(x.sent, x.counted.errors) for x in o])
        ),
        on_ready=lambda: _send(out, lock, ("ready",)),
    )
    _send(out, lock, ("result", outcomes))
    return 0


def _messages_fd(args: list[str]) -> int:
    if len(args) != 2 or args[0] != "--messages-fd" or not args[1].isdigit():
        raise SystemExit("usage: python -m iter8_action.load.http.worker --messages-fd FD")
    return int(args[1])


def _exit_main() -> None:  # pragma: no cover - runs as its own process
    try:
        code = main()
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # The listener thread sits in a read of stdin: a normal exit would wait at shutdown
    # to take stdin's buffer lock from it (and abort). Everything is written and flushed.
    os._exit(code)


if __name__ == "__main__":
    _exit_main()
