"""The markdown report: the pull/merge request comment and the job summary.

It renders in GitHub and GitLab flavoured markdown alike (pipe tables, raw
`<details>` blocks with a blank line after `<summary>`, so that the markdown
inside is rendered; see the GFM spec, section 4.6 "HTML blocks"). Every string
from the experiment or the result is escaped so that a metric or version name
cannot break a table or inject HTML. A comment must stay under GitHub's limit
of 65,536 characters: with many versions and metrics the least important parts
go first, each replaced by a note.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from iter8_action.core.logtext import inert
from iter8_action.report import fmt
from iter8_action.report.model import (
    Report,
    ReportVerdict,
    RunState,
    SloStatus,
    SloVersion,
    TaskStatus,
)

GITHUB_COMMENT_LIMIT_CHARS = 65_536
MARKER_RESERVE_CHARS = 1_024
"""Room left for the hidden marker and a heading that the CI layer adds."""
DEFAULT_LIMIT_CHARS = GITHUB_COMMENT_LIMIT_CHARS - MARKER_RESERVE_CHARS

_VERDICT_ICON = {
    ReportVerdict.WINNER: "🏆",
    ReportVerdict.PASSED: "✅",
    ReportVerdict.FAILED: "❌",
    ReportVerdict.NO_DATA: "⚠️",
    ReportVerdict.NO_WINNER_YET: "⏳",
    ReportVerdict.NO_ASSESSMENT: "☑️",
    ReportVerdict.ERROR: "💥",
    ReportVerdict.INCOMPLETE: "⏳",
}
_SLO_ICON = {
    SloStatus.SATISFIED: "✅",
    SloStatus.VIOLATED: "❌",
    SloStatus.NO_DATA: "⚠️",
    SloStatus.NOT_APPLICABLE: "➖",
}
_TASK_ICON = {
    TaskStatus.COMPLETED: "✅",
    TaskStatus.SKIPPED: "⏭️",
    TaskStatus.FAILED: "❌",
    TaskStatus.RUNNING: "🔄",
    TaskStatus.PENDING: "⏸️",
    TaskStatus.NOT_RUN: "⛔",
}
# CommonMark lets a backslash escape any ASCII punctuation (spec section 2.4); these are
# the characters that could start emphasis, links, code spans or a table cell. Link and
# image syntax needs `[`, so `(` and `!` are harmless once `[` is escaped.
_ESCAPED = re.compile(r"([\\`*_\[\]|~])")
# Text that starts a line could also start a block: a heading, a list, a rule, setext.
_ORDERED_ITEM = re.compile(r"^(\d+)([.)])")
# GFM's autolink extension makes links of bare `www.` and `scheme://` text (spec section 6.9).
_AUTOLINK = re.compile(r"(?i)(www)(\.)|(:)(//)")
WORD_JOINER = "\u2060"
_TRUNCATION_NOTE = (
    "_Shortened to fit a {limit:,}-character comment: {what}. "
    "The HTML and JSON reports have everything._"
)


def escape(text: str, *, in_html: bool = False) -> str:
    """Data made inert in markdown: the one escape for every value the report shows.

    One line with no control character (`core.logtext.inert`), no HTML, no mention, no
    link, no formatting, no table break. `in_html` is for text inside a raw HTML
    element such as `<summary>`, where markdown is not parsed and a backslash
    escape would show: everything but the backslash escapes.
    """
    text = inert(" ".join(str(text).split()))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A word joiner after `@` keeps a version named `@team` from notifying anyone (GitHub
    # and GitLab mentions need a letter or digit right after the `@`); it is invisible.
    # Likewise inside `www.` and `://`, so that a URL in data is not made a link.
    text = text.replace("@", "@" + WORD_JOINER)
    text = _AUTOLINK.sub(lambda m: WORD_JOINER.join(g for g in m.groups() if g), text)
    return text if in_html else _ESCAPED.sub(r"\\\1", text)


def escape_line(text: str) -> str:
    """`escape`, for text that begins a line (where `#`, `-`, `1.` would start a block, and
    `::` a runner command when the report is printed in CI)."""
    text = escape(text)
    if text[:1] in ("#", "+", "-", "=", ":"):
        return "\\" + text
    return _ORDERED_ITEM.sub(r"\1\\\2", text, count=1)


def render(report: Report, *, limit: int = DEFAULT_LIMIT_CHARS) -> str:
    """The markdown report, at most `limit` characters long."""
    budget = _Budget.whole(report)
    text = _compose(report, budget)
    while len(text) > limit and budget.shrink():
        text = _compose(report, budget)
    if len(text) > limit:
        text = _cut(text, limit)
    return text


@dataclass
class _Budget:
    """How much of each part to show; shrinking drops the least important parts first."""

    metric_rows: int
    slo_rows: int
    details: bool = True
    dropped: str = ""

    @classmethod
    def whole(cls, report: Report) -> _Budget:
        return cls(metric_rows=len(report.metrics), slo_rows=len(report.slos))

    def shrink(self) -> bool:
        """Drop the collapsed sections, then halve the metrics down to none, then the SLOs
        down to one; False when nothing is left to drop."""
        if self.details:
            self.details = False
            self.dropped = "the collapsed sections were left out"
        elif self.metric_rows > 0:
            self.metric_rows //= 2
            self.dropped = "some metrics were left out"
        elif self.slo_rows > 1:
            self.slo_rows //= 2
            self.dropped = "some metrics and SLOs were left out"
        else:
            return False
        return True


def _compose(report: Report, budget: _Budget) -> str:
    parts = [
        _headline(report),
        _slos(report, budget.slo_rows),
        _vs_baseline(report),
        _winner(report),
        _metrics(report, budget.metric_rows),
    ]
    if budget.details:
        parts += [_tasks(report), _summaries(report), _experiment(report)]
    if budget.dropped:
        parts.append(_TRUNCATION_NOTE.format(limit=GITHUB_COMMENT_LIMIT_CHARS, what=budget.dropped))
    parts.append(_footer(report))
    return "\n\n".join(p for p in parts if p) + "\n"


def _cut(text: str, limit: int) -> str:
    """The last resort (hundreds of versions): whole lines up to the limit, then a note."""
    note = "\n\n" + _TRUNCATION_NOTE.format(
        limit=GITHUB_COMMENT_LIMIT_CHARS, what="the report was cut here"
    )
    head = text[: max(limit - len(note) - 1, 0)]
    if "\n" in head:
        head = head[: head.rfind("\n")]
    return head.rstrip("\n") + note + "\n"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _details(summary: str, body: str, *, open_: bool = False) -> str:
    # The blank lines around the body make GitHub and GitLab render it as markdown.
    tag = "<details open>" if open_ else "<details>"
    return f"{tag}\n<summary>{summary}</summary>\n\n{body}\n\n</details>"


def _headline(report: Report) -> str:
    icon = _VERDICT_ICON.get(report.verdict.status, "ℹ️")
    name = f" · {escape(report.run.name)}" if report.run.name else ""
    return (
        f"### {icon} {escape(report.verdict.title)}{name}\n\n{escape_line(report.verdict.detail)}"
    )


def _slo_cell(result: SloVersion, units: str | None) -> str:
    icon = _SLO_ICON.get(result.status, "⚠️")
    if result.status is SloStatus.NOT_APPLICABLE:
        return f"{icon} n/a"
    if result.status is SloStatus.NO_DATA:
        return f"{icon} no data"
    return f"{icon} {escape(fmt.quantity(result.value, units))}"


def _omitted(shown: int, total: int, what: str) -> str:
    return f"\n\n_… and {total - shown} more {what} (left out to fit the comment)._"


def _slos(report: Report, limit: int | None) -> str:
    if not report.slos:
        return ""
    slos = report.slos if limit is None else report.slos[:limit]
    rows = [
        [escape(fmt.slo_label(s, report)), *(_slo_cell(v, s.units) for v in s.versions)]
        for s in slos
    ]
    headers = ["SLO", *map(escape, report.versions)]
    if report.baselines is not None and report.baselines.runs:
        # the "vs main" column (iter8_action.baselines): change, p-value, the call
        from iter8_action.report.baselines import column_cell, column_header

        headers.append(column_header(report.baselines))
        for row, s in zip(rows, slos, strict=True):
            row.append(column_cell(report.baselines, s.metric))
    text = "#### SLOs\n\n" + _table(headers, rows)
    if len(slos) < len(report.slos):
        text += _omitted(len(slos), len(report.slos), "SLOs")
    return text


def _vs_baseline(report: Report) -> str:
    if report.baselines is None:
        return ""
    from iter8_action.report.baselines import section

    return section(report.baselines)


def _winner(report: Report) -> str:
    if not report.rewards:
        return ""
    lines = ["#### Rewards"]
    if report.winner is not None:
        if report.winner.version is not None:
            name = report.winner.name or report.version_name(report.winner.version) or "?"
            reason = fmt.sentence(report.winner.reason or "")
            lines.append(f"**Winner: {escape(name)}**. {escape(reason)}".rstrip())
        elif report.winner.reason and report.verdict.status is not ReportVerdict.NO_WINNER_YET:
            # (the headline already says why when there is no winner yet)
            lines.append(f"**No winner.** {escape(fmt.sentence(report.winner.reason))}")
    rows = []
    for reward in report.rewards:
        label = escape(fmt.reward_label(reward))
        best = escape(fmt.reward_best(reward, report))
        if not reward.comparisons:
            rows.append([label, best, *[fmt.MISSING] * 5])
        for c in reward.comparisons:
            versus = f"{report.version_name(c.version)} vs {report.version_name(c.baseline)}"
            rows.append(
                [
                    label,
                    best,
                    escape(versus),
                    escape(fmt.effect(c)),
                    escape(fmt.interval(c)),
                    escape(f"{fmt.p_value(c.adjusted_p_value)} ({fmt.test_name(c.test)})"),
                    escape(fmt.significance(c)),
                ]
            )
    headers = [
        "Reward",
        "Best",
        "Compared",
        "Effect",
        f"{fmt.confidence(report)} CI",
        "p (adjusted)",
        "Significant",
    ]
    lines.append(_table(headers, rows))
    reasons = [
        f"- {escape_line(r.metric)}: {escape(fmt.sentence(r.reason))}"
        for r in report.rewards
        if r.reason
    ]
    if reasons:
        lines.append("\n".join(reasons))
    return "\n\n".join(lines)


def _metrics(report: Report, limit: int | None) -> str:
    if not report.metrics:
        return "#### Metrics\n\nNo metric values were recorded."
    metrics = report.metrics if limit is None else report.metrics[:limit]
    rows = [
        [escape(fmt.metric_label(m.name, m.units)), *(escape(fmt.number(v)) for v in m.values)]
        for m in metrics
    ]
    text = "#### Metrics\n\n" + _table(["Metric", *map(escape, report.versions)], rows)
    if len(metrics) < len(report.metrics):
        text += _omitted(len(metrics), len(report.metrics), "metrics")
    return text


def _tasks(report: Report) -> str:
    if not report.tasks:
        return ""
    with_errors = any(t.error for t in report.tasks)
    rows = []
    for t in report.tasks:
        row = [
            str(t.index),
            escape(t.task),
            f"{_TASK_ICON.get(t.status, '')} {escape(fmt.task_status(t.status))}",
            fmt.duration(t.duration_s),
        ]
        rows.append([*row, escape(t.error or "")] if with_errors else row)
    headers = ["#", "Task", "Status", "Duration", *(["Error"] if with_errors else [])]
    body = _table(headers, rows)
    if any(t.status is TaskStatus.NOT_RUN for t in report.tasks):
        body += "\n\n⛔ *not run*: the run stopped before this task started."
    run = report.run
    summary = (
        f"Tasks: {run.num_completed_tasks} of {run.num_tasks} completed, "
        f"{fmt.duration(run.duration_s)}"
    )
    # When the run did not complete, the tasks are the story: show them unfolded.
    return _details(summary, body, open_=run.state is not RunState.COMPLETED)


def _summaries(report: Report) -> str:
    blocks = []
    for summary in report.summaries:
        rows = [[escape(k), *map(escape, values)] for k, values in fmt.summary_rows(summary)]
        table = _table([escape(summary.metric), *map(escape, report.versions)], rows)
        # Inside <summary> markdown is not parsed: no backslash escapes there.
        blocks.append(_details(escape(fmt.summary_title(summary), in_html=True), table))
    return "\n\n".join(blocks)


def _experiment(report: Report) -> str:
    text = fmt.experiment_yaml(report)
    if text is None:
        return ""
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return _details("Experiment", f"{fence}yaml\n{text.rstrip()}\n{fence}")


def _longest_backtick_run(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)


def _footer(report: Report) -> str:
    run = report.run
    return (
        f"<sub>{escape(run.iter8_version or 'iter8-py')} · started "
        f"{escape(fmt.timestamp(run.start_time))} · {escape(run.state)}</sub>"
    )
