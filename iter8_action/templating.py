"""Templates (provider specs, payloads, rollout edits): Jinja2 in its sandbox.

The sandboxed environment keeps a template away from Python internals
(`__class__`, `__globals__`, unsafe callables), so an experiment file cannot
run code through a template. Iter8's templates were Go templates; their plain
value references (`{{ .name }}`, `{{ .elapsedTimeSeconds }}`) are accepted and
read as `{{ name }}`. Other Go constructs get an error naming the line and the
Jinja2 equivalent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

# `{{ .a.b }}` and `{{- .a -}}`: plain references, rewritten to Jinja2
_GO_REFERENCE = re.compile(r"\{\{(-?)\s*\.([A-Za-z_][\w.]*)\s*(-?)\}\}")
# Go actions with no direct Jinja2 spelling, and their Jinja2 equivalent
_GO_CONSTRUCTS = (
    (re.compile(r"\{\{-?\s*range\b"), "{% for item in items %} ... {% endfor %}"),
    (re.compile(r"\{\{-?\s*if\b"), "{% if value %} ... {% endif %}"),
    (re.compile(r"\{\{-?\s*end\b"), "{% endfor %} or {% endif %}"),
    (re.compile(r"\{\{-?\s*with\b"), "{% with x = value %} ... {% endwith %}"),
    (re.compile(r"\{\{-?\s*(define|template|block)\b"), "{% macro name() %} ... {% endmacro %}"),
    (re.compile(r"\{\{-?\s*\$"), "{% set name = value %}"),
    (re.compile(r"\{\{[^}]*\|\s*(toYaml|toJson|quote|default|indent)\b"), "{{ value | tojson }}"),
)


class TemplateError(Exception):
    """A template that cannot be read or rendered; the message names the template and line."""


def _environment() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False
    )


def from_go(source: str, *, name: str) -> str:
    """Rewrite Go-template value references to Jinja2; reject Go constructs we do not translate."""
    for number, line in enumerate(source.splitlines(), start=1):
        for pattern, equivalent in _GO_CONSTRUCTS:
            if pattern.search(line):
                raise TemplateError(
                    f"{name}:{number}: Go template construct {line.strip()!r} is not supported; "
                    f"templates are Jinja2: write {equivalent}"
                )
    return _GO_REFERENCE.sub(lambda m: f"{{{{{m.group(1)} {m.group(2)} {m.group(3)}}}}}", source)


def render(source: str, values: Mapping[str, Any], *, name: str = "<template>") -> str:
    """Render `source` (Jinja2, or Iter8's simple Go references) with `values`."""
    text = from_go(source, name=name)
    try:
        template = _environment().from_string(text)
        return template.render(dict(values))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{name}:{exc.lineno}: {exc.message}") from exc
    except jinja2.UndefinedError as exc:
        known = ", ".join(sorted(values)) or "none"
        raise TemplateError(f"{name}: {exc.message} (values available: {known})") from exc
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(f"{name}: not allowed in a template: {exc}") from exc
