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
from typing import Any

from iter8_action import httpclient
from iter8_action.errors import TaskFailed
from iter8_action.events import summary_for, values_for
from iter8_action.events.delivery import Delivery, secret_from_env, send, url_input
from iter8_action.secrets import env_secrets, header_secrets, url_secrets
from iter8_action.tasks.base import TaskContext, TaskType
from iter8_action.templating import TemplateError, render


def run(inputs: Mapping[str, Any], ctx: TaskContext) -> None:
    delivery = Delivery.from_inputs(inputs)
    _notify(inputs, ctx, delivery)


def _notify(inputs: Mapping[str, Any], ctx: TaskContext, delivery: Delivery) -> None:
    url = url_input(inputs, what="notify")
    headers = {str(k): str(v) for k, v in (inputs.get("headers") or {}).items()}
    for header, env_name in (inputs.get("headersEnv") or {}).items():
        headers[str(header)] = secret_from_env(str(env_name), what=f"notify header {header}")
    payload = _payload(inputs, ctx, delivery)
    method = str(inputs.get("method") or ("POST" if payload is not None else "GET"))
    if payload is not None and not any(h.lower() == "content-type" for h in headers):
        headers["Content-Type"] = str(inputs.get("contentType") or _content_type(payload))
    send(
        method,
        url,
        what="notify",
        delivery=delivery,
        log=ctx.log,
        headers=headers,
        params=inputs.get("params"),
        body=None if payload is None else payload.encode(),
    )


def _payload(inputs: Mapping[str, Any], ctx: TaskContext, delivery: Delivery) -> str | None:
    source, name = payload_template(inputs, ctx, delivery, what="notify")
    if source is None:
        return None
    summary = summary_for(ctx)
    try:
        return render(source, values_for(summary, ctx.result.to_dict()), name=name)
    except TemplateError as exc:
        raise TaskFailed(f"notify: payload template {exc}") from None


def payload_template(
    inputs: Mapping[str, Any], ctx: TaskContext, delivery: Delivery, *, what: str
) -> tuple[str | None, str]:
    """The payload template's text and name, from `payloadTemplate`, `...File` or `...URL`."""
    if "payloadTemplate" in inputs:
        return str(inputs["payloadTemplate"]), "payloadTemplate"
    if "payloadTemplateFile" in inputs:
        path = ctx.path(str(inputs["payloadTemplateFile"]))
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise TaskFailed(
                f"{what}: cannot read payloadTemplateFile {path}: {exc.strerror}; "
                "the path is relative to the experiment file"
            ) from None
    if "payloadTemplateURL" in inputs:
        url = str(inputs["payloadTemplateURL"])
        try:
            text = httpclient.get_text(url, limits=delivery.limits, retry=delivery.policy)
        except httpclient.HTTPFailure as exc:
            raise TaskFailed(f"{what}: cannot fetch payloadTemplateURL: {exc}") from None
        return text, url
    return None, ""


def _content_type(payload: str) -> str:
    try:
        json.loads(payload)
    except ValueError:
        return "text/plain; charset=utf-8"
    return "application/json"


def secrets(inputs: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[str]:
    yield from url_secrets(inputs.get("url"))
    yield from url_secrets(inputs.get("payloadTemplateURL"))
    yield from header_secrets(inputs.get("headers"))
    yield from header_secrets(inputs.get("params"))
    yield from env_secrets(env, [inputs.get("urlEnv"), *(inputs.get("headersEnv") or {}).values()])


TASK = TaskType(
    name="notify", summary="send a webhook request about the result", run=run, secrets=secrets
)
