"""The report model: everything a report shows, as plain frozen data.

One model feeds every renderer (text, markdown, html, json, junit). The report
package keeps one stage per module:

- `model`: these dataclasses and their JSON form (`schemas/report.schema.json`);
- `build`: `build_report`, reading a result document into a `Report`;
- `series`: the metrics, histograms, percentile curves and time series of a store;
- `headline`: the one-line verdict, decided before the report is built.

The SLO, reward and winner dataclasses are `iter8_action.results.insights`' own, shown
as they are recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from enum import StrEnum
from typing import Any

from iter8_action.baselines.view import BaselineView
from iter8_action.core.errors import InputError
from iter8_action.results.insights import Comparison as Comparison
from iter8_action.results.insights import Reward as Reward
from iter8_action.results.insights import RewardVerdict as RewardVerdict
from iter8_action.results.insights import Slo as Slo
from iter8_action.results.insights import SloStatus as SloStatus
from iter8_action.results.insights import SloVersion as SloVersion
from iter8_action.results.insights import Winner as Winner
from iter8_action.results.model import RunState as RunState
from iter8_action.results.model import TaskStatus as TaskStatus

REPORT_SCHEMA_VERSION = 1


class ReportVerdict(StrEnum):
    """The report's headline answer (the CI job's `verdict` output)."""

    WINNER = "winner"
    PASSED = "passed"
    FAILED = "failed"
    NO_DATA = "no-data"
    NO_WINNER_YET = "no-winner-yet"
    NO_ASSESSMENT = "no-assessment"
    ERROR = "error"
    INCOMPLETE = "incomplete"


class ReportError(InputError):
    """The result document cannot be read as a result."""


@dataclass(frozen=True)
class Verdict:
    """The one-line answer."""

    status: ReportVerdict
    title: str
    detail: str


@dataclass(frozen=True)
class Run:
    """How the run went."""

    name: str | None
    state: RunState
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
    status: TaskStatus
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
    baselines: BaselineView | None = field(default=None, metadata={"report": False})
    """The comparison with the base branch's results (`baseline-from`), when asked for;
    in the result, not in the JSON report (schemaVersion 1)."""

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
    if isinstance(value, StrEnum):
        return str(value)
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


def __getattr__(name: str) -> Any:
    # `iter8_action.report.model.build_report` was documented before the split into
    # modules; the builder imports this module, so it is looked up when asked for.
    if name == "build_report":
        from iter8_action.report.build import build_report

        return build_report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
