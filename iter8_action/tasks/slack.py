"""The `slack` task: a short Block Kit summary posted to an incoming webhook.

The webhook URL is a secret (anyone holding it can post): give it through
`urlEnv`; a `url` written in the experiment is masked in logs all the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from iter8_action.core.secrets import env_secrets
from iter8_action.tasks._event import DeliveryInputs, Destination
from iter8_action.tasks.base import TaskContext, TaskType


@dataclass(frozen=True)
class SlackInputs:
    """`slack`'s `with:`, parsed at load."""

    destination: Destination
    delivery: DeliveryInputs
    title: str | None

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> SlackInputs:
        title = inputs.get("title")
        return cls(
            destination=Destination.parse(inputs),
            delivery=DeliveryInputs.parse(inputs),
            title=None if title is None else str(title),
        )


def run(inputs: SlackInputs, ctx: TaskContext) -> None:
    from iter8_action.events import slack
    from iter8_action.events.delivery import send

    delivery = inputs.delivery.delivery()
    url = inputs.destination.resolve_url(ctx, what="slack", secret=True)
    payload = slack.message(ctx.summary(), title=inputs.title)
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
    name="slack",
    summary="post a summary to a Slack incoming webhook",
    run=run,
    parse=SlackInputs.parse,
    secrets=secrets,
)
