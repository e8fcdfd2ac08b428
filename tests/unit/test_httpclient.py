from __future__ import annotations

import socket

import pytest

from iter8_action.httpclient import HTTPFailure, Limits, RetryPolicy, request
from iter8_action.secrets import SECRETS
from tests.servers.base import RecordingServer, Reply

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
