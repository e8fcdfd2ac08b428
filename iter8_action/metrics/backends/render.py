"""A template rendered for one version: Jinja2 text -> YAML -> a validated ProviderSpec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from iter8_action.metrics.backends.sources import TemplateSource, builtin_partials
from iter8_action.metrics.backends.spec import ProviderSpec, SpecError, parse_spec
from iter8_action.templates import render as templating

_CONTEXT_LINES = 1


def _numbered(text: str, line: int) -> str:
    """The rendered lines around `line` (1-based), numbered, to show where YAML broke."""
    lines = text.splitlines()
    low, high = max(1, line - _CONTEXT_LINES), min(len(lines), line + _CONTEXT_LINES)
    return "\n".join(f"  {n:>4} | {lines[n - 1]}" for n in range(low, high + 1))


def render_spec(
    source: TemplateSource, values: Mapping[str, Any], *, provider: str, version: str
) -> ProviderSpec:
    """Render `source` with one version's values and validate the result."""
    label = f"{source.origin} (provider {provider}, version {version})"
    try:
        text = templating.render(source.text, values, name=label, includes=builtin_partials())
    except templating.TemplateError as exc:
        raise SpecError(str(exc)) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        if mark is None:
            raise SpecError(f"{label}: the rendered template is not YAML: {problem}") from exc
        line = mark.line + 1
        raise SpecError(
            f"{label}: the rendered template is not YAML: {problem} at rendered line {line}:\n"
            f"{_numbered(text, line)}"
        ) from exc
    try:
        return parse_spec(provider, data)
    except SpecError as exc:
        raise SpecError(f"{label}: invalid provider spec:\n{exc}") from exc
