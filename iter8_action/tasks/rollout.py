"""The `rollout` task: edit files on a branch and open (or update) a PR/MR with the report.

Typically under `if: SLOs()` or a winner condition. The edits are applied to
the files as they are on the target branch; the branch is then one commit on
top of it (re-pointed whenever its files differ from what the edits give), and
an open PR/MR from it is updated rather than a second one opened. Edits that
change nothing open nothing and say so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from iter8_action.errors import TaskFailed
from iter8_action.events import summary_for, values_for
from iter8_action.events.delivery import api_url, secret_from_env
from iter8_action.rollout import description, edits
from iter8_action.rollout.provider import ChangeRequest, Provider
from iter8_action.tasks.base import TaskContext, TaskType
from iter8_action.templating import TemplateError, render

DEFAULT_BRANCH = "iter8/rollout-{{ experiment.name or 'experiment' }}"
DEFAULT_TITLE = (
    "{% if winner %}Roll out {{ winner.name }}{% else %}Iter8 rollout ({{ verdict }}){% endif %}"
)


def run(inputs: Mapping[str, Any], ctx: TaskContext) -> None:
    summary = summary_for(ctx)
    values = values_for(summary, ctx.result.to_dict())
    provider = make_provider(inputs)
    target = str(inputs.get("targetBranch") or provider.default_branch())
    branch = _render(str(inputs.get("branch", DEFAULT_BRANCH)), values, "branch")
    title = _render(str(inputs.get("title", DEFAULT_TITLE)), values, "title")
    if not branch or not title:
        raise TaskFailed("rollout: the branch and title templates must not render empty")
    changed = _edited_files(provider, inputs["edits"], target, values)
    if not changed:
        ctx.log.info(
            "rollout: the edits change nothing on %s (it already has these values); no %s opened",
            target,
            provider.kind,
        )
        return
    message = _render(str(inputs.get("commitMessage", title)), values, "commitMessage")
    _push(provider, ctx, branch=branch, target=target, files=changed, message=message)
    request = _open_or_update(
        provider,
        ctx,
        branch=branch,
        target=target,
        title=title,
        body=description.body(ctx.document(), summary),
        draft=bool(inputs.get("draft")),
    )
    if inputs.get("labels"):
        provider.add_labels(request, [str(x) for x in inputs["labels"]])
    if inputs.get("reviewers"):
        provider.request_reviewers(request, [str(x) for x in inputs["reviewers"]])
    if inputs.get("autoMerge"):
        refused = provider.enable_auto_merge(request)
        if refused:
            ctx.log.warning("rollout: auto-merge not enabled: %s", refused)


def _push(
    provider: Provider,
    ctx: TaskContext,
    *,
    branch: str,
    target: str,
    files: Mapping[str, str],
    message: str,
) -> None:
    """Make `branch` one commit on `target` with `files`, unless it already holds them."""
    if provider.branch_exists(branch) and all(
        provider.read(path, branch) == text for path, text in files.items()
    ):
        ctx.log.info("rollout: %s already holds these changes", branch)
        return
    provider.commit(branch=branch, base=target, files=files, message=message)
    ctx.log.info("rollout: committed %s to %s", ", ".join(sorted(files)), branch)


def _open_or_update(
    provider: Provider,
    ctx: TaskContext,
    *,
    branch: str,
    target: str,
    title: str,
    body: str,
    draft: bool,
) -> ChangeRequest:
    """The open PR/MR from `branch`, updated; or a new one."""
    request = provider.find_open(branch=branch, target=target)
    if request is not None:
        provider.update(request, title=title, body=body)
        ctx.log.info("rollout: updated %s %s", provider.kind, request.url)
        return request
    request = provider.open(branch=branch, target=target, title=title, body=body, draft=draft)
    ctx.log.info("rollout: opened %s %s", provider.kind, request.url)
    return request


def make_provider(inputs: Mapping[str, Any]) -> Provider:
    platform = inputs.get("platform") or _platform_here()
    if platform == "github":
        from iter8_action.rollout.github import PUBLIC_API, GitHubProvider

        token_env = str(inputs.get("tokenEnv", "GITHUB_TOKEN"))
        return GitHubProvider(
            api_url=api_url(inputs, env_var="GITHUB_API_URL", default=PUBLIC_API),
            repository=_repository(inputs, "GITHUB_REPOSITORY"),
            token=secret_from_env(token_env, what="rollout"),
            token_env=token_env,
        )
    from iter8_action.rollout.gitlab import PUBLIC_API as GITLAB_API
    from iter8_action.rollout.gitlab import GitLabProvider

    token_env = str(inputs.get("tokenEnv", "GITLAB_TOKEN"))
    return GitLabProvider(
        api_url=api_url(inputs, env_var="CI_API_V4_URL", default=GITLAB_API),
        project=_repository(inputs, "CI_PROJECT_PATH"),
        token=secret_from_env(token_env, what="rollout"),
        token_env=token_env,
    )


def _platform_here() -> str:
    from iter8_action.platforms import ci_host

    host = ci_host(os.environ)
    if host is not None:
        return host.value
    raise TaskFailed(
        "rollout: cannot tell the code host outside GitHub Actions and GitLab CI; "
        "set `platform: github` or `platform: gitlab`"
    )


def _repository(inputs: Mapping[str, Any], env_var: str) -> str:
    repository = inputs.get("repository") or os.environ.get(env_var)
    if not repository:
        raise TaskFailed(f"rollout: set `repository` ({env_var} is not there to default it)")
    return str(repository)


def _render(source: str, values: Mapping[str, Any], name: str, *, strip: bool = True) -> str:
    try:
        text = render(source, values, name=name)
    except TemplateError as exc:
        hint = ""
        if "winner" in source and values.get("winner") is None:
            hint = (
                "; the assessment found no winner: run this task only when there is one "
                "(e.g. under `if: SLOs()` with rewards, or a winner condition)"
            )
        raise TaskFailed(f"rollout: template {exc}{hint}") from None
    return text.strip() if strip else text


def _edited_files(
    provider: Provider, specs: list[Mapping[str, Any]], target: str, values: Mapping[str, Any]
) -> dict[str, str]:
    """The new text of every file the edits change (files they leave as they were are left out)."""
    original: dict[str, str] = {}
    current: dict[str, str] = {}
    for number, spec in enumerate(specs):
        path = str(spec["file"])
        if path not in current:
            text = provider.read(path, target)
            if text is None:
                raise TaskFailed(f"rollout: edits[{number}]: {path} does not exist on {target}")
            original[path] = current[path] = text
        current[path] = _apply(current[path], spec, values, f"edits[{number}] ({path})")
    return {path: text for path, text in current.items() if text != original[path]}


def _apply(text: str, spec: Mapping[str, Any], values: Mapping[str, Any], where: str) -> str:
    try:
        for item in spec.get("set") or []:
            value = item["value"]
            if isinstance(value, str):
                value = _render(value, values, f"{where} set {item['path']}", strip=False)
            text = edits.set_yaml(
                text, str(item["path"]), value, document=int(item.get("document", 0))
            )
        for item in spec.get("replace") or []:
            replacement = _render(str(item["with"]), values, f"{where} replace", strip=False)
            text, found = edits.replace_regex(
                text, str(item["pattern"]), replacement, count=int(item.get("count", 0))
            )
            if not found:
                raise edits.EditError(f"the pattern {item['pattern']!r} matches nothing")
    except edits.EditError as exc:
        raise TaskFailed(f"rollout: {where}: {exc}") from None
    return text


TASK = TaskType(
    name="rollout",
    summary="edit files on a branch and open or update a pull/merge request with the report",
    run=run,
)
