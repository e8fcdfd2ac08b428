"""The report model: everything a report shows, read from a result document.

One model feeds every renderer (text, markdown, html, json, junit). It is built
from what the run recorded and never recomputes statistics: SLO verdicts,
winners, effect sizes and p-values come from the assessment, read by
`iter8_action.insights` (the one reader the events, conditions and `iter8
assert` share), which falls back to Iter8's own `SLOsSatisfied` and
`rewardsWinners` for results written by Iter8.

A result may be partial (a run that failed or was interrupted half-way, or a
report asked for while the run goes on): the model shows what finished and
marks the tasks that never ran. Iter8 crashed there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import datetime
from typing import Any

from iter8_action.errors import InputError
from iter8_action.insights import SLO_STATUSES as SLO_STATUSES
from iter8_action.insights import Comparison as Comparison
from iter8_action.insights import Reward as Reward
from iter8_action.insights import Slo as Slo
from iter8_action.insights import SloVersion as SloVersion
from iter8_action.insights import Winner as Winner
from iter8_action.insights import read_insights
from iter8_action.metricnames import split_percentile
from iter8_action.metrics import MetricStore, MetricType
from iter8_action.result import iter8_task_statuses, task_name, written_by_iter8
from iter8_action.secrets import SECRETS

REPORT_SCHEMA_VERSION = 1
MAX_NAMED_VERSIONS = 6
"""A verdict names at most this many versions; beyond, it names the first and counts the rest."""

# The order the load tasks' metrics read best in; other metrics follow by name.
_HTTP_ORDER = (
    "request-count",
    "error-count",
    "error-rate",
    "latency-mean",
    "latency-stddev",
    "latency-min",
    "latency-max",
    # the grpc task: Iter8 spelled its latency statistics with a slash
    "latency/mean",
    "latency/stddev",
    "latency/min",
    "latency/max",
)

VERDICTS = (
    "winner",
    "passed",
    "failed",
    "no-data",
    "no-winner-yet",
    "no-assessment",
    "error",
    "incomplete",
)


class ReportError(InputError):
    """The result document cannot be read as a result."""


# -- the model ------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The one-line answer: `status` is one of `VERDICTS`."""

    status: str
    title: str
    detail: str


@dataclass(frozen=True)
class Run:
    """How the run went."""

    name: str | None
    state: str
    """completed | failed | interrupted | running | not-started"""
    start_time: str | None
    end_time: str | None
    duration_s: float | None
    iter8_version: str | None
    num_tasks: int
    num_completed_tasks: int
    failure: bool
    failure_reason: str | None
    failed_task: int | None
    interrupted: bool


@dataclass(frozen=True)
class TaskRow:
    index: int
    task: str
    status: str
    """pending | running | completed | skipped | failed | not-run"""
    condition: str | None = None
    soft_failure: bool = False
    start_time: str | None = None
    duration_s: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class Metric:
    name: str
    type: str
    units: str | None
    description: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class Bucket:
    lower: float
    upper: float
    count: int


@dataclass(frozen=True)
class Histogram:
    metric: str
    units: str | None
    versions: tuple[tuple[Bucket, ...] | None, ...]


@dataclass(frozen=True)
class PercentileCurve:
    """Stored percentile gauges of one latency metric, per version (never recomputed)."""

    metric: str
    units: str | None
    percentiles: tuple[float, ...]
    versions: tuple[tuple[float | None, ...], ...]


@dataclass(frozen=True)
class Summary:
    metric: str
    description: str
    versions: tuple[Mapping[str, Any] | None, ...]


@dataclass(frozen=True)
class TimeSeries:
    """A rate over time, per version: `values[i]` covers [i, i+1) * interval_s after the start."""

    metric: str
    units: str | None
    interval_s: float
    versions: tuple[tuple[float, ...] | None, ...]


@dataclass(frozen=True)
class Report:
    run: Run
    verdict: Verdict
    versions: tuple[str, ...]
    tasks: tuple[TaskRow, ...]
    slos: tuple[Slo, ...]
    rewards: tuple[Reward, ...]
    winner: Winner | None
    baseline: int | None
    confidence: float | None
    metrics: tuple[Metric, ...]
    histograms: tuple[Histogram, ...]
    percentiles: tuple[PercentileCurve, ...]
    summaries: tuple[Summary, ...]
    timeseries: tuple[TimeSeries, ...]
    experiment: Mapping[str, Any] = field(default_factory=dict)
    """The experiment as it ran (`metadata` and `spec`), for reference."""

    def version_name(self, index: int | None) -> str | None:
        if index is None or not 0 <= index < len(self.versions):
            return None
        return self.versions[index]

    def to_dict(self) -> dict[str, Any]:
        """The model as plain JSON data with camelCase keys (see `schemas/report.schema.json`)."""
        out: dict[str, Any] = {"schemaVersion": REPORT_SCHEMA_VERSION}
        out.update(_plain(self))
        return out


