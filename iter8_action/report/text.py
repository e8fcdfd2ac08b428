"""The terminal report: tables that fit 80 columns, ticks and crosses, colour only on a TTY.

It is printed where a CI runner reads commands, so every value from the result
is made inert (`core.logtext.inert`: one line, no control character) before it is
laid out, and no line of the report can start a `::` workflow command.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Sequence

from tabulate import tabulate

from iter8_action.core.logtext import inert, no_command
from iter8_action.report import fmt
from iter8_action.report.model import Report, ReportVerdict, SloStatus, SloVersion, TaskStatus

WIDTH = 80
_FIRST_COLUMN_MAX = 36
_VERSION_MAX = 24
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

_GREEN, _RED, _YELLOW, _BOLD, _DIM = "32", "31", "33", "1", "2"
_VERDICT_MARK = {
    ReportVerdict.WINNER: ("★", _GREEN),
    ReportVerdict.PASSED: ("✓", _GREEN),
    ReportVerdict.FAILED: ("✗", _RED),
    ReportVerdict.NO_DATA: ("?", _YELLOW),
    ReportVerdict.NO_WINNER_YET: ("…", _YELLOW),
    ReportVerdict.NO_ASSESSMENT: ("✓", _GREEN),
    ReportVerdict.ERROR: ("✗", _RED),
    ReportVerdict.INCOMPLETE: ("…", _YELLOW),
}
_SLO_MARK = {
    SloStatus.SATISFIED: ("✓", _GREEN),
    SloStatus.VIOLATED: ("✗", _RED),
    SloStatus.NO_DATA: ("?", _YELLOW),
    SloStatus.NOT_APPLICABLE: ("-", _DIM),
}
_TASK_COLOUR = {
    TaskStatus.COMPLETED: _GREEN,
    TaskStatus.FAILED: _RED,
    TaskStatus.RUNNING: _YELLOW,
    TaskStatus.NOT_RUN: _DIM,
}


def render(report: Report, *, color: bool = False) -> str:
    paint = _painter(color)
    sections = [
        _headline(report, paint),
        _slos(report, paint),
        _rewards(report),
        _metrics(report),
        _tasks(report, paint),
    ]
    text = "\n\n".join(s for s in sections if s)
    return "\n".join(no_command(line) for line in text.split("\n")) + "\n"


def _painter(color: bool) -> Callable[[str, str], str]:
    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if color and text else text

    return paint


def _wrap(text: str, indent: str = "") -> str:
    return textwrap.fill(inert(text), WIDTH, initial_indent=indent, subsequent_indent=indent)


def _clip(text: str, limit: int = _FIRST_COLUMN_MAX) -> str:
    text = inert(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _headline(report: Report, paint: Callable[[str, str], str]) -> str:
    run = report.run
    mark, colour = _VERDICT_MARK.get(report.verdict.status, ("•", _BOLD))
    title = f"{mark} {report.verdict.title}"
    lines = [
        _wrap(f"Experiment {run.name}" if run.name else "Experiment"),
        paint(_wrap(title), f"{_BOLD};{colour}"),
        _wrap(report.verdict.detail),
        "",
        _wrap(
            f"Run: {run.state}, started {fmt.timestamp(run.start_time)}, "
            f"took {fmt.duration(run.duration_s)}, {run.num_completed_tasks} of "
            f"{run.num_tasks} tasks completed ({run.iter8_version or 'unknown version'})."
        ),
    ]
    winner = report.winner
    if winner is not None and winner.version is None and report.rewards:
        lines.append(_wrap(fmt.sentence(f"No winner: {winner.reason or 'none yet'}")))
    elif winner is not None and winner.name and report.verdict.status is not ReportVerdict.WINNER:
        # the headline is about SLOs; the winner still deserves its line
        lines.append(_wrap(fmt.sentence(f"Winner: {winner.name}: {winner.reason or ''}")))
    return "\n".join(lines)


def _table(
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    fixed: int = 1,
) -> str:
    """A table of `fixed` leading columns plus one column per version, split to fit WIDTH."""
    version_count = len(headers) - fixed
    chunk = max(version_count, 1)
    # Start from an estimate (every column as wide as its widest cell), then shrink.
    by_column = zip(headers, *rows, strict=False)
    widths = [max(len(_ANSI.sub("", str(c))) for c in col) + 2 for col in by_column]
    room = WIDTH - sum(widths[:fixed])
    per_version = max(widths[fixed:], default=1)
    chunk = max(1, min(chunk, room // per_version if room > 0 else 1))
    while True:
        blocks = []
        for start in range(fixed, max(len(headers), fixed + 1), chunk):
            columns = [*range(fixed), *range(start, min(start + chunk, len(headers)))]
            blocks.append(
                tabulate(
                    [[row[c] for c in columns] for row in rows],
                    headers=[headers[c] for c in columns],
                    disable_numparse=True,
                )
            )
        widest = max(len(_ANSI.sub("", line)) for b in blocks for line in b.splitlines())
        if widest <= WIDTH or chunk == 1:
            return "\n".join([title, "\n\n".join(blocks)])
        chunk -= 1


def _version_headers(report: Report) -> list[str]:
    return [_clip(name, _VERSION_MAX) for name in report.versions]


def _slo_cell(result: SloVersion, units: str | None, paint: Callable[[str, str], str]) -> str:
    mark, colour = _SLO_MARK.get(result.status, ("?", _YELLOW))
    if result.status is SloStatus.NOT_APPLICABLE:
        return paint(f"{mark} n/a", colour)
    if result.status is SloStatus.NO_DATA:
        return f"{paint(mark, colour)} no data"
    return f"{paint(mark, colour)} {inert(fmt.quantity(result.value, units))}"


def _slos(report: Report, paint: Callable[[str, str], str]) -> str:
    if not report.slos:
        return ""
    rows = [
        [
            _clip(fmt.slo_label(slo, report)),
            *(_slo_cell(v, slo.units, paint) for v in slo.versions),
        ]
        for slo in report.slos
    ]
    return _table("SLOs", ["SLO", *_version_headers(report)], rows)


def _rewards(report: Report) -> str:
    if not report.rewards:
        return ""
    lines = ["Rewards"]
    headers = ["Compared", "Effect", f"{fmt.confidence(report)} CI", "p (adj.)", "Significant"]
    for reward in report.rewards:
        best = fmt.reward_best(reward, report)
        lines.append(_wrap(f"{fmt.reward_label(reward)}: best {best}"))
        rows = [
            [
                _clip(f"{report.version_name(c.version)} vs {report.version_name(c.baseline)}", 20),
                inert(fmt.effect(c)),
                fmt.interval(c),
                fmt.p_value(c.adjusted_p_value),
                fmt.significance(c),
            ]
            for c in reward.comparisons
        ]
        if rows:
            table = tabulate(rows, headers=headers, disable_numparse=True, maxcolwidths=20)
            lines.append(textwrap.indent(table, "  "))
        if reward.reason:
            lines.append(_wrap(reward.reason, "  "))
    return "\n".join(lines)


def _metrics(report: Report) -> str:
    if not report.metrics:
        return "Metrics\nNo metric values were recorded."
    rows = [
        [
            _clip(fmt.metric_label(m.name, m.units)),
            *(fmt.number(v) for v in m.values),
        ]
        for m in report.metrics
    ]
    return _table("Metrics", ["Metric", *_version_headers(report)], rows)


def _tasks(report: Report, paint: Callable[[str, str], str]) -> str:
    if not report.tasks:
        return ""
    with_errors = any(t.error for t in report.tasks)
    rows = []
    for t in report.tasks:
        status = paint(inert(fmt.task_status(t.status)), _TASK_COLOUR.get(t.status, ""))
        row = [str(t.index), inert(t.task), status, fmt.duration(t.duration_s)]
        rows.append([*row, inert(t.error or "")] if with_errors else row)
    table = tabulate(
        rows,
        headers=["#", "Task", "Status", "Duration", *(["Error"] if with_errors else [])],
        disable_numparse=True,
        maxcolwidths=[None, 14, None, None, *([34] if with_errors else [])],
    )
    lines = ["Tasks", table]
    if any(t.status is TaskStatus.NOT_RUN for t in report.tasks):
        lines.append(_wrap("Tasks marked 'not run' never started: the run stopped before them."))
    return "\n".join(lines)
