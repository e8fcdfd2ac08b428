"""Result files that Iter8 itself wrote: `iter8 assert` and `iter8 report` read them.

The fixtures in tests/fixtures/iter8/ follow Iter8 v0.13-v0.14's result format
(`base/experiment.go`): capitalised metric types, `versionNames` as
`{version, track}`, no per-task records and no end time. The report, the event
summary (the Slack and webhook payloads) and `iter8 assert` read their verdicts
through one reader (`iter8_action.results.insights`), and must agree.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from iter8_action.cli.main import main
from iter8_action.events.summary import summarize
from iter8_action.report.model import build_report
from tests.support.paths import ITER8_RESULTS, RESULTS

FIXTURES = sorted(ITER8_RESULTS.glob("*.yaml"))
# Iter8's own fields only (written by iter8-py, without its assessment block)
AGREEING = [*FIXTURES, RESULTS / "iter8-insights.yaml"]

ASSERTED = {
    "load-test-pass": (
        0,
        [
            "✓ completed: all 3 tasks completed",
            "✓ nofailure: no task failed",
            "✓ slos: every version meets the SLOs",
            "✓ winner: the winner is v1: v1 meets every SLO and is best on every reward",
        ],
    ),
    "load-test-fail": (
        1,
        [
            "✓ completed: all 3 tasks completed",
            "✓ nofailure: no task failed",
            "✗ slos: SLOs missed: v1: upper SLO on http/error-rate violated",
            "✗ winner: no winner: no version is best on every reward while meeting every SLO",
        ],
    ),
    "ab-winner": (
        0,
        [
            "✓ completed: all 3 tasks completed",
            "✓ nofailure: no task failed",
            "✓ slos: every version meets the SLOs",
            "✓ winner: the winner is candidate (v2): candidate (v2) meets every SLO and is "
            "best on every reward",
        ],
    ),
    "failed-run": (
        1,
        [
            "✗ completed: 1 of 3 tasks completed",
            "✗ nofailure: a task failed",
            "✓ slos: every version meets the SLOs",
            "✗ winner: no winner: there is no assessment in the result (did an assess task run?)",
        ],
    ),
}
VERDICTS = {
    "load-test-pass": "winner",
    "load-test-fail": "failed",
    "ab-winner": "winner",
    "failed-run": "error",
}


def test_every_fixture_is_checked() -> None:
    assert sorted(p.stem for p in FIXTURES) == sorted(ASSERTED) == sorted(VERDICTS)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_assert_completed_nofailure_slos_winner(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["assert", "-c", "completed", "-c", "nofailure", "-c", "slos", "-c", "winner"]
    code = main([*args, "-f", str(path)])
    captured = capsys.readouterr()
    assert (code, captured.out.splitlines()) == ASSERTED[path.stem]
    assert captured.err == ""


def test_iter8s_capitalised_metric_types_are_read(capsys: pytest.CaptureFixture[str]) -> None:
    path = ITER8_RESULTS / "load-test-pass.yaml"
    assert "type: Counter" in path.read_text(encoding="utf-8")
    assert main(["report", "-o", "json", "-f", str(path)]) == 0
    metrics = {m["name"]: m["type"] for m in json.loads(capsys.readouterr().out)["metrics"]}
    assert metrics["http/request-count"] == "counter"
    assert metrics["http/latency-mean"] == "gauge"


def test_version_names_sample_and_summary_metrics_as_iter8_wrote_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["report", "-o", "json", "-f", str(ITER8_RESULTS / "ab-winner.yaml")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["versions"] == ["default (v1)", "candidate (v2)"]
    # grpc/latency is a Sample metric: its percentile comes from the observations
    p90 = next(s for s in report["slos"] if s["metric"] == "grpc/latency/p90")
    assert [v["value"] for v in p90["versions"]] == [37.25, 21.0]
    basket = next(s for s in report["summaries"] if s["metric"] == "backend/basket-size")
    assert basket["versions"][1] == {
        "count": 38,
        "sum": 1330,
        "min": 6,
        "max": 91,
        "sumSquares": 61000,
    }


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "json", "junit"])
@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_report_in_every_format(
    path: Path, fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / f"report.{fmt}"
    assert main(["report", "-o", fmt, "-f", str(path), "--output", str(output)]) == 0
    assert capsys.readouterr().err == f"{fmt} report written to {output}\n"
    text = output.read_text(encoding="utf-8")
    verdict = VERDICTS[path.stem]
    if fmt == "json":
        assert json.loads(text)["verdict"]["status"] == verdict
    elif fmt == "junit":
        suite = ET.fromstring(text)
        assert int(suite.get("errors") or 0) == (verdict == "error")
        assert int(suite.get("failures") or 0) == (verdict == "failed")
    elif fmt == "html":
        assert f'data-verdict="{verdict}"' in text
    elif fmt == "markdown":
        assert text.startswith("### ")
    else:
        assert "Run: failed" in text if verdict == "error" else "Run: completed" in text


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().out


@pytest.mark.parametrize("path", AGREEING, ids=lambda p: p.stem)
def test_report_event_summary_and_assert_agree(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    report = build_report(document)
    summary = summarize(document["result"])
    versions = list(report.versions)
    assert [v["name"] for v in summary["versions"]] == versions

    # the winner
    report_winner = report.winner.version if report.winner else None
    summary_winner = summary["winner"]["index"] if summary["winner"] else None
    code, out = _cli(["assert", "-c", "winner", "-f", str(path)], capsys)
    assert_winner = next((i for i, n in enumerate(versions) if f"the winner is {n}:" in out), None)
    assert report_winner == summary_winner == assert_winner
    assert code == (0 if report_winner is not None else 1)

    # each version's SLOs
    for index in range(len(versions)):
        in_report = all(s.versions[index].holds for s in report.slos)
        in_summary = summary["versions"][index]["slosSatisfied"] in (True, None)
        code, _ = _cli(["assert", "-c", f"slos={index}", "-f", str(path)], capsys)
        assert in_report == in_summary == (code == 0), versions[index]

    # each SLO's status, and each reward's verdict and winner
    assert [[v.status for v in s.versions] for s in report.slos] == [
        [v["status"] for v in s["versions"]] for s in summary["slos"]
    ]
    assert [(r.metric, r.verdict, r.winner) for r in report.rewards] == [
        (r["metric"], r["verdict"], r["winner"]) for r in summary["rewards"]
    ]
