"""The "vs <branch>" section of the comment, from the result's `baselines` insight.

Every string in the insight came from another run, an artifact name or an
API answer, so each is escaped for markdown; the section is bounded in rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from iter8_action.report.markdown import escape, escape_line

MAX_ROWS = 30


def section(insights: Mapping[str, Any]) -> str:
    """The section (empty when the run asked for no baseline)."""
    info = insights.get("baselines")
    if not isinstance(info, Mapping):
        return ""
    branch = escape(str(info.get("branch") or "baseline"))
    lines = [f"### vs {branch}", ""]
    runs: Sequence[Mapping[str, Any]] = info.get("runs") or []
    if not runs:
        lines.append(f"ℹ️ **No baseline**: this run is not compared with {branch}.")
        lines += [f"- {escape_line(str(n))}" for n in info.get("notes") or []]
        dropped = info.get("dropped") or []
        if dropped:
            limits = ", ".join(escape(str(d)) for d in dropped)
            lines.append(f"- not judged without a baseline: {limits}; the other SLOs decide")
        return "\n".join(lines) + "\n"
    if info.get("headline"):
        lines += [f"**{escape_line(str(info['headline']))}**", ""]
    joined = ", ".join(f"`{escape(str(r.get('name')))}`" for r in runs[:1])
    lines.append(
        f"Compared with {joined} (the newest of {len(runs)} result{'s' if len(runs) > 1 else ''} "
        f"of {branch}). A regression is significant and outside the run-to-run noise "
        "(the prediction bound of the baseline runs)."
    )
    lines.append("")
    rows = list(info.get("comparisons") or [])
    if rows:
        lines.append(
            f"| Metric | Version | Value | {branch} | vs {branch} | p-value | Noise bound | |"
        )
        lines.append("|---|---|---:|---:|---:|---:|---:|---|")
        for row in rows[:MAX_ROWS]:
            lines.append(_row(row))
        if len(rows) > MAX_ROWS:
            lines.append(f"\n_{len(rows) - MAX_ROWS} more comparisons are in the result file._")
    lines += [f"- {escape_line(str(n))}" for n in info.get("notes") or []]
    return "\n".join(lines) + "\n"


def _row(row: Mapping[str, Any]) -> str:
    p = row.get("pValue")
    p_text = "—" if p is None else ("&lt;0.001" if p < 0.001 else f"{p:.3f}")
    noise = row.get("noise")
    if row.get("regression"):
        flag = "❌ regression"
    elif row.get("significant"):
        flag = "significant, within noise" if noise is not None else "significant"
    elif row.get("significant") is False:
        flag = "not significant"
    else:
        flag = "no test"
    cells = [
        f"`{escape(str(row.get('metric')))}`",
        escape(str(row.get("version"))),
        _num(row.get("value")),
        _num(row.get("baselineValue")),
        escape(str(row.get("changeLabel") or "—")),
        p_text,
        "—" if noise is None else f"{noise:.1%}",
        flag,
    ]
    return "| " + " | ".join(cells) + " |"


def _num(value: Any) -> str:
    return "—" if not isinstance(value, int | float) else f"{value:.4g}"
