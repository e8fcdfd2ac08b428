"""The assess task end to end: experiment file -> loader -> task -> result file -> iter8 assert.

Load generation belongs to the http task; here the metric store is filled with
what that task writes (histograms, counts, gauges) for two versions, one of
them slower, and everything after it runs for real: schema validation and
alias translation of the experiment, the task, `if:` conditions, the result
file, and the `iter8` command in a subprocess.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from iter8_action.core.errors import ExperimentInvalid, TaskFailed
from iter8_action.core.logs import get_logger
from iter8_action.engine.loader import load_text
from iter8_action.experiment.file import read_result, write_result
from iter8_action.experiment.model import Experiment
from iter8_action.metrics.store import MetricMeta, MetricStore, MetricType
from iter8_action.results.model import Result, TaskRecord, TaskStatus, now_iso
from iter8_action.tasks import registry
from tests.support.contexts import task_context
from tests.support.paths import ROOT
from tests.support.stores import two_versions

EXPERIMENT = """\
metadata: {name: assess-two-versions}
spec:
- task: assess
  with:
    SLOs:
      upper:
      - metric: built-in/p95            # Iter8's old name for http/latency-p95
        maxIncreasePercent: 10          # a candidate may be at most 10% slower than v1
      - metric: http/error-rate
        limit: 0.05
    rewards:
      min: [http/latency-mean]
- if: Winner("v2")
  run: echo promote v2
- if: not SLOs()
  run: echo roll back
"""


def _run(experiment: Experiment, store: MetricStore, path: Path) -> Result:
    """Run the assess task on `store`, then decide the conditions of the tasks after it."""
    result = Result(
        store=store, tasks=[TaskRecord(index=t.index, task=t.name) for t in experiment.tasks]
    )
    first = experiment.tasks[0]
    ctx = task_context(
        first.name, path.parent, result=result, logger=get_logger().name, result_path=path
    )
    registry()[first.name].run(first.parsed, ctx)
    result.tasks[0].status = TaskStatus.COMPLETED
    for spec in experiment.tasks[1:]:
        assert spec.condition is not None
        holds = spec.condition.evaluate(result)
        result.tasks[spec.index].status = TaskStatus.COMPLETED if holds else TaskStatus.SKIPPED
    result.end_time = now_iso()
    write_result(path, experiment, result)
    return result


def _iter8(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "iter8_action", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )


def _load(text: str, tmp_path: Path) -> Experiment:
    return load_text(text, name="experiment.yaml", base_dir=tmp_path, env=os.environ)


def test_assess_is_a_registered_task() -> None:
    assert "assess" in registry()


def test_slower_version_violates_relative_slo_and_faster_one_wins(tmp_path: Path) -> None:
    path = tmp_path / "result.yaml"
    store = two_versions(medians=(65.0, 50.0))  # v1 (the baseline) is the slower one
    result = _run(_load(EXPERIMENT, tmp_path), store, path)
    assert [t.status for t in result.tasks] == [
        TaskStatus.COMPLETED,
        TaskStatus.COMPLETED,  # Winner("v2")
        TaskStatus.SKIPPED,  # not SLOs(): every SLO holds
    ]
    written = read_result(path)
    ours = written.assessment["assessment"]
    assert ours["winner"] == {
        "version": 1,
        "name": "v2",
        "reason": "v2 meets every SLO and is best on every reward",
    }
    reward = ours["rewards"][0]
    assert reward["verdict"] == "winner"
    assert reward["reason"].startswith(
        "v2 is best: 23.1% lower than v1 (v2 vs v1: Mann-Whitney U, p<1e-12, effect -23.1%, CI ["
    )
    assert written.assessment["rewardsWinners"] == {"max": [], "min": [1]}
    assert written.assessment["SLOs"] == {
        "upper": [{"metric": "http/error-rate", "limit": 0.05}],
        "lower": [],
    }

    slower = _run(_load(EXPERIMENT, tmp_path), two_versions(medians=(50.0, 65.0)), path)
    assert [t.status for t in slower.tasks][1:] == [TaskStatus.SKIPPED, TaskStatus.COMPLETED]
    status = read_result(path).assessment["assessment"]["slos"][0]["versions"][1]
    assert status["status"] == "violated"
    assert status["test"]["test"] == "mann-whitney-u"
    assert status["test"]["effectLabel"] == "+30.0%"
    assert status["test"]["significant"] is True
    assert status["test"]["conclusive"] is True

    failed = _iter8("assert", "-c", "completed", "-c", "slos", "-c", "winner", "-f", str(path))
    assert failed.returncode == 1, failed.stderr
    lines = failed.stdout.splitlines()
    assert lines[0] == "✓ completed: all 3 tasks completed"
    assert lines[1].startswith(
        "✗ slos: SLOs missed: v2: upper SLO on http/latency-p95 violated (147.62 > 124.909 "
        "(v1 +10%); Mann-Whitney U, p<1e-12, effect +30.0%, CI ["
    )
    assert lines[2] == "✓ winner: the winner is v1: v1 meets every SLO and is best on every reward"
    passed = _iter8("assert", "-c", "slos=v1", "-c", "winner=v1", "-f", str(path))
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.splitlines() == [
        "✓ slos=v1: v1 meets the SLOs",
        "✓ winner=v1: v1 is the winner: v1 meets every SLO and is best on every reward",
    ]


def test_identical_versions_report_no_winner(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    result = _run(_load(EXPERIMENT, tmp_path), two_versions(), path)
    assert [t.status for t in result.tasks][1:] == [TaskStatus.SKIPPED, TaskStatus.SKIPPED]
    ours = read_result(path).assessment["assessment"]
    assert ours["winner"]["version"] is None
    assert ours["rewards"][0]["verdict"] == "no-winner-yet"
    assert ours["rewards"][0]["reason"].startswith(
        "no winner yet: v2 vs v1: difference within noise (p=1, not below 0.05)"
    )
    checked = _iter8("assert", "-c", "slos", "-c", "winner", "-f", str(path))
    assert checked.returncode == 1
    assert checked.stdout.splitlines() == [
        "✓ slos: every version meets the SLOs",
        "✗ winner: no winner: no winner yet on http/latency-mean",
    ]


def test_iter8_old_form_with_assess_app_versions(tmp_path: Path) -> None:
    experiment = _load(
        """\
