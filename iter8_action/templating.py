"""Templates (provider specs, payloads, rollout edits): Jinja2 in its sandbox.

The sandboxed environment keeps a template away from Python internals
(`__class__`, `__globals__`, unsafe callables), so an experiment file cannot
run code through a template. Iter8's templates were Go templates; their plain
value references (`{{ .name }}`, `{{ .elapsedTimeSeconds }}`) are accepted and
read as `{{ name }}`. Other Go constructs get an error naming the line and the
Jinja2 equivalent.

Besides Jinja2's own filters, a template may call `fail("message")` to stop
with a message of its own (the equivalent of Go's `fail`), and `{% include %}`
the partials its caller provides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NoReturn

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

# `{{ ... }}` actions, with Go's and Jinja2's whitespace trimming
_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")
# `{{ .a.b }}` and `{{- .a -}}`: plain references, rewritten to Jinja2
_GO_REFERENCE = re.compile(r"\{\{(-?)\s*\.([A-Za-z_][\w.]*)\s*(-?)\}\}")
_GO_KEYWORDS = {
    "range": "{% for item in items %} ... {% endfor %}",
    "if": "{% if value %} ... {% endif %}",
    "else": "{% else %}",
    "end": "{% endfor %} or {% endif %}",
    "with": "{% with x = value %} ... {% endwith %}",
    "define": "{% macro name() %} ... {% endmacro %}",
    "template": "{% macro name() %} ... {% endmacro %} and {{ name() }}",
    "block": "{% macro name() %} ... {% endmacro %}",
}
_GO_FUNCTIONS = {
    "default": '{{ value | default("fallback") }}',
    "toYaml": "{{ value | tojson }} (JSON is valid YAML)",
    "toJson": "{{ value | tojson }}",
    "quote": "{{ value | tojson }}",
    "indent": "{{ value | indent(4) }}",
    "printf": '{{ "%s-%d" | format(name, number) }}',
    "fail": '{{ fail("message") }}',
}
# Go's shapes: `{{ keyword ...` (not Jinja2's `range(3)`), `{{ $x ...`, `{{ .x | fn ...`,
# `{{ fn .x ...` and `{{ fn "a" ...`
_GO_KEYWORD = re.compile(r"^(range|if|else|end|with|define|template|block)(?=\s|$)")
_GO_PIPELINE = re.compile(r"^\.[\w.]*\s*\|\s*(\w+)")
_GO_CALL = re.compile(r"^(\w+)\s+[.$\"(]")


class TemplateError(Exception):
    """A template that cannot be read or rendered; the message names the template and line."""


class _TemplateFailed(Exception):
    """Raised by `fail(...)` inside a template."""


def _fail(message: str) -> NoReturn:
    raise _TemplateFailed(str(message))


def _environment(includes: Mapping[str, str] | None) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        loader=jinja2.DictLoader(dict(includes or {})),
    )
    env.globals["fail"] = _fail
    return env


def _go_equivalent(action: str) -> str | None:
    """The Jinja2 spelling to suggest when `action` (inside `{{ }}`) is Go template syntax."""
    if _GO_REFERENCE.fullmatch("{{" + action + "}}"):
        return None
    keyword = _GO_KEYWORD.match(action)
    if keyword:
        return _GO_KEYWORDS[keyword.group(1)]
    if action.startswith("$"):
        return "{% set name = value %} and {{ name }}"
    pipeline = _GO_PIPELINE.match(action)
    if pipeline:
        return _GO_FUNCTIONS.get(pipeline.group(1), "{{ value | filter }}")
    call = _GO_CALL.match(action)
    if call is None or (call.group(1) == "not" and not action.startswith("not .")):
        return None  # Jinja2's `not (a or b)` looks like a call but is not one
    return _GO_FUNCTIONS.get(call.group(1), "{{ value | filter(arguments) }}")


def from_go(source: str, *, name: str) -> str:
    """Rewrite Go-template value references to Jinja2; reject Go constructs we do not translate."""
    for number, line in enumerate(source.splitlines(), start=1):
        for match in _ACTION.finditer(line):
            equivalent = _go_equivalent(match.group(1))
            if equivalent is not None:
                raise TemplateError(
                    f"{name}:{number}: Go template construct {match.group(0)!r} is not "
                    f"supported; templates are Jinja2: write {equivalent}"
                )
    return _GO_REFERENCE.sub(lambda m: f"{{{{{m.group(1)} {m.group(2)} {m.group(3)}}}}}", source)


def render(
    source: str,
    values: Mapping[str, Any],
    *,
    name: str = "<template>",
    includes: Mapping[str, str] | None = None,
) -> str:
    """Render `source` (Jinja2, or Iter8's simple Go references) with `values`.

    `includes` maps names to partial templates that `{% include "name" %}` may use.
    """
    text = from_go(source, name=name)
    try:
        template = _environment(includes).from_string(text)
        return template.render(dict(values))
    except jinja2.TemplateSyntaxError as exc:
        where = name if exc.name is None else f"{name} (include {exc.name!r})"
        raise TemplateError(f"{where}:{exc.lineno}: {exc.message}") from exc
    except jinja2.UndefinedError as exc:
        known = ", ".join(sorted(values)) or "none"
        raise TemplateError(f"{name}: {exc.message} (values available: {known})") from exc
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(f"{name}: not allowed in a template: {exc}") from exc
    except jinja2.TemplateNotFound as exc:
        known = ", ".join(sorted(includes or {})) or "none"
        raise TemplateError(
            f"{name}: no template {exc.name!r} to include (known: {known})"
        ) from exc
    except _TemplateFailed as exc:
        raise TemplateError(f"{name}: {exc}") from exc
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateError(f"{name}: {type(exc).__name__}: {exc}") from exc
