"""Building a report from a result document: the run, its tasks, the verdicts recorded.

The report never recomputes statistics: SLO verdicts, winners, effect sizes and
p-values come from the assessment, read by `iter8_action.results.insights` (the one
reader the events, conditions and `iter8 assert` share), which falls back to
Iter8's own `SLOsSatisfied` and `rewardsWinners` for results written by Iter8.

A result may be partial (a run that failed or was interrupted half-way, or a
report asked for while the run goes on): the report shows what finished and
marks the tasks that never ran. Iter8 crashed there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from iter8_action.baselines.view import read_view
from iter8_action.core.secrets import SECRETS
from iter8_action.report import series
from iter8_action.report.headline import headline
from iter8_action.report.model import Report, ReportError, Run, RunState, TaskRow, TaskStatus
from iter8_action.results.fields import float_or_none, int_or_none, mapping, str_or_none
from iter8_action.results.insights import read_insights
from iter8_action.results.model import iter8_task_statuses, task_name, written_by_iter8


def build_report(document: Mapping[str, Any]) -> Report:
    """The report of a result document (`{metadata, spec, result}` as loaded from YAML/JSON).

    Raises `ReportError` when the document is not a result at all.
    """
    if not isinstance(document, Mapping):
        raise ReportError(
            "the result file is not a mapping: expected `metadata`, `spec` and `result` keys; "
            "pass the file that `iter8 run` wrote (result.yaml by default)"
        )
    result = document.get("result")
    if result is None:
        result = {}
    if not isinstance(result, Mapping):
        raise ReportError(
            f"`result` is a {type(result).__name__}, not a mapping; "
            "pass the file that `iter8 run` wrote (result.yaml by default)"
        )
    try:
        return _build(_redacted(document), _redacted(result))
    except (TypeError, ValueError, KeyError, AttributeError) as err:
        raise ReportError(
            f"the result in this file is malformed ({type(err).__name__}: {err}); "
            "it was not written by `iter8 run`, or it was edited by hand"
        ) from err


def _build(document: Mapping[str, Any], result: Mapping[str, Any]) -> Report:
    found = read_insights(mapping(result.get("insights")))
    store = found.store
    spec = document.get("spec")
    spec_list = list(spec) if isinstance(spec, Sequence) and not isinstance(spec, str) else []
    metadata = mapping(document.get("metadata"))

    tasks = _tasks(result, spec_list)
    run = _run(result, metadata, tasks)
    return Report(
        run=run,
        verdict=headline(run, tasks, found),
        versions=found.versions,
        tasks=tasks,
        slos=found.slos,
        rewards=found.rewards,
        winner=found.winner,
        baseline=found.baseline,
        confidence=found.confidence,
        metrics=series.metrics(store),
        histograms=series.histograms(store),
        percentiles=series.percentiles(store),
        summaries=series.summaries(store),
        timeseries=series.timeseries(store),
        experiment={"metadata": dict(metadata), "spec": spec_list}
        if metadata
        else {"spec": spec_list},
        baselines=read_view(mapping(result.get("insights"))),
    )


def _redacted(value: Any) -> Any:
    """The document with every registered secret masked: a report never shows one, even
    from a document that did not come from a (redacted) result file."""
    return SECRETS.redact_data(value)


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


# -- run and tasks ----------------------------------------------------------------------


def _tasks(result: Mapping[str, Any], spec: list[Any]) -> tuple[TaskRow, ...]:
    records = [r for r in result.get("tasks") or [] if isinstance(r, Mapping)]
    stopped = bool(result.get("failure")) or bool(result.get("interrupted"))
    if written_by_iter8(result):
        statuses = iter8_task_statuses(
            len(spec), int(result["numCompletedTasks"] or 0), bool(result.get("failure"))
        )
        records = [
            {"index": i, "task": task_name(entry), "status": status, "if": _if(entry)}
            for i, (entry, status) in enumerate(zip(spec, statuses, strict=True))
        ]
    rows: list[TaskRow] = []
    for position, record in enumerate(records):
        status = TaskStatus(record.get("status", TaskStatus.PENDING))
        if stopped and status is TaskStatus.PENDING:
            status = TaskStatus.NOT_RUN
        rows.append(
            TaskRow(
                index=int(record.get("index", position)),
                task=str(record.get("task", "?")),
                status=status,
                condition=str_or_none(record.get("if")),
                soft_failure=bool(record.get("softFailure", False)),
                start_time=str_or_none(record.get("startTime")),
                duration_s=float_or_none(record.get("durationSeconds")),
                error=str_or_none(record.get("error")),
            )
        )
    # Tasks of the spec the result never listed (written before the engine knew them).
    for index in range(len(records), len(spec)):
        entry = spec[index]
        rows.append(
            TaskRow(
                index=index,
                task=task_name(entry),
                status=TaskStatus.NOT_RUN if stopped else TaskStatus.PENDING,
                condition=str_or_none(_if(entry)),
            )
        )
    return tuple(rows)


def _if(entry: Any) -> Any:
    return entry.get("if") if isinstance(entry, Mapping) else None


def _finished_by_iter8(result: Mapping[str, Any], tasks: tuple[TaskRow, ...]) -> bool:
    """Iter8 wrote no end time: its run finished when it counted every task completed."""
    return written_by_iter8(result) and all(t.status is TaskStatus.COMPLETED for t in tasks)


def _state(result: Mapping[str, Any], tasks: tuple[TaskRow, ...]) -> RunState:
    if result.get("interrupted", False):
        return RunState.INTERRUPTED
    if result.get("failure", False):
        return RunState.FAILED
    if result.get("endTime") is not None or _finished_by_iter8(result, tasks):
        return RunState.COMPLETED
    return RunState.RUNNING if result else RunState.NOT_STARTED


def _run(result: Mapping[str, Any], metadata: Mapping[str, Any], tasks: tuple[TaskRow, ...]) -> Run:
    start = str_or_none(result.get("startTime"))
    end = str_or_none(result.get("endTime"))
    start_dt, end_dt = _parse_time(start), _parse_time(end)
    duration = (end_dt - start_dt).total_seconds() if start_dt and end_dt else None
    completed = result.get("numCompletedTasks")
    name = metadata.get("name")
    return Run(
        name=None if name is None else str(name),
        state=_state(result, tasks),
        start_time=start,
        end_time=end,
        duration_s=duration,
        iter8_version=str_or_none(result.get("iter8Version")),
        num_tasks=len(tasks),
        num_completed_tasks=int(completed)
        if completed is not None
        else sum(1 for t in tasks if t.status in (TaskStatus.COMPLETED, TaskStatus.SKIPPED)),
        failure=bool(result.get("failure", False)),
        failure_reason=str_or_none(result.get("failureReason")),
        failed_task=int_or_none(result.get("failedTask"))
        if not written_by_iter8(result)
        else next((t.index for t in tasks if t.status is TaskStatus.FAILED), None),
        interrupted=bool(result.get("interrupted", False)),
    )
