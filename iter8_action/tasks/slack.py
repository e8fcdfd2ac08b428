"""The `slack` task: a short Block Kit summary posted to an incoming webhook.

The webhook URL is a secret (anyone holding it can post): give it through
`urlEnv`; a `url` written in the experiment is masked in logs all the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from iter8_action.secrets import env_secrets
from iter8_action.tasks.base import TaskContext, TaskType

if TYPE_CHECKING:
    from iter8_action.events.delivery import Delivery


def run(inputs: Mapping[str, Any], ctx: TaskContext) -> None:
    from iter8_action.events.delivery import Delivery

    delivery = Delivery.from_inputs(inputs)
    _post(inputs, ctx, delivery)


def _post(inputs: Mapping[str, Any], ctx: TaskContext, delivery: Delivery) -> None:
    from iter8_action.events import slack
    from iter8_action.events.delivery import send, url_input

    url = url_input(inputs, what="slack", secret=True, env=ctx.env)
    title = inputs.get("title")
    payload = slack.message(ctx.summary(), title=None if title is None else str(title))
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
