"""The `gitlab` task: trigger a GitLab pipeline with variables that carry the verdict.

POSTs `{apiURL}/projects/{project}/trigger/pipeline` (GitLab REST API,
"Trigger a pipeline with a token") with the trigger token, the `ref` and these
variables, plus any in `variables` (values are templates):

- `ITER8_VERDICT`: pass, fail, error or no-slos
- `ITER8_WINNER`: the winner's version name, or empty
- `ITER8_EXPERIMENT`: the experiment's name, or empty
- `ITER8_SUMMARY`: the whole summary as compact JSON
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from iter8_action.core.secrets import env_secrets, url_secrets
from iter8_action.tasks._event import DeliveryInputs
from iter8_action.tasks._fields import strings, text_or_none
from iter8_action.tasks.base import TaskContext, TaskType

PUBLIC_API = "https://gitlab.com/api/v4"
DEFAULT_TOKEN_ENV = "GITLAB_TRIGGER_TOKEN"


@dataclass(frozen=True)
class GitLabInputs:
    """`gitlab`'s `with:`, parsed at load; `variables` are rendered when the task runs."""

    project: str
    ref: str
    token_env: str
    api_url: str | None
    """None: CI_API_V4_URL, else the public API."""
    variables: Mapping[str, str]
    delivery: DeliveryInputs

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> GitLabInputs:
        return cls(
            project=str(inputs["project"]),
            ref=str(inputs["ref"]),
            token_env=str(inputs.get("tokenEnv", DEFAULT_TOKEN_ENV)),
            api_url=text_or_none(inputs.get("apiURL")),
            variables=strings(inputs.get("variables")),
            delivery=DeliveryInputs.parse(inputs),
        )


def verdict_variables(summary: Mapping[str, Any]) -> dict[str, str]:
    winner = summary.get("winner") or {}
    return {
        "ITER8_VERDICT": str(summary["verdict"]),
        "ITER8_WINNER": str(winner.get("name") or ""),
        "ITER8_EXPERIMENT": str((summary.get("experiment") or {}).get("name") or ""),
        "ITER8_SUMMARY": json.dumps(summary, separators=(",", ":")),
    }


def run(inputs: GitLabInputs, ctx: TaskContext) -> None:
    from iter8_action.events import render_strings, values_for
    from iter8_action.events.delivery import api_base, secret_from_env, send

    delivery = inputs.delivery.delivery()
    token = secret_from_env(inputs.token_env, what="gitlab", env=ctx.env)
    project = quote(inputs.project, safe="")
    api = api_base(inputs.api_url, env_var="CI_API_V4_URL", default=PUBLIC_API, env=ctx.env)
    url = f"{api}/projects/{project}/trigger/pipeline"
    summary = ctx.summary()
    variables = verdict_variables(summary)
    values = values_for(summary, ctx.result.to_dict())
    variables.update(render_strings(inputs.variables, values, what="variables", task="gitlab"))
    form = {"token": token, "ref": inputs.ref}
    form.update({f"variables[{name}]": value for name, value in variables.items()})
    response = send(
        "POST", url, what="gitlab pipeline trigger", delivery=delivery, log=ctx.log, form=form
    )
    try:
        pipeline = response.json()
    except ValueError:
        return
    if isinstance(pipeline, dict) and pipeline.get("web_url"):
        ctx.log.info("gitlab: pipeline %s started: %s", pipeline.get("id"), pipeline["web_url"])


def secrets(inputs: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[str]:
    yield from env_secrets(env, [inputs.get("tokenEnv", DEFAULT_TOKEN_ENV)])
    yield from url_secrets(inputs.get("apiURL"))


TASK = TaskType(
    name="gitlab",
    summary="trigger a GitLab pipeline with the verdict",
    run=run,
    parse=GitLabInputs.parse,
    secrets=secrets,
)
