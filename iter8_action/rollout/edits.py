"""Declarative file edits that keep formatting: YAML set-at-path and regex replace.

Setting an existing YAML scalar splices the new value into the text at the
exact span the YAML parser reports for the old one, in the old one's quoting
style, so every other byte (comments, key order, indentation, blank lines,
other documents) is kept as it was. A key that does not exist yet is added
as a new line after the last entry of its mapping, at that mapping's
indentation. Every edit is checked by reading the result back.

Paths: `spec.template.spec.containers[name=app].image`, `image.tag`,
`items[0].weight`, `annotations["example.com/key"]`; `[n]` indexes a list,
`[field=value]` selects the list item whose `field` is `value`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from iter8_action.core.child import run_bounded, value_or_raise
from iter8_action.core.errors import InvalidValue

_SEGMENT = re.compile(
    r"""\.?(?:
        (?P<key>[^.\[\]"']+)
      | \[(?P<index>-?\d+)\]
      | \[(?P<field>[^=\]]+)=(?P<value>[^\]]*)\]
      | \[(?P<quote>["'])(?P<quoted>.*?)(?P=quote)\]
    )""",
    re.VERBOSE,
)
REGEX_TIMEOUT_S = 5.0
REGEX_MEMORY_BYTES = 512 * 1024 * 1024

_INDENT = 2  # for the lines of keys added below a new key
_TYPED_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool"}
# characters that make a plain scalar mean something else in some context
_PLAIN_UNSAFE = re.compile(r"[,\[\]{}#&*!|>'\"%@`]|: |^[-?:]|^\s|\s$")


class EditError(InvalidValue):
    """An edit that cannot be applied; the message names the file, the path and the fix."""


@dataclass(frozen=True)
class Key:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Index:
    position: int

    def __str__(self) -> str:
        return f"[{self.position}]"


@dataclass(frozen=True)
class Select:
    field: str
    value: str

    def __str__(self) -> str:
        return f"[{self.field}={self.value}]"


Segment = Key | Index | Select


def parse_path(path: str) -> list[Segment]:
    """The segments of a path such as `spec.containers[name=app].image`."""
    segments: list[Segment] = []
    position = 0
    while position < len(path):
        match = _SEGMENT.match(path, position)
        if match is None or match.end() == position or (position == 0 and path.startswith(".")):
            raise EditError(
                f"cannot read the path {path!r} at character {position + 1}; write keys "
                "separated by dots, [n] for a list index, [field=value] to select a list item"
            )
        if match["key"] is not None:
            segments.append(Key(match["key"]))
        elif match["index"] is not None:
            segments.append(Index(int(match["index"])))
        elif match["field"] is not None:
            segments.append(Select(match["field"].strip(), match["value"].strip()))
        else:
            segments.append(Key(match["quoted"]))
        position = match.end()
    if not segments:
        raise EditError("the path is empty")
    return segments


def replace_regex(text: str, pattern: str, replacement: str, *, count: int = 0) -> tuple[str, int]:
    """Replace matches of `pattern` (multiline mode); return the text and the number of matches."""
    try:
        compiled = re.compile(pattern, re.MULTILINE)
    except re.error as exc:
        raise EditError(f"invalid regular expression {pattern!r}: {exc}") from exc

    def work() -> tuple[str, int]:
        try:
            return compiled.subn(replacement, text, count=count)
        except (re.error, IndexError) as exc:
            raise EditError(f"invalid replacement {replacement!r}: {exc}") from exc

    # the pattern is data, and Python's re backtracks: one call no clock can interrupt
    outcome = run_bounded(
        work, timeout_s=REGEX_TIMEOUT_S, memory_bytes=REGEX_MEMORY_BYTES, refusals=(EditError,)
    )
    edited, found = value_or_raise(
        outcome,
        EditError,
        too_slow=f"the regular expression {pattern!r} took longer than {REGEX_TIMEOUT_S:g}s on "
        "the file, the most an edit may take (nested repetition such as (a+)+ backtracks "
        "without end)",
        died=lambda how: f"the regular expression {pattern!r} ended with {how} (out of memory?)",
    )
    return str(edited), int(found)


def set_yaml(text: str, path: str, value: Any, *, document: int = 0) -> str:
    """`text` with the value at `path` (in document `document`) set to `value`."""
    segments = parse_path(path)
    roots = _compose(text)
    if document >= len(roots):
        raise EditError(f"there is no document {document}; the file has {len(roots)}")
    target, missing_from = _find(roots[document], segments)
    if target is not None and isinstance(target, ScalarNode):
        new_value = _coerce(value, target)
        if _same(target, new_value):
            return text
        start, end = target.start_mark.index, target.end_mark.index
        edited = text[:start] + _scalar_text(new_value, target.style) + text[end:]
    elif target is not None:
        raise EditError(
            f"{path} holds a {'list' if isinstance(target, SequenceNode) else 'mapping'}, "
            "not a single value; point the path at a value inside it"
        )
    else:
        edited = _add_key(roots[document], text, segments, missing_from, value)
    _check(edited, segments, document, value)
    return edited


def _compose(text: str) -> list[Node]:
    try:
        roots = [n for n in YAML().compose_all(text) if n is not None]
    except YAMLError as exc:
        raise EditError(f"not valid YAML: {_yaml_problem(exc)}") from exc
    if not roots:
        raise EditError("the file holds no YAML document")
    return roots


def _yaml_problem(exc: YAMLError) -> str:
    return " ".join(str(exc).split())


def _find(root: Node, segments: Sequence[Segment]) -> tuple[Node | None, int]:
    """The node at `segments`, or None and the index of the first segment that is missing."""
    node = root
    for i, segment in enumerate(segments):
        child = _child(node, segment, segments[:i])
        if child is None:
            return None, i
        node = child
    return node, len(segments)


def _child(node: Node, segment: Segment, above: Sequence[Segment]) -> Node | None:
    where = _shown(above) or "the document"
    if isinstance(segment, Key):
        if not isinstance(node, MappingNode):
            raise EditError(f"{where} is not a mapping, so it has no key {segment.name!r}")
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == segment.name:
                return value  # type: ignore[no-any-return]
        return None
    if not isinstance(node, SequenceNode):
        raise EditError(f"{where} is not a list, so {segment} does not apply")
    items: list[Node] = node.value
    if isinstance(segment, Index):
        if -len(items) <= segment.position < len(items):
            return items[segment.position]
        raise EditError(f"{where} has {len(items)} item(s); there is no {segment}")
    for item in items:
        if isinstance(item, MappingNode):
            for key, value in item.value:
                if key.value == segment.field and getattr(value, "value", None) == segment.value:
                    return item
    found = sorted(
        str(v.value)
        for item in items
        if isinstance(item, MappingNode)
        for k, v in item.value
        if k.value == segment.field and isinstance(v, ScalarNode)
    )
    raise EditError(
        f"{where} has no item with {segment.field}={segment.value}"
        + (f" (it has {segment.field}: {', '.join(found)})" if found else "")
    )


def _shown(segments: Sequence[Segment]) -> str:
    out = ""
    for segment in segments:
        out += f".{segment}" if isinstance(segment, Key) and out else str(segment)
    return out


def _coerce(value: Any, old: ScalarNode) -> Any:
    """A rendered string takes the old value's type when it reads as one (`90` for a weight)."""
    if isinstance(value, str) and old.tag in _TYPED_TAGS:
        parsed = YAML(typ="safe").load(value)
        if isinstance(parsed, bool | int | float):
            return parsed
    return value


def _same(old: ScalarNode, new: Any) -> bool:
    current = YAML(typ="safe").load(old.value) if old.tag in _TYPED_TAGS else old.value
    return type(current) is type(new) and bool(current == new)


def _scalar_text(value: Any, style: str | None) -> str:
    """`value` written as a YAML scalar, in `style` where the value allows it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if style == "'" and "\n" not in text:
        return "'" + text.replace("'", "''") + "'"
    if style in (None, "") and _plain_reads_back(text):
        return text
    return json.dumps(text, ensure_ascii=False)


def _plain_reads_back(text: str) -> bool:
    if not text or "\n" in text or _PLAIN_UNSAFE.search(text):
        return False
    return bool(YAML(typ="safe").load(text) == text)


def _add_key(
    root: Node, text: str, segments: Sequence[Segment], missing_from: int, value: Any
) -> str:
    """Insert the missing keys as new lines after the parent mapping's last entry."""
    if not all(isinstance(s, Key) for s in segments[missing_from:]):
        raise EditError(
            f"{_shown(segments[: missing_from + 1])} does not exist; only missing mapping keys "
            "can be added, not list items"
        )
    parent, _ = _find(root, segments[:missing_from])
    where = _shown(segments[:missing_from]) or "the document"
    if not isinstance(parent, MappingNode) or parent.flow_style or not parent.value:
        raise EditError(
            f"{_shown(segments[: missing_from + 1])} does not exist and {where} is not a block "
            "mapping with entries to add it to; write the key in the file first"
        )
    column = parent.value[0][0].start_mark.column
    lines = []
    for depth, segment in enumerate(segments[missing_from:-1]):
        lines.append(f"{' ' * (column + _INDENT * depth)}{_key_text(str(segment))}:")
    depth = len(segments) - 1 - missing_from
    key = _key_text(str(segments[-1]))
    lines.append(f"{' ' * (column + _INDENT * depth)}{key}: {_scalar_text(value, None)}")
    at = _line_end(text, _last_descendant(parent).end_mark.index)
    prefix = "" if at == 0 or text[at - 1] == "\n" else "\n"
    return text[:at] + prefix + "\n".join(lines) + "\n" + text[at:]


def _last_descendant(node: Node) -> Node:
    while isinstance(node, MappingNode | SequenceNode) and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    return node


def _line_end(text: str, index: int) -> int:
    """Where the line holding `index - 1` ends (just after its newline)."""
    if index > 0 and text[index - 1] == "\n":
        return index
    newline = text.find("\n", index)
    return len(text) if newline == -1 else newline + 1


def _key_text(key: str) -> str:
    return key if _plain_reads_back(key) else json.dumps(key, ensure_ascii=False)


def _check(edited: str, segments: Sequence[Segment], document: int, value: Any) -> None:
    """Read the edited text back and make sure the value is where it was asked to be."""
    roots = _compose(edited)
    node, _ = _find(roots[document], segments)
    if not isinstance(node, ScalarNode) or not _same(node, _coerce(value, node)):
        raise EditError(f"the edit did not read back as {value!r} at {_shown(segments)}")
