"""The load generator's hot path: asyncio protocols on uvloop with httptools' parser.

Each connection is a `Protocol` that writes a prebuilt request and parses the
answer with llhttp (through httptools); when the answer completes, its latency
goes into the stream's histogram and the next request leaves from the same
callback, with no coroutine or task per request.

Latency is measured from the moment a request was *due*: in closed loop that is
when it is sent; in open loop it is its scheduled time whenever it had to wait
for a free connection (every connection busy at that time), so a stalled target
shows up in the percentiles instead of being hidden by the wait (coordinated
omission, as wrk2 and HdrHistogram describe it). When a connection was free,
the request is timed from its actual send, so our timer's granularity does not
inflate a fast target's latencies.

Every request is accounted for: answered, failed, or timed out. In open loop the
timeout counts from the scheduled time, so a request that waited for a connection
has that much less time, and every request ends by its due time plus the timeout.
The open-loop pool grows on demand (as k6's arrival-rate executors add VUs): a
request due while every connection is busy opens a new one, up to the stream's
cap; past the cap it waits, and is counted in `PoolStats.waited`.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable
from time import perf_counter_ns
from typing import cast

import httptools

from iter8_action.load.http.plan import Share, TlsOptions
from iter8_action.load.http.stats import StreamOutcome, StreamStats

CONNECT_TIMEOUT_CAP_S = 5.0
NS_PER_S = 1_000_000_000


def ssl_context(options: TlsOptions) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=options.ca_file)
    if options.insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def error_kind(exc: BaseException) -> str:
    """The error kind (see `stats.ERROR_KINDS`) of an exception from connecting or sending."""
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "tls"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionError | EOFError):
        return "reset"
    if isinstance(exc, socket.gaierror):
        return "dns"
    return "connect"


class Connection(asyncio.Protocol):
    """One keep-alive connection; it carries one request at a time."""

    def __init__(self, driver: StreamDriver) -> None:
        self.driver = driver
        self.transport: asyncio.Transport | None = None
        self.parser: httptools.HttpResponseParser | None = None
        self.connecting: asyncio.Future[object] | None = None
        self.busy = False
        self.due_ns = 0
        self.sent_ns = 0
        self.deadline_ns = 0

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        self.parser = httptools.HttpResponseParser(self)

    def data_received(self, data: bytes) -> None:
        if not self.busy or self.parser is None:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.driver.fail(self, "protocol")

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.busy:
            self.driver.fail(self, "reset")

    # -- httptools callbacks -------------------------------------------------------

    def on_headers_complete(self) -> None:
        # A HEAD answer announces a body it does not send; llhttp would wait for it.
        if self.driver.head and self.parser is not None:
            self._complete()

    def on_message_complete(self) -> None:
        if not self.driver.head:
            self._complete()

    def _complete(self) -> None:
        parser = self.parser
        assert parser is not None
        status = parser.get_status_code()
        keep_alive = parser.should_keep_alive()
        if self.driver.head:
            self.parser = httptools.HttpResponseParser(self)
        if not keep_alive:
            self.close()
        self.driver.answered(self, status)

    # -- sending -------------------------------------------------------------------

    def send(self, request: bytes) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(request)
            return
        self.transport = None
        self.driver.connect(self)

    def close(self) -> None:
        if self.connecting is not None:
            self.connecting.cancel()
            self.connecting = None
        transport, self.transport = self.transport, None
        if transport is not None:
            transport.abort()


class StreamDriver:
    """Sends one share of a stream over its connections, and records what comes back."""

    def __init__(
        self,
        share: Share,
        loop: asyncio.AbstractEventLoop,
        *,
        address: tuple[str, int] | None,
        resolve_error: str | None,
        on_idle: Callable[[], None],
    ) -> None:
        stream = share.stream
        self.stream = stream
        self.loop = loop
        self.request = stream.request
        self.head = stream.head
        self.address = address
        self.resolve_error = resolve_error
        self.ssl = ssl_context(stream.tls) if stream.tls is not None else None
        self.timeout_ns = int(stream.timeout_s * 1e9)
        self.on_idle = on_idle
        self.outcome = StreamOutcome()
        self.open_loop = stream.qps is not None
        self.stats: StreamStats = (
            self.outcome.initial if stream.allow_initial_errors else self.outcome.counted
        )
        self._error_status: dict[int, bool] = {}
        self.connections = [Connection(self) for _ in range(share.connections)]
        self.cap = max(share.connections, share.max_connections) if self.open_loop else 0
        self.pool = self.outcome.counted.pool
        self.pool.cap = self.cap or share.connections
        self.pool.peak = share.connections
        self.idle: list[Connection] = []
        self.in_flight = 0
        self.stopping = False
        # closed loop
        self.remaining = share.num_requests
        self.end_ns = 0
        # open loop
        self.slot = share.first
        self.step = share.step
        self.slots = stream.scheduled_count() if self.open_loop else 0
        self.interval_ns = 1e9 / stream.qps if stream.qps else 0.0
        self.start_ns = 0
        self.all_busy_since: int | None = None
        self.timer: asyncio.TimerHandle | None = None

    # -- lifecycle -------------------------------------------------------------------

    async def preconnect(self) -> None:
        """Open the connections before the clock starts (a failure is retried per request)."""
        if self.address is None:
            return
        await asyncio.gather(*(self._open(c) for c in self.connections), return_exceptions=True)

    async def _open(self, conn: Connection) -> None:
        assert self.address is not None
        timeout = min(self.stream.timeout_s, CONNECT_TIMEOUT_CAP_S)
        await asyncio.wait_for(self._create(conn), timeout)

    def _create(self, conn: Connection) -> asyncio.Future[object]:
        assert self.address is not None
        host, port = self.address
        return asyncio.ensure_future(
            self.loop.create_connection(
                lambda: conn,
                host,
                port,
                ssl=self.ssl,
                server_hostname=self.stream.host if self.ssl is not None else None,
            )
        )

    def start(self, start_ns: int) -> None:
        self.start_ns = start_ns
        stream = self.stream
        if stream.duration_s is not None and stream.num_requests is None:
            self.end_ns = start_ns + int(stream.duration_s * 1e9)
        self.idle = list(self.connections)
        if self.open_loop:
            self._tick()
            return
        for conn in list(self.idle):
            self._next(conn, perf_counter_ns())
        self._check_idle()

    def stop(self) -> None:
        """Send nothing more; requests in flight are abandoned (the run was interrupted)."""
        self.stopping = True
        if self.timer is not None:
            self.timer.cancel()
        for conn in self.connections:
            conn.busy = False
            conn.close()
        self.in_flight = 0

    def cut(self, now: int) -> None:
        """The run outlived its deadline (the event loop was starved): every request not
        yet answered, sent or not, is recorded as a timeout, so none goes missing."""
        self.stopping = True  # first: a failed request must not send the next one
        if self.timer is not None:
            self.timer.cancel()
        for conn in list(self.connections):
            if conn.busy:
                self.fail(conn, "timeout")
        if self.open_loop:
            self._expire_unsent(now, until_ns=None)
        elif self.remaining:
            self.stats.count_sent_at(self._second(now), self.remaining)
            self._record_unsent(self.remaining)
            self.remaining = 0
        self._check_idle()

    @property
    def done(self) -> bool:
        if self.in_flight:
            return False
        if self.stopping:
            return True
        if self.open_loop:
            return self.slot >= self.slots
        if self.remaining is not None:
            return self.remaining <= 0
        return perf_counter_ns() >= self.end_ns

    def _check_idle(self) -> None:
        if self.done:
            self.on_idle()

    # -- open loop -------------------------------------------------------------------

    def _due_ns(self, slot: int) -> int:
        return self.start_ns + int((self.stream.phase_s * 1e9) + slot * self.interval_ns)

    def _tick(self) -> None:
        self.timer = None
        now = perf_counter_ns()
        while self.slot < self.slots and (due := self._due_ns(self.slot)) <= now:
            conn = self._free_connection(now)
            if conn is None:
                break
            self.slot += self.step
            self._send(conn, now, due + self.timeout_ns)
        self._arm(now)

    def _free_connection(self, now: int) -> Connection | None:
        """An idle connection, or a new one while the pool is below its cap; None when
        every connection is busy and the pool is full (the request must wait)."""
        if self.idle:
            conn = self.idle.pop()
        elif len(self.connections) < self.cap:
            conn = Connection(self)  # not connected: its first send connects it
            self.connections.append(conn)
            self.pool.peak = max(self.pool.peak, len(self.connections))
        else:
            return None
        if not self.idle and len(self.connections) >= self.cap and self.all_busy_since is None:
            self.all_busy_since = now
        return conn

    def _arm(self, now: int) -> None:
        if self.timer is not None or self.slot >= self.slots or self.stopping:
            return
        due = self._due_ns(self.slot)
        if due <= now and not self.idle and len(self.connections) >= self.cap:
            return  # the next connection to free up sends it
        self.timer = self.loop.call_later(max(0, due - now) / 1e9, self._tick)

    # -- per request -------------------------------------------------------------------

    def _send(self, conn: Connection, due_ns: int, deadline_ns: int) -> None:
        """Send on `conn`; latency counts from `due_ns`, and it times out at `deadline_ns`."""
        conn.busy = True
        conn.due_ns = due_ns
        conn.deadline_ns = deadline_ns
        conn.sent_ns = sent = perf_counter_ns()
        self.in_flight += 1
        self.outcome.sent += 1
        stats = self.stats
        if stats.first_send_ns is None:
            stats.first_send_ns = sent
        stats.last_send_ns = sent
        if self.resolve_error is not None:
            # Later, not now: failing at once would send the next request from inside
            # this call, recursing without bound in closed loop.
            self.loop.call_soon(self.fail, conn, self.resolve_error)
            return
        conn.send(self.request)

    def _next(self, conn: Connection, now: int) -> None:
        """`conn` is free: give it the next request, or let it idle."""
        if self.stopping:
            return
        if self.open_loop:
            if self.slot < self.slots:
                due = self._due_ns(self.slot)
                if due <= now:
                    waited = self.all_busy_since is not None and self.all_busy_since <= due
                    if waited:
                        self.pool.waited += 1
                    self.slot += self.step
                    self._send(conn, due if waited else now, due + self.timeout_ns)
                    return
            self._go_idle(conn)
            self._arm(now)
            return
        if self.remaining is not None:
            if self.remaining <= 0:
                self._go_idle(conn)
                return
            self.remaining -= 1
        elif now >= self.end_ns:
            self._go_idle(conn)
            return
        if conn in self.idle:
            self.idle.remove(conn)
        self._send(conn, now, now + self.timeout_ns)

    def _go_idle(self, conn: Connection) -> None:
        if conn not in self.idle:
            self.idle.append(conn)
        self.all_busy_since = None

    def _second(self, sent_ns: int) -> int:
        """The whole second after the start of the load in which `sent_ns` falls."""
        return max(0, (sent_ns - self.start_ns) // NS_PER_S)

    def _release(self, conn: Connection, now: int) -> None:
        conn.busy = False
        self.in_flight -= 1
        pool = self.pool
        pool.busy_ns += now - conn.sent_ns
        pool.busy_count += 1

    def answered(self, conn: Connection, status: int) -> None:
        now = perf_counter_ns()
        # `_release`, inlined: this is the hot path of a closed loop
        conn.busy = False
        self.in_flight -= 1
        pool = self.pool
        pool.busy_ns += now - conn.sent_ns
        pool.busy_count += 1
        is_error = self._error_status.get(status)
        if is_error is None:
            is_error = self._error_status[status] = self.stream.is_error_status(status)
        if not is_error and not self.outcome.succeeded:
            self.outcome.succeeded = True
            self.stats = self.outcome.counted
        stats = self.stats
        stats.histogram.record(now - conn.due_ns)
        stats.requests += 1
        stats.count_sent_at(self._second(conn.sent_ns))
        stats.statuses[status] = stats.statuses.get(status, 0) + 1
        if is_error:
            stats.errors += 1
            stats.error_kinds["status"] = stats.error_kinds.get("status", 0) + 1
        self._next(conn, now)
        if not self.in_flight:
            self._check_idle()

    def fail(self, conn: Connection, kind: str) -> None:
        """The request on `conn` failed without an answer."""
        if not conn.busy:
            return
        now = perf_counter_ns()
        self._release(conn, now)
        conn.close()
        stats = self.stats
        if kind == "timeout":
            # A timed-out request did take this long: hiding it would flatter the target.
            stats.histogram.record(now - conn.due_ns)
        stats.requests += 1
        stats.count_sent_at(self._second(conn.sent_ns))
        stats.errors += 1
        stats.error_kinds[kind] = stats.error_kinds.get(kind, 0) + 1
        self._next(conn, now)
        if not self.in_flight:
            self._check_idle()

    def connect(self, conn: Connection) -> None:
        """Open a new connection for the request `conn` carries.

        A protocol object lives for one transport only: the old one may still
        hear of its transport's end later, and must not take the new one for it.
        """
        fresh = Connection(self)
        fresh.busy, fresh.due_ns, fresh.sent_ns = True, conn.due_ns, conn.sent_ns
        fresh.deadline_ns = conn.deadline_ns
        conn.busy = False
        self.connections[self.connections.index(conn)] = fresh
        future = self._create(fresh)
        fresh.connecting = future
        future.add_done_callback(lambda f: self._connected(fresh, f))

    def _connected(self, conn: Connection, future: asyncio.Future[object]) -> None:
        if conn.connecting is future:
            conn.connecting = None
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            self.fail(conn, error_kind(exc))
            return
        if conn.busy and conn.transport is not None:
            conn.transport.write(self.request)

    def expire(self, now: int) -> None:
        """Fail the requests whose time is up: those sent and not answered by their
        deadline, and in open loop those still waiting for a free connection a
        timeout after they were due."""
        for conn in list(self.connections):
            if conn.busy and conn.deadline_ns <= now:
                self.fail(conn, "timeout")
        if not self.open_loop or self.stopping:
            return
        self._expire_unsent(now, until_ns=now - self.timeout_ns)

    def _expire_unsent(self, now: int, *, until_ns: int | None) -> None:
        """Record the schedule's unsent requests due by `until_ns` (None: all of them) as
        timeouts. Never sent: a target this slow cannot take the schedule, and the backlog
        stays bounded to one timeout's worth, so the run ends on time."""
        stats = self.stats
        expired = 0
        while self.slot < self.slots and (until_ns is None or self._due_ns(self.slot) <= until_ns):
            due = self._due_ns(self.slot)
            stats.histogram.record(max(0, now - due))
            stats.count_sent_at(self._second(due))  # counted where it was due to be sent
            self.slot += self.step
            expired += 1
        if expired:
            self.pool.waited += expired
            self._record_unsent(expired)

    def _record_unsent(self, count: int) -> None:
        self.outcome.sent += count
        stats = self.stats
        stats.requests += count
        stats.errors += count
        stats.error_kinds["timeout"] = stats.error_kinds.get("timeout", 0) + count
        if not self.in_flight:
            self._check_idle()
