"""Servers on 127.0.0.1 that fail the way real backends and webhooks do.

Each `Fault` is one way to answer badly, applied to every request on any path::

    with FaultServer(Fault.TRICKLE) as server:
        ... server.url + "/api/v1/query" ...   # 1 byte a second, for ever

Faults work at the socket level (a reset, a trickle, a body that never ends),
which a `http.server` handler cannot do. `Fault.REFUSED` binds no socket at all:
its URL names a closed port. The huge body is generated as it is sent, never
held in memory here.
"""

from __future__ import annotations

import contextlib
import enum
import socket
import ssl
import struct
import threading
import time
from pathlib import Path

from tests.support.servers.targets import closed_port, self_signed_certificate, server_tls

HUGE_BODY_BYTES = 1024**3
TRICKLE_BYTES_PER_S = 1.0
_CHUNK = b"a" * (64 * 1024)
_ANSWER = b'{"status": "success", "data": {"resultType": "vector", "result": []}}'


class Fault(enum.StrEnum):
    REFUSED = "refused"
    """Nothing listens on the port."""
    RESET = "reset"
    """Headers and part of the body, then a TCP reset."""
    SILENT = "silent"
    """Accepts, reads the request, never answers."""
    TRICKLE = "trickle"
    """A whole answer, status line included, one byte a second."""
    ERROR_5XX = "5xx"
    """503 Service Unavailable, every time."""
    HUGE_BODY = "huge-body"
    """200 with a 1 GiB JSON body, chunked (no Content-Length), generated as it is sent."""
    BAD_TLS = "bad-tls"
    """HTTPS with a self-signed certificate no client trusts."""
    REDIRECT_LOOP = "redirect-loop"
    """302 to another path on the same server, for ever."""
    REDIRECT_FILE = "redirect-file"
    """302 to file:///etc/passwd."""


class FaultServer:
    """A server on 127.0.0.1 answering every request with `fault`."""

    def __init__(self, fault: Fault, *, workdir: Path | None = None) -> None:
        self.fault = fault
        self.requests = 0
        self.sent_bytes = 0
        """Body bytes sent (the huge body: how much the client read before hanging up)."""
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._tls: ssl.SSLContext | None = None
        if fault is Fault.BAD_TLS:
            if workdir is None:
                raise ValueError("a bad-TLS server needs a workdir for its certificate")
            self._tls = server_tls(*self_signed_certificate(workdir))
        self._port = closed_port() if fault is Fault.REFUSED else 0

    @property
    def url(self) -> str:
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self._port}"

    def __enter__(self) -> FaultServer:
        if self.fault is Fault.REFUSED:
            return self
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listener.settimeout(0.05)
        self._listener = listener
        self._port = int(listener.getsockname()[1])
        self._spawn(self._accept_loop)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in list(self._threads):
            thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._spawn(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self._tls is not None:
                conn.settimeout(5)
                conn = self._tls.wrap_socket(conn, server_side=True)
            conn.settimeout(0.2)
            with conn:
                while not self._stop.is_set() and self._read_request(conn):
                    with self._lock:
                        self.requests += 1
                    if not self._answer(conn):
                        return
        except (OSError, ssl.SSLError):
            return  # the client gave up, as it should

    def _read_request(self, conn: socket.socket) -> bool:
        """Read one request (headers and a Content-Length body); False when the client left."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self._recv(conn)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or b"0")
        while len(body) < length:
            chunk = self._recv(conn)
            if not chunk:
                return False
            body += chunk
        return True

    def _recv(self, conn: socket.socket) -> bytes:
        while not self._stop.is_set():
            try:
                return conn.recv(65536)
            except TimeoutError:
                continue
        return b""

    def _answer(self, conn: socket.socket) -> bool:
        """Answer one request with the fault; True to keep the connection for another."""
        fault = self.fault
        if fault is Fault.SILENT:
            self._stop.wait()
            return False
        if fault is Fault.TRICKLE:
            answer = _head(200, len(_ANSWER)) + _ANSWER
            for byte in answer:
                conn.sendall(bytes([byte]))
                if self._stop.wait(1 / TRICKLE_BYTES_PER_S):
                    return False
            return True
        if fault is Fault.RESET:
            conn.sendall(_head(200, 10_000) + _ANSWER[:20])
            time.sleep(0.05)
            # SO_LINGER with a zero timeout: close() sends RST, not FIN
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if fault is Fault.ERROR_5XX:
            body = b'{"error": "unavailable"}'
            conn.sendall(_head(503, len(body), reason=b"Service Unavailable") + body)
            return True
        if fault is Fault.HUGE_BODY:
            self._send_huge(conn)
            return False
        if fault is Fault.REDIRECT_LOOP:
            conn.sendall(_redirect(b"/loop/%d" % self.requests))
            return True
        if fault is Fault.REDIRECT_FILE:
            conn.sendall(_redirect(b"file:///etc/passwd"))
            return True
        conn.sendall(_head(200, len(_ANSWER)) + _ANSWER)  # BAD_TLS: a client that got this far
        return True

    def _send_huge(self, conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        conn.settimeout(10)  # a client slow to read is not one that hung up
        sent = 0
        frame = b"%x\r\n" % len(_CHUNK) + _CHUNK + b"\r\n"
        with contextlib.suppress(OSError):
            conn.sendall(b'6\r\n{"a":"\r\n')
            while sent < HUGE_BODY_BYTES and not self._stop.is_set():
                conn.sendall(frame)
                sent += len(_CHUNK)
                with self._lock:
                    self.sent_bytes = sent
            conn.sendall(b'2\r\n"}\r\n0\r\n\r\n')


def _head(status: int, length: int, *, reason: bytes = b"OK") -> bytes:
    return b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (
        status,
        reason,
        length,
    )


def _redirect(location: bytes) -> bytes:
    return b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % location
