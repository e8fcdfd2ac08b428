"""The `traffic` task: move a release one step, as a reviewed pull or merge request.

It reads the routing manifest on the target branch (where the last merged step left the
release), decides from the assessment what comes next (the candidate met its SLOs: the
next step, or promotion after the last; it violated one: roll back; no data, no SLOs or a
failed task: stay), and writes the manifest for that state through the rollout
machinery: one branch and one PR/MR per application, updated in place by later runs,
whose description says the step and why, then the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from iter8_action.core.errors import InputsInvalid, TaskFailed
from iter8_action.rollout import change
from iter8_action.tasks._change import ChangeInputs
from iter8_action.tasks._fields import text_or_none
from iter8_action.tasks.base import TaskContext, TaskType
from iter8_action.traffic.model import Routing, RoutingError, routing_from

RECORD_ONLY = "none"
"""The `platform` that records the decision without a repository to change."""


@dataclass(frozen=True)
class TrafficInputs:
    """`traffic`'s `with:`, parsed at load: the release's routing (a strategy its
    environment cannot do is an invalid experiment), the code host and the request."""

    routing: Routing
    record_only: bool
    """`platform: none`: the decision goes to the log and the result, no request is opened."""
    change: ChangeInputs
    branch: str | None
    """None: `iter8/traffic-<app>`."""

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> TrafficInputs:
        try:
            routing = routing_from(inputs)
        except RoutingError as exc:
            raise InputsInvalid(str(exc)) from exc
        record_only = inputs.get("platform") == RECORD_ONLY
        host_fields = {k: v for k, v in inputs.items() if k != "platform"}
        return cls(
            routing=routing,
            record_only=record_only,
            change=ChangeInputs.parse(host_fields if record_only else inputs),
            branch=text_or_none(inputs.get("branch")),
        )


def run(inputs: TrafficInputs, ctx: TaskContext) -> None:
    from iter8_action.rollout import description
    from iter8_action.traffic.manifests import current_state, next_text
    from iter8_action.traffic.model import Decision, decide, step_line

    routing = inputs.routing
    summary = ctx.summary()
    if inputs.record_only:
        _record_only(routing, summary, ctx)
        return
    provider = inputs.change.provider(ctx, task="traffic")
    target = inputs.change.target(provider)
    text = provider.read(routing.file, target)
    try:
        state = current_state(text, routing)
        decision, following, why = decide(summary, routing.candidate.name, state, routing)
        step = step_line(routing, state, following, decision, why)
        ctx.result.tasks[ctx.index].output = step
        if decision is Decision.STAY:
            ctx.log.info("traffic: %s stays at %s: %s", routing.app, state.describe(routing), why)
            return
        new_text = next_text(text, routing, following)
    except RoutingError as exc:
        raise TaskFailed(f"traffic: {exc}") from exc
    ctx.log.info("traffic: %s", step)
    branch = inputs.branch or f"iter8/traffic-{routing.app}"
    title = f"Traffic for {routing.app}: {following.describe(routing)}"
    change.push(
        provider,
        ctx.log,
        branch=branch,
        target=target,
        files={routing.file: new_text},
        message=f"{title}\n\n{step}",
        task="traffic",
    )
    body = f"**{step}**\n\n{description.body(ctx.document(), summary)}"
    inputs.change.propose(
        provider, ctx, branch=branch, target=target, title=title, body=body, task="traffic"
    )


def _record_only(routing: Routing, summary: Mapping[str, Any], ctx: TaskContext) -> None:
    """`platform: none`: the decision for a new release goes to the log and the result.

    Without the repository the task cannot see the current step; `iter8 traffic render`
    reads it from the user's checkout and writes the next manifests there.
    """
    from iter8_action.traffic.manifests import current_state
    from iter8_action.traffic.model import decide, step_line

    state = current_state(None, routing)
    decision, following, why = decide(summary, routing.candidate.name, state, routing)
    line = step_line(routing, state, following, decision, why)
    ctx.result.tasks[ctx.index].output = line
    ctx.log.info("traffic: %s (platform: none; `iter8 traffic render` writes the manifests)", line)


TASK = TaskType(
    name="traffic",
    summary="move a release one step (canary, blue-green, mirror, segment, affinity) "
    "as a reviewed pull or merge request",
    run=run,
    parse=TrafficInputs.parse,
    secrets=change.host_secrets,
)
