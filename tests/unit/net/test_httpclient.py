from __future__ import annotations

import logging
import re
import socket
import time

import pytest

from iter8_action.core.secrets import SECRETS
from iter8_action.net.httpclient import (
    DeadlineExceeded,
    HTTPFailure,
    Limits,
    Misdirected,
    RetryPolicy,
    Session,
    TooLarge,
    format_size,
    parse_size,
    request,
)
from tests.support.servers.base import RecordingServer, Reply
from tests.support.servers.faults import Fault, FaultServer

FAST = RetryPolicy(attempts=3, backoff_s=0.01, max_total_s=5)


def test_retries_5xx_then_succeeds() -> None:
    with RecordingServer() as server:
        server.script("POST", "/hook", [Reply(502), Reply(503)])
        server.route("POST", "/hook", lambda r: Reply(200, {"ok": True}))
        response = request("POST", server.url + "/hook", json={"a": 1}, retry=FAST)
    assert response.json() == {"ok": True}
    assert [r.json() for r in server.requests] == [{"a": 1}] * 3


def test_gives_up_after_the_attempts_with_the_last_status() -> None:
    with RecordingServer() as server:
        server.route("GET", "/", lambda r: Reply(500, "boom"))
        with pytest.raises(HTTPFailure) as info:
            request("GET", server.url + "/", retry=FAST)
    assert str(info.value) == f"{server.url}/ answered 500 Internal Server Error (3 attempts)"
    assert info.value.status == 500
    assert info.value.body == "boom"


def test_honours_retry_after() -> None:
    with RecordingServer() as server:
        server.script("GET", "/", [Reply(429, headers={"Retry-After": "0"})])
        server.route("GET", "/", lambda r: Reply(200))
        assert request("GET", server.url + "/", retry=FAST).status_code == 200
        server.script("GET", "/", [Reply(503, headers={"Retry-After": "120"})])
        slow = RetryPolicy(attempts=3, backoff_s=0.01, max_total_s=1)
        with pytest.raises(HTTPFailure, match=r"answered 503 Service Unavailable \(1 attempt\)"):
            request("GET", server.url + "/", retry=slow)


def test_4xx_is_returned_not_retried() -> None:
    with RecordingServer() as server:
        server.route("GET", "/", lambda r: Reply(401))
        assert request("GET", server.url + "/", retry=FAST).status_code == 401
    assert len(server.requests) == 1


def test_connection_refused_and_timeouts() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(HTTPFailure, match=rf"cannot connect to http://127.0.0.1:{port}/"):
        request("GET", f"http://127.0.0.1:{port}/", retry=FAST)
    with RecordingServer() as server:
        server.route("GET", "/", lambda r: Reply(200, delay_s=0.5))
        with pytest.raises(
            HTTPFailure,
            match=r"no complete answer from .* within 100ms \(the deadline set by timeout\) "
            r"\(2 attempts\)",
        ):
            request("GET", server.url + "/", limits=Limits(0.1), retry=RetryPolicy(2, 0.01, 5))


def test_secrets_are_masked_in_failures() -> None:
    SECRETS.add("tok-123456")
    try:
        with RecordingServer() as server:
            server.route("GET", "/", lambda r: Reply(500))
            with pytest.raises(HTTPFailure) as info:
                request("GET", server.url + "/?key=tok-123456", retry=RetryPolicy(1))
        assert "tok-123456" not in str(info.value)
        assert "key=***" in str(info.value)
    finally:
        SECRETS.clear()


@pytest.mark.parametrize(
    ("text", "size"),
    [(1048576, 1048576), ("512KiB", 524288), ("10MiB", 10485760), ("1MB", 10**6), ("2 GiB", 2**31)],
)
def test_sizes(text: int | str, size: int) -> None:
    assert parse_size(text) == size


