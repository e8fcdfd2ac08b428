"""Conditions for `iter8 assert -c NAME[=ARG]`: each says whether it holds, and why."""

from __future__ import annotations

from collections.abc import Callable

from iter8_action.conditions import FUNCTIONS
from iter8_action.result import Result

Check = Callable[[Result, str | None], tuple[bool, str]]


def _completed(result: Result, _: str | None) -> tuple[bool, str]:
    if result.end_time is None:
        done = sum(1 for t in result.tasks if t.counts_completed)
        return False, f"the experiment has not finished ({done} of {len(result.tasks)} tasks done)"
    if result.completed:
        return True, f"all {len(result.tasks)} tasks completed"
    return False, f"{result.num_completed_tasks} of {len(result.tasks)} tasks completed"


def _no_failure(result: Result, _: str | None) -> tuple[bool, str]:
    if result.failure:
        return False, result.failure_reason or "a task failed"
    return True, "no task failed"


def _slos(result: Result, version: str | None) -> tuple[bool, str]:
    holds = bool(FUNCTIONS["slos"].func(result, version))
    who = f"version {version}" if version else "every version"
    return holds, f"{who} {'meets' if holds else 'misses'} the SLOs"


CONDITIONS: dict[str, Check] = {
    "completed": _completed,
    "nofailure": _no_failure,
    "slos": _slos,
}
