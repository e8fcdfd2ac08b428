"""Reports of a result: one model (`model`, built by `build.build_report`), one renderer
module per format.

`render(document, fmt)` is what the command line and the CI layers call, with
`document` a result file as loaded from YAML or JSON. A renderer is imported
only when asked for, so `iter8 --help` does not pay for plotly.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from iter8_action.report.build import build_report
from iter8_action.report.model import Report, ReportError

FORMATS = ("text", "markdown", "html", "json", "junit")


def render(document: Mapping[str, Any], fmt: str, *, color: bool = False) -> str:
    """The report of a result `document` in format `fmt` (one of `FORMATS`).

    `color` adds ANSI colours to the text format (ask for it only on a TTY).
    Raises `ReportError` when the document is not a result or `fmt` is unknown.
    """
    if fmt not in FORMATS:
        raise ReportError(f"unknown report format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    report = build_report(document)
    renderer = importlib.import_module(f"iter8_action.report.{fmt}")
    if fmt == "text":
        return str(renderer.render(report, color=color))
    return str(renderer.render(report))


__all__ = ["FORMATS", "Report", "ReportError", "build_report", "render"]
