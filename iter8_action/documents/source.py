"""Reading YAML input safely, remembering the line of every value.

PyYAML's composer gives nodes with positions; we construct plain Python data
from them ourselves so that we can (1) record the line of every mapping key and
sequence item under its JSON path, for error messages, (2) reject duplicate
keys, which PyYAML silently lets the last one win, and (3) bound the expansion
of aliases, so that a "billion laughs" document fails fast instead of eating
the machine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from iter8_action.core.errors import ExperimentInvalid, Problem

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 100

JSONPath = tuple[str | int, ...]


def format_path(path: JSONPath) -> str:
    """`("spec", 2, "with", "url")` -> `$.spec[2].with.url` (as jsonschema's `json_path`)."""
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


@dataclass
class SourceDocument:
    """Data read from a YAML file and the line (1-based) of each path in it."""

    data: Any
    name: str
    lines: dict[JSONPath, int] = field(default_factory=dict)

    def line_of(self, path: JSONPath) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def problem(self, path: JSONPath, message: str) -> Problem:
        return Problem(self.name, self.line_of(path), format_path(path), message)


def read_file(path: str | Path, *, label: str | None = None) -> SourceDocument:
    """Read and parse a YAML file, raising `ExperimentInvalid` for anything unreadable."""
    name = label or str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_FILE_BYTES:
            raise _single(
                name,
                None,
                f"the file is {size / 1e6:.1f} MB, more than the {MAX_FILE_BYTES // 2**20} MiB "
                "an input file may have; is this the right file?",
            )
        raw = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise _single(name, None, "no such file") from exc
    except IsADirectoryError as exc:
        raise _single(name, None, "this is a directory, not a file") from exc
    except PermissionError as exc:
        raise _single(name, None, "permission denied") from exc
    except OSError as exc:
        raise _single(name, None, f"cannot read the file: {exc.strerror}") from exc
    return parse(raw, name=name)


def parse(raw: bytes | str, *, name: str) -> SourceDocument:
    """Parse YAML text (bytes must be UTF-8) into a SourceDocument."""
    text = _decode(raw, name) if isinstance(raw, bytes) else raw
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise _single(name, None, f"the input is more than {MAX_FILE_BYTES // 2**20} MiB")
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise _single(name, line, f"YAML syntax error{where}: {problem}") from exc
    except yaml.YAMLError as exc:
        raise _single(name, None, f"YAML error: {exc}") from exc
    except RecursionError as exc:
        raise _single(name, None, f"the YAML is nested too deeply (over {MAX_DEPTH} levels)") from (
            exc
        )
    if len(nodes) > 1:
        second = nodes[1].start_mark.line + 1
        raise _single(
            name,
            second,
            "the file holds more than one YAML document ('---'); an experiment is one document",
        )
    document = SourceDocument(None, name)
    if not nodes or nodes[0] is None:
        return document
    document.lines[()] = nodes[0].start_mark.line + 1
    builder = _Builder(document)
    document.data = builder.build(nodes[0], (), 0)
    if builder.problems:
        raise ExperimentInvalid(builder.problems)
    return document


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise _single(
            name,
            line,
            f"the file is not UTF-8 text: byte 0x{raw[exc.start]:02x} at line {line}, "
            f"column {column}; save it as UTF-8",
        ) from exc


def _single(name: str, line: int | None, message: str) -> ExperimentInvalid:
    return ExperimentInvalid([Problem(name, line, "", message)])


class _Builder:
    def __init__(self, document: SourceDocument) -> None:
        self.document = document
        self.problems: list[Problem] = []
        self.count = 0
        self.active: set[int] = set()
        self.scalars = SafeConstructor()

    def _problem(self, path: JSONPath, line: int, message: str) -> None:
        self.problems.append(Problem(self.document.name, line, format_path(path), message))

    def build(self, node: yaml.Node, path: JSONPath, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _single(
                self.document.name,
                node.start_mark.line + 1,
                f"the YAML expands to more than {MAX_NODES} values: aliases (*name) that repeat "
                "anchors many times over (a 'billion laughs' document?); write the values out",
            )
        if depth > MAX_DEPTH:
            raise _single(
                self.document.name,
                node.start_mark.line + 1,
                f"the YAML is nested too deeply (over {MAX_DEPTH} levels)",
            )
        if id(node) in self.active:
            raise _single(
                self.document.name, node.start_mark.line + 1, "an alias refers to its own anchor"
            )
        if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            return self._scalar(node, path)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path, depth)
            return self._sequence(node, path, depth)
        finally:
            self.active.discard(id(node))

    def _sequence(self, node: yaml.SequenceNode, path: JSONPath, depth: int) -> list[Any]:
        out = []
        for i, item in enumerate(node.value):
            self.document.lines.setdefault((*path, i), item.start_mark.line + 1)
            out.append(self.build(item, (*path, i), depth + 1))
        return out

    def _mapping(self, node: yaml.MappingNode, path: JSONPath, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged.update(self._merge_source(value_node, path, depth))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(path, line, "a mapping key must be a plain value, not a list or map")
                continue
            key = str(key_node.value)
            if key in first_line:
                self._problem(
                    (*path, key),
                    line,
                    f"duplicate key {key!r} (first at line {first_line[key]}); "
                    "YAML keeps only one of them",
                )
                continue
            first_line[key] = line
            self.document.lines[(*path, key)] = line
            out[key] = self.build(value_node, (*path, key), depth + 1)
        # YAML merge keys (<<: *base): explicit keys win, as the YAML spec says
        return {**merged, **out}

    def _merge_source(self, node: yaml.Node, path: JSONPath, depth: int) -> dict[str, Any]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in reversed(sources):
            value = self.build(source, path, depth + 1)
            if not isinstance(value, dict):
                self._problem(path, source.start_mark.line + 1, "'<<' merges only maps")
                continue
            merged.update(value)
        return merged

    def _scalar(self, node: yaml.Node, path: JSONPath) -> Any:
        try:
            value = self.scalars.construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            # an explicit tag on a value that is not of that type (`!!int x`)
            self._problem(path, node.start_mark.line + 1, f"invalid value {node.value!r}: {exc}")
            return None
        if isinstance(value, dt.datetime | dt.date):
            # Go's YAML-to-JSON decoding keeps timestamps as text; so do we.
            return str(node.value)
        if isinstance(value, bytes):
            self._problem(path, node.start_mark.line + 1, "!!binary values are not allowed")
            return None
        return value


def iter_paths(value: Any, path: JSONPath = ()) -> Iterator[tuple[JSONPath, Any]]:
    """Every (path, value) pair in a document, depth first."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from iter_paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from iter_paths(item, (*path, i))


def line_map(text: str, *, max_nodes: int) -> dict[JSONPath, int]:
    """The line (1-based) of every mapping key and sequence item of a one-document YAML
    text, under its JSON path, without constructing any value.

    For documents too large for `parse` (result files): libyaml composes when present,
    and an alias is walked at most once, so neither aliases nor size make it slow.
    Empty when the text does not compose.
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(text, Loader=loader)
    except (yaml.YAMLError, RecursionError):
        return {}
    lines: dict[JSONPath, int] = {}
    if root is None:
        return lines
    lines[()] = root.start_mark.line + 1
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, JSONPath, int]] = [(root, (), 0)]
    while stack and len(lines) < max_nodes:
        node, path, depth = stack.pop()
        if id(node) in seen or depth > MAX_DEPTH:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    lines.setdefault((*path, str(key.value)), key.start_mark.line + 1)
                    stack.append((value, (*path, str(key.value)), depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines.setdefault((*path, i), item.start_mark.line + 1)
                stack.append((item, (*path, i), depth + 1))
    return lines
