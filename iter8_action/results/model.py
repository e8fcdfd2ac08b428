"""The result of an experiment: Iter8's `result` fields plus per-task status and timings.

It is written after every task (see `experiment.file`), so it must always be a valid,
self-describing record of what has finished so far.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from iter8_action import __version__
from iter8_action.metrics.store import ITER8_SUMMARY_VALUES, MetricStore
from iter8_action.results.insights import Insights, read_insights

ITER8_VERSION = f"iter8-py {__version__}"


class TaskStatus(StrEnum):
    """What happened to one task, as the result file and the reports spell it."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    SKIPPED = "skipped"
    FAILED = "failed"
    NOT_RUN = "not-run"
    """Reports only: a pending task of a run that stopped. Never recorded in a result."""


class RunState(StrEnum):
    """How a run stands, as a report reads it from the result."""

    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    RUNNING = "running"
    NOT_STARTED = "not-started"


@dataclass
class TaskRecord:
    """What happened to one task."""

    index: int
    task: str
    status: TaskStatus = TaskStatus.PENDING
    condition: str | None = None
    soft_failure: bool = False
    start_time: str | None = None
    duration_s: float | None = None
    error: str | None = None
    output: str | None = None

    @property
    def counts_completed(self) -> bool:
        # Iter8 counts a skipped task as completed; a soft failure let the run go on.
        return self.status in (TaskStatus.COMPLETED, TaskStatus.SKIPPED) or (
            self.status is TaskStatus.FAILED and self.soft_failure
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "task": self.task, "status": str(self.status)}
        for key, value in (
            ("if", self.condition),
            ("softFailure", self.soft_failure or None),
            ("startTime", self.start_time),
            ("durationSeconds", None if self.duration_s is None else round(self.duration_s, 6)),
            ("error", self.error),
            ("output", self.output),
        ):
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskRecord:
        return cls(
            index=int(data["index"]),
            task=str(data["task"]),
            status=TaskStatus(data.get("status", TaskStatus.PENDING)),
            condition=data.get("if"),
            soft_failure=bool(data.get("softFailure", False)),
            start_time=data.get("startTime"),
            duration_s=data.get("durationSeconds"),
            error=data.get("error"),
            output=data.get("output"),
        )


def written_by_iter8(result: Mapping[str, Any]) -> bool:
    """A result Iter8 itself wrote: it counts completed tasks but keeps no record of each
    (iter8-py always writes `tasks`)."""
    return "tasks" not in result and "numCompletedTasks" in result


def iter8_task_statuses(num_tasks: int, num_completed: int, failure: bool) -> list[TaskStatus]:
    """The status of each task of a result Iter8 wrote, from its count of completed tasks.

    Iter8 ran the tasks in order, counted a skipped task as completed, and stopped at
    the first failure (`base/experiment.go`), so the count says which ones ran.
    """
    statuses = []
    for index in range(num_tasks):
        if index < num_completed:
            statuses.append(TaskStatus.COMPLETED)
        elif index == num_completed and failure:
            statuses.append(TaskStatus.FAILED)
        else:
            statuses.append(TaskStatus.PENDING)
    return statuses


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Result:
    """The live result of a run; `to_dict` is Iter8's `result` object."""

    tasks: list[TaskRecord] = field(default_factory=list)
    store: MetricStore = field(default_factory=MetricStore)
    assessment: dict[str, Any] = field(default_factory=dict)
    """Assessment insights (`SLOs`, `SLOsSatisfied`, `rewards`, `rewardsWinners`, ...)."""
    start_time: str = field(default_factory=now_iso)
    end_time: str | None = None
    failure: bool = False
    failure_reason: str | None = None
    failed_task: int | None = None
    interrupted: bool = False
    iter8_version: str = ITER8_VERSION
    by_iter8: bool = False
    """Read from a result Iter8 wrote, which has no `endTime`: it finished when every
    task of the spec counted as completed (Iter8's `Completed()`)."""
    shard: dict[str, Any] | None = None
    """A shard's run (`iter8 run --shard`): which shard, and what the merge needs."""
    shards: dict[str, Any] | None = None
    """A merged run (`iter8 merge`): the shards it merged, and what was wrong with them."""

    @property
    def num_completed_tasks(self) -> int:
        return sum(1 for t in self.tasks if t.counts_completed)

    @property
    def completed(self) -> bool:
        """Every task ran to an end (completed, skipped or soft-failed)."""
        return self.ended and all(t.counts_completed for t in self.tasks)

    @property
    def ended(self) -> bool:
        """The run stopped: iter8-py records its end time; Iter8 recorded none, and stopped
        when it had counted every task or one failed."""
        if self.end_time is not None:
            return True
        return self.by_iter8 and (self.failure or all(t.counts_completed for t in self.tasks))

    def insights(self) -> dict[str, Any]:
        return {**self.store.to_insights(), **self.assessment}

    def verdicts(self) -> Insights:
        """The SLOs, rewards and winner recorded so far (see `iter8_action.results.insights`)."""
        return read_insights(self.assessment, self.store)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "startTime": self.start_time,
            "numCompletedTasks": self.num_completed_tasks,
            "failure": self.failure,
            "iter8Version": self.iter8_version,
        }
        if self.end_time is not None:
            out["endTime"] = self.end_time
        if self.failure_reason is not None:
            out["failureReason"] = self.failure_reason
        if self.failed_task is not None:
            out["failedTask"] = self.failed_task
        if self.interrupted:
            out["interrupted"] = True
        out["tasks"] = [t.to_dict() for t in self.tasks]
        out["insights"] = self.insights()
        if self.shard is not None:
            out["shard"] = self.shard
        if self.shards is not None:
            out["shards"] = self.shards
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, spec: Sequence[Any] = ()) -> Result:
        """The result in `data`; `spec` (the experiment's tasks) gives a result that Iter8
        wrote its tasks."""
        insights = dict(data.get("insights") or {})
        by_iter8 = written_by_iter8(data)
        tasks = [TaskRecord.from_dict(t) for t in data.get("tasks") or []]
        if by_iter8:
            statuses = iter8_task_statuses(
                len(spec), int(data["numCompletedTasks"] or 0), bool(data.get("failure"))
            )
            tasks = [
                TaskRecord(i, task_name(entry), status)
                for i, (entry, status) in enumerate(zip(spec, statuses, strict=True))
            ]
        store = MetricStore.from_insights(insights)
        store_keys = set(MetricStore().to_insights()) | {
            "sampleMetricValues",
            "summaryMetricValues",
            ITER8_SUMMARY_VALUES,
        }
        return cls(
            tasks=tasks,
            store=store,
            assessment={k: v for k, v in insights.items() if k not in store_keys},
            start_time=str(data.get("startTime", "")),
            end_time=data.get("endTime"),
            failure=bool(data.get("failure", False)),
            failure_reason=data.get("failureReason"),
            failed_task=data.get("failedTask"),
            interrupted=bool(data.get("interrupted", False)),
            iter8_version=str(data.get("iter8Version", ITER8_VERSION)),
            by_iter8=by_iter8,
            shard=data.get("shard"),
            shards=data.get("shards"),
        )


def task_name(entry: Any) -> str:
    """The name of a task of an experiment's `spec` (`run` for a script)."""
    if isinstance(entry, Mapping):
        if "task" in entry:
            return str(entry["task"])
        if "run" in entry:
            return "run"
    return "?"
