"""Running an experiment: tasks in order, conditions, failures, the result after every task.

A failing task sets `result.failure` and stops the experiment unless it is a
soft failure. SIGINT and SIGTERM (see `core.signals`) stop the run: the result of
what finished is written, the interrupted task's error names the signal, and
`Interrupted` is raised (the caller exits 130).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iter8_action.core import signals
from iter8_action.core.errors import Interrupted, TaskFailed
from iter8_action.core.exitcodes import ExitCode
from iter8_action.core.logs import get_logger
from iter8_action.core.secrets import REDACTED, SECRETS
from iter8_action.experiment.conditions import ConditionError
from iter8_action.experiment.file import write_result
from iter8_action.experiment.model import Experiment, TaskSpec
from iter8_action.results.model import Result, TaskRecord, TaskStatus, now_iso
from iter8_action.tasks import registry, task
from iter8_action.tasks.base import TaskContext

if TYPE_CHECKING:
    from iter8_action.shards.partial import ShardRun

StandIn = Callable[[TaskContext], str | None]
"""Runs in a task's place (a shard's or a merge's part): returns None when it did the
task's work, or why the task was skipped; raises `TaskFailed` like a task."""


def run_experiment(
    experiment: Experiment,
    *,
    result_path: Path,
    env: Mapping[str, str],
    stop: threading.Event | None = None,
    log: logging.Logger | None = None,
    shard: ShardRun | None = None,
    stand_ins: Mapping[int, StandIn] | None = None,
    extras: Mapping[str, Any] | None = None,
) -> Result:
    """Run every task; the result file is valid after each one. Raises only `Interrupted`.

    `shard` makes this run one shard of the load; `stand_ins` replace tasks by index
    (their `if:` is not evaluated: the stand-in decides); `extras` go to every task
    (the baselines of `iter8_action.baselines`). `env` is the job's environment: tasks
    read it (and the CI platform it names) from their context, so the command line or
    the CI job decides what they see.
    """
    with signals.handling(watch=stop) as signalled:
        return _run(
            experiment,
            result_path,
            env,
            stop or signalled,
            log or get_logger(),
            shard=shard,
            stand_ins=stand_ins,
            extras=extras,
        )


def _run(
    experiment: Experiment,
    result_path: Path,
    env: Mapping[str, str],
    stop: threading.Event,
    log: logging.Logger,
    *,
    shard: ShardRun | None,
    stand_ins: Mapping[int, StandIn] | None,
    extras: Mapping[str, Any] | None = None,
) -> Result:
    result = Result(
        tasks=[
            TaskRecord(
                index=t.index,
                task=t.name,
                condition=t.condition.source if t.condition else None,
                soft_failure=t.soft_failure,
            )
            for t in experiment.tasks
        ],
        shard=shard.header() if shard is not None else None,
    )
    started = time.monotonic()
    tempdir = Path(tempfile.mkdtemp(prefix="iter8-"))
    runner = _Runner(
        experiment,
        result,
        result_path,
        tempdir,
        stop,
        log,
        started,
        env=env,
        shard=shard,
        stand_ins=dict(stand_ins or {}),
        extras=dict(extras or {}),
    )
    try:
        runner.save()
        for spec in experiment.tasks:
            if not runner.run_task(spec):
                break
        result.end_time = now_iso()
        runner.save()
    except Interrupted as exc:
        result.interrupted = True
        result.end_time = now_iso()
        runner.save()
        log.warning("%s: the result of what finished is in %s", exc, result_path)
        raise
    finally:
        shutil.rmtree(tempdir, ignore_errors=True)
    return result


def exit_code_for(result: Result) -> ExitCode:
    if result.interrupted:
        return ExitCode.INTERRUPTED
    if result.failure:
        return ExitCode.TASK_FAILED
    return ExitCode.OK


@dataclass(eq=False)
class _Runner:
    """One run of an experiment, task by task, saving the result after each."""

    experiment: Experiment
    result: Result
    result_path: Path
    tempdir: Path
    stop: threading.Event
    log: logging.Logger
    started: float
    _: KW_ONLY
    env: Mapping[str, str]
    shard: ShardRun | None = None
    stand_ins: dict[int, StandIn] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)

    def save(self) -> None:
        write_result(self.result_path, self.experiment, self.result)

    def run_task(self, spec: TaskSpec) -> bool:
        """Run one task; False when the experiment must stop."""
        record = self.result.tasks[spec.index]
        if self.stop.is_set():
            raise Interrupted(getattr(self.stop, "signal_name", None))
        stand_in = self.stand_ins.get(spec.index)
        if stand_in is None and spec.condition is not None:
            try:
                holds = spec.condition.evaluate(self.result)
            except ConditionError as exc:
                return self._failed(spec, record, f"condition {spec.condition.source!r}: {exc}")
            if not holds:
                record.status = TaskStatus.SKIPPED
                self.log.info("%s skipped: %s is false", spec.label, spec.condition.source)
                self.save()
                return True
        found = task(spec.name)
        if found is None and stand_in is None:
            return self._failed(spec, record, _not_available(spec.name))
        record.status = TaskStatus.RUNNING
        record.start_time = now_iso()
        self.save()
        self.log.info("%s started", spec.label)
        began = time.monotonic()
        context = TaskContext(
            index=spec.index,
            name=spec.name,
            result=self.result,
            base_dir=self.experiment.base_dir,
            tempdir=self.tempdir,
            result_path=self.result_path,
            stop=self.stop,
            log=get_logger(spec.name),
            started_monotonic=self.started,
            experiment=self.experiment,
            env=self.env,
            shard=self.shard,
            extras=self.extras,
        )
        try:
            if stand_in is not None:
                skipped = stand_in(context)
                if skipped is not None:
                    record.status = TaskStatus.SKIPPED
                    record.start_time = None
                    self.log.info("%s skipped: %s", spec.label, skipped)
                    self.save()
                    return True
            else:
                assert found is not None
                found.run(spec.parsed, context)
        except TaskFailed as exc:
            return self._failed(spec, record, exc.reason, began=began)
        except Interrupted as exc:
            record.status = TaskStatus.FAILED
            record.error = str(exc)
            record.duration_s = time.monotonic() - began
            raise
        except Exception as exc:
            # A bug of ours, not the user's: say so, keep the details for a report.
            self.log.debug("%s raised", spec.label, exc_info=True)
            reason = f"internal error ({type(exc).__name__}: {exc}); please report it"
            return self._failed(spec, record, reason, began=began)
        record.status = TaskStatus.COMPLETED
        record.duration_s = time.monotonic() - began
        self.log.info("%s completed in %.2fs", spec.label, record.duration_s)
        self.save()
        return True

    def _failed(
        self, spec: TaskSpec, record: TaskRecord, reason: str, *, began: float | None = None
    ) -> bool:
        # Redacted as it enters the result: later tasks send it on (an event's summary).
        reason = SECRETS.redact(reason, REDACTED)
        record.status = TaskStatus.FAILED
        record.error = reason
        if began is not None:
            record.duration_s = time.monotonic() - began
        if spec.soft_failure:
            self.log.warning("%s failed (soft failure, going on): %s", spec.label, reason)
            self.save()
            return True
        self.log.error("%s failed: %s", spec.label, reason)
        self.result.failure = True
        self.result.failure_reason = f"{spec.label} failed: {reason}"
        self.result.failed_task = spec.index
        self.save()
        return False


def _not_available(name: str) -> str:
    """The schema knows a task that no module registers (a broken install)."""
    available = ", ".join(registry())
    return (
        f"task {name!r} is not available in this installation of iter8-py; "
        f"available tasks: {available}"
    )
