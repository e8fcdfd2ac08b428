"""The conditions of `iter8 assert -c ...`: each says whether it holds, and why, in one line.

A condition is written `name` or `name=argument`; names are case-insensitive::

    completed           every task ran to an end (completed, skipped or soft-failed)
    nofailure           no task failed
    slos                every version meets every SLO (absolute, relative, per-version)
    slos=<version>      that version meets every SLO that applies to it
    winner              the assessment found an overall winner
    winner=<version>    that version is the overall winner

A version is its name (as in `versionNames`) or its 0-based index. As in
Iter8, `slos` holds when there are no SLOs; a missing value never satisfies an
SLO. `CONDITIONS` maps each name to a function `(result, argument) -> (holds,
explanation)`; `check` parses `name=argument` and runs it.
"""

from __future__ import annotations

from collections.abc import Callable

from iter8_action.core.errors import InputError
from iter8_action.results.model import Result, TaskStatus

Check = Callable[[Result, str | None], tuple[bool, str]]
MAX_LISTED = 3


def _no_argument(name: str, argument: str | None) -> None:
    if argument is not None:
        raise InputError(f"assert condition {name!r} takes no argument (got {name}={argument})")


def _version(result: Result, name: str, argument: str) -> int:
    names = result.store.version_names
    index = result.store.version_index(argument)
    if index is None and argument.isdigit():
        index = result.store.version_index(int(argument))
    if index is None:
        known = ", ".join(names) or "none"
        raise InputError(
            f"assert condition {name}={argument}: there is no version {argument!r} "
            f"(versions are {known}; give a name or a 0-based index)"
        )
    return index


def _completed(result: Result, argument: str | None) -> tuple[bool, str]:
    _no_argument("completed", argument)
    total = len(result.tasks)
    done = result.num_completed_tasks
    if result.completed:
        return True, f"all {total} tasks completed"
    if not result.ended:
        running = [t for t in result.tasks if t.status is TaskStatus.RUNNING]
        where = f"; task {running[0].index} ({running[0].task}) is running" if running else ""
        return False, f"the experiment has not finished ({done} of {total} tasks done{where})"
    return False, f"{done} of {total} tasks completed"


def _no_failure(result: Result, argument: str | None) -> tuple[bool, str]:
    _no_argument("nofailure", argument)
    if not result.failure:
        return True, "no task failed"
    return False, result.failure_reason or "a task failed"


def _slos(result: Result, argument: str | None) -> tuple[bool, str]:
    version = None if argument is None else _version(result, "slos", argument)
    failures = result.verdicts().slo_failures(version)
    who = "every version" if version is None else result.store.version_names[version]
    if not failures:
        return True, f"{who} meets the SLOs"
    listed = "; ".join(failures[:MAX_LISTED])
    more = f"; and {len(failures) - MAX_LISTED} more" if len(failures) > MAX_LISTED else ""
    return False, f"SLOs missed: {listed}{more}"


def _winner(result: Result, argument: str | None) -> tuple[bool, str]:
    winner, reason = result.verdicts().overall_winner()
    names = result.store.version_names
    if argument is None:
        if winner is None:
            return False, f"no winner: {reason}"
        return True, f"the winner is {names[winner]}: {reason}"
    wanted = _version(result, "winner", argument)
    if winner == wanted:
        return True, f"{names[wanted]} is the winner: {reason}"
    if winner is None:
        return False, f"{names[wanted]} is not the winner; there is none: {reason}"
    return False, f"{names[wanted]} is not the winner; {names[winner]} is: {reason}"


CONDITIONS: dict[str, Check] = {
    "completed": _completed,
    "nofailure": _no_failure,
    "slos": _slos,
    "winner": _winner,
}


def parse(text: str) -> tuple[str, str | None]:
    """`"slos=v2"` -> ("slos", "v2"); `"Completed"` -> ("completed", None)."""
    name, sep, argument = text.strip().partition("=")
    name = name.strip().lower()
    if name not in CONDITIONS:
        known = ", ".join(sorted(CONDITIONS))
        raise InputError(
            f"unknown assert condition {text!r}: known conditions are {known} "
            "(slos and winner take an optional =<version>)"
        )
    argument = argument.strip()
    if sep and not argument:
        raise InputError(f"assert condition {text!r}: give a version after '='")
    return name, argument if sep else None


def check(result: Result, text: str) -> tuple[bool, str]:
    """Whether the condition `text` (`name` or `name=argument`) holds, and why."""
    name, argument = parse(text)
    return CONDITIONS[name](result, argument)
