"""Outgoing HTTP for tasks that talk to other services (backends, webhooks, APIs, fetches).

Every such request goes through `request`, which holds it to its `Limits`:

- a deadline for each attempt as a whole (connecting, the answer's headers and
  its whole body), not per read: a server that trickles one byte a second is cut
  off at the deadline. A watchdog shuts the socket down when the deadline passes,
  whatever the request is doing;
- a cap on the answer's size: the body is streamed and the request stops as soon
  as it would exceed the cap (a declared `Content-Length` over the cap stops it
  before any of the body is read); the cap counts decoded bytes, so a compressed
  bomb is stopped too;
- at most `MAX_REDIRECTS` redirects, only to `http://` and `https://` URLs; a
  redirect to another origin drops every credential header (`Authorization`,
  `Cookie`, API key headers, any header carrying a registered secret), as
  requests does for `Authorization` alone;
- retries with exponential backoff on connection errors, deadlines and 5xx
  answers, honouring `Retry-After` (RFC 9110 §10.2.3), with a bound on the time
  after which no retry starts.

Each failure says which limit was hit, by the task field that sets it. Load
generation does not use this: it has its own client.

Exceptions::

    HTTPFailure            no usable answer (status None: no answer at all)
     ├── DeadlineExceeded  the attempt's deadline passed
     ├── TooLarge          the answer is larger than the cap (not retried)
     ├── Misdirected       a redirect loop, or a redirect to a non-HTTP URL (not retried)
     ├── TLSFailure        the server's certificate is not trusted (not retried)
     └── UnexpectedStatus  an answer, but not the one the caller needs
"""

from __future__ import annotations

import contextlib
import email.utils
import re
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from iter8_action.core.durations import format_duration
from iter8_action.core.errors import ExchangeFailed
from iter8_action.core.logs import get_logger
from iter8_action.core.secrets import SECRETS

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_RETRY_AFTER_S = 60.0
MAX_REDIRECTS = 10
_CHUNK_BYTES = 64 * 1024
# header names whose values are credentials whatever they contain (RFC 9110 §11.6-7, RFC 6265,
# and the API key headers of the backends we know: Elastic, New Relic, Sysdig, GitLab)
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "api-key",
        "apikey",
        "x-api-key",
        "x-query-key",
        "x-auth-token",
        "private-token",
        "job-token",
    }
)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    """Tries in all, the first included."""
    backoff_s: float = 0.5
    """Wait before the second try; doubles each time."""
    max_total_s: float = 60.0
    """No retry starts once this much time has gone by since the first try."""


@dataclass(frozen=True)
class Limits:
    """How long one attempt may take in all, and how large its answer may be."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    timeout_field: str = "timeout"
    """The task field that sets `timeout_s`, named in a message when the deadline passes."""
    size_field: str = "maxBodySize"
    """The task field that sets `max_body_bytes`, named when an answer is too large."""


class HTTPFailure(ExchangeFailed):
    """A request that failed after its retries; `status` is None for a connection error."""

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        self.status = status
        self.body = body
        super().__init__(SECRETS.redact(message))


class DeadlineExceeded(HTTPFailure):
    """No complete answer within the attempt's deadline."""


class TooLarge(HTTPFailure):
    """The answer is larger than the cap; retrying would not make it smaller."""

    read_bytes = 0
    """How much of the body was read before stopping (0: its declared length was enough)."""


class Misdirected(HTTPFailure):
    """Redirects that loop or lead away from HTTP(S) (`file://`, say)."""


class TLSFailure(HTTPFailure):
    """The TLS handshake failed: an untrusted certificate, most often."""


class UnexpectedStatus(HTTPFailure):
    """A final answer other than the one the caller needs (a 404 for a document, say)."""

    def __init__(self, url: str, response: requests.Response) -> None:
        self.answer = f"{response.status_code} {response.reason}"
        super().__init__(
            f"{url} answered {self.answer}", status=response.status_code, body=response.text[:500]
        )


