"""The "vs <branch>" parts of the markdown report: a column of the SLO table and a section.

Every string came from another run, an artifact name or an API answer: each is
escaped for markdown (`report.markdown.escape`), never put in a code span (where a
backslash escape does not hold), and the rows are bounded.
"""

from __future__ import annotations

from iter8_action.baselines.view import BaselineView, VersusRow
from iter8_action.report.markdown import escape, escape_line

MAX_ROWS = 30


def column_header(view: BaselineView) -> str:
    return f"vs {escape(view.branch)}"


def column_cell(view: BaselineView, metric: str) -> str:
    """The SLO table's "vs main" cell: change, p-value and the call, per version."""
    rows = view.rows_for(metric)
    if not rows:
        return "—"
    several = len(rows) > 1
    return "<br>".join((f"{escape(r.version)}: " if several else "") + _change(r) for r in rows)


def _change(r: VersusRow) -> str:
    parts = [escape(r.change_label or "—")]
    if r.p_value is not None:
        parts.append(f"p{_p(r.p_value)}")
    parts.append(_call(r))
    return ", ".join(parts)


def section(view: BaselineView) -> str:
    branch = escape(view.branch)
    lines = [f"#### vs {branch}", ""]
    if not view.runs:
        lines.append(f"ℹ️ **No baseline**: this run is not compared with {branch}.")
        lines += [f"- {escape_line(n)}" for n in view.notes]
        if view.dropped:
            limits = ", ".join(escape(d) for d in view.dropped)
            lines.append(f"- not judged without a baseline: {limits}; the other SLOs decide")
        return "\n".join(lines)
    if view.headline:
        lines += [f"**{escape_line(view.headline)}**", ""]
    count = len(view.runs)
    lines.append(
        f"Compared with {escape(view.runs[0])} (the newest of {count} "
        f"result{'s' if count > 1 else ''} of {branch}). A regression is significant and "
        "outside the run-to-run noise (the prediction bound of the baseline runs)."
    )
    if view.rows:
        lines += [
            "",
            f"| Metric | Version | Value | {branch} | vs {branch} | p-value | Noise bound | |",
            "|---|---|---:|---:|---:|---:|---:|---|",
        ]
        lines += [_row(r) for r in view.rows[:MAX_ROWS]]
        if len(view.rows) > MAX_ROWS:
            lines.append(f"\n_{len(view.rows) - MAX_ROWS} more comparisons are in the result._")
    if view.notes:
        lines.append("")
        lines += [f"- {escape_line(n)}" for n in view.notes]
    return "\n".join(lines)


def _row(r: VersusRow) -> str:
    cells = [
        escape(r.metric),
        escape(r.version),
        _num(r.value),
        _num(r.baseline_value),
        escape(r.change_label or "—"),
        "—" if r.p_value is None else _p(r.p_value).lstrip("="),
        "—" if r.noise is None else f"{r.noise:.1%}",
        _call(r),
    ]
    return "| " + " | ".join(cells) + " |"


def _call(r: VersusRow) -> str:
    if r.regression:
        return "❌ regression"
    if r.significant:
        return "✅ better" if r.better else "significant, within noise"
    if r.significant is False:
        return "not significant"
    return "no test"


def _p(p: float) -> str:
    return "&lt;0.001" if p < 0.001 else f"={p:.3f}"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"
