"""The `cloudevent` task: a CloudEvents 1.0 event over HTTP carrying the result summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from iter8_action.core.errors import TaskFailed
from iter8_action.tasks._event import DeliveryInputs, Destination, destination_secrets
from iter8_action.tasks.base import TaskContext, TaskType

DEFAULT_MODE = "binary"


@dataclass(frozen=True)
class CloudEventInputs:
    """`cloudevent`'s `with:`, parsed at load."""

    destination: Destination
    delivery: DeliveryInputs
    mode: str
    """`binary` (attributes in headers) or `structured` (the whole event in the body)."""
    event_type: str | None
    source: str | None
    extensions: Mapping[str, str] | None

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> CloudEventInputs:
        extensions = inputs.get("extensions")
        return cls(
            destination=Destination.parse(inputs),
            delivery=DeliveryInputs.parse(inputs),
            mode=str(inputs.get("mode", DEFAULT_MODE)),
            event_type=inputs.get("type"),
            source=inputs.get("source"),
            extensions=None if extensions is None else dict(extensions),
        )


def run(inputs: CloudEventInputs, ctx: TaskContext) -> None:
    from cloudevents.core.exceptions import CloudEventValidationError

    from iter8_action.events import cloudevent
    from iter8_action.events.delivery import send

    delivery = inputs.delivery.delivery(secret_headers=inputs.destination.headers_env)
    url = inputs.destination.resolve_url(ctx, what="cloudevent")
    try:
        event_headers, body = cloudevent.encode(
            ctx.summary(),
            mode=inputs.mode,
            event_type=inputs.event_type,
            source=inputs.source,
            extensions=inputs.extensions,
        )
    except CloudEventValidationError as exc:
        raise TaskFailed(f"cloudevent: invalid event attributes: {exc}") from exc
    headers = inputs.destination.resolve_headers(ctx, what="cloudevent")
    send(
        "POST",
        url,
        what="cloudevent",
        delivery=delivery,
        log=ctx.log,
        headers={**headers, **event_headers},
        body=body,
    )


TASK = TaskType(
    name="cloudevent",
    summary="send a CloudEvents 1.0 event with the summary",
    run=run,
    parse=CloudEventInputs.parse,
    secrets=destination_secrets,
)
