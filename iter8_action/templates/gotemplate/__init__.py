"""Go's `text/template` with the Sprig and Helm functions that charts use.

    >>> ts = TemplateSet()
    >>> ts.add("greet.tpl", '{{ define "hi" }}Hello, {{ . }}!{{ end }}')
    >>> ts.render_named("hi", "world")
    'Hello, world!'

A `TemplateSet` holds files and the templates they `define`, as Helm loads a chart's
`templates/` directory; `render_file`/`render_named` execute one with a value as dot.
`TemplateError` carries `file:line:col` (parse and execution errors alike).
"""

from __future__ import annotations

from typing import Any

from iter8_action.templates.gotemplate.execute import Executor, FuncError, Limits, Struct
from iter8_action.templates.gotemplate.funcs import FUNCS
from iter8_action.templates.gotemplate.parse import Source, TemplateError, Tree, parse

__all__ = ["FuncError", "Limits", "Struct", "TemplateError", "TemplateSet", "render"]


class TemplateSet:
    """Template files and the named templates they define, sharing one namespace."""

    def __init__(self, *, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.files: dict[str, Tree] = {}
        self.named: dict[str, Tree] = {}
        self._names = frozenset(FUNCS)

    def add(self, name: str, text: str) -> None:
        """Parse one file; its `define`s join the set (a later one replaces an earlier)."""
        try:
            tree, defines = parse(Source(name, text), self._names)
        except RecursionError as exc:
            raise TemplateError("parentheses nest too deeply", where=name) from exc
        self.files[name] = tree
        self.named.update(defines)

    def _parse_text(self, text: str, name: str) -> Tree:
        tree, defines = parse(Source(name, text), self._names)
        self.named.update(defines)
        return tree

    def _executor(self) -> Executor:
        return Executor(self.named, FUNCS, self.limits, self._parse_text)

    def render_file(self, name: str, dot: Any) -> str:
        return self._run(self.files[name], dot)

    def render_named(self, name: str, dot: Any) -> str:
        tree = self.named.get(name)
        if tree is None:
            raise TemplateError(f"no template named {name!r}")
        return self._run(tree, dot)

    def _run(self, tree: Tree, dot: Any) -> str:
        try:
            return self._executor().run(tree, dot)
        except RecursionError as exc:
            # Python's stack ends before Limits.max_depth when values nest deeply
            raise TemplateError(
                "templates or values nest too deeply to render", where=tree.source.name
            ) from exc


def render(text: str, dot: Any, *, name: str = "<template>", limits: Limits | None = None) -> str:
    """Render one template text with `dot`."""
    ts = TemplateSet(limits=limits)
    ts.add(name, text)
    return ts.render_file(name, dot)