def _camel(name: str) -> str:
    """`duration_s` -> `durationSeconds` (the result's own spelling), `p_value` -> `pValue`."""
    if name.endswith("_s"):
        name = name[: -len("_s")] + "_seconds"
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {
            _camel(f.name): _plain(getattr(value, f.name))
            for f in fields(value)
            if f.metadata.get("report", True)
        }
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# -- building -------------------------------------------------------------------------


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
    found = read_insights(_mapping(result.get("insights")))
    store = found.store
    spec = document.get("spec")
    spec_list = list(spec) if isinstance(spec, Sequence) and not isinstance(spec, str) else []
    metadata = _mapping(document.get("metadata"))

    tasks = _tasks(result, spec_list)
    run = _run(result, metadata, tasks)
    report = Report(
        run=run,
        verdict=Verdict("", "", ""),
        versions=found.versions,
        tasks=tasks,
        slos=found.slos,
        rewards=found.rewards,
        winner=found.winner,
        baseline=found.baseline,
        confidence=found.confidence,
        metrics=_metrics(store),
        histograms=_histograms(store),
        percentiles=_percentiles(store),
        summaries=_summaries(store),
        timeseries=_timeseries(store),
        experiment={"metadata": dict(metadata), "spec": spec_list}
        if metadata
        else {"spec": spec_list},
    )
    return _with_verdict(report, assessed=found.assessed)


def _redacted(value: Any) -> Any:
    """The document with every registered secret masked: a report never shows one, even
    from a document that did not come from a (redacted) result file."""
    return SECRETS.redact_data(value)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _float_or_none(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    return int(value)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


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
            {"index": i, "task": task_name(entry), "status": str(status), "if": _if(entry)}
            for i, (entry, status) in enumerate(zip(spec, statuses, strict=True))
        ]
    rows: list[TaskRow] = []
    for position, record in enumerate(records):
        status = str(record.get("status", "pending"))
        if stopped and status == "pending":
            status = "not-run"
        rows.append(
            TaskRow(
                index=int(record.get("index", position)),
                task=str(record.get("task", "?")),
                status=status,
                condition=_str_or_none(record.get("if")),
                soft_failure=bool(record.get("softFailure", False)),
                start_time=_str_or_none(record.get("startTime")),
                duration_s=_float_or_none(record.get("durationSeconds")),
                error=_str_or_none(record.get("error")),
            )
        )
    # Tasks of the spec the result never listed (written before the engine knew them).
    for index in range(len(records), len(spec)):
        entry = spec[index]
        rows.append(
            TaskRow(
                index=index,
                task=task_name(entry),
                status="not-run" if stopped else "pending",
                condition=_str_or_none(_if(entry)),
            )
        )
    return tuple(rows)


def _if(entry: Any) -> Any:
    return entry.get("if") if isinstance(entry, Mapping) else None


def _finished_by_iter8(result: Mapping[str, Any], tasks: tuple[TaskRow, ...]) -> bool:
    """Iter8 wrote no end time: its run finished when it counted every task completed."""
    return written_by_iter8(result) and all(t.status == "completed" for t in tasks)


def _run(result: Mapping[str, Any], metadata: Mapping[str, Any], tasks: tuple[TaskRow, ...]) -> Run:
    failure = bool(result.get("failure", False))
    interrupted = bool(result.get("interrupted", False))
    start = _str_or_none(result.get("startTime"))
    end = _str_or_none(result.get("endTime"))
    if interrupted:
        state = "interrupted"
    elif failure:
        state = "failed"
    elif end is not None or _finished_by_iter8(result, tasks):
        state = "completed"
    elif result:
        state = "running"
    else:
        state = "not-started"
    start_dt, end_dt = _parse_time(start), _parse_time(end)
    duration = (end_dt - start_dt).total_seconds() if start_dt and end_dt else None
    completed = result.get("numCompletedTasks")
    name = metadata.get("name")
    return Run(
        name=None if name is None else str(name),
        state=state,
        start_time=start,
        end_time=end,
        duration_s=duration,
        iter8_version=_str_or_none(result.get("iter8Version")),
        num_tasks=len(tasks),
        num_completed_tasks=int(completed)
        if completed is not None
        else sum(1 for t in tasks if t.status in ("completed", "skipped")),
        failure=failure,
        failure_reason=_str_or_none(result.get("failureReason")),
        failed_task=_int_or_none(result.get("failedTask"))
        if not written_by_iter8(result)
        else next((t.index for t in tasks if t.status == "failed"), None),
        interrupted=interrupted,
    )


