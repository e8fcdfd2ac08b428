"""The `rollout` task: edit files on a branch and open (or update) a PR/MR with the report.

Typically under `if: SLOs()` or a winner condition. The edits are applied to
the files as they are on the target branch; the branch is then one commit on
top of it (re-pointed whenever its files differ from what the edits give), and
an open PR/MR from it is updated rather than a second one opened. Edits that
change nothing open nothing and say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from iter8_action.errors import TaskFailed
from iter8_action.rollout import change
from iter8_action.tasks.base import TaskContext, TaskType

if TYPE_CHECKING:
    from iter8_action.rollout.provider import Provider


DEFAULT_BRANCH = "iter8/rollout-{{ experiment.name or 'experiment' }}"
DEFAULT_TITLE = (
    "{% if winner %}Roll out {{ winner.name }}{% else %}Iter8 rollout ({{ verdict }}){% endif %}"
)


def run(inputs: Mapping[str, Any], ctx: TaskContext) -> None:
    from iter8_action.events import values_for
    from iter8_action.rollout import description

    summary = ctx.summary()
    values = values_for(summary, ctx.result.to_dict())
    provider = change.make_provider(inputs, env=ctx.env, platform=ctx.platform)
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
    change.push(provider, ctx.log, branch=branch, target=target, files=changed, message=message)
    request = change.open_or_update(
        provider,
        ctx.log,
        branch=branch,
        target=target,
        title=title,
        body=description.body(ctx.document(), summary),
        draft=bool(inputs.get("draft")),
    )
    change.decorate(provider, ctx.log, request, inputs)


def _render(source: str, values: Mapping[str, Any], name: str, *, strip: bool = True) -> str:
    from iter8_action.templating import TemplateError, render

    try:
        text = render(source, values, name=name)
    except TemplateError as exc:
        hint = ""
        if "winner" in source and values.get("winner") is None:
            hint = (
                "; the assessment found no winner: run this task only when there is one "
                "(e.g. under `if: SLOs()` with rewards, or a winner condition)"
            )
        raise TaskFailed(f"rollout: template {exc}{hint}") from exc
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
    from iter8_action.rollout import edits

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
        raise TaskFailed(f"rollout: {where}: {exc}") from exc
    return text


TASK = TaskType(
    name="rollout",
    summary="edit files on a branch and open or update a pull/merge request with the report",
    run=run,
    secrets=change.host_secrets,
)