def test_a_bad_size_says_how_to_write_one() -> None:
    with pytest.raises(ValueError, match=r"'1 lot' is not a size: give bytes .* e\.g\. 10MiB"):
        parse_size("1 lot")
    for nothing in ("0MiB", "0.1B", 0):
        with pytest.raises(ValueError, match="is less than a byte; give a size of at least 1 byte"):
            parse_size(nothing)
    assert [format_size(n) for n in (2**20, 3 * 1024, 1500)] == ["1 MiB", "3 KiB", "1500 bytes"]


def test_the_deadline_covers_the_whole_answer_not_each_read() -> None:
    with FaultServer(Fault.TRICKLE) as server:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded) as info:
            request("GET", server.url + "/", limits=Limits(0.5), retry=RetryPolicy(1))
    assert time.monotonic() - started < 0.5 * 1.2
    assert str(info.value) == (
        f"no complete answer from {server.url}/ within 500ms (the deadline set by timeout) "
        "(1 attempt)"
    )


def test_a_declared_length_over_the_cap_is_refused_before_the_body() -> None:
    with RecordingServer() as server:
        server.route("GET", "/", lambda r: Reply(200, b"x" * 2048))
        limits = Limits(5, 1024, size_field="fetchMaxBodySize")
        with pytest.raises(TooLarge) as info:
            request("GET", server.url + "/", limits=limits, retry=FAST)
        assert request("GET", server.url + "/", limits=Limits(5, 2048)).content == b"x" * 2048
    assert str(info.value) == (
        f"the answer from {server.url}/ is larger than 1 KiB (the cap set by fetchMaxBodySize): "
        "it declares 2048 bytes"
    )
    assert len(server.requests) == 2  # too large is not retried


def test_a_cross_origin_redirect_drops_credentials_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    SECRETS.add("registered-secret-9")
    try:
        with RecordingServer() as other, RecordingServer() as origin:
            other.route("GET", "/.*", lambda r: Reply(200, {"ok": True}))
            origin.route("GET", "/a", lambda r: Reply(302, headers={"Location": "/b"}))
            origin.route("GET", "/b", lambda r: Reply(302, headers={"Location": other.url + "/c"}))
            headers = {
                "Authorization": "Bearer t0ken-1",
                "X-Mine": "t0ken-2",
                "X-Any": "v=registered-secret-9",
                "X-Plain": "kept",
            }
            with caplog.at_level(logging.DEBUG, logger="iter8.http"):
                request(
                    "GET",
                    origin.url + "/a",
                    headers=headers,
                    session=Session(secret_headers=frozenset({"x-mine"})),
                )
    finally:
        SECRETS.clear()
    assert origin.requests[1].header("X-Mine") == "t0ken-2"  # the same origin keeps them
    forwarded = other.requests[0]
    assert [forwarded.header(h) for h in headers] == [None, None, None, "kept"]
    assert (
        f"redirect from {origin.url}/b to {other.url}/c, another origin: credential header(s) "
        "Authorization, X-Mine, X-Any dropped"
    ) in caplog.messages


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("ftp://x/", "redirected to ftp://x/, which is not an http(s) URL"),
        ("javascript:alert(1)", "which is not an http(s) URL"),
        ("http://[::1/", "redirected to a URL that cannot be parsed: Invalid IPv6 URL"),
        ("http://127.0.0.1:99999/", "redirected to a URL that cannot be parsed: Port out of range"),
    ],
)
def test_a_redirect_that_leads_nowhere_is_misdirected(location: str, reason: str) -> None:
    with RecordingServer() as server:
        server.route("GET", "/", lambda r: Reply(302, headers={"Location": location}))
        with pytest.raises(Misdirected, match=re.escape(reason)):
            request("GET", server.url + "/", retry=FAST)
    assert len(server.requests) == 1  # not retried


def test_a_huge_streamed_answer_is_read_no_further_than_the_cap() -> None:
    cap = 1024**2
    with FaultServer(Fault.HUGE_BODY) as server, pytest.raises(TooLarge) as info:
        request("GET", server.url + "/", limits=Limits(5, cap), retry=FAST)
    assert cap < info.value.read_bytes <= cap * 1.2
    assert str(info.value) == (
        f"the answer from {server.url}/ is larger than 1 MiB (the cap set by maxBodySize)"
    )