# -- metrics ------------------------------------------------------------------------------


def _units(store: MetricStore, metric: str) -> str | None:
    meta = store.meta(metric)
    return meta.units if meta is not None else None


def _values(store: MetricStore, metric: str) -> tuple[float | None, ...]:
    return tuple(store.value(metric, v) for v in range(store.num_versions))


def metric_sort_key(name: str) -> tuple[str, int, str, float]:
    """Built-in providers first, then the load task's own order, percentiles ascending."""
    provider, _, metric = name.partition("/")
    builtin = provider.startswith(("http", "grpc"))
    group = f"{0 if builtin else 1}{provider}"
    split = split_percentile(name)
    if split is not None:
        base = split[0].partition("/")[2]
        return (group, len(_HTTP_ORDER), base, split[1])
    if metric in _HTTP_ORDER:
        return (group, _HTTP_ORDER.index(metric), "", 0.0)
    return (group, len(_HTTP_ORDER) + 1, metric, 0.0)


def _scalar_names(store: MetricStore) -> list[str]:
    insights = store.to_insights()
    names: set[str] = set()
    for per_version in insights["nonHistMetricValues"]:
        names.update(per_version)
    return sorted(names, key=metric_sort_key)


def _metrics(store: MetricStore) -> tuple[Metric, ...]:
    out = []
    for name in _scalar_names(store):
        meta = store.meta(name)
        out.append(
            Metric(
                name=name,
                type=str(meta.type) if meta else str(MetricType.GAUGE),
                units=meta.units if meta else None,
                description=meta.description if meta else "",
                values=_values(store, name),
            )
        )
    return tuple(out)


def _histograms(store: MetricStore) -> tuple[Histogram, ...]:
    out = []
    for name in store.names():
        per_version = [store.histogram(name, v) for v in range(store.num_versions)]
        if not any(per_version):
            continue
        out.append(
            Histogram(
                metric=name,
                units=_units(store, name),
                versions=tuple(
                    None
                    if buckets is None
                    else tuple(
                        Bucket(b.lower, b.upper, b.count)
                        for b in sorted(buckets, key=lambda b: b.lower)
                    )
                    for buckets in per_version
                ),
            )
        )
    return tuple(out)


def _percentiles(store: MetricStore) -> tuple[PercentileCurve, ...]:
    groups: dict[str, dict[float, str]] = {}
    for name in _scalar_names(store):
        split = split_percentile(name)
        if split is not None:
            groups.setdefault(split[0], {})[split[1]] = name
    out = []
    for base in sorted(groups, key=metric_sort_key):
        percentiles = tuple(sorted(groups[base]))
        names = [groups[base][p] for p in percentiles]
        out.append(
            PercentileCurve(
                metric=base,
                units=_units(store, names[0]),
                percentiles=percentiles,
                versions=tuple(
                    tuple(store.value(n, v) for n in names) for v in range(store.num_versions)
                ),
            )
        )
    return tuple(out)


def _summaries(store: MetricStore) -> tuple[Summary, ...]:
    """Summaries that are distributions (`{"200": 95, "503": 5}`), shown as tables.

    Others, such as the full-resolution `http/latency-hdr` kept for the statistics,
    are data for the assessment, not for people.
    """
    out = []
    for name in store.names():
        per_version = [store.summary(name, v) for v in range(store.num_versions)]
        if not any(per_version) or not all(_is_distribution(s) for s in per_version):
            continue
        meta = store.meta(name)
        out.append(Summary(name, meta.description if meta else "", tuple(per_version)))
    return tuple(out)


def _is_distribution(summary: Mapping[str, Any] | None) -> bool:
    if summary is None:
        return True
    return all(
        isinstance(v, int | float | str) and not isinstance(v, bool) for v in summary.values()
    )


def _is_timeseries(summary: Mapping[str, Any] | None) -> bool:
    return (
        summary is not None
        and "intervalSeconds" in summary
        and isinstance(summary.get("values"), Sequence)
    )


