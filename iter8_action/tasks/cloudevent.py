"""The `cloudevent` task: a CloudEvents 1.0 event over HTTP carrying the result summary."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from iter8_action.errors import TaskFailed
from iter8_action.secrets import env_secrets, header_secrets, url_secrets
from iter8_action.tasks.base import TaskContext, TaskType

if TYPE_CHECKING:
    from iter8_action.events.delivery import Delivery


def run(inputs: Mapping[str, Any], ctx: TaskContext) -> None:
    from iter8_action.events.delivery import Delivery

    delivery = Delivery.from_inputs(inputs)
    _emit(inputs, ctx, delivery)


def _emit(inputs: Mapping[str, Any], ctx: TaskContext, delivery: Delivery) -> None:
    from cloudevents.core.exceptions import CloudEventValidationError

    from iter8_action.events import cloudevent
    from iter8_action.events.delivery import secret_from_env, send, url_input

    url = url_input(inputs, what="cloudevent", env=ctx.env)
    try:
        event_headers, body = cloudevent.encode(
            ctx.summary(),
            mode=str(inputs.get("mode", "binary")),
            event_type=inputs.get("type"),
            source=inputs.get("source"),
            extensions=inputs.get("extensions"),
        )
    except CloudEventValidationError as exc:
        raise TaskFailed(f"cloudevent: invalid event attributes: {exc}") from exc
    headers = {str(k): str(v) for k, v in (inputs.get("headers") or {}).items()}
    for header, env_name in (inputs.get("headersEnv") or {}).items():
        headers[str(header)] = secret_from_env(
            str(env_name), what=f"cloudevent header {header}", env=ctx.env
        )
    send(
        "POST",
        url,
        what="cloudevent",
        delivery=delivery,
        log=ctx.log,
        headers={**headers, **event_headers},
        body=body,
    )


def secrets(inputs: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[str]:
    yield from url_secrets(inputs.get("url"))
    yield from header_secrets(inputs.get("headers"))
    yield from env_secrets(env, [inputs.get("urlEnv"), *(inputs.get("headersEnv") or {}).values()])


TASK = TaskType(
    name="cloudevent",
    summary="send a CloudEvents 1.0 event with the summary",
    run=run,
    secrets=secrets,
)
