"""N shards' results into one: counts add, histograms add bucket by bucket, series align.

The merge reads every shard's `result.shard` (see `partial`), refuses inputs that
cannot make one load (another experiment, a shard twice, a shard missing unless
allowed), then runs the experiment once more with the shards' tasks stood in for:
`ready` completes if it did on every shard, each load task writes the merged
statistics through the very code a single process uses (`tasks._load.record`),
and every other task (assess, custommetrics, run, notifications, rollout,
traffic) runs for real, once, on the merged metrics. So percentiles, mean,
standard deviation, min and max come from the merged histogram and its exact
sums: a merge equals one process's run within the histogram's resolution.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from iter8_action.core.errors import InputError, TaskFailed
from iter8_action.engine.runner import StandIn, run_experiment
from iter8_action.experiment.file import read_result_document
from iter8_action.experiment.model import Experiment, TaskSpec
from iter8_action.load.http import export
from iter8_action.load.http.stats import StreamStats
from iter8_action.results.model import Result, TaskRecord, TaskStatus
from iter8_action.shards import LOAD_TASKS, SHARD_TASKS
from iter8_action.shards.partial import NS_PER_S, PartialInvalid, stats_from_dict
from iter8_action.shards.spec import (
    ShardSpec,
    experiment_hash,
    parse_instant,
    parse_shard,
    unix_ns,
)
from iter8_action.tasks import _load
from iter8_action.tasks.base import TaskContext

START_DELAY_BOUND_S = 1.0
"""A shard whose schedule began later than this after the common start is warned about:
its load did not overlap the others' as planned."""
CLOCK_SKEW_BOUND_S = 0.1
"""A shard whose wall clock moved more than this against its steady clock during the
load is warned about: its time series may be misplaced by that much."""


@dataclass(frozen=True)
class ShardResult:
    path: Path
    spec: ShardSpec
    hash: str
    document: dict[str, Any]
    result: Result

    @property
    def label(self) -> str:
        return f"shard {self.spec} ({self.path})"

    def load(self, index: int) -> dict[str, Any] | None:
        loads = (self.result.shard or {}).get("loads") or {}
        load = loads.get(str(index))
        return load if isinstance(load, dict) else None


