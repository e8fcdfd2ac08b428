"""The `rollout` task: edit files on a branch and open (or update) a PR/MR with the report.

Typically under `if: SLOs()` or a winner condition. The edits are applied to
the files as they are on the target branch; the branch is then one commit on
top of it (re-pointed whenever its files differ from what the edits give), and
an open PR/MR from it is updated rather than a second one opened. Edits that
change nothing open nothing and say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from iter8_action.core.errors import TaskFailed
from iter8_action.rollout import change
from iter8_action.tasks._change import ChangeInputs
from iter8_action.tasks.base import TaskContext, TaskType

if TYPE_CHECKING:
    from iter8_action.rollout.provider import Provider


DEFAULT_BRANCH = "iter8/rollout-{{ experiment.name or 'experiment' }}"
DEFAULT_TITLE = (
    "{% if winner %}Roll out {{ winner.name }}{% else %}Iter8 rollout ({{ verdict }}){% endif %}"
)
DEFAULT_DOCUMENT = 0
DEFAULT_COUNT = 0
"""A `replace` edit's `count`: 0 replaces every match."""


@dataclass(frozen=True)
class SetEdit:
    """Set the YAML value at `path` of the file's `document` (a string value is a template)."""

    path: str
    value: Any
    document: int


@dataclass(frozen=True)
class ReplaceEdit:
    """Replace `pattern`'s matches with `replacement` (a template), `count` times (0: all)."""

    pattern: str
    replacement: str
    count: int


@dataclass(frozen=True)
class FileEdit:
    """One entry of `edits`: its `set` edits, then its `replace` edits, on one file."""

    file: str
    sets: tuple[SetEdit, ...]
    replaces: tuple[ReplaceEdit, ...]

    @classmethod
    def parse(cls, entry: Mapping[str, Any]) -> FileEdit:
        return cls(
            file=str(entry["file"]),
            sets=tuple(
                SetEdit(str(i["path"]), i["value"], int(i.get("document", DEFAULT_DOCUMENT)))
                for i in entry.get("set") or []
            ),
            replaces=tuple(
                ReplaceEdit(str(i["pattern"]), str(i["with"]), int(i.get("count", DEFAULT_COUNT)))
                for i in entry.get("replace") or []
            ),
        )


@dataclass(frozen=True)
class RolloutInputs:
    """`rollout`'s `with:`, parsed at load; its templates are rendered when the task runs."""

    change: ChangeInputs
    edits: tuple[FileEdit, ...]
    branch: str
    title: str
    commit_message: str | None
    """None: the rendered title."""

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> RolloutInputs:
        message = inputs.get("commitMessage")
        return cls(
            change=ChangeInputs.parse(inputs),
            edits=tuple(FileEdit.parse(e) for e in inputs["edits"]),
            branch=str(inputs.get("branch", DEFAULT_BRANCH)),
            title=str(inputs.get("title", DEFAULT_TITLE)),
            commit_message=None if message is None else str(message),
        )


def run(inputs: RolloutInputs, ctx: TaskContext) -> None:
    from iter8_action.events import values_for
    from iter8_action.rollout import description

    summary = ctx.summary()
    values = values_for(summary, ctx.result.to_dict())
    provider = inputs.change.provider(ctx, task="rollout")
    target = inputs.change.target(provider)
    branch = _render(inputs.branch, values, "branch")
    title = _render(inputs.title, values, "title")
    if not branch or not title:
        raise TaskFailed("rollout: the branch and title templates must not render empty")
    changed = _edited_files(provider, inputs.edits, target, values)
    if not changed:
        ctx.log.info(
            "rollout: the edits change nothing on %s (it already has these values); no %s opened",
            target,
            provider.kind,
        )
        return
    message_source = title if inputs.commit_message is None else inputs.commit_message
    message = _render(message_source, values, "commitMessage")
    change.push(provider, ctx.log, branch=branch, target=target, files=changed, message=message)
    body = description.body(ctx.document(), summary)
    inputs.change.propose(
        provider, ctx, branch=branch, target=target, title=title, body=body, task="rollout"
    )


def _render(source: str, values: Mapping[str, Any], name: str, *, strip: bool = True) -> str:
    from iter8_action.templates.render import TemplateError, render

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
    provider: Provider, edits: tuple[FileEdit, ...], target: str, values: Mapping[str, Any]
) -> dict[str, str]:
    """The new text of every file the edits change (files they leave as they were are left out)."""
    original: dict[str, str] = {}
    current: dict[str, str] = {}
    for number, edit in enumerate(edits):
        path = edit.file
        if path not in current:
            text = provider.read(path, target)
            if text is None:
                raise TaskFailed(f"rollout: edits[{number}]: {path} does not exist on {target}")
            original[path] = current[path] = text
        current[path] = _apply(current[path], edit, values, f"edits[{number}] ({path})")
    return {path: text for path, text in current.items() if text != original[path]}


def _apply(text: str, edit: FileEdit, values: Mapping[str, Any], where: str) -> str:
    from iter8_action.rollout import edits

    try:
        for item in edit.sets:
            value = item.value
            if isinstance(value, str):
                value = _render(value, values, f"{where} set {item.path}", strip=False)
            text = edits.set_yaml(text, item.path, value, document=item.document)
        for swap in edit.replaces:
            replacement = _render(swap.replacement, values, f"{where} replace", strip=False)
            text, found = edits.replace_regex(text, swap.pattern, replacement, count=swap.count)
            if not found:
                raise edits.EditError(f"the pattern {swap.pattern!r} matches nothing")
    except edits.EditError as exc:
        raise TaskFailed(f"rollout: {where}: {exc}") from exc
    return text


TASK = TaskType(
    name="rollout",
    summary="edit files on a branch and open or update a pull/merge request with the report",
    run=run,
    parse=RolloutInputs.parse,
    secrets=change.host_secrets,
)