- task: assess-app-versions
  with:
    SLOs:
    - metric: built-in/error-rate
      upperLimit: 0.015
    - metric: built-in/mean-latency
      upperLimit: 100
      lowerLimit: 1
""",
        tmp_path,
    )
    assert experiment.tasks[0].name == "assess"
    store = two_versions(errors=(10, 30))
    result = _run(experiment, store, tmp_path / "result.yaml")
    assert result.assessment["SLOs"] == {
        "upper": [
            {"metric": "http/error-rate", "limit": 0.015},
            {"metric": "http/latency-mean", "limit": 100.0},
        ],
        "lower": [{"metric": "http/latency-mean", "limit": 1.0}],
    }
    assert result.assessment["SLOsSatisfied"] == {
        "upper": [[True, False], [True, True]],
        "lower": [[True, True]],
    }


@pytest.mark.parametrize(
    ("with_", "message"),
    [
        (
            "SLOs: {upper: [{metric: http/latency-p95, maxDecreasePercent: 10}]}",
            "experiment.yaml:4: $.spec[0].with.SLOs.upper[0]: 'limit' is required "
            "(2 other alternatives also failed)\n"
            "experiment.yaml:4: $.spec[0].with.SLOs.upper[0].maxDecreasePercent: unknown field "
            "'maxDecreasePercent'; did you mean 'maxIncreasePercent'?",
        ),
        (
            "SLOs: {lower: [{metric: app/conversion, maxDecreasePercent: 120}]}",
            "experiment.yaml:4: $.spec[0].with.SLOs.lower[0].maxDecreasePercent: "
            "120 is greater than the maximum of 100",
        ),
        (
            "SLOs: {upper: [{metric: m, limit: 1, versions: []}]}",
            "experiment.yaml:4: $.spec[0].with.SLOs.upper[0].versions: "
            "the list is empty; it needs at least one entry",
        ),
        (
            "confidence: 95",
            "experiment.yaml:4: $.spec[0].with.confidence: 95 is greater than or equal to the "
            "maximum of 1",
        ),
        (
            "correction: sidak",
            "experiment.yaml:4: $.spec[0].with.correction: 'sidak' is not one of 'holm', "
            "'bonferroni', 'none'",
        ),
        (
            "minRequests: 1",
            "experiment.yaml:4: $.spec[0].with.minRequests: 1 is less than the minimum of 2",
        ),
    ],
)
def test_invalid_inputs_are_reported_at_their_line(
    tmp_path: Path, with_: str, message: str
) -> None:
    text = f"spec:\n- task: assess\n  with:\n    {with_}\n"
    with pytest.raises(ExperimentInvalid) as caught:
        _load(text, tmp_path)
    assert str(caught.value) == message


def test_task_failures_name_the_cause(tmp_path: Path) -> None:
    experiment = _load("spec:\n- task: assess\n  with: {baseline: v3}\n", tmp_path)
    with pytest.raises(TaskFailed) as caught:
        _run(experiment, two_versions(), tmp_path / "result.yaml")
    assert caught.value.reason == (
        "baseline: there is no version named 'v3' (versions are 0: v1, 1: v2); to compare "
        "with another run's result, set the baseline-from input or pass iter8 run --baseline "
        "RESULT"
    )
    with pytest.raises(TaskFailed) as caught:
        _run(experiment, MetricStore(), tmp_path / "result.yaml")
    assert caught.value.reason == (
        "there are no versions to assess: no task before assess collected metrics. "
        "Put an http, grpc or custommetrics task before assess in spec."
    )


def test_unknown_metric_is_no_data_with_a_hint(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    experiment = _load(
        "spec:\n- task: assess\n  with:\n"
        "    SLOs: {upper: [{metric: http/latncy-p95, limit: 9}]}\n"
        "    rewards: {max: [http/request-counts, app/declared]}\n",
        tmp_path,
    )
    store = two_versions()
    store.declare("app/declared", MetricMeta(MetricType.GAUGE, "declared, never written"))
    with caplog.at_level(logging.INFO, logger="iter8"):
        result = _run(experiment, store, tmp_path / "result.yaml")
    statuses = result.assessment["assessment"]["slos"][0]["versions"]
    assert [s["status"] for s in statuses] == ["no-data", "no-data"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "assess: no version has a value for http/latncy-p95: its SLOs and rewards read no-data; "
        "did you mean http/latency-p95?",
        "assess: no version has a value for http/request-counts: its SLOs and rewards read "
        "no-data; did you mean http/request-count?",
    ]
    assert "SLO upper http/latncy-p95 for v1: no-data (no data for http/latncy-p95 in v1)" in [
        r.getMessage() for r in caplog.records
    ]
