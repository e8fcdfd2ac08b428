"""The report model: verdicts, task statuses, fallbacks to Iter8's fields, errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from iter8_action.report import FORMATS, ReportError, build_report, render
from iter8_action.report.model import ReportVerdict, Verdict
from iter8_action.report.series import metric_sort_key
from tests.support.results import load, make_document

VERDICTS = {
    "one-version": Verdict(ReportVerdict.PASSED, "SLOs passed: v1", "v1 meets all 2 SLOs."),
    "three-versions": Verdict(
        ReportVerdict.FAILED,
        "SLOs failed: v3",
        "v3 does not meet every SLO (v1, v2 meet every SLO).",
    ),
    "failed-run": Verdict(
        ReportVerdict.ERROR,
        "Experiment failed",
        "The run failed: task 1 (http) failed: every request to http://127.0.0.1:8082/ "
        "failed: connection refused (is the service running?).",
    ),
    "no-data": Verdict(
        ReportVerdict.NO_DATA,
        "No data: stable, canary",
        "No value was recorded for prom/latency-p99; check that the metrics task reached "
        "its backend and that the query matches.",
    ),
    "winner": Verdict(
        ReportVerdict.WINNER, "Winner: v2", "v2 meets every SLO and is best on every reward."
    ),
    "no-winner": Verdict(
        ReportVerdict.NO_WINNER_YET,
        "No winner yet: v1, v2",
        "No version is significantly better than the baseline on every reward yet.",
    ),
    "in-progress": Verdict(
        ReportVerdict.INCOMPLETE,
        "Experiment not finished",
        "The run has not finished (1 of 3 tasks done); this report shows what was recorded so far.",
    ),
    "iter8-insights": Verdict(
        ReportVerdict.FAILED, "SLOs failed: v2", "v2 does not meet every SLO (v1 meets every SLO)."
    ),
}


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_verdict_of_each_fixture(name: str) -> None:
    assert build_report(load(name)).verdict == VERDICTS[name]


def test_failed_run_shows_what_finished_and_marks_the_rest() -> None:
    report = build_report(load("failed-run"))
    assert [(t.index, t.task, t.status) for t in report.tasks] == [
        (0, "ready", "completed"),
        (1, "http", "failed"),
        (2, "assess", "not-run"),
        (3, "notify", "not-run"),
    ]
    assert report.tasks[3].condition == "not SLOs()"
    assert report.run.state == "failed"
    assert report.run.failed_task == 1
    assert report.run.duration_s == pytest.approx(5.12)
    assert report.metrics == ()


def test_tasks_missing_from_the_result_come_from_the_spec() -> None:
    document = load("failed-run")
    document["result"]["tasks"] = document["result"]["tasks"][:1]
    report = build_report(document)
    assert [(t.task, t.status) for t in report.tasks] == [
        ("ready", "completed"),
        ("http", "not-run"),
        ("assess", "not-run"),
        ("notify", "not-run"),
    ]
    document["result"]["failure"] = False
    document["spec"].append({"run": "echo done"})
    report = build_report(document)
    assert [t.status for t in report.tasks] == ["completed", *["pending"] * 4]
    assert report.tasks[4].task == "run"


def test_the_failure_reason_names_the_task_when_the_engine_did_not() -> None:
    document = load("failed-run")
    document["result"]["failureReason"] = "connection refused"
    assert build_report(document).verdict.detail == (
        "The run failed at task 1 (http): connection refused."
    )
    document["result"]["interrupted"] = True
    document["result"]["failureReason"] = None
    report = build_report(document)
    assert report.run.state == "interrupted"
    assert report.verdict.title == "Experiment was interrupted"
    assert report.verdict.detail == "The run was interrupted at task 1 (http)."


def test_a_document_without_a_result_is_not_started() -> None:
    report = build_report({"spec": [{"task": "http", "with": {}}]})
    assert report.run.state == "not-started"
    assert report.verdict.status == "incomplete"
    assert [(t.task, t.status) for t in report.tasks] == [("http", "pending")]
    assert report.versions == ()


def test_a_completed_run_without_assessment() -> None:
    document = load("one-version")
    del document["result"]["insights"]["assessment"]
    for key in ("SLOs", "SLOsSatisfied", "rewards", "rewardsWinners"):
        del document["result"]["insights"][key]
    report = build_report(document)
    assert report.verdict == Verdict(
        ReportVerdict.NO_ASSESSMENT,
        "Completed",
        "The run completed for v1; nothing was assessed (add an `assess` task with SLOs or "
        "rewards).",
    )
    assert report.winner is None


def test_iter8_insights_fall_back_to_slos_satisfied_and_rewards_winners() -> None:
    report = build_report(load("iter8-insights"))
    assert [(s.metric, s.kind, s.limit) for s in report.slos] == [
        ("http/error-rate", "upper", 0.0),
        ("http/latency-p90", "lower", 1.0),
    ]
    assert [v.status for v in report.slos[0].versions] == ["satisfied", "violated"]
    assert [v.value for v in report.slos[0].versions] == [0.0, 0.03]
    reward = report.rewards[0]
    assert (reward.metric, reward.direction, reward.verdict, reward.winner) == (
        "http/latency-mean",
        "min",
        "winner",
        1,
    )
    assert report.winner is not None
    assert report.winner.version is None  # v2 won the reward but misses an SLO


def test_iter8_insights_winner_when_it_meets_every_slo() -> None:
    document = load("iter8-insights")
    insights = document["result"]["insights"]
    insights["SLOsSatisfied"]["upper"] = [[True, True]]
    report = build_report(document)
    assert report.winner is not None
    assert (report.winner.version, report.winner.name) == (1, "v2")
    assert report.verdict.status == "winner"
    insights["rewardsWinners"]["min"] = [-1]
    insights["nonHistMetricValues"] = [{}, {}]
    report = build_report(document)
    assert report.rewards[0].verdict == "no-data"
    assert report.verdict.status == "no-winner-yet"


def test_missing_slo_value_never_satisfies() -> None:
    document = load("iter8-insights")
    document["result"]["insights"]["SLOsSatisfied"]["upper"] = [[True]]
    report = build_report(document)
    assert [v.status for v in report.slos[0].versions] == ["satisfied", "violated"]


def test_metrics_read_in_the_load_tasks_order() -> None:
    names = [m.name for m in build_report(load("three-versions")).metrics]
    assert names == [
        "http/request-count",
        "http/error-count",
        "http/error-rate",
        "http/latency-mean",
        "http/latency-stddev",
        "http/latency-min",
        "http/latency-max",
        "http/latency-p50",
        "http/latency-p75",
        "http/latency-p90",
        "http/latency-p95",
        "http/latency-p99",
        "http/latency-p99.9",
        "http/qps-achieved",
        "prom/cpu-usage",
    ]
    assert sorted(
        ["zz/a", "http/latency-p9", "grpc/latency/p50", "http/x"], key=metric_sort_key
    ) == [
        "grpc/latency/p50",
        "http/latency-p9",
        "http/x",
        "zz/a",
    ]


def test_charts_data_comes_from_the_result() -> None:
    report = build_report(load("winner"))
    assert [h.metric for h in report.histograms] == ["http/latency"]
    first = report.histograms[0].versions[0]
    assert first is not None
    assert (first[0].lower, first[0].upper, first[0].count) == (10.0, 15.0, 2)
    curve = report.percentiles[0]
    assert curve.percentiles == (50.0, 75.0, 90.0, 95.0, 99.0, 99.9)
    assert curve.versions[1][4] == 44.303
    # http/latency-hdr is data for the statistics, not a table for people
    assert [s.metric for s in report.summaries] == ["http/errors-by-kind", "http/status-codes"]
    assert report.summaries[1].versions[0] == {"200": 399, "503": 1}
    series = report.timeseries[0]
    assert (series.metric, series.units, series.interval_s) == (
        "http/request-rate",
        "requests/s",
        1.0,
    )
    assert series.versions[0] is not None and len(series.versions[0]) == 20


def test_to_dict_uses_the_results_spelling() -> None:
    data = build_report(load("winner")).to_dict()
    assert data["schemaVersion"] == 1
    assert data["run"]["durationSeconds"] == pytest.approx(20.3)
    assert data["timeseries"][0]["intervalSeconds"] == 1.0
    assert data["rewards"][0]["comparisons"][0]["adjustedPValue"] == 1e-05
    assert data["experiment"]["metadata"] == {"name": "ab-test"}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            ["not", "a", "mapping"],
            "the result file is not a mapping: expected `metadata`, `spec` and `result` keys; "
            "pass the file that `iter8 run` wrote (result.yaml by default)",
        ),
        (
            {"result": "done"},
            "`result` is a str, not a mapping; pass the file that `iter8 run` wrote "
            "(result.yaml by default)",
        ),
        (
            {"result": {"tasks": [{"index": "first", "task": "http"}]}},
            "the result in this file is malformed (ValueError: invalid literal for int() with "
            "base 10: 'first'); it was not written by `iter8 run`, or it was edited by hand",
        ),
        (
            {"result": {"insights": {"assessment": {"slos": [{"kind": "upper"}]}}}},
            "the result in this file is malformed (KeyError: 'metric'); it was not written by "
            "`iter8 run`, or it was edited by hand",
        ),
    ],
)
def test_a_document_that_is_not_a_result_is_a_clear_error(document: Any, message: str) -> None:
    with pytest.raises(ReportError) as info:
        build_report(document)
    assert str(info.value) == message
    assert info.value.exit_code == 2


def test_render_knows_its_formats() -> None:
    assert FORMATS == ("text", "markdown", "html", "json", "junit")
    with pytest.raises(ReportError) as info:
        render(load("winner"), "pdf")
    assert str(info.value) == (
        "unknown report format 'pdf'; choose one of: text, markdown, html, json, junit"
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_every_format_of_a_partial_result(fmt: str) -> None:
    assert render(load("in-progress"), fmt)


def test_render_does_not_change_the_document() -> None:
    document = make_document(["a", "b"], ["x/y"], slos=("x/y",))
    before = copy.deepcopy(document)
    for fmt in FORMATS:
        render(document, fmt)
    assert document == before


def test_registered_secrets_never_reach_a_report() -> None:
    from iter8_action.core.secrets import SECRETS

    secret = "report-test-secret-7f3a9c"
    SECRETS.add(secret)
    document = load("failed-run")
    document["spec"][1]["with"]["headers"] = {"Authorization": f"Bearer {secret}"}
    document["result"]["failureReason"] = f"401 with token {secret}"
    for fmt in FORMATS:
        assert secret not in render(document, fmt)
    assert build_report(document).run.failure_reason == "401 with token (redacted)"


def test_a_run_still_going_after_its_assessment_gets_the_assessments_verdict() -> None:
    # what a rollout task sees when it puts the report in its pull request
    document = load("winner")
    result = document["result"]
    del result["endTime"]
    result["tasks"].append({"index": len(result["tasks"]), "task": "rollout", "status": "running"})
    report = build_report(document)
    assert report.verdict.status == "winner"
    assert report.run.state == "running"


def test_grpc_metrics_read_in_the_load_tasks_order() -> None:
    names = ["grpc/latency/p95", "grpc/latency/mean", "grpc/error-rate", "grpc/request-count"]
    assert sorted(names, key=metric_sort_key) == [
        "grpc/request-count",
        "grpc/error-rate",
        "grpc/latency/mean",
        "grpc/latency/p95",
    ]
