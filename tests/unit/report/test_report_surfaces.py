"""The text, JSON, JUnit and HTML surfaces beyond their golden files."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from iter8_action.report import html, junit, render, text
from iter8_action.report.figures import plotly_js as get_plotlyjs
from iter8_action.report.model import build_report
from tests.support.paths import FIXTURES, ROOT
from tests.support.results import load, make_document

SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# -- text ------------------------------------------------------------------------------------


def _widest(output: str) -> int:
    return max(len(ANSI.sub("", line)) for line in output.splitlines())


@pytest.mark.parametrize("name", FIXTURES)
def test_text_fits_80_columns(name: str) -> None:
    assert _widest(render(load(name), "text", color=True)) <= 80


def test_text_splits_many_versions_into_tables_that_fit() -> None:
    versions = [f"candidate-{i}" for i in range(9)]
    output = render(
        make_document(versions, ["http/latency-mean"], slos=("http/latency-mean",)), "text"
    )
    assert _widest(output) <= 80
    slo_headers = [line for line in output.splitlines() if line.startswith("SLO ")]
    assert len(slo_headers) == 3
    assert all("candidate-0" not in h for h in slo_headers[1:])
    assert output.count("http/latency-mean ≤ 100 ms") == 3


def test_text_colour_only_when_asked() -> None:
    report = build_report(load("three-versions"))
    plain = text.render(report)
    coloured = text.render(report, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[32m✓\x1b[0m 36.88 msec" in coloured
    assert "\x1b[31m✗\x1b[0m 112.8 msec" in coloured
    assert "\x1b[1;31m✗ SLOs failed: v3\x1b[0m" in coloured
    assert ANSI.sub("", coloured) == plain


def test_verdict_names_a_few_versions_and_counts_the_rest() -> None:
    versions = [f"v{i}" for i in range(10)]
    report = build_report(make_document(versions, ["x/m"], slos=("x/m",)))
    assert report.verdict.title == "SLOs passed: v0, v1, v2, v3, v4 and 5 more"


# -- json ------------------------------------------------------------------------------------


def test_report_schema_is_a_valid_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("name", FIXTURES)
def test_json_report_validates_against_its_schema(name: str) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(json.loads(render(load(name), "json")))


def test_json_report_of_a_document_without_result_validates() -> None:
    data = json.loads(render({"spec": []}, "json"))
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["run"]["state"] == "not-started"


# -- junit -----------------------------------------------------------------------------------


def _cases(xml: str) -> dict[str, ET.Element]:
    root = ET.fromstring(xml)
    return {f"{c.get('classname')}::{c.get('name')}": c for c in root.iter("testcase")}


def test_junit_one_case_per_slo_per_version_with_value_and_limit() -> None:
    xml = render(load("three-versions"), "junit")
    root = ET.fromstring(xml)
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "12",
        "3",
        "0",
        "1",
    )
    cases = _cases(xml)
    failure = cases["iter8.slo.v3::http/latency-p95 ≤ 100 msec [v3]"].find("failure")
    assert failure is not None
    assert failure.get("message") == (
        "http/latency-p95 = 112.8 msec for v3; the limit is at most 100 msec"
    )
    assert failure.get("type") == "violated"
    assert cases["iter8.slo.v2::http/latency-p95 ≤ 100 msec [v2]"].find("failure") is None
    skipped = cases["iter8.slo.v1::http/latency-mean ≤ v1 +50% [v1]"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "this SLO does not apply to v1 (v1 is the baseline)"


def test_junit_no_data_fails_and_a_crashed_run_shows_its_tasks() -> None:
    cases = _cases(render(load("no-data"), "junit"))
    failure = cases["iter8.slo.stable::prom/latency-p99 ≤ 200 ms [stable]"].find("failure")
    assert failure is not None
    assert failure.get("message") == (
        "prom/latency-p99: no value was recorded for stable (limit: 200 ms)"
    )
    cases = _cases(render(load("failed-run"), "junit"))
    error = cases["iter8.task::task 1 (http)"].find("error")
    assert error is not None and error.get("message", "").startswith("every request to")
    skipped = cases["iter8.task::task 3 (notify)"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "not run: the run stopped before this task"
    running = _cases(render(load("in-progress"), "junit"))["iter8.task::task 1 (http)"]
    assert running.find("skipped").get("message") == "running: the run has not finished"  # type: ignore[union-attr]


def test_junit_soft_failures_skipped_tasks_and_control_characters() -> None:
    document = load("failed-run")
    tasks = document["result"]["tasks"]
    tasks[1].update(softFailure=True, error="bad\x00byte\x1b[31m")
    tasks[2]["status"] = "skipped"
    tasks[2]["if"] = "SLOs()"
    cases = _cases(junit.render(build_report(document)))
    soft = cases["iter8.task::task 1 (http)"].find("skipped")
    assert soft is not None
    assert soft.get("message") == "failed (soft failure, the run went on): bad\ufffdbyte\ufffd[31m"
    condition = cases["iter8.task::task 2 (assess)"].find("skipped")
    assert condition is not None and condition.get("message") == "its condition was false: SLOs()"


# -- html ------------------------------------------------------------------------------------


def test_html_embeds_plotly_and_needs_no_network(tmp_path: Path) -> None:
    page = render(load("winner"), "html")
    assert get_plotlyjs() in page
    without_bundle = page.replace(get_plotlyjs(), "")
    assert "<script src" not in without_bundle
    assert "<link" not in without_bundle
    assert "https://" not in without_bundle
    assert len(re.findall(r'<div class="chart" id="chart-[a-z-]+-\d+"></div>', page)) == 4


def test_html_escapes_names_in_the_page_and_in_chart_data() -> None:
    hostile = "</script><script>alert(1)</script>"
    document = make_document([hostile, "v2"], ["http/error-rate"], slos=("http/error-rate",))
    page = html.render(build_report(document), plotly_js="")
    assert "<script>alert(1)" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '"x":["&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;","v2"]' in page


def test_html_without_chart_data_says_so() -> None:
    page = html.render(build_report(load("failed-run")), plotly_js="")
    assert "<p>No chart data was recorded.</p>" in page
    assert "Plotly.newPlot" not in page
    assert "Tasks marked <em>not run</em> never started" in page


def test_histogram_steps_close_gaps_and_avoid_zero_on_a_log_axis() -> None:
    from iter8_action.report.model import Bucket

    buckets = (Bucket(0.0, 1.0, 3), Bucket(1.0, 2.0, 5), Bucket(4.0, 8.0, 2))
    assert html._steps(buckets, positive=False) == ([0.0, 1.0, 2.0, 4.0, 8.0], [3, 5, 0, 2, 0])
    assert html._steps(buckets, positive=True) == ([1.0, 1.0, 2.0, 4.0, 8.0], [3, 5, 0, 2, 0])
    assert html._steps((), positive=True) == ([], [])


def test_log_axis_for_log_spaced_buckets_only() -> None:
    three = build_report(load("three-versions")).histograms[0]
    winner = build_report(load("winner")).histograms[0]
    assert html._log_scale(three) is True
    assert html._log_scale(winner) is False
