"""Run streams of unary gRPC calls on one asyncio event loop with grpc.aio.

Calls are generic (`channel.unary_unary(path)` with no serializers): the request
is the same pre-serialized bytes each time and the answer is not decoded, so the
cost per call is gRPC's own. Every stream starts at the same instant, so versions
and endpoints are loaded together and interleaved in time.

A stop request is polled every `STOP_POLL_S`: the calls in flight are cancelled
and the run returns what it recorded. Every call carries a deadline (`timeout`),
so a run never outlasts its duration (or its last call) by more than the timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter_ns

import grpc
import grpc.aio

from iter8_action.load.grpc.plan import GrpcStream
from iter8_action.load.http import export
from iter8_action.load.http.plan import CommonStart
from iter8_action.load.http.stats import StreamStats
from iter8_action.load.progress import LoadProgress

NS_PER_S = 1_000_000_000
STOP_POLL_S = 0.05
PROGRESS_INTERVAL_S = 1.0
START_MARGIN_S = 0.005
"""The clock starts this long after the channels are connected (every stream at once)."""
PRECONNECT_CAP_S = 1.0

_STATUS_NAMES: dict[int, str] = {code.value[0]: code.name for code in grpc.StatusCode}


def status_name(code: int) -> str:
    """`UNAVAILABLE` for 14; a code gRPC does not define keeps its number."""
    return _STATUS_NAMES.get(code, str(code))


NAMING = export.Naming(
    "/",
    status_name,
    "answers by gRPC status",
    "rps-achieved",
    rate_unit="rps",
    requests="calls",
    holder="call slot",
    limit_field="concurrency",
)
"""How the grpc task's metrics are spelled (Iter8's `grpc/latency/p95`)."""


@dataclass
class StreamOutcome:
    """What a stream recorded, and one example of each error status (for the log)."""

    stats: StreamStats
    details: dict[str, str] = field(default_factory=dict)
    skipped: int = 0


def run_streams(
    streams: list[GrpcStream],
    *,
    stop: threading.Event,
    on_progress: Callable[[LoadProgress], None] | None = None,
    start: CommonStart | None = None,
) -> list[StreamOutcome]:
    """Run every stream to its end (or until `stop` is set); one outcome per stream;
    `start` is an instant shared with other machines (otherwise: once connected)."""
    return asyncio.run(_run_all(streams, stop, on_progress, start))


async def _run_all(
    streams: list[GrpcStream],
    stop: threading.Event,
    on_progress: Callable[[LoadProgress], None] | None,
    start: CommonStart | None = None,
) -> list[StreamOutcome]:
    runs = [_StreamRun(s) for s in streams]

    async def connect_then_load() -> None:
        await asyncio.gather(*(r.preconnect() for r in runs))
        start_ns = perf_counter_ns() + int(START_MARGIN_S * NS_PER_S)
        if start is not None:
            start_ns = start.resolve(start_ns)
        await asyncio.gather(*(r.run(start_ns) for r in runs))

    main = asyncio.create_task(connect_then_load())
    watcher = asyncio.create_task(_watch(main, runs, stop, on_progress))
    try:
        await main
    except asyncio.CancelledError:
        if not stop.is_set():
            raise
    finally:
        watcher.cancel()
        main.cancel()
        await asyncio.gather(main, return_exceptions=True)
        await asyncio.gather(*(r.close() for r in runs))
    return [r.outcome for r in runs]


async def _watch(
    main: asyncio.Task[None],
    runs: list[_StreamRun],
    stop: threading.Event,
    on_progress: Callable[[LoadProgress], None] | None,
) -> None:
    polls_per_progress = max(1, round(PROGRESS_INTERVAL_S / STOP_POLL_S))
    poll = 0
    while True:
        await asyncio.sleep(STOP_POLL_S)
        if stop.is_set():
            main.cancel()
            return
        poll += 1
        if on_progress is not None and poll % polls_per_progress == 0:
            on_progress(
                LoadProgress(sum(r.sent for r in runs), sum(r.outcome.stats.errors for r in runs))
            )


class _StreamRun:
    def __init__(self, stream: GrpcStream) -> None:
        self.stream = stream
        self.outcome = StreamOutcome(StreamStats())
        self.channels = [_channel(stream) for _ in range(stream.connections)]
        self.callables = [channel.unary_unary(stream.path) for channel in self.channels]
        self.sent = 0
        self.answered = 0
        self.in_flight = 0
        self.pool = self.outcome.stats.pool
        self.pool.cap = stream.concurrency
        self.start_ns = 0
        self.end_ns: int | None = None
        self.cut_ns: int | None = None

    async def preconnect(self) -> None:
        """Connect every channel before the clock starts, as ghz does, so that the first
        calls do not pay for the connection. A server that is down or silent is not
        waited for beyond `PRECONNECT_CAP_S`: its calls then fail on their own."""
        cap_s = self.stream.connect_timeout_s or min(self.stream.timeout_s, PRECONNECT_CAP_S)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(_settle(c) for c in self.channels)), cap_s)

    async def run(self, start_ns: int) -> None:
        self.start_ns = start_ns
        stream = self.stream
        if stream.duration_s is not None:
            self.end_ns = start_ns + int(stream.duration_s * NS_PER_S)
        if stream.max_duration_s is not None:
            self.cut_ns = start_ns + int(stream.max_duration_s * NS_PER_S)
        delay = (start_ns - perf_counter_ns()) / NS_PER_S
        if delay > 0:
            await asyncio.sleep(delay)
        if stream.rps is None:
            await asyncio.gather(*(self._worker() for _ in range(stream.concurrency)))
        else:
            await self._open_loop(stream.rps)

    async def close(self) -> None:
        await asyncio.gather(*(c.close(grace=None) for c in self.channels))

    # -- closed loop: `concurrency` workers, each calls again as soon as it is answered --

    def _take(self) -> bool:
        if self.cut_ns is not None and perf_counter_ns() >= self.cut_ns:
            return False
        if self.stream.total is not None:
            return self.sent < self.stream.total
        assert self.end_ns is not None
        return perf_counter_ns() < self.end_ns

    async def _worker(self) -> None:
        while self._take():
            now = perf_counter_ns()
            await self._call(now)

    # -- open loop: calls due at fixed times, latency counted from the due time --------

    async def _open_loop(self, rps: float) -> None:
        stream = self.stream
        interval_ns = NS_PER_S / rps
        if stream.total is not None:
            count = stream.total
        else:
            assert stream.duration_s is not None
            count = max(1, math.ceil(stream.duration_s * rps - 1e-9))
        slots = asyncio.Semaphore(stream.concurrency)
        pending: set[asyncio.Task[None]] = set()
        phase_ns = stream.phase_s * NS_PER_S
        timeout_ns = int(stream.timeout_s * NS_PER_S)
        blocked_until = 0
        for index in range(count):
            due = self.start_ns + int(phase_ns + index * interval_ns)
            if self.cut_ns is not None and due >= self.cut_ns:
                break
            wait = (due - perf_counter_ns()) / NS_PER_S
            if wait > 0:
                await asyncio.sleep(wait)
            # Waited: no slot was free when it was due, or an earlier call held the
            # schedule up past this one's due time while it waited for one.
            waited = slots.locked() or due < blocked_until
            if waited:
                self.pool.waited += 1
            # The deadline counts from the due time: a call that waits for a free slot
            # has that much less time, and one that finds none by its deadline is a
            # DEADLINE_EXCEEDED without being sent. So every call ends by due + timeout,
            # and the run by its last due time + timeout, however slow the server.
            acquired = await _acquire_before(slots, due + timeout_ns)
            if waited:
                blocked_until = perf_counter_ns()
            if not acquired:
                now = perf_counter_ns()
                self._record(grpc.StatusCode.DEADLINE_EXCEEDED, _NO_SLOT, due, due, now)
                continue
            task = asyncio.create_task(self._call(due, deadline_ns=due + timeout_ns))
            pending.add(task)
            task.add_done_callback(pending.discard)
            task.add_done_callback(lambda _: slots.release())
        if pending:
            await asyncio.gather(*pending)

    # -- one call ------------------------------------------------------------------

    async def _call(self, due_ns: int, *, deadline_ns: int | None = None) -> None:
        stream = self.stream
        index = self.sent
        self.sent += 1
        call = self.callables[index % len(self.callables)]
        sent_ns = perf_counter_ns()
        timeout_s = stream.timeout_s if deadline_ns is None else (deadline_ns - sent_ns) / NS_PER_S
        pool = self.pool
        self.in_flight += 1
        pool.peak = max(pool.peak, self.in_flight)
        try:
            await call(stream.request, timeout=timeout_s, metadata=stream.metadata)
            code, details = grpc.StatusCode.OK, ""
        except grpc.aio.AioRpcError as exc:
            code, details = exc.code(), exc.details() or ""
        finally:
            self.in_flight -= 1
        now = perf_counter_ns()
        pool.busy_ns += now - sent_ns
        pool.busy_count += 1
        self._record(code, details, due_ns, sent_ns, now)

    def _record(
        self, code: grpc.StatusCode, details: str, due_ns: int, sent_ns: int, now_ns: int
    ) -> None:
        self.answered += 1
        outcome = self.outcome
        if self.answered <= self.stream.skip_first:
            outcome.skipped += 1
            return
        stats = outcome.stats
        stats.requests += 1
        if code is grpc.StatusCode.OK or self.stream.count_errors:
            stats.histogram.record(now_ns - due_ns)
        stats.count_sent_at(max(0, (due_ns - self.start_ns) // NS_PER_S))
        number = int(code.value[0])
        stats.statuses[number] = stats.statuses.get(number, 0) + 1
        if stats.first_send_ns is None or sent_ns < stats.first_send_ns:
            stats.first_send_ns = sent_ns
        if stats.last_send_ns is None or sent_ns > stats.last_send_ns:
            stats.last_send_ns = sent_ns
        if code is not grpc.StatusCode.OK:
            stats.errors += 1
            stats.error_kinds[code.name] = stats.error_kinds.get(code.name, 0) + 1
            outcome.details.setdefault(code.name, details)


_NO_SLOT = "no call slot was free before the deadline (raise concurrency)"


async def _acquire_before(slots: asyncio.Semaphore, deadline_ns: int) -> bool:
    """Take a slot, unless none frees up before `deadline_ns`."""
    left_s = (deadline_ns - perf_counter_ns()) / NS_PER_S
    if left_s <= 0:
        return False
    try:
        await asyncio.wait_for(slots.acquire(), left_s)
    except TimeoutError:
        return False
    return True


async def _settle(channel: grpc.aio.Channel) -> None:
    """Wait until the channel is connected, or has failed to connect."""
    final = (
        grpc.ChannelConnectivity.READY,
        grpc.ChannelConnectivity.TRANSIENT_FAILURE,
        grpc.ChannelConnectivity.SHUTDOWN,
    )
    state = channel.get_state(try_to_connect=True)
    while state not in final:
        await channel.wait_for_state_change(state)
        state = channel.get_state(try_to_connect=True)


def _channel(stream: GrpcStream) -> grpc.aio.Channel:
    # Each channel is its own HTTP/2 connection: gRPC would otherwise share one
    # subchannel among channels with the same target and arguments.
    options: list[tuple[str, str | int]] = [("grpc.use_local_subchannel_pool", 1)]
    options.extend(stream.channel_options)
    if stream.tls is None:
        return grpc.aio.insecure_channel(stream.host, options=options)
    if stream.tls.server_name:
        options.append(("grpc.ssl_target_name_override", stream.tls.server_name))
    credentials = grpc.ssl_channel_credentials(root_certificates=stream.tls.root_certificates)
    return grpc.aio.secure_channel(stream.host, credentials, options=options)
