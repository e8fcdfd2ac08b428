"""Executing parsed templates with Go's `text/template` semantics and Helm's options.

Helm's choices are kept: a missing map key is nil (`missingkey=zero`), and nil prints
as the empty string (Helm replaces Go's `<no value>`). A value that is not a map has
no fields: `.a.b` with `.a` nil is Go's "nil pointer evaluating interface {}.b".

Execution is bounded (`Limits`): charts and values are user data, so output size,
nested `template`/`include`/`tpl` depth, `range` iterations and time all stop with
an error that names the template, line and column.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from iter8_action.core.errors import InvalidValue
from iter8_action.templates.gotemplate import gofmt
from iter8_action.templates.gotemplate.parse import (
    Action,
    Branch,
    Break,
    Chain,
    Command,
    Continue,
    Dot,
    Field,
    Identifier,
    ListNode,
    Literal,
    Nil,
    Node,
    Parens,
    Pipe,
    Source,
    TemplateCall,
    TemplateError,
    Text,
    Tree,
    Variable,
)

_MISSING: Any = object()


@dataclass(frozen=True)
class Limits:
    """Bounds on one execution (the top template and everything it calls)."""

    max_output_chars: int = 8 * 2**20
    max_depth: int = 50
    max_iterations: int = 1_000_000
    max_seconds: float = 10.0
    nil_is_error: bool = False
    """Printing a missing value is an error (provider templates) instead of "" (Helm)."""


class FuncError(InvalidValue):
    """Raised by a template function; the executor adds the location."""


class Struct(Mapping[str, Any]):
    """A Go struct (Helm's `.Values`, `.Chart`, `.Release`): a missing field is an error."""

    def __init__(self, type_name: str, fields: Mapping[str, Any]) -> None:
        self.type_name = type_name
        self._fields = dict(fields)

    def __getitem__(self, key: str) -> Any:
        return self._fields[key]

    def __iter__(self) -> Any:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"{self.type_name}{self._fields!r}"


class _Stop(Exception):
    def __init__(self, kind: str) -> None:
        self.kind = kind


def truth(value: Any) -> bool:
    """Go's IsTrue: false, 0, "", nil and empty maps and lists are false."""
    if value is None:
        return False
    if isinstance(value, (bool, int, float, str, list, dict, tuple)):
        return bool(value)
    return True


class Executor:
    """One run of a template set: the output budget, the depth and the clock."""

    def __init__(
        self,
        templates: Mapping[str, Tree],
        funcs: Mapping[str, Callable[..., Any]],
        limits: Limits,
        parse_text: Callable[[str, str], Tree],
    ) -> None:
        self.templates = templates
        self.funcs = funcs
        self.limits = limits
        self.parse_text = parse_text
        self.deadline = time.monotonic() + limits.max_seconds
        self.written = 0
        self.iterations = 0
        self.depth = 0
        self.stack: list[str] = []

    # entry points
    def run(self, tree: Tree, dot: Any) -> str:
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise TemplateError(
                f"templates nest deeper than {self.limits.max_depth} "
                f"(template/include/tpl calls: {' -> '.join(self.stack[-5:])} ...)",
                where=tree.source.name,
            )
        self.stack.append(tree.name)
        frame = _Frame(self, tree, dot)
        try:
            frame.walk(dot, tree.root)
        except _Stop as stop:  # pragma: no cover - the parser rejects break outside range
            raise TemplateError(f"{{{{{stop.kind}}}}} outside range", where=tree.name) from stop
        finally:
            self.depth -= 1
            self.stack.pop()
        return "".join(frame.out)

    def include(self, name: str, dot: Any) -> str:
        tree = self.templates.get(name)
        if tree is None:
            known = ", ".join(sorted(self.templates)) or "none"
            raise FuncError(f"no template {name!r} (known: {known})")
        return self.run(tree, dot)

    def tpl(self, text: str, dot: Any) -> str:
        tree = self.parse_text(text, f"tpl in {self.stack[-1] if self.stack else '?'}")
        return self.run(tree, dot)

    def count(self, chars: int) -> None:
        self.written += chars
        if self.written > self.limits.max_output_chars:
            raise FuncError(f"output exceeds {self.limits.max_output_chars} characters")

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise FuncError(f"rendering took longer than {self.limits.max_seconds:g}s")


class _Frame:
    """The state of one template body being walked: its variables and output."""

    def __init__(self, ex: Executor, tree: Tree, dot: Any) -> None:
        self.ex = ex
        self.tree = tree
        self.source: Source = tree.source
        self.vars: list[tuple[str, Any]] = [("$", dot)]
        self.out: list[str] = []

    def error(self, node: Node, message: str, at: Node | None = None) -> TemplateError:
        where = self.source.where(node.pos)
        context = f'executing "{self.tree.name}"'
        if at is not None:
            context += f" at <{_short(str(at))}>"
        return TemplateError(f"{context}: {message}", where=where)

    def write(self, node: Node, text: str) -> None:
        try:
            self.ex.count(len(text))
        except FuncError as exc:
            raise self.error(node, str(exc)) from exc
        self.out.append(text)

    def walk(self, dot: Any, node: Node) -> None:
        try:
            self.ex.tick()
        except FuncError as exc:
            raise self.error(node, str(exc)) from exc
        if isinstance(node, ListNode):
            for child in node.nodes:
                self.walk(dot, child)
        elif isinstance(node, Text):
            self.write(node, node.text)
        elif isinstance(node, Action):
            value = self.pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.write(node, self.printable(node, value))
        elif isinstance(node, Branch):
            if node.kind == "range":
                self.range(dot, node)
            else:
                self.branch(dot, node)
        elif isinstance(node, TemplateCall):
            self.template(dot, node)
        elif isinstance(node, Break):
            raise _Stop("break")
        elif isinstance(node, Continue):
            raise _Stop("continue")
        else:  # pragma: no cover - the parser makes no other nodes
            raise self.error(node, f"unknown node {node!r}")

    def printable(self, node: Node, value: Any) -> str:
        if value is None:
            if self.ex.limits.nil_is_error:
                at = node.pipe if isinstance(node, Action) else None
                raise self.error(node, "no value to print (missing or null)", at)
            return ""
        if callable(value):
            raise self.error(node, "can't print a function")
        return gofmt.value_string(value)

    def branch(self, dot: Any, node: Branch) -> None:
        mark = len(self.vars)
        value = self.pipeline(dot, node.pipe)
        try:
            if truth(value):
                self.walk(value if node.kind == "with" else dot, node.body)
            elif node.else_body is not None:
                self.walk(dot, node.else_body)
        finally:
            del self.vars[mark:]

    def range(self, dot: Any, node: Branch) -> None:
        mark = len(self.vars)
        value = self.commands(dot, node.pipe)
        items: Any
        if value is None or (isinstance(value, (list, tuple, dict)) and not value):
            items = None
        elif isinstance(value, (list, tuple)):
            items = enumerate(value)
        elif isinstance(value, Mapping):
            items = ((k, value[k]) for k in gofmt.sort_keys(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            items = ((i, i) for i in range(value)) if value > 0 else None
        else:
            raise self.error(node, f"range can't iterate over {gofmt.value_string(value)}")
        try:
            if items is None:
                if node.else_body is not None:
                    self.walk(dot, node.else_body)
                return
            for key, elem in items:
                self.ex.iterations += 1
                if self.ex.iterations > self.ex.limits.max_iterations:
                    raise self.error(
                        node, f"more than {self.ex.limits.max_iterations} range iterations"
                    )
                self.declare(node.pipe, key, elem, mark)
                try:
                    self.walk(elem, node.body)
                except _Stop as stop:
                    if stop.kind == "break":
                        break
                finally:
                    del self.vars[mark:]
        finally:
            del self.vars[mark:]

    def declare(self, pipe: Pipe, key: Any, elem: Any, mark: int) -> None:
        decl = pipe.decl
        if not decl:
            return
        values = [elem] if len(decl) == 1 else [key, elem]
        for name, val in zip(decl, values, strict=True):
            if pipe.is_assign:
                self.assign(name, val)
            else:
                self.vars.append((name, val))

    def template(self, dot: Any, node: TemplateCall) -> None:
        tree = self.ex.templates.get(node.name)
        if tree is None:
            raise self.error(node, f"no such template {node.name!r}")
        value = None if node.pipe is None else self.pipeline(dot, node.pipe)
        try:
            text = self.ex.run(tree, value)
        except FuncError as exc:
            raise self.error(node, str(exc)) from exc
        self.out.append(text)

    # pipelines
    def commands(self, dot: Any, pipe: Pipe) -> Any:
        value = _MISSING
        for cmd in pipe.cmds:
            value = self.command(dot, cmd, value)
        return value

    def pipeline(self, dot: Any, pipe: Pipe) -> Any:
        value = self.commands(dot, pipe)
        for name in pipe.decl:
            if pipe.is_assign:
                self.assign(name, value)
            else:
                self.vars.append((name, value))
        return value

    def assign(self, name: str, value: Any) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        raise TemplateError(f"undefined variable: {name}", where=self.source.name)

    def variable(self, node: Node, name: str) -> Any:
        for var_name, value in reversed(self.vars):
            if var_name == name:
                return value
        raise self.error(node, f"undefined variable: {name}")

    def command(self, dot: Any, cmd: Command, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, Identifier):
            return self.call(dot, first, cmd, cmd.args[1:], final)
        if len(cmd.args) > 1 or final is not _MISSING:
            raise self.error(first, f"can't give argument to non-function {first}", cmd)
        if isinstance(first, Nil):
            raise self.error(first, "nil is not a command", cmd)
        return self.arg(dot, first)

    def arg(self, dot: Any, node: Node) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Dot):
            return dot
        if isinstance(node, Nil):
            return None
        if isinstance(node, Field):
            return self.fields(node, dot, node.names)
        if isinstance(node, Variable):
            return self.fields(node, self.variable(node, node.name), node.names)
        if isinstance(node, Parens):
            return self.pipeline(dot, node.pipe)
        if isinstance(node, Chain):
            return self.fields(node, self.arg(dot, node.node), node.names)
        if isinstance(node, Identifier):
            return self.call(dot, node, node, [], _MISSING)
        raise self.error(node, f"can't evaluate {node}")  # pragma: no cover

    def fields(self, node: Node, receiver: Any, names: list[str]) -> Any:
        for name in names:
            receiver = self.field(node, receiver, name)
        return receiver

    def field(self, node: Node, receiver: Any, name: str) -> Any:
        if isinstance(receiver, Struct):
            if name not in receiver:
                raise self.error(
                    node, f"can't evaluate field {name} in type {receiver.type_name}", node
                )
            return receiver[name]
        if isinstance(receiver, Mapping):
            return receiver.get(name)
        if receiver is None:
            raise self.error(node, f"nil pointer evaluating interface {{}}.{name}", node)
        raise self.error(
            node, f"can't evaluate field {name} in type {gofmt.type_name(receiver)}", node
        )

    def call(self, dot: Any, ident: Identifier, cmd: Node, args: list[Node], final: Any) -> Any:
        name = ident.name
        if name in ("and", "or"):
            return self.logical(dot, ident, cmd, args, final)
        values = [self.arg(dot, a) for a in args]
        if final is not _MISSING:
            values.append(final)
        try:
            if name == "include":
                if len(values) != 2:
                    raise FuncError(f"include takes a name and a value, got {len(values)} args")
                return self.ex.include(_string(values[0], "include"), values[1])
            if name == "tpl":
                if len(values) != 2:
                    raise FuncError(f"tpl takes a template and a value, got {len(values)} args")
                return self.ex.tpl(_string(values[0], "tpl"), values[1])
            result = self.ex.funcs[name](*values)
            if isinstance(result, str) and len(result) > self.ex.limits.max_output_chars:
                raise FuncError(f"result exceeds {self.ex.limits.max_output_chars} characters")
            return result
        except FuncError as exc:
            raise self.error(ident, f"error calling {name}: {exc}", cmd) from exc
        except TypeError as exc:
            raise self.error(ident, f"wrong arguments for {name}: {exc}", cmd) from exc

    def logical(self, dot: Any, ident: Identifier, cmd: Node, args: list[Node], final: Any) -> Any:
        """`and`/`or` evaluate their arguments lazily, as Go 1.18 does."""
        count = len(args) + (final is not _MISSING)
        if not count:
            raise self.error(ident, f"wrong number of args for {ident.name}: want at least 1", cmd)
        value: Any = None
        for i in range(count):
            value = self.arg(dot, args[i]) if i < len(args) else final
            if truth(value) != (ident.name == "and"):
                return value
        return value


def _string(value: Any, fn: str) -> str:
    if not isinstance(value, str):
        raise FuncError(f"{fn} expects a string, got {gofmt.type_name(value)}")
    return value


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."
