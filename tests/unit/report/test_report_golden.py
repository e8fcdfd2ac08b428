"""Golden-file tests: every renderer on every fixed result.

Regenerate the golden files after an intended change with
`UPDATE_GOLDEN=1 /work/venv/bin/python -m pytest tests/unit/report/test_report_golden.py`
(any Python with the test extra will do), then review the diff.
"""

from __future__ import annotations

import os

import pytest

from iter8_action.report import html, json, junit, markdown, text
from iter8_action.report.model import Report, build_report
from tests.support.paths import DOCS, GOLDEN
from tests.support.results import load

PLOTLY_PLACEHOLDER = "/* plotly.js is embedded here */"

RENDERERS = {
    "txt": lambda r: text.render(r),
    "md": lambda r: markdown.render(r),
    "html": lambda r: html.render(r, plotly_js=PLOTLY_PLACEHOLDER),
    "json": lambda r: json.render(r),
    "xml": lambda r: junit.render(r),
}


def _check(name: str, ext: str, report: Report) -> None:
    actual = RENDERERS[ext](report)
    path = GOLDEN / f"{name}.{ext}"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("ext", sorted(RENDERERS))
def test_renderer_matches_golden_file(fixture_name: str, ext: str) -> None:
    _check(fixture_name, ext, build_report(load(fixture_name)))


def test_text_in_colour_matches_golden_file() -> None:
    report = build_report(load("three-versions"))
    actual = text.render(report, color=True)
    path = GOLDEN / "three-versions.color.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")


def test_the_reports_page_shows_the_current_markdown_comment() -> None:
    """The docs' example is the winner fixture's comment, up to its collapsed sections."""
    golden = (GOLDEN / "winner.md").read_text(encoding="utf-8")
    page = (DOCS / "reports.md").read_text(encoding="utf-8")
    assert golden[: golden.index("<details>")].rstrip() in page
