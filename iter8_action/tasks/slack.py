"""The `slack` task: a short Block Kit summary posted to an incoming webhook.

The webhook URL is a secret (anyone holding it can post): give it through
`urlEnv`; a `url` written in the experiment is masked in logs all the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from iter8_action.events import slack, summary_for
from iter8_action.events.delivery import Delivery, send, url_input
from iter8_action.secrets import env_secrets
from iter8_action.tasks.base import TaskContext, TaskType


def run(inputs: Mapping[str, Any], ctx: TaskContext) -> None:
    delivery = Delivery.from_inputs(inputs)
    _post(inputs, ctx, delivery)


def _post(inputs: Mapping[str, Any], ctx: TaskContext, delivery: Delivery) -> None:
    url = url_input(inputs, what="slack", secret=True)
    title = inputs.get("title")
    payload = slack.message(summary_for(ctx), title=None if title is None else str(title))
    send(
        "POST",
        url,
        what="slack",
        delivery=delivery,
        log=ctx.log,
        headers={"Content-Type": "application/json; charset=utf-8"},
        body=json.dumps(payload, ensure_ascii=False).encode(),
    )


def secrets(inputs: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[str]:
    """The webhook URL itself: anyone holding it can post to the channel."""
    if isinstance(inputs.get("url"), str):
        yield inputs["url"]
    yield from env_secrets(env, [inputs.get("urlEnv")])


TASK = TaskType(
    name="slack", summary="post a summary to a Slack incoming webhook", run=run, secrets=secrets
)
