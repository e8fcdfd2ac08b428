"""Outgoing HTTP for tasks that talk to other services (backends, webhooks, APIs).

One place sets what every such request needs: a timeout, TLS verification
(optionally with a CA file), and retries with exponential backoff on connection
errors and 5xx answers, honouring `Retry-After` (RFC 9110 §10.2.3), with a bound
on the total time spent. Load generation does not use this: it has its own client.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from iter8_action.logs import get_logger
from iter8_action.secrets import SECRETS

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_TIMEOUT_S = 10.0
MAX_RETRY_AFTER_S = 60.0


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    """Tries in all, the first included."""
    backoff_s: float = 0.5
    """Wait before the second try; doubles each time."""
    max_total_s: float = 60.0
    """No retry starts once this much time has gone by since the first try."""


class HTTPFailure(Exception):
    """A request that failed after its retries; `status` is None for a connection error."""

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        self.status = status
        self.body = body
        super().__init__(SECRETS.redact(message))


class UnexpectedStatus(HTTPFailure):
    """A final answer other than the one the caller needs (a 404 for a document, say)."""

    def __init__(self, url: str, response: requests.Response) -> None:
        self.answer = f"{response.status_code} {response.reason}"
        super().__init__(
            f"{url} answered {self.answer}", status=response.status_code, body=response.text[:500]
        )


def get_text(
    url: str,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    verify: bool | str = True,
    retry: RetryPolicy = RetryPolicy(),
) -> str:
    """GET a document (a template, say): its text, or `UnexpectedStatus` for any answer but 200."""
    response = request("GET", url, timeout_s=timeout_s, verify=verify, retry=retry)
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
    timeout_s: float = DEFAULT_TIMEOUT_S,
    verify: bool | str = True,
    retry: RetryPolicy = RetryPolicy(),
    session: requests.Session | None = None,
) -> requests.Response:
    """Send a request, retrying transient failures; raise `HTTPFailure` on a final 5xx or no answer.

    A 4xx answer is returned as it is: the caller knows what 401 or 404 means for it.
    """
    log = get_logger("http")
    sender = session or requests.Session()
    started = time.monotonic()
    wait_s = retry.backoff_s
    last_response: requests.Response | None = None
    for attempt in range(1, retry.attempts + 1):
        retry_after: float | None = None
        try:
            log.debug("%s %s (attempt %d)", method, url, attempt)
            response = sender.request(
                method,
                url,
                headers=dict(headers or {}),
                params=params,
                data=data,
                json=json,
                auth=auth,
                timeout=timeout_s,
                verify=verify,
            )
        except requests.exceptions.SSLError as exc:
            raise HTTPFailure(f"TLS failure talking to {url}: {_reason(exc)}") from exc
        except requests.exceptions.Timeout:
            last_response = None
            problem = f"no answer from {url} within {timeout_s:g}s"
        except requests.exceptions.ConnectionError as exc:
            last_response = None
            problem = f"cannot connect to {url}: {_reason(exc)}"
        else:
            if response.status_code not in RETRY_STATUSES:
                return response
            problem = f"{url} answered {response.status_code} {response.reason}"
            retry_after = _retry_after_s(response.headers.get("Retry-After"))
            last_response = response
        delay = retry_after if retry_after is not None else wait_s
        out_of_time = time.monotonic() - started + delay > retry.max_total_s
        if attempt == retry.attempts or out_of_time:
            status = last_response.status_code if last_response is not None else None
            body = last_response.text[:500] if last_response is not None else ""
            tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
            raise HTTPFailure(f"{problem} ({tries})", status=status, body=body)
        log.warning("%s; retrying in %.1fs", problem, delay)
        time.sleep(delay)
        wait_s *= 2
    raise AssertionError("unreachable")


def _reason(exc: Exception) -> str:
    text = str(exc)
    # requests nests urllib3's long repr; the last clause is the useful one
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