def _timeseries(store: MetricStore) -> tuple[TimeSeries, ...]:
    """Summaries shaped `{intervalSeconds, values: [...]}` (a rate per interval), per version."""
    out = []
    for name in store.names():
        per_version = [store.summary(name, v) for v in range(store.num_versions)]
        found = [s for s in per_version if s is not None and _is_timeseries(s)]
        if not found:
            continue
        interval = float(found[0]["intervalSeconds"])
        out.append(
            TimeSeries(
                metric=name,
                units=_units(store, name),
                interval_s=interval,
                versions=tuple(
                    tuple(float(x) for x in s["values"])
                    if s is not None and _is_timeseries(s)
                    else None
                    for s in per_version
                ),
            )
        )
    return tuple(out)


# -- the verdict ----------------------------------------------------------------------------


def _names(report: Report, indices: Sequence[int]) -> str:
    """Version names for a headline: all of a few, the first ones of many."""
    names = [report.versions[i] for i in indices if 0 <= i < len(report.versions)]
    if len(names) > MAX_NAMED_VERSIONS:
        shown = ", ".join(names[: MAX_NAMED_VERSIONS - 1])
        return f"{shown} and {len(names) - MAX_NAMED_VERSIONS + 1} more"
    return ", ".join(names)


def _with_verdict(report: Report, *, assessed: bool) -> Report:
    return replace(report, verdict=_verdict(report, assessed=assessed))


def _verdict(report: Report, *, assessed: bool) -> Verdict:
    run = report.run
    if run.state in ("failed", "interrupted"):
        where = ""
        reason_names_task = (run.failure_reason or "").startswith(f"task {run.failed_task} (")
        if run.failed_task is not None and not reason_names_task:
            task = next((t.task for t in report.tasks if t.index == run.failed_task), "?")
            where = f" at task {run.failed_task} ({task})"
        what = "was interrupted" if run.state == "interrupted" else "failed"
        reason = f": {run.failure_reason}" if run.failure_reason else ""
        return Verdict("error", f"Experiment {what}", f"The run {what}{where}{reason}.")
    judged = assessed and bool(report.slos or report.rewards)
    if run.state in ("running", "not-started") and not judged:
        # Once the assessment is in (a rollout task reporting mid-run), its verdict
        # is the headline; the run line still says the run goes on.
        done = f"{run.num_completed_tasks} of {run.num_tasks} tasks done"
        return Verdict(
            "incomplete",
            "Experiment not finished",
            f"The run has not finished ({done}); this report shows what was recorded so far.",
        )
    versions = list(range(len(report.versions)))
    if not assessed or (not report.slos and not report.rewards):
        return Verdict(
            "no-assessment",
            "Completed",
            f"The run completed for {_names(report, versions) or 'no versions'}; "
            "nothing was assessed (add an `assess` task with SLOs or rewards).",
        )
    failing = [v for v in versions if not _meets_slos(report, v)]
    if failing and not any(v.status == "violated" for s in report.slos for v in s.versions):
        missing = sorted(
            {s.metric for s in report.slos for v in s.versions if v.status == "no-data"}
        )
        return Verdict(
            "no-data",
            f"No data: {_names(report, failing)}",
            f"No value was recorded for {', '.join(missing)}; "
            "check that the metrics task reached its backend and that the query matches.",
        )
    if failing:
        passing = [v for v in versions if v not in failing]
        detail = f"{_names(report, failing)} {_verb(failing, 'does', 'do')} not meet every SLO"
        if passing:
            detail += f" ({_names(report, passing)} {_verb(passing, 'meets', 'meet')} every SLO)"
        return Verdict("failed", f"SLOs failed: {_names(report, failing)}", detail + ".")
    if report.rewards:
        winner = report.winner
        if winner is not None and winner.version is not None:
            name = winner.name or report.version_name(winner.version) or str(winner.version)
            return Verdict("winner", f"Winner: {name}", _sentence(winner.reason or f"{name} wins"))
        reason = winner.reason if winner is not None and winner.reason else ""
        return Verdict(
            "no-winner-yet",
            f"No winner yet: {_names(report, versions)}",
            _sentence(reason or "No version is best on every reward yet"),
        )
    count = len(report.slos)
    return Verdict(
        "passed",
        f"SLOs passed: {_names(report, versions)}",
        f"{_names(report, versions)} {_verb(versions, 'meets', 'meet')} "
        f"all {count} SLO{'s' if count != 1 else ''}.",
    )


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _verb(subjects: Sequence[int], singular: str, plural: str) -> str:
    return singular if len(subjects) == 1 else plural


def _meets_slos(report: Report, version: int) -> bool:
    """Every SLO satisfied (or not applicable); no data counts as not satisfied."""
    return all(
        s.versions[version].status in ("satisfied", "not-applicable")
        for s in report.slos
        if version < len(s.versions)
    )
