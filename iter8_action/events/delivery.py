"""Sending an event: how it is delivered, and secrets from the environment.

Every event task accepts `timeout` (a Go duration, default 10s: the deadline of
each attempt as a whole, a payload template's fetch included), `maxBodySize`
(the cap on an answer's size, default 10MiB) and `retries` (extra tries after
the first on connection errors, deadlines, 429 and 5xx, with exponential
backoff from 0.5s; default 3); `tasks/_event.py` parses them at load into a
`Delivery`'s options. `softFailure` (in `with:`, as in
Iter8, or next to `task:`) is the engine's business: the loader lifts it to the
task, and the engine records the failure and goes on with the verdict kept.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from iter8_action.core.errors import TaskFailed
from iter8_action.core.secrets import SECRETS
from iter8_action.net import httpclient

BACKOFF_S = 0.5
_LOGGED_BODY_CHARS = 4000
_ERROR_BODY_CHARS = 300


@dataclass(frozen=True)
class Delivery:
    limits: httpclient.Limits
    retries: int
    secret_headers: frozenset[str] = frozenset()
    """Header names to drop on a redirect to another origin (those given by `headersEnv`)."""

    @property
    def policy(self) -> httpclient.RetryPolicy:
        return httpclient.RetryPolicy(attempts=self.retries + 1, backoff_s=BACKOFF_S)


def secret_from_env(name: str, *, what: str, env: Mapping[str, str]) -> str:
    """A secret read from the environment variable `name`, registered before any use."""
    value = env.get(name, "")
    if not value.strip():
        raise TaskFailed(
            f"{what}: the environment variable {name} is not set or empty; set it in the step's "
            f"environment from a CI secret (GitHub: `env: {{{name}: ${{{{ secrets.{name} }}}}}}`; "
            f"GitLab: a masked CI/CD variable named {name})"
        )
    value = value.strip()
    SECRETS.add(value)
    return value


def url_input(
    url: str | None, url_env: str | None, *, what: str, env: Mapping[str, str], secret: bool = False
) -> str:
    """The task's `url`, or the URL held by the environment variable named in `urlEnv`.

    A URL from the environment is always treated as a secret (a Slack webhook URL
    is one); `secret=True` masks a URL written in the experiment as well.
    """
    if url_env:
        return secret_from_env(url_env, what=what, env=env)
    assert url is not None, "the schema requires url or urlEnv"
    if secret:
        SECRETS.add(url)
    return url


def send(
    method: str,
    url: str,
    *,
    what: str,
    delivery: Delivery,
    log: logging.Logger,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    body: bytes | None = None,
    form: Mapping[str, str] | None = None,
) -> requests.Response:
    """Send one request with retries; raise `TaskFailed` (user's terms) unless it gets a 2xx/3xx."""
    headers = dict(headers or {})
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = urlencode(dict(form)).encode()
    _log_request(log, method, url, headers=headers, params=params, body=body, form=form)
    try:
        response = httpclient.request(
            method,
            url,
            headers=headers,
            params=params,
            data=body,
            limits=delivery.limits,
            retry=delivery.policy,
            session=httpclient.Session(secret_headers=delivery.secret_headers),
        )
    except httpclient.HTTPFailure as exc:
        raise TaskFailed(f"{what}: {SECRETS.redact(str(exc))}") from exc
    if response.status_code >= 400:
        text = response.text.strip().replace("\n", " ")[:_ERROR_BODY_CHARS]
        raise TaskFailed(
            SECRETS.redact(
                f"{what}: {_origin(url)} answered {response.status_code} {response.reason}"
                + (f": {text}" if text else "")
            )
        )
    log.info("%s: delivered (%d %s)", what, response.status_code, response.reason)
    return response


def _origin(url: str) -> str:
    """The URL without its query (query strings carry tokens more often than paths do)."""
    return SECRETS.redact(url.split("?", 1)[0])


def _log_request(
    log: logging.Logger,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    params: Mapping[str, Any] | None,
    body: bytes | None,
    form: Mapping[str, str] | None,
) -> None:
    if not log.isEnabledFor(logging.DEBUG):
        return
    credentials = httpclient.CREDENTIAL_HEADERS
    shown = {k: ("***" if k.lower() in credentials else v) for k, v in headers.items()}
    lines = [f"{method} {url}"]
    if params:
        lines.append(f"params: {dict(params)}")
    lines.extend(f"{k}: {v}" for k, v in shown.items())
    if form is not None:
        lines.append("form: " + ", ".join(f"{k}={v}" for k, v in form.items()))
    elif body:
        text = body.decode("utf-8", "replace")
        more = len(text) - _LOGGED_BODY_CHARS
        lines.append(
            text[:_LOGGED_BODY_CHARS] + (f"... ({more} more characters)" if more > 0 else "")
        )
    log.debug("request:\n  %s", SECRETS.redact("\n  ".join(lines)))


def api_base(url: str | None, *, env_var: str, default: str, env: Mapping[str, str]) -> str:
    """`url` (a task's `apiURL`), else the one the CI platform sets (`env_var`), else `default`."""
    return str(url or env.get(env_var) or default).rstrip("/")
