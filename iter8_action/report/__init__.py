"""Reports of a result: one model (`model.build_report`), one renderer per format.

`render(document, fmt)` is what the command line and the CI layers call, with
`document` a result file as loaded from YAML or JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from iter8_action.report import html, json, junit, markdown, text
from iter8_action.report.model import Report, ReportError, build_report

FORMATS = ("text", "markdown", "html", "json", "junit")

_RENDERERS: dict[str, Callable[..., str]] = {
    "text": text.render,
    "markdown": markdown.render,
    "html": html.render,
    "json": json.render,
    "junit": junit.render,
}


def render(document: Mapping[str, Any], fmt: str, *, color: bool = False) -> str:
    """The report of a result `document` in format `fmt` (one of `FORMATS`).

    `color` adds ANSI colours to the text format (ask for it only on a TTY).
    Raises `ReportError` when the document is not a result or `fmt` is unknown.
    """
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise ReportError(f"unknown report format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    report = build_report(document)
    if fmt == "text":
        return text.render(report, color=color)
    return renderer(report)


__all__ = ["FORMATS", "Report", "ReportError", "build_report", "render"]
