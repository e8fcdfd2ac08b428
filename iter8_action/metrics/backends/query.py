"""One metric's request to its backend, and the backend's answer as JSON.

`build_query` is pure (spec + metric + auth headers -> Query), so what we send
is testable without a server; `send` talks to the backend through
`iter8_action.net.httpclient` (timeout, TLS verification, retries with backoff on
5xx and connection errors).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from iter8_action.core.errors import ExchangeFailed
from iter8_action.core.secrets import SECRETS
from iter8_action.metrics.backends.spec import MetricSpec, ProviderSpec
from iter8_action.net import httpclient

_SNIPPET_CHARS = 200


@dataclass(frozen=True)
class Query:
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    params: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    secret_headers: frozenset[str] = frozenset()
    """The headers `auth` added: dropped, with the usual credentials, on a cross-origin redirect."""

    @property
    def full_url(self) -> str:
        """The URL with the params added to its query string (form-encoded like Go's url.Values)."""
        if not self.params:
            return self.url
        parts = urlsplit(self.url)
        query = "&".join(q for q in (parts.query, urlencode(self.params)) if q)
        return urlunsplit(parts._replace(query=query))


@dataclass(frozen=True)
class Transport:
    """How requests travel: each attempt's deadline and size cap, TLS verification, retries."""

    limits: httpclient.Limits = field(default_factory=httpclient.Limits)
    verify: bool | str = True
    retry: httpclient.RetryPolicy = field(default_factory=httpclient.RetryPolicy)


class Refused(ExchangeFailed):
    """The backend refused our credentials (401 or 403): no other metric will fare better."""


class NoAnswer(ExchangeFailed):
    """The backend did not answer (connection error or timeout, after retries)."""


class TLSFailure(ExchangeFailed):
    """The backend's certificate could not be verified: a setup problem, not a missing value."""


class Misdirected(ExchangeFailed):
    """The backend redirected in a loop or away from HTTP(S): a setup problem, like TLS."""


class BadAnswer(ExchangeFailed):
    """The backend answered, but not with usable JSON; the metric has no data."""


def build_query(spec: ProviderSpec, metric: MetricSpec, auth: Mapping[str, str]) -> Query:
    """The request for `metric`: the provider's method, URL, headers; the metric's params, body."""
    headers = {**spec.headers, **auth}
    body = metric.body.encode() if metric.body is not None else None
    if body is not None and not any(k.lower() == "content-type" for k in headers):
        # Iter8 sent every body as JSON; a string body that is not JSON is sent as text
        headers["Content-Type"] = "application/json" if _is_json(metric.body) else "text/plain"
    return Query(spec.method, spec.url, headers, metric.params, body, frozenset(auth))


def _is_json(text: str | None) -> bool:
    try:
        json.loads(text or "")
    except ValueError:
        return False
    return True


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    text = text if len(text) <= _SNIPPET_CHARS else text[: _SNIPPET_CHARS - 3] + "..."
    return SECRETS.redact(text)


def send(query: Query, transport: Transport) -> Any:
    """Send `query`; return the decoded JSON answer.

    Raises `Refused` on 401/403, `TLSFailure` when the certificate is not trusted,
    `NoAnswer` when the backend cannot be reached, `BadAnswer` on any other
    failure of this one request.
    """
    try:
        response = httpclient.request(
            query.method,
            query.full_url,
            headers=query.headers,
            data=query.body,
            limits=transport.limits,
            verify=transport.verify,
            retry=transport.retry,
            session=httpclient.Session(secret_headers=query.secret_headers),
        )
    except httpclient.HTTPFailure as exc:
        message = str(exc).replace(query.full_url, query.url)  # the params are long: name the URL
        if isinstance(exc, httpclient.TLSFailure):
            raise TLSFailure(message) from exc
        if isinstance(exc, httpclient.Misdirected):
            raise Misdirected(message) from exc
        if exc.status is None:
            raise NoAnswer(message) from exc
        detail = f": {_snippet(exc.body)}" if exc.body.strip() else ""
        raise BadAnswer(f"{message}{detail}") from exc
    status = f"{response.status_code} {response.reason}".strip()
    if response.status_code in (401, 403):
        detail = f" ({_snippet(response.text)})" if response.text.strip() else ""
        raise Refused(f"{query.url} answered {status}{detail}")
    if not 200 <= response.status_code < 300:
        detail = f": {_snippet(response.text)}" if response.text.strip() else ""
        raise BadAnswer(f"{query.url} answered {status}{detail}")
    try:
        return response.json()
    except ValueError as exc:
        raise BadAnswer(
            f"{query.url} answered {status} but the body is not JSON "
            f"({exc}): {_snippet(response.text) or 'empty body'}"
        ) from exc
