"""The headline of a report: one verdict, from how the run went and what was assessed.

Decided before the report is built, from the run, its tasks and the result's
insights, in this order: a run that stopped is an error; a run still going (and
not yet judged) is incomplete; then the SLOs, then the rewards.
"""

from __future__ import annotations

from collections.abc import Sequence

from iter8_action.report.model import ReportVerdict, Run, RunState, TaskRow, Verdict
from iter8_action.results.insights import Insights, SloStatus

MAX_NAMED_VERSIONS = 6
"""A verdict names at most this many versions; beyond, it names the first and counts the rest."""


def headline(run: Run, tasks: Sequence[TaskRow], found: Insights) -> Verdict:
    """The verdict of a run with these `tasks` and insights."""
    if run.state in (RunState.FAILED, RunState.INTERRUPTED):
        return _stopped(run, tasks)
    judged = found.assessed and bool(found.slos or found.rewards)
    if run.state in (RunState.RUNNING, RunState.NOT_STARTED) and not judged:
        # Once the assessment is in (a rollout task reporting mid-run), its verdict
        # is the headline; the run line still says the run goes on.
        done = f"{run.num_completed_tasks} of {run.num_tasks} tasks done"
        return Verdict(
            ReportVerdict.INCOMPLETE,
            "Experiment not finished",
            f"The run has not finished ({done}); this report shows what was recorded so far.",
        )
    versions = list(range(len(found.versions)))
    if not judged:
        return Verdict(
            ReportVerdict.NO_ASSESSMENT,
            "Completed",
            f"The run completed for {_names(found, versions) or 'no versions'}; "
            "nothing was assessed (add an `assess` task with SLOs or rewards).",
        )
    failing = [v for v in versions if not found.slos_hold(v)]
    if failing:
        return _slos_missed(found, versions, failing)
    if found.rewards:
        return _rewarded(found, versions)
    count = len(found.slos)
    return Verdict(
        ReportVerdict.PASSED,
        f"SLOs passed: {_names(found, versions)}",
        f"{_names(found, versions)} {_verb(versions, 'meets', 'meet')} "
        f"all {count} SLO{'s' if count != 1 else ''}.",
    )


def _stopped(run: Run, tasks: Sequence[TaskRow]) -> Verdict:
    where = ""
    reason_names_task = (run.failure_reason or "").startswith(f"task {run.failed_task} (")
    if run.failed_task is not None and not reason_names_task:
        task = next((t.task for t in tasks if t.index == run.failed_task), "?")
        where = f" at task {run.failed_task} ({task})"
    what = "was interrupted" if run.state is RunState.INTERRUPTED else "failed"
    reason = f": {run.failure_reason}" if run.failure_reason else ""
    return Verdict(ReportVerdict.ERROR, f"Experiment {what}", f"The run {what}{where}{reason}.")


def _slos_missed(found: Insights, versions: list[int], failing: list[int]) -> Verdict:
    statuses = [v.status for s in found.slos for v in s.versions]
    if SloStatus.VIOLATED not in statuses:
        missing = sorted(
            {s.metric for s in found.slos for v in s.versions if v.status is SloStatus.NO_DATA}
        )
        return Verdict(
            ReportVerdict.NO_DATA,
            f"No data: {_names(found, failing)}",
            f"No value was recorded for {', '.join(missing)}; "
            "check that the metrics task reached its backend and that the query matches.",
        )
    passing = [v for v in versions if v not in failing]
    detail = f"{_names(found, failing)} {_verb(failing, 'does', 'do')} not meet every SLO"
    if passing:
        detail += f" ({_names(found, passing)} {_verb(passing, 'meets', 'meet')} every SLO)"
    return Verdict(ReportVerdict.FAILED, f"SLOs failed: {_names(found, failing)}", detail + ".")


def _rewarded(found: Insights, versions: list[int]) -> Verdict:
    winner = found.winner
    if winner is not None and winner.version is not None:
        name = winner.name or _names(found, [winner.version]) or str(winner.version)
        return Verdict(
            ReportVerdict.WINNER, f"Winner: {name}", _sentence(winner.reason or f"{name} wins")
        )
    reason = winner.reason if winner is not None and winner.reason else ""
    return Verdict(
        ReportVerdict.NO_WINNER_YET,
        f"No winner yet: {_names(found, versions)}",
        _sentence(reason or "No version is best on every reward yet"),
    )


def _names(found: Insights, indices: Sequence[int]) -> str:
    """Version names for a headline: all of a few, the first ones of many."""
    names = [found.versions[i] for i in indices if 0 <= i < len(found.versions)]
    if len(names) > MAX_NAMED_VERSIONS:
        shown = ", ".join(names[: MAX_NAMED_VERSIONS - 1])
        return f"{shown} and {len(names) - MAX_NAMED_VERSIONS + 1} more"
    return ", ".join(names)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _verb(subjects: Sequence[int], singular: str, plural: str) -> str:
    return singular if len(subjects) == 1 else plural
