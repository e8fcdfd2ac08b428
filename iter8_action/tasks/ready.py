"""`ready` — wait until an HTTP URL answers with an expected status, or a TCP port accepts.

Iter8's `ready` waited for Kubernetes resources; in a pipeline the thing to wait
for is the app itself, so this one polls the app's URL or port.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator, Mapping
from typing import Any

from iter8_action import httpclient
from iter8_action.durations import format_duration, parse_duration
from iter8_action.errors import TaskFailed
from iter8_action.secrets import header_secrets, url_secrets
from iter8_action.tasks.base import TaskContext, TaskType

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_INTERVAL_S = 1.0
ATTEMPT_TIMEOUT_S = 5.0


def run(inputs: Mapping[str, Any], ctx: TaskContext) -> None:
    timeout_s = parse_duration(inputs.get("timeout", DEFAULT_TIMEOUT_S))
    interval_s = parse_duration(inputs.get("interval", DEFAULT_INTERVAL_S))
    if "url" in inputs:
        target = str(inputs["url"])
        wanted = _wanted_statuses(inputs.get("status"))
        session = httpclient.Session(secret_headers=frozenset(inputs.get("headers") or {}))

        def attempt(limit_s: float) -> str | None:
            return _probe_http(session, inputs, wanted, limit_s)

    else:
        target = f"{inputs['host']}:{inputs['port']}"

        def attempt(limit_s: float) -> str | None:
            return _probe_tcp(str(inputs["host"]), int(inputs["port"]), limit_s)

    deadline = time.monotonic() + timeout_s
    attempts = 0
    while True:
        attempts += 1
        remaining = max(deadline - time.monotonic(), 0.05)
        problem = attempt(min(ATTEMPT_TIMEOUT_S, remaining))
        if problem is None:
            ctx.log.info("%s is ready (attempt %d)", target, attempts)
            return
        if time.monotonic() + interval_s > deadline:
            raise TaskFailed(
                f"{target} was not ready within {format_duration(timeout_s)} "
                f"({attempts} attempt{'s' if attempts > 1 else ''}); last attempt: {problem}"
            )
        ctx.log.debug("%s not ready yet: %s", target, problem)
        if ctx.stop.wait(interval_s):
            ctx.check_stop()


def _wanted_statuses(status: Any) -> set[int] | None:
    if status is None:
        return None
    return {int(s) for s in status} if isinstance(status, list) else {int(status)}


def _probe_http(
    session: httpclient.Session,
    inputs: Mapping[str, Any],
    wanted: set[int] | None,
    limit_s: float,
) -> str | None:
    """One probe within `limit_s` in all; only the status matters, so the body is not read."""
    try:
        response = httpclient.request(
            str(inputs.get("method", "GET")),
            str(inputs["url"]),
            headers=dict(inputs.get("headers") or {}),
            limits=httpclient.Limits(limit_s),
            verify=not inputs.get("insecureSkipVerify", False),
            retry=httpclient.RetryPolicy(attempts=1),
            session=session,
            allow_redirects=False,
            read_body=False,
        )
    except httpclient.DeadlineExceeded:
        return f"no answer within {format_duration(limit_s)}"
    except httpclient.HTTPFailure as exc:
        if isinstance(exc, httpclient.TLSFailure):
            return str(exc)
        if exc.status is None:
            return "connection refused or unreachable"
        status = exc.status  # a 5xx, which may be the status wanted
    else:
        status = response.status_code
    ok = status in wanted if wanted is not None else status < 400
    if ok:
        return None
    return _unexpected(status, wanted)


def _unexpected(status: int, wanted: set[int] | None) -> str:
    expected = " or ".join(str(s) for s in sorted(wanted)) if wanted else "a status below 400"
    return f"status {status}, expected {expected}"


def _probe_tcp(host: str, port: int, limit_s: float) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=limit_s):
            return None
    except TimeoutError:
        return f"no answer within {format_duration(limit_s)}"
    except OSError as exc:
        return exc.strerror or str(exc)


def secrets(inputs: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[str]:
    yield from url_secrets(inputs.get("url"))
    yield from header_secrets(inputs.get("headers"))


TASK = TaskType(
    name="ready",
    summary="wait until an HTTP URL answers or a TCP port accepts connections",
    run=run,
    secrets=secrets,
)
