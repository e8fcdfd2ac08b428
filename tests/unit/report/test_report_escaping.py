"""Every value of a result is data in every renderer: one escape each, used for every field."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import yaml

from iter8_action.report import render
from iter8_action.report.model import ReportError
from tests.support.hostile import HOSTILE, HOSTILE_MARKUP, assert_markdown_is_ours, html_elements
from tests.support.results import load

XSS_STATUS = 'failed" onmouseover="alert(1)'


def hostile(text: str) -> dict[str, Any]:
    document = load("failed-run")
    result = document["result"]
    result["startTime"] = text
    result["iter8Version"] = text
    result["insights"]["versionNames"] = [text, "v2"]
    result["insights"]["summaryMetricValues"] = [{"x/kinds": {"k": 1}}, {}]
    result["insights"]["metricsInfo"] = {"x/kinds": {"type": "summary", "description": text}}
    document["spec"][0]["with"]["headers"] = {text: text}
    return document


def test_the_footer_escapes_the_start_time_and_the_summary_title_its_text() -> None:
    text = render(hostile(HOSTILE_MARKUP), "markdown")
    assert_markdown_is_ours(text)
    assert "<summary>@\u2060admin &lt;img src=" in text
    assert text.rstrip().endswith(" · failed</sub>")
    assert "started @\u2060admin &lt;img src=" in text


def test_markdown_carries_no_control_character_and_no_command_line() -> None:
    text = render(hostile(HOSTILE), "markdown")
    assert_markdown_is_ours(text)
    for char in ("\r", "\x1b", "\x85", "\u2028", "\u2029", "\x0b", "\x0c"):
        assert char not in text
    assert "##[" not in text
    assert not [line for line in text.splitlines() if line.lstrip().startswith("::")]


def test_the_experiment_block_round_trips_and_starts_no_line_with_data() -> None:
    document = hostile(HOSTILE)
    text = render(document, "markdown")
    block = text.split("```yaml\n", 1)[1].split("\n```", 1)[0]
    assert yaml.safe_load(block) == {"metadata": document["metadata"], "spec": document["spec"]}
    assert not [line for line in block.splitlines() if line.lstrip().startswith(("::", "\\"))]


def test_an_unknown_task_status_is_refused_before_any_renderer_sees_it() -> None:
    """A status from a result becomes a class name in the HTML report: only the
    statuses the report knows are read at all."""
    document = hostile(HOSTILE_MARKUP)
    document["result"]["tasks"][1]["status"] = XSS_STATUS
    for fmt in ("html", "markdown", "text", "json", "junit"):
        with pytest.raises(ReportError, match="is not a valid TaskStatus"):
            render(document, fmt)


def test_html_escapes_every_attribute() -> None:
    page = render(hostile(HOSTILE_MARKUP), "html")
    elements, _ = html_elements(page)
    attributes = {name for _, attrs in elements for name in attrs}
    assert attributes <= {"class", "id", "title", "lang", "charset", "name", "content", "type"} | {
        "data-verdict"
    }
    assert not [tag for tag, _ in elements if tag in ("img", "a")]
    assert [tag for tag, _ in elements].count("script") == 1  # plotly.js (no chart data)


def test_html_and_text_carry_no_lone_surrogate_or_control() -> None:
    for fmt in ("html", "text", "markdown"):
        out = render(hostile("lone \ud800 \x1b[2J"), fmt)
        out.encode("utf-8")  # a page with a lone surrogate cannot be written
        assert "\x1b" not in out


def test_no_report_printed_in_ci_holds_a_runner_command() -> None:
    document = hostile("::warning::x ##[add-mask]y")
    document["metadata"] = {"name": "::warning::x ##[add-mask]y"}
    document["result"]["tasks"][1]["error"] = "a\r::b\n::c\x85::d\u2028::e \x9b2J"
    document["result"]["tasks"][1]["status"] = "failed"
    for fmt in ("text", "markdown", "html", "json", "junit"):
        out = render(document, fmt)
        assert "##[" not in out, fmt
        # (splitlines breaks at NEL, U+2028 and the like too: stricter than the runner)
        assert not [line for line in out.splitlines() if line.lstrip().startswith("::")], fmt
        assert "\x9b" not in out, fmt
    assert json.loads(render(document, "json"))["versions"][0] == "::warning::x ##[add-mask]y"
    suites = ET.fromstring(render(document, "junit").encode())
    assert suites.get("name") == "iter8 ::warning::x ##[add-mask]y"
    errors = [e.text for e in suites.iter("error")]
    assert errors == ["a\r::b\n::c\x85::d\u2028::e \x9b2J"]  # the same text once parsed
