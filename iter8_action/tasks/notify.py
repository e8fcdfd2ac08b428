"""The `notify` task: Iter8's generic webhook, with a payload template over the result summary.

Inputs (Iter8's): `url`, `method`, `params`, `headers`, `payloadTemplateURL`
(and `softFailure`, which the engine handles); ours: `urlEnv`, `headersEnv`
(header name to the environment variable holding its value, for tokens),
`payloadTemplate` (inline), `payloadTemplateFile`, `contentType`, `timeout`,
`retries`. Without a payload
the request is a GET, as in Iter8; with one, a POST.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from iter8_action.core.errors import TaskFailed
from iter8_action.core.secrets import header_secrets, url_secrets
from iter8_action.tasks._event import (
    DeliveryInputs,
    Destination,
    PayloadTemplate,
    destination_secrets,
)
from iter8_action.tasks._fields import text_or_none
from iter8_action.tasks.base import TaskContext, TaskType

if TYPE_CHECKING:
    from iter8_action.events.delivery import Delivery


@dataclass(frozen=True)
class NotifyInputs:
    """`notify`'s `with:`, parsed at load; the payload is rendered when the task runs."""

    destination: Destination
    delivery: DeliveryInputs
    payload: PayloadTemplate
    method: str | None
    """None: POST with a payload, else GET (as in Iter8)."""
    params: Mapping[str, Any] | None
    content_type: str | None
    """None: JSON when the payload parses as JSON, else plain text."""

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> NotifyInputs:
        params = inputs.get("params")
        return cls(
            destination=Destination.parse(inputs),
            delivery=DeliveryInputs.parse(inputs),
            payload=PayloadTemplate.parse(inputs),
            method=text_or_none(inputs.get("method")),
            params=None if params is None else dict(params),
            content_type=text_or_none(inputs.get("contentType")),
        )


def run(inputs: NotifyInputs, ctx: TaskContext) -> None:
    from iter8_action.events.delivery import send

    delivery = inputs.delivery.delivery(secret_headers=inputs.destination.headers_env)
    url = inputs.destination.resolve_url(ctx, what="notify")
    headers = inputs.destination.resolve_headers(ctx, what="notify")
    payload = _payload(inputs, ctx, delivery)
    method = inputs.method or ("POST" if payload is not None else "GET")
    if payload is not None and not any(h.lower() == "content-type" for h in headers):
        headers["Content-Type"] = inputs.content_type or _content_type(payload)
    send(
        method,
        url,
        what="notify",
        delivery=delivery,
        log=ctx.log,
        headers=headers,
        params=inputs.params,
        body=None if payload is None else payload.encode(),
    )


def _payload(inputs: NotifyInputs, ctx: TaskContext, delivery: Delivery) -> str | None:
    from iter8_action.events import values_for
    from iter8_action.templates.render import TemplateError, render

    source, name = inputs.payload.source(ctx, delivery, what="notify")
    if source is None:
        return None
    summary = ctx.summary()
    try:
        return render(source, values_for(summary, ctx.result.to_dict()), name=name)
    except TemplateError as exc:
        raise TaskFailed(f"notify: payload template {exc}") from exc


def _content_type(payload: str) -> str:
    try:
        json.loads(payload)
    except ValueError:
        return "text/plain; charset=utf-8"
    return "application/json"


def secrets(inputs: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[str]:
    yield from destination_secrets(inputs, env)
    yield from url_secrets(inputs.get("payloadTemplateURL"))
    yield from header_secrets(inputs.get("params"))


TASK = TaskType(
    name="notify",
    summary="send a webhook request about the result",
    run=run,
    parse=NotifyInputs.parse,
    secrets=secrets,
)