def read_shard(path: Path) -> ShardResult:
    document = read_result_document(path)
    section = document["result"].get("shard")
    if not isinstance(section, dict):
        raise InputError(
            f"{path}: not a shard's result (it has no result.shard); "
            "write shards with iter8 run --shard I/N"
        )
    try:
        spec = parse_shard(f"{int(section['index'])}/{int(section['total'])}", where=str(path))
        digest = str(section["experimentHash"])
        result = Result.from_dict(document["result"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path}: result is damaged ({exc!r} is missing or wrong)") from exc
    return ShardResult(path, spec, digest, document, result)


def check_set(shards: Sequence[ShardResult], *, allow_missing: bool) -> list[int]:
    """Refuse shards that do not make one load; returns the missing indexes (1-based)."""
    if not shards:
        raise InputError("no shard results to merge; name the result files of iter8 run --shard")
    first = shards[0]
    other = [s for s in shards if s.hash != first.hash]
    if other:
        names = ", ".join(f"{s.path} ({s.hash[:19]})" for s in other)
        raise InputError(
            f"these are shards of another experiment than {first.path} ({first.hash[:19]}): "
            f"{names}; merge only the shards of one run of one experiment"
        )
    totals = sorted({s.spec.total for s in shards})
    if len(totals) > 1:
        listed = ", ".join(f"{s.path}: {s.spec}" for s in shards)
        raise InputError(f"the shards disagree on how many there are ({listed})")
    seen: dict[int, Path] = {}
    for shard in shards:
        if shard.spec.index in seen:
            raise InputError(
                f"shard {shard.spec} is given twice: {seen[shard.spec.index]} and {shard.path}; "
                "give each shard's result once"
            )
        seen[shard.spec.index] = shard.path
    total = totals[0]
    missing = [i for i in range(1, total + 1) if i not in seen]
    if missing and not allow_missing:
        names = ", ".join(f"{i}/{total}" for i in missing)
        raise InputError(
            f"shard {names} {'is' if len(missing) == 1 else 'are'} missing "
            f"(have {len(shards)} of {total}); download every shard's result, "
            "or pass --allow-missing to merge the others (the counts are then of part of the load)"
        )
    return missing


MAX_START_SPREAD_S = 24 * 3600
"""Shards whose loads started further apart than this are not one run."""


def check_loads(shards: Sequence[ShardResult]) -> None:
    """Refuse damaged statistics, streams that differ between shards, and starts a day
    apart, before anything runs: a shard's file is data from another machine."""
    layouts: dict[str, tuple[Path, list[tuple[Any, Any]]]] = {}
    starts: dict[str, list[tuple[int, ShardResult]]] = {}
    for shard in shards:
        loads = (shard.result.shard or {}).get("loads") or {}
        if not isinstance(loads, dict):
            raise InputError(f"{shard.path}: result.shard.loads is not a map")
        for index, load in loads.items():
            where = f"{shard.path}: result.shard.loads.{index}"
            try:
                streams = load["streams"]
                layout = [(s["prefix"], s["version"]) for s in streams]
                for stream in streams:
                    stats_from_dict(stream["stats"])
            except (PartialInvalid, KeyError, TypeError) as exc:
                raise InputError(f"{where}: damaged statistics ({exc})") from exc
            first = layouts.setdefault(str(index), (shard.path, layout))
            if first[1] != layout:
                raise InputError(
                    f"{where}: other streams than in {first[0]} ({layout} against {first[1]})"
                )
            started = _started_ns(shard, load)
            if started is not None:
                starts.setdefault(str(index), []).append((started, shard))
    for index, moments in starts.items():
        (early, first_shard) = min(moments, key=lambda m: m[0])
        (late, last_shard) = max(moments, key=lambda m: m[0])
        if late - early > MAX_START_SPREAD_S * NS_PER_S:
            raise InputError(
                f"{last_shard.label} started task {index} {(late - early) / 3.6e12:.1f} h after "
                f"{first_shard.label}: these are not shards of one run"
            )


def check_experiment(shards: Sequence[ShardResult], experiment: Experiment) -> None:
    """The experiment to finish must be the one the shards ran. It comes from the user's
    file, never from a shard's result: the merge runs its tasks (scripts, rollouts), and
    a downloaded artifact is data, not code."""
    digest = experiment_hash(experiment.to_document())
    if digest != shards[0].hash:
        raise InputError(
            f"{experiment.source} is not the experiment the shards ran "
            f"({digest[:19]}, the shards {shards[0].hash[:19]}); give the file they ran"
        )


def merge(
    paths: Sequence[Path],
    *,
    output: Path,
    experiment: Experiment,
    env: Mapping[str, str],
    allow_missing: bool = False,
    log: logging.Logger,
) -> Result:
    """Merge shard results into `output` and run the remaining tasks once on them."""
    shards = sorted((read_shard(p) for p in paths), key=lambda s: s.spec.index)
    missing = check_set(shards, allow_missing=allow_missing)
    check_loads(shards)
    check_experiment(shards, experiment)
    total = shards[0].spec.total
    info: dict[str, Any] = {
        "total": total,
        "merged": [s.spec.index for s in shards],
        "missing": missing,
        "experimentHash": shards[0].hash,
        "files": [str(s.path) for s in shards],
        "warnings": [],
    }
    starts = {str((s.result.shard or {}).get("startAt"))[:40] for s in shards}
    if len(starts) > 1:
        info["warnings"].append(
            "the shards were given different start instants ("
            + ", ".join(sorted(starts))
            + "): their loads did not start together; give every shard the same start-at"
        )
        log.warning("%s", info["warnings"][-1])
    if missing:
        names = ", ".join(f"{i}/{total}" for i in missing)
        info["warnings"].append(
            f"shard {names} missing: the metrics are of {len(shards)} of {total} shards"
        )
        log.warning("%s", info["warnings"][-1])
    stand_ins = {
        spec.index: _StandIn(spec, shards, info, log)
        for spec in experiment.tasks
        if spec.name in SHARD_TASKS
    }
    typed: dict[int, StandIn] = dict(stand_ins)
    result = run_experiment(experiment, result_path=output, env=env, log=log, stand_ins=typed)
    return result


class _StandIn:
    """A shard task at the merge: what the shards did, merged."""

    def __init__(
        self,
        spec: TaskSpec,
        shards: Sequence[ShardResult],
        info: dict[str, Any],
        log: logging.Logger,
    ) -> None:
        self.spec, self.shards, self.info, self.log = spec, shards, info, log

    def __call__(self, ctx: TaskContext) -> str | None:
        ctx.result.shards = self.info
        pairs = [(s, self._record(s)) for s in self.shards]
        failed = [(s, r) for s, r in pairs if r.status is TaskStatus.FAILED]
        if failed:
            raise TaskFailed(
                "; ".join(f"{s.label} failed: {r.error or 'no reason given'}" for s, r in failed)
            )
        unfinished = [s for s, r in pairs if not r.counts_completed]
        if unfinished:
            raise TaskFailed(
                "; ".join(f"{s.label} did not run it: {_why_stopped(s.result)}" for s in unfinished)
            )
        skipped = [s for s, r in pairs if r.status is TaskStatus.SKIPPED]
        if skipped and len(skipped) == len(self.shards):
            return "skipped on every shard"
        if skipped:
            names = ", ".join(str(s.spec) for s in skipped)
            raise TaskFailed(f"skipped on shard {names} but run on the others (see their if:)")
        if self.spec.name in LOAD_TASKS:
            self._merge_load(ctx)
        return None

    def _record(self, shard: ShardResult) -> TaskRecord:
        tasks = shard.result.tasks
        if self.spec.index >= len(tasks) or tasks[self.spec.index].task != self.spec.name:
            raise TaskFailed(f"{shard.label} has no record of {self.spec.label}")
        return tasks[self.spec.index]

    def _merge_load(self, ctx: TaskContext) -> None:
        loads = [(s, s.load(self.spec.index)) for s in self.shards]
        present = [(s, load) for s, load in loads if load is not None]
        if not present:
            return  # a warmup: nothing was recorded
        if len(present) != len(loads):
            names = ", ".join(str(s.spec) for s, load in loads if load is None)
            raise TaskFailed(f"shard {names} recorded no load for {self.spec.label}")
        starts = {id(s): _started_ns(s, load) for s, load in present}
        known = [v for v in starts.values() if v is not None]
        reference = min(known) if known else None
        first = present[0][1]
        merged: list[StreamStats] = []
        for position, stream in enumerate(first["streams"]):
            total = StreamStats()
            for shard, load in present:
                start = starts[id(shard)]
                shift = 0
                if reference is not None and start is not None:
                    shift = round((start - reference) / NS_PER_S)
                total.merge(self._stats(shard, load, position, stream, shift))
            merged.append(total)
        targets = [
            _Target(
                int(stream["version"]),
                str(stream["prefix"]),
                [float(p) for p in stream["percentiles"]],
                _total_rate([load["streams"][i].get("rate") for _, load in present]),
            )
            for i, stream in enumerate(first["streams"])
        ]
        versions: _load.Versions = [(str(name), {}) for name in first["versions"]]
        _load.record(ctx, versions, targets, merged, naming=_naming(self.spec.name))
        self._check_timing(ctx, present)
        for target, stats in zip(targets, merged, strict=True):
            self.log.info(
                "%s %s: %d requests, %d errors from %d shard(s)%s",
                target.prefix,
                versions[target.version][0],
                stats.requests,
                stats.errors,
                len(present),
                _load.latency_text(stats),
            )

    def _stats(
        self,
        shard: ShardResult,
        load: dict[str, Any],
        position: int,
        first: dict[str, Any],
        shift: int,
    ) -> StreamStats:
        streams = load.get("streams") or []
        if position >= len(streams):
            raise TaskFailed(f"{shard.label} has fewer streams for {self.spec.label}")
        stream = streams[position]
        if (stream.get("prefix"), stream.get("version")) != (first["prefix"], first["version"]):
            raise TaskFailed(f"{shard.label} has other streams for {self.spec.label}")
        try:
            return stats_from_dict(stream["stats"], shift_s=shift)
        except (PartialInvalid, KeyError) as exc:
            raise TaskFailed(
                f"{shard.label}: the statistics of {self.spec.label} are damaged ({exc})"
            ) from exc

    def _check_timing(self, ctx: TaskContext, present: list[tuple[ShardResult, Any]]) -> None:
        notes: list[str] = []
        for shard, load in present:
            delay = load.get("startDelaySeconds")
            skew = load.get("clockSkewSeconds")
            if isinstance(delay, int | float) and abs(delay) > START_DELAY_BOUND_S:
                notes.append(
                    f"shard {shard.spec} started its load {delay:.3f} s after the common start "
                    f"(bound {START_DELAY_BOUND_S:g} s): its load overlapped the others' less; "
                    "set --start-at later, or start the shards' jobs together"
                )
            if isinstance(skew, int | float) and abs(skew) > CLOCK_SKEW_BOUND_S:
                notes.append(
                    f"shard {shard.spec}'s wall clock moved {skew:+.3f} s against its steady "
                    f"clock during the load (bound {CLOCK_SKEW_BOUND_S:g} s): its time series "
                    "may be misplaced by that much"
                )
        for note in notes:
            self.log.warning("%s: %s", self.spec.label, note)
        self.info["warnings"].extend(notes)
        merged_from = ", ".join(str(s.spec) for s, _ in present)
        ctx.result.tasks[ctx.index].output = "\n".join(
            [f"merged from shard {merged_from}", *(f"warning: {n}" for n in notes)]
        )


@dataclass(frozen=True)
class _Target:
    version: int
    prefix: str
    percentiles: list[float]
    rate: float | None


def _total_rate(rates: Sequence[Any]) -> float | None:
    if any(r is None for r in rates):
        return None
    return float(sum(float(r) for r in rates))


def _naming(task: str) -> export.Naming:
    if task == "grpc":
        from iter8_action.load.grpc.runner import NAMING

        return NAMING
    return export.HTTP


def _started_ns(shard: ShardResult, load: dict[str, Any]) -> int | None:
    text = load.get("startedAt")
    if not isinstance(text, str):
        return None
    try:
        moment: datetime = parse_instant(text, where=f"{shard.path}: startedAt")
    except InputError:
        return None
    return unix_ns(moment)


def _why_stopped(result: Result) -> str:
    if result.interrupted:
        return "its run was interrupted"
    if result.failure_reason:
        return f"its run stopped earlier ({result.failure_reason})"
    if result.end_time is None:
        return "its run did not finish (the result is of a run still going, or killed)"
    return "it was not run"
