"""Load-test targets on 127.0.0.1: a normal app, injected faults, TLS, a freeze.

An asyncio HTTP/1.1 server (keep-alive, httptools' parser) in a thread of its
own, so it serves while the load generator runs in the test's thread. Paths:

    /                 200 with a small JSON body
    /status/<code>    that status code
    /slow/<ms>        200 after a delay
    /stall            never answers (holds the connection)
    /reset            resets the connection (RST) without an answer
    /close            closes the connection (FIN) without an answer
    /garbage          answers bytes that are not HTTP
    /fail-first/<n>   503 for the first n requests to this path, then 200
    /odd              answers the odd-numbered requests to this path (1st, 3rd, ...)
                      at once and never the even ones (holds their connections)
    /bye              200 with `Connection: close`

`freeze(seconds)` holds every answer until that much time has passed (a target
that stalls in the middle of a run). Every request is logged in `requests`.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httptools
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

BODY = b'{"status":"ok","app":"target"}'


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class _Pending:
    method: str = ""
    url: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)


class _Session(asyncio.Protocol):
    def __init__(self, target: Target) -> None:
        self.target = target
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.pending = _Pending()
        self.queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self.worker: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.target.connections += 1
        self.worker = asyncio.ensure_future(self._serve())

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.worker is not None:
            self.worker.cancel()

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.pending.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.pending.headers[name.decode("latin-1")] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.pending.body += body

    def on_message_complete(self) -> None:
        self.pending.method = self.parser.get_method().decode()
        self.queue.put_nowait(self.pending)
        self.pending = _Pending()

    async def _serve(self) -> None:
        # One answer at a time, in order, as HTTP/1.1 requires.
        while True:
            request = await self.queue.get()
            if request is None or self.transport is None:
                return
            await self.target.answer(self, request)

    def write(self, status: int, body: bytes, *, close: bool = False, head: bool = False) -> None:
        if self.transport is None:
            return
        reason = "OK" if status == 200 else "Status"
        headers = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
        )
        if close:
            headers += "Connection: close\r\n"
        self.transport.write(headers.encode() + b"\r\n" + (b"" if head else body))
        if close:
            self.transport.close()


class Target:
    """A target server; use as a context manager (`with Target() as t: t.url`)."""

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.requests: list[Received] = []
        self.connections = 0
        self.frozen_until = 0.0
        self._fail_first: dict[str, int] = {}
        self._odd = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def __enter__(self) -> Target:
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        self._thread.start()
        future.result(timeout=10)
        return self

    async def _start(self) -> None:
        self._server = await self._loop.create_server(
            lambda: _Session(self), "127.0.0.1", 0, ssl=self.tls, backlog=1024
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def freeze(self, seconds: float) -> None:
        """Hold every answer (and those already waiting) for `seconds` from now."""
        self.frozen_until = time.monotonic() + seconds

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    async def answer(self, session: _Session, pending: _Pending) -> None:
        path = pending.url.decode("latin-1").split("?", 1)[0]
        self.requests.append(Received(pending.method, path, pending.headers, bytes(pending.body)))
        wait = self.frozen_until - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        head = pending.method == "HEAD"
        parts = path.strip("/").split("/")
        route, arg = parts[0], (parts[1] if len(parts) > 1 else "")
        if route == "status":
            session.write(int(arg), b'{"status":"injected"}', head=head)
        elif route == "slow":
            await asyncio.sleep(int(arg) / 1000)
            session.write(200, BODY, head=head)
        elif route == "stall":
            await asyncio.sleep(3600)
        elif route == "reset":
            _reset(session.transport)
        elif route == "close":
            if session.transport is not None:
                session.transport.close()
        elif route == "garbage":
            if session.transport is not None:
                session.transport.write(b"this is not HTTP\r\n\r\n")
        elif route == "fail-first":
            seen = self._fail_first.get(path, 0)
            self._fail_first[path] = seen + 1
            session.write(503 if seen < int(arg) else 200, BODY, head=head)
        elif route == "odd":
            self._odd += 1
            if self._odd % 2 == 0:
                await asyncio.sleep(3600)
            session.write(200, BODY, head=head)
        elif route == "bye":
            session.write(200, BODY, close=True, head=head)
        else:
            session.write(200, BODY, head=head)


def _reset(transport: asyncio.Transport | None) -> None:
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1 and its key, as PEM files in `directory`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "iter8-py test target")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "target.crt", directory / "target.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def server_tls(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context
