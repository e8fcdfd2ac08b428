"""The pipeline's pure decisions: annotations from a report, the exit code by the gate."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from iter8_action.cli.job import Outcome, annotations_for
from iter8_action.core.exitcodes import ExitCode
from iter8_action.experiment.model import Experiment, TaskSpec
from iter8_action.platforms import Annotation, AnnotationLevel
from iter8_action.report.build import build_report
from iter8_action.report.model import Report, ReportVerdict
from tests.support.paths import RESULTS

EXPERIMENT = Experiment(
    tasks=(
        TaskSpec(index=0, name="http", inputs={}, line=2),
        TaskSpec(index=1, name="custommetrics", inputs={}, line=9),
        TaskSpec(index=2, name="assess", inputs={}, line=18),
    ),
    source="exp.yaml",
    base_dir=Path(),
)


def report(name: str) -> Report:
    return build_report(yaml.safe_load((RESULTS / name).read_text()))


def test_slo_violations_are_errors_at_the_assess_task() -> None:
    notes = annotations_for(
        report("three-versions.yaml"),
        EXPERIMENT,
        file="exp.yaml",
        fail_on=frozenset({"slos", "task-failure"}),
    )
    assert notes == [
        Annotation(
            AnnotationLevel.ERROR,
            "v3: http/error-rate is 0.03, above the limit 0.02",
            title="SLO violated: http/error-rate (v3)",
            file="exp.yaml",
            line=18,
        ),
        Annotation(
            AnnotationLevel.ERROR,
            "v3: http/latency-p95 is 112.807 msec, above the limit 100 msec",
            title="SLO violated: http/latency-p95 (v3)",
            file="exp.yaml",
            line=18,
        ),
        Annotation(
            AnnotationLevel.ERROR,
            "v3: http/latency-mean is 53.804 msec, above the limit 32.662 msec",
            title="SLO violated: http/latency-mean (v3)",
            file="exp.yaml",
            line=18,
        ),
    ]


def test_slo_violations_are_warnings_when_the_gate_ignores_them() -> None:
    notes = annotations_for(
        report("three-versions.yaml"), EXPERIMENT, file="exp.yaml", fail_on=frozenset()
    )
    assert {n.level for n in notes} == {"warning"}


def test_missing_data_is_a_warning() -> None:
    notes = annotations_for(
        report("no-data.yaml"), EXPERIMENT, file="exp.yaml", fail_on=frozenset({"slos"})
    )
    assert notes
    assert all(n.level == "warning" for n in notes)
    assert notes[0].title is not None and notes[0].title.startswith("SLO without data: ")
    assert notes[0].message.endswith(", so its SLO is not met")


def test_a_failed_task_is_located_at_its_line() -> None:
    notes = annotations_for(
        report("failed-run.yaml"), EXPERIMENT, file="exp.yaml", fail_on=frozenset({"task-failure"})
    )
    failed = [n for n in notes if n.title and n.title.startswith("Task failed")]
    assert len(failed) == 1
    assert failed[0].level == "error"
    assert failed[0].file == "exp.yaml"


@pytest.mark.parametrize(
    ("outcome", "fail_on", "code"),
    [
        (Outcome(ReportVerdict.PASSED, True, False), {"slos", "task-failure"}, ExitCode.OK),
        (
            Outcome(ReportVerdict.FAILED, False, False),
            {"slos", "task-failure"},
            ExitCode.CONDITION_FAILED,
        ),
        (Outcome(ReportVerdict.FAILED, False, False), {"task-failure"}, ExitCode.OK),
        (Outcome(ReportVerdict.NO_DATA, False, False), {"slos"}, ExitCode.CONDITION_FAILED),
        (Outcome(ReportVerdict.ERROR, True, True), {"slos", "task-failure"}, ExitCode.TASK_FAILED),
        (Outcome(ReportVerdict.ERROR, True, True), {"slos"}, ExitCode.OK),
        (Outcome(ReportVerdict.ERROR, False, True), set(), ExitCode.OK),
        (Outcome("invalid", False, False), set(), ExitCode.INVALID_INPUT),
        (Outcome(ReportVerdict.ERROR, True, False, interrupted=True), set(), ExitCode.INTERRUPTED),
    ],
)
def test_the_exit_code_follows_the_gate(
    outcome: Outcome, fail_on: set[str], code: ExitCode
) -> None:
    assert outcome.exit_code(frozenset(fail_on)) is code
