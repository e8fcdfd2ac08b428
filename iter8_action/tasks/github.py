"""The `github` task: Iter8's `repository_dispatch` event, or a `workflow_dispatch` of a workflow.

`repository_dispatch` (the default) POSTs `/repos/{owner}/{repo}/dispatches`
with `{"event_type": "iter8", "client_payload": <summary>}`, as Iter8 did;
`payloadTemplate*` replaces that whole body, as Iter8's `payloadTemplateURL`
did. With `workflow`, POSTs `/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches`
with `{"ref": ..., "inputs": {...}}`, the inputs rendered as templates.
Both need a token with write access, read from `tokenEnv` (default GITHUB_TOKEN).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from iter8_action.errors import TaskFailed
from iter8_action.secrets import env_secrets, url_secrets
from iter8_action.tasks.base import TaskContext, TaskType
from iter8_action.tasks.notify import payload_template

if TYPE_CHECKING:
    from iter8_action.events.delivery import Delivery


PUBLIC_API = "https://api.github.com"
DEFAULT_EVENT_TYPE = "iter8"


def run(inputs: Mapping[str, Any], ctx: TaskContext) -> None:
    from iter8_action.events.delivery import Delivery

    delivery = Delivery.from_inputs(inputs)
    _dispatch(inputs, ctx, delivery)


def repository(inputs: Mapping[str, Any], env: Mapping[str, str]) -> tuple[str, str]:
    """`owner` and `repo`, defaulting to the repository of the GitHub Actions run."""
    owner, repo = inputs.get("owner"), inputs.get("repo")
    if not (owner and repo):
        here = env.get("GITHUB_REPOSITORY", "")
        if "/" not in here:
            raise TaskFailed(
                "github: no repository: set `owner` and `repo` (outside GitHub Actions, "
                "GITHUB_REPOSITORY is not there to default them)"
            )
        default_owner, default_repo = here.split("/", 1)
        owner, repo = owner or default_owner, repo or default_repo
    return str(owner), str(repo)


def _dispatch(inputs: Mapping[str, Any], ctx: TaskContext, delivery: Delivery) -> None:
    from iter8_action.events import render_strings, values_for
    from iter8_action.events.delivery import api_url, secret_from_env, send

    owner, repo = repository(inputs, ctx.env)
    token = secret_from_env(str(inputs.get("tokenEnv", "GITHUB_TOKEN")), what="github", env=ctx.env)
    api = api_url(inputs, env_var="GITHUB_API_URL", default=PUBLIC_API, env=ctx.env)
    base = f"{api}/repos/{quote(owner)}/{quote(repo)}"
    summary = ctx.summary()
    values = values_for(summary, ctx.result.to_dict())
    if "workflow" in inputs:
        workflow = quote(str(inputs["workflow"]), safe="")
        url = f"{base}/actions/workflows/{workflow}/dispatches"
        body: Any = {
            "ref": str(inputs["ref"]),
            "inputs": render_strings(
                inputs.get("inputs") or {}, values, what="inputs", task="github"
            ),
        }
        what = f"github workflow_dispatch of {inputs['workflow']}"
    else:
        url = f"{base}/dispatches"
        body = _repository_dispatch_body(inputs, ctx, delivery, summary, values)
        what = "github repository_dispatch"
    send(
        "POST",
        url,
        what=what,
        delivery=delivery,
        log=ctx.log,
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "Content-Type": "application/json",
        },
        body=json.dumps(body).encode(),
    )


def _repository_dispatch_body(
    inputs: Mapping[str, Any],
    ctx: TaskContext,
    delivery: Delivery,
    summary: Mapping[str, Any],
    values: Mapping[str, Any],
) -> Any:
    from iter8_action.templating import TemplateError, render

    source, name = payload_template(inputs, ctx, delivery, what="github")
    if source is None:
        return {
            "event_type": str(inputs.get("eventType", DEFAULT_EVENT_TYPE)),
            "client_payload": summary,
        }
    try:
        text = render(source, values, name=name)
    except TemplateError as exc:
        raise TaskFailed(f"github: payload template {exc}") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise TaskFailed(
            f"github: the payload template {name} did not render to JSON ({exc}); "
            'the body must be {"event_type": ..., "client_payload": {...}}'
        ) from exc


def secrets(inputs: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[str]:
    yield from env_secrets(env, [inputs.get("tokenEnv", "GITHUB_TOKEN")])
    yield from url_secrets(inputs.get("apiURL"))
    yield from url_secrets(inputs.get("payloadTemplateURL"))


TASK = TaskType(
    name="github",
    summary="send a repository_dispatch or workflow_dispatch event to GitHub",
    run=run,
    secrets=secrets,
)
