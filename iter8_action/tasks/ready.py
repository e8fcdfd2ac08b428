"""`ready` — wait until an HTTP URL answers with an expected status, or a TCP port accepts.

Iter8's `ready` waited for Kubernetes resources; in a pipeline the thing to wait
for is the app itself, so this one polls the app's URL or port.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from iter8_action.core.durations import format_duration
from iter8_action.core.errors import TaskFailed
from iter8_action.core.secrets import header_secrets, url_secrets
from iter8_action.tasks._fields import duration_s
from iter8_action.tasks.base import TaskContext, TaskType

if TYPE_CHECKING:
    from iter8_action.net import httpclient


DEFAULT_TIMEOUT_S = 60.0
DEFAULT_INTERVAL_S = 1.0
DEFAULT_METHOD = "GET"
ATTEMPT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ReadyInputs:
    """`ready`'s `with:`, parsed once with its defaults (the schema has checked its shape):
    an HTTP URL to probe, or else a TCP host and port."""

    timeout_s: float
    interval_s: float
    url: str | None
    method: str
    headers: Mapping[str, Any]
    wanted: frozenset[int] | None
    """The statuses that mean ready; None: any status below 400."""
    verify: bool
    host: str
    port: int

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> ReadyInputs:
        timeout_s = duration_s(inputs, "timeout")
        interval_s = duration_s(inputs, "interval")
        return cls(
            timeout_s=DEFAULT_TIMEOUT_S if timeout_s is None else timeout_s,
            interval_s=DEFAULT_INTERVAL_S if interval_s is None else interval_s,
            url=str(inputs["url"]) if "url" in inputs else None,
            method=str(inputs.get("method", DEFAULT_METHOD)),
            headers=dict(inputs.get("headers") or {}),
            wanted=_wanted_statuses(inputs.get("status")),
            verify=not inputs.get("insecureSkipVerify", False),
            host=str(inputs.get("host", "")),
            port=int(inputs.get("port", 0)),
        )

    @property
    def target(self) -> str:
        return self.url if self.url is not None else f"{self.host}:{self.port}"


def run(spec: ReadyInputs, ctx: TaskContext) -> None:
    from iter8_action.net import httpclient

    if spec.url is not None:
        session = httpclient.Session(secret_headers=frozenset(spec.headers))

        def attempt(limit_s: float) -> str | None:
            return _probe_http(session, spec, limit_s)

    else:

        def attempt(limit_s: float) -> str | None:
            return _probe_tcp(spec.host, spec.port, limit_s)

    target, timeout_s, interval_s = spec.target, spec.timeout_s, spec.interval_s
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


def _wanted_statuses(status: Any) -> frozenset[int] | None:
    if status is None:
        return None
    return (
        frozenset(int(s) for s in status) if isinstance(status, list) else frozenset({int(status)})
    )


def _probe_http(session: httpclient.Session, spec: ReadyInputs, limit_s: float) -> str | None:
    """One probe within `limit_s` in all; only the status matters, so the body is not read."""
    from iter8_action.net import httpclient

    try:
        response = httpclient.request(
            spec.method,
            str(spec.url),
            headers=dict(spec.headers),
            limits=httpclient.Limits(limit_s),
            verify=spec.verify,
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
    ok = status in spec.wanted if spec.wanted is not None else status < 400
    if ok:
        return None
    return _unexpected(status, spec.wanted)


def _unexpected(status: int, wanted: frozenset[int] | None) -> str:
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
    parse=ReadyInputs.parse,
    secrets=secrets,
)