# -- sizes ------------------------------------------------------------------------------------

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?\s*$")
_UNITS = {
    None: 1,
    "B": 1,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
}


def parse_size(value: int | str) -> int:
    """Bytes from `1048576`, `"512KiB"`, `"10MiB"`, `"1MB"`, `"2GiB"`; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a size")
    if isinstance(value, int):
        if value < 1:
            raise ValueError(f"{value!r} is less than a byte; give a size of at least 1 byte")
        return value
    match = _SIZE.match(str(value))
    if match is None:
        raise ValueError(
            f"{value!r} is not a size: give bytes (1048576) or a number with a unit "
            "(B, KB, MB, GB, KiB, MiB, GiB), e.g. 10MiB"
        )
    size = int(float(match.group(1)) * _UNITS[match.group(2)])
    if size < 1:
        raise ValueError(f"{value!r} is less than a byte; give a size of at least 1 byte")
    return size


def format_size(size: int) -> str:
    """`10 MiB`, `512 KiB`, `1500 bytes`: the largest binary unit that divides it evenly."""
    for unit in ("GiB", "MiB", "KiB"):
        if size >= _UNITS[unit] and size % _UNITS[unit] == 0:
            return f"{size // _UNITS[unit]} {unit}"
    return f"{size} bytes"


# -- the watchdog behind the deadline ---------------------------------------------------------

_current = threading.local()


class _Watchdog:
    """Shuts down every socket of one attempt when its deadline passes.

    requests' `timeout` bounds each read, so a server sending a byte a second
    never times out; shutting the socket down wakes the blocked read at once.
    """

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            late = self.expired
        if late:
            _shutdown(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def __enter__(self) -> _Watchdog:
        _current.watchdog = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _current.watchdog = None


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def _watch(sock: socket.socket | None) -> None:
    watchdog: _Watchdog | None = getattr(_current, "watchdog", None)
    if watchdog is not None:
        watchdog.watch(sock)


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    """A connection that shows each socket it uses to the current watchdog (see `_Watchdog`);
    the HTTPS one puts it first among its bases, so both watch alike."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)  # a kept-alive connection made during an earlier attempt
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(_WatchedHTTPConnection, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


# -- redirects --------------------------------------------------------------------------------


class Session(requests.Session):
    """A requests session that keeps to HTTP(S) and drops credentials between origins.

    `secret_headers` names more headers (case-insensitive) to drop on a redirect
    to another origin: a custom API key header, say.
    """

    def __init__(self, *, secret_headers: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.max_redirects = MAX_REDIRECTS
        self.secret_headers = frozenset(h.lower() for h in secret_headers)
        self.limits = Limits()
        """The limits of the attempt under way (a redirect's body is read under its cap)."""
        self.following = True
        """Whether the request under way follows redirects (requests prepares the next anyway)."""
        self.misdirected: str | None = None
        """Why the redirect being followed leads nowhere we go: requests then says InvalidSchema."""
        self.hooks["response"].append(self._read_redirect)
        adapter = _Adapter()
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: Any) -> None:
        old_url, new_url = str(response.request.url), str(prepared_request.url)
        if urlsplit(new_url).scheme.lower() not in ("http", "https"):
            self.misdirected = (
                f"{_origin(old_url)} redirected to {_origin(new_url)}, which is not an http(s) "
                "URL; only HTTP redirects are followed"
            )
        if self.following and self.should_strip_auth(old_url, new_url):  # type: ignore[no-untyped-call]
            headers = prepared_request.headers
            dropped = [name for name, value in headers.items() if self._is_credential(name, value)]
            for name in dropped:
                del headers[name]
            if dropped:
                get_logger("http").debug(
                    "redirect from %s to %s, another origin: credential header(s) %s dropped",
                    _origin(old_url),
                    _origin(new_url),
                    ", ".join(dropped),
                )
        super().rebuild_auth(prepared_request, response)  # type: ignore[no-untyped-call]

    def _read_redirect(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        # requests reads a redirect's whole body before following it: read it under the cap
        if response.is_redirect:
            _read_body(response, str(response.url), self.limits)

    def _is_credential(self, name: str, value: str | bytes) -> bool:
        lowered = name.lower()
        if lowered in CREDENTIAL_HEADERS or lowered in self.secret_headers:
            return True
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        return SECRETS.redact(text) != text


def _origin(url: str) -> str:
    """`scheme://host:port/path` without the query and userinfo (where tokens hide)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a bad port or IPv6 literal: show it as it came, less its query
        return SECRETS.redact(url.split("?", 1)[0])
    return SECRETS.redact(f"{parts.scheme}://{host}{port}{parts.path}")


# -- requests ---------------------------------------------------------------------------------


def get_text(
    url: str,
    *,
    limits: Limits = Limits(),
    verify: bool | str = True,
    retry: RetryPolicy = RetryPolicy(),
) -> str:
    """GET a document (a template, say): its text, or `UnexpectedStatus` for any answer but 200."""
    response = request("GET", url, limits=limits, verify=verify, retry=retry)
    if response.status_code != 200:
        raise UnexpectedStatus(url, response)
    return response.text


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    data: bytes | str | None = None,
    json: Any = None,
    auth: tuple[str, str] | None = None,
    limits: Limits = Limits(),
    verify: bool | str = True,
    retry: RetryPolicy = RetryPolicy(),
    session: Session | None = None,
    allow_redirects: bool = True,
    read_body: bool = True,
) -> requests.Response:
    """Send a request, retrying transient failures; raise `HTTPFailure` on a final 5xx or no answer.

    A 4xx answer is returned as it is: the caller knows what 401 or 404 means for it.
    The returned response's body has been read whole (`read_body=False`: not at all,
    for a caller that needs only the status).
    """
    log = get_logger("http")
    sender = session or Session()
    started = time.monotonic()
    wait_s = retry.backoff_s
    last_response: requests.Response | None = None
    failure: type[HTTPFailure] = HTTPFailure
    for attempt in range(1, retry.attempts + 1):
        retry_after: float | None = None
        log.debug("%s %s (attempt %d)", method, _origin(url), attempt)
        try:
            response = _attempt(
                sender,
                method,
                url,
                limits=limits,
                read_body=read_body,
                allow_redirects=allow_redirects,
                headers=dict(headers or {}),
                params=params,
                data=data,
                json=json,
                auth=auth,
                verify=verify,
            )
        except (DeadlineExceeded, _Broken) as exc:
            last_response = None
            problem = str(exc)
            failure = DeadlineExceeded if isinstance(exc, DeadlineExceeded) else HTTPFailure
        else:
            if response.status_code not in RETRY_STATUSES:
                return response
            problem = f"{url} answered {response.status_code} {response.reason}"
            failure = HTTPFailure
            retry_after = _retry_after_s(response.headers.get("Retry-After"))
            last_response = response
        delay = retry_after if retry_after is not None else wait_s
        out_of_time = time.monotonic() - started + delay > retry.max_total_s
        if attempt == retry.attempts or out_of_time:
            status = last_response.status_code if last_response is not None else None
            body = last_response.text[:500] if last_response is not None else ""
            tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
            raise failure(f"{problem} ({tries})", status=status, body=body)
        log.warning("%s; retrying in %.1fs", SECRETS.redact(problem), delay)
        time.sleep(delay)
        wait_s *= 2
    raise AssertionError("unreachable")


class _Broken(Exception):
    """A retryable failure of one attempt: no connection, or an answer broken off."""


def _attempt(
    sender: Session,
    method: str,
    url: str,
    *,
    limits: Limits,
    read_body: bool,
    allow_redirects: bool,
    **kwargs: Any,
) -> requests.Response:
    """One try: the answer, read whole within the deadline and the cap."""
    deadline = (
        f"no complete answer from {url} within {format_duration(limits.timeout_s)} "
        f"(the deadline set by {limits.timeout_field})"
    )
    sender.limits = limits
    sender.following = allow_redirects
    sender.misdirected = None
    with _Watchdog(limits.timeout_s) as watchdog:
        try:
            response = sender.request(
                method,
                url,
                timeout=limits.timeout_s,
                stream=True,
                allow_redirects=allow_redirects,
                **kwargs,
            )
            try:
                if read_body:
                    _read_body(response, url, limits)
                else:
                    response._content = b""
            finally:
                response.close()
        except requests.exceptions.TooManyRedirects as exc:
            raise Misdirected(
                f"{url} redirected more than {MAX_REDIRECTS} times (a redirect loop?)"
            ) from exc
        except requests.exceptions.InvalidSchema as exc:
            reason = sender.misdirected or f"{url} redirected to a URL that is not http(s): {exc}"
            raise Misdirected(reason) from exc
        except requests.exceptions.SSLError as exc:
            if watchdog.expired:
                raise DeadlineExceeded(deadline) from exc
            raise TLSFailure(f"TLS failure talking to {url}: {_reason(exc)}") from exc
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as exc:
            if watchdog.expired or isinstance(exc, requests.exceptions.Timeout):
                raise DeadlineExceeded(deadline) from exc
            raise _Broken(f"cannot connect to {url}: {_reason(exc)}") from exc
        except (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.HTTPError) as exc:
            if watchdog.expired:
                raise DeadlineExceeded(deadline) from exc
            raise _Broken(f"the answer from {url} broke off: {_reason(exc)}") from exc
        except requests.exceptions.RequestException as exc:
            raise HTTPFailure(f"request to {url} failed: {_reason(exc)}") from exc
        except ValueError as exc:  # urllib.parse on a Location like http://[::1/ or :99999
            raise Misdirected(f"{url} redirected to a URL that cannot be parsed: {exc}") from exc
        if watchdog.expired:  # a body without a length ends "cleanly" when its socket shuts
            raise DeadlineExceeded(deadline)
    return response


def _read_body(response: requests.Response, url: str, limits: Limits) -> None:
    """Read the body into `response` (so `.text` and `.json()` work), up to the cap."""
    cap = limits.max_body_bytes
    too_large = (
        f"the answer from {url} is larger than {format_size(cap)} "
        f"(the cap set by {limits.size_field})"
    )
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        raise TooLarge(f"{too_large}: it declares {declared} bytes", status=response.status_code)
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_content(_CHUNK_BYTES):
        total += len(chunk)
        if total > cap:
            failure = TooLarge(too_large, status=response.status_code)
            failure.read_bytes = total
            raise failure
        chunks.append(chunk)
    response._content = b"".join(chunks)


def _reason(exc: BaseException) -> str:
    """The useful part of a failure: requests nests urllib3's, which nests the socket's."""
    queue: list[BaseException] = [exc]
    seen: set[int] = set()
    while queue:
        error = queue.pop(0)
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, ssl.SSLCertVerificationError):
            return str(error.verify_message or error.reason)
        if isinstance(error, ssl.SSLError) and error.reason:
            return str(error.reason)
        if isinstance(error, OSError) and error.strerror:
            return f"[Errno {error.errno}] {error.strerror}" if error.errno else error.strerror
        links = [*error.args, getattr(error, "reason", None), error.__cause__, error.__context__]
        queue.extend(link for link in links if isinstance(link, BaseException))
    text = str(exc)
    return text.rsplit(": ", 1)[-1].rstrip("')\"") if len(text) > 200 else text


def _retry_after_s(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        if parsed is None:
            return None
        seconds = parsed.timestamp() - time.time()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)
