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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from iter8_action.core.errors import TaskFailed
from iter8_action.core.secrets import env_secrets, url_secrets
from iter8_action.tasks._event import DeliveryInputs, PayloadTemplate
from iter8_action.tasks._fields import strings, text_or_none
from iter8_action.tasks.base import TaskContext, TaskType

if TYPE_CHECKING:
    from iter8_action.events.delivery import Delivery


PUBLIC_API = "https://api.github.com"
DEFAULT_EVENT_TYPE = "iter8"
DEFAULT_TOKEN_ENV = "GITHUB_TOKEN"


@dataclass(frozen=True)
class GitHubInputs:
    """`github`'s `with:`, parsed at load; templates are rendered when the task runs."""

    owner: str | None
    repo: str | None
    """Both None or either: the repository of the GitHub Actions run fills them in."""
    token_env: str
    api_url: str | None
    """None: GITHUB_API_URL, else the public API."""
    delivery: DeliveryInputs
    workflow: str | None
    """None: a repository_dispatch; else a workflow_dispatch of this workflow."""
    ref: str | None
    workflow_inputs: Mapping[str, str]
    event_type: str
    payload: PayloadTemplate

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> GitHubInputs:
        return cls(
            owner=text_or_none(inputs.get("owner")),
            repo=text_or_none(inputs.get("repo")),
            token_env=str(inputs.get("tokenEnv", DEFAULT_TOKEN_ENV)),
            api_url=text_or_none(inputs.get("apiURL")),
            delivery=DeliveryInputs.parse(inputs),
            workflow=str(inputs["workflow"]) if "workflow" in inputs else None,
            ref=str(inputs["ref"]) if "ref" in inputs else None,
            workflow_inputs=strings(inputs.get("inputs")),
            event_type=str(inputs.get("eventType", DEFAULT_EVENT_TYPE)),
            payload=PayloadTemplate.parse(inputs),
        )


def repository(inputs: GitHubInputs, env: Mapping[str, str]) -> tuple[str, str]:
    """`owner` and `repo`, defaulting to the repository of the GitHub Actions run."""
    owner, repo = inputs.owner, inputs.repo
    if not (owner and repo):
        here = env.get("GITHUB_REPOSITORY", "")
        if "/" not in here:
            raise TaskFailed(
                "github: no repository: set `owner` and `repo` (outside GitHub Actions, "
                "GITHUB_REPOSITORY is not there to default them)"
            )
        default_owner, default_repo = here.split("/", 1)
        owner, repo = owner or default_owner, repo or default_repo
    return owner, repo


def run(inputs: GitHubInputs, ctx: TaskContext) -> None:
    from iter8_action.events import render_strings, values_for
    from iter8_action.events.delivery import api_base, secret_from_env, send

    delivery = inputs.delivery.delivery()
    owner, repo = repository(inputs, ctx.env)
    token = secret_from_env(inputs.token_env, what="github", env=ctx.env)
    api = api_base(inputs.api_url, env_var="GITHUB_API_URL", default=PUBLIC_API, env=ctx.env)
    base = f"{api}/repos/{quote(owner)}/{quote(repo)}"
    summary = ctx.summary()
    values = values_for(summary, ctx.result.to_dict())
    if inputs.workflow is not None:
        url = f"{base}/actions/workflows/{quote(inputs.workflow, safe='')}/dispatches"
        body: Any = {
            "ref": str(inputs.ref),
            "inputs": render_strings(inputs.workflow_inputs, values, what="inputs", task="github"),
        }
        what = f"github workflow_dispatch of {inputs.workflow}"
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
    inputs: GitHubInputs,
    ctx: TaskContext,
    delivery: Delivery,
    summary: Mapping[str, Any],
    values: Mapping[str, Any],
) -> Any:
    from iter8_action.templates.render import TemplateError, render

    source, name = inputs.payload.source(ctx, delivery, what="github")
    if source is None:
        return {"event_type": inputs.event_type, "client_payload": summary}
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
    yield from env_secrets(env, [inputs.get("tokenEnv", DEFAULT_TOKEN_ENV)])
    yield from url_secrets(inputs.get("apiURL"))
    yield from url_secrets(inputs.get("payloadTemplateURL"))


TASK = TaskType(
    name="github",
    summary="send a repository_dispatch or workflow_dispatch event to GitHub",
    run=run,
    parse=GitHubInputs.parse,
    secrets=secrets,
)
