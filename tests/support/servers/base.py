"""A real HTTP server on 127.0.0.1 for tests: routes, scripted answers, a request log.

Fake backends, webhook receivers and the GitHub/GitLab API servers build on it::

    with RecordingServer() as server:
        server.route("POST", "/hook", lambda req: Reply(200, {"ok": True}))
        server.script("POST", "/hook", [Reply(500), Reply(200)])   # one-off answers first
        ... server.url + "/hook" ...
        assert server.requests[0].json() == {...}
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    match: re.Match[str] | None = None

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class Reply:
    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    """Sleep before answering (a slow or timing-out server)."""

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


Handler = Callable[[Request], Reply]
Refusal = Callable[[Request], Reply | None]
"""A check run before a handler: a reply (a 401, say) to answer instead, or None to go on."""


def _guarded(handler: Handler, refuse: Refusal) -> Handler:
    def guarded(request: Request) -> Reply:
        return refuse(request) or handler(request)

    return guarded


class RecordingServer:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._scripts: dict[tuple[str, str], list[Reply]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # a short poll interval: shutdown() waits for it, once per test
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route(self, method: str, path_regex: str, handler: Handler) -> None:
        """Answer `method` on paths fully matching `path_regex` (later routes win)."""
        self._routes.insert(0, (method.upper(), re.compile(path_regex), handler))

    def route_guarded(self, routes: Iterable[tuple[str, str, Handler]], *, refuse: Refusal) -> None:
        """Add `(method, path_regex, handler)` routes whose handlers run only past `refuse`."""
        for method, path_regex, handler in routes:
            self.route(method, path_regex, _guarded(handler, refuse))

    def script(self, method: str, path: str, replies: list[Reply]) -> None:
        """Answer the next requests to exactly `path` with these replies, in order, then route."""
        self._scripts.setdefault((method.upper(), path), []).extend(replies)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            scripted = self._scripts.get((request.method, request.path))
            if scripted:
                return scripted.pop(0)
        for method, pattern, handler in self._routes:
            if method == request.method:
                match = pattern.fullmatch(request.path)
                if match:
                    request.match = match
                    return handler(request)
        return Reply(404, {"message": f"no route for {request.method} {request.path}"})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall per keep-alive answer

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers=dict(self.headers.items()),
                    body=body,
                )
                reply = server._answer(request)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                payload = reply.encoded()
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    # the client may have given up waiting (a timeout test)
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return _Handler


class ServedFake:
    """A fake API that answers on its own `server`: entering it starts the server."""

    server: RecordingServer

    def __enter__(self) -> Self:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)

    @property
    def url(self) -> str:
        return self.server.url
