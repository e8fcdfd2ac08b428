"""The PR/MR description: the markdown report of the result, with a link to the run.

The report is `iter8_action.report.render(document, "markdown")`, the same one
the reports and PR comments show. When the document cannot make a report (a
result from an older tool, say), a short summary (`markdown`) stands in. A
hidden marker ends the description, so people and tools can tell the
rollout's PRs apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from iter8_action import report
from iter8_action.results.insights import SloStatus

MARKER = "<!-- iter8-py rollout -->"


def body(document: Mapping[str, Any], summary: Mapping[str, Any]) -> str:
    """The description for the result `document` (the experiment and its result)."""
    try:
        text = report.render(document, "markdown")
    except report.ReportError:
        return markdown(summary)
    run = summary.get("run")
    link = (
        f"\n[The run that produced this result]({run['url']})\n" if run and run.get("url") else ""
    )
    return f"{text.rstrip()}\n{link}\n{MARKER}\n"


_STATUS: dict[str, str] = {
    SloStatus.SATISFIED: "✅",
    SloStatus.VIOLATED: "❌",
    SloStatus.NO_DATA: "❔ no data",
    SloStatus.NOT_APPLICABLE: "n/a",
}


def markdown(summary: Mapping[str, Any]) -> str:
    """A short summary in markdown: verdict, winner, SLOs and rewards."""
    name = (summary.get("experiment") or {}).get("name")
    lines = [f"## Iter8 experiment{f' {_cell(name)}' if name else ''}: {summary['verdict']}", ""]
    lines.append(f"**Verdict:** {summary['verdict']}: {_cell(summary.get('reason') or '')}")
    winner = summary.get("winner")
    if winner:
        reason = f" ({_cell(winner['reason'])})" if winner.get("reason") else ""
        lines.append(f"**Winner:** {_cell(winner['name'])}{reason}")
    names = [str(v["name"]) for v in summary.get("versions") or []]
    if summary.get("slos"):
        lines += ["", "| SLO | " + " | ".join(_cell(n) for n in names) + " |"]
        lines.append("| --- |" + " --- |" * len(names))
        for slo in summary["slos"]:
            sign = "≤" if slo.get("kind") == "upper" else "≥"
            limit = "relative" if slo.get("limit") is None else f"{sign} {_number(slo['limit'])}"
            cells = [_slo_cell(v) for v in slo.get("versions") or []]
            lines.append(f"| `{slo['metric']}` {limit} | " + " | ".join(cells) + " |")
    if summary.get("rewards"):
        lines += ["", "| Reward | Best |", "| --- | --- |"]
        for reward in summary["rewards"]:
            best = reward.get("winnerName") or str(reward.get("verdict") or "no winner")
            lines.append(f"| `{reward['metric']}` ({reward.get('direction')}) | {_cell(best)} |")
    run = summary.get("run")
    if run and run.get("url"):
        lines += ["", f"[The run that produced this result]({run['url']})"]
    lines += ["", MARKER, ""]
    return "\n".join(lines)


def _slo_cell(version: Mapping[str, Any]) -> str:
    mark = _STATUS.get(str(version.get("status")), str(version.get("status")))
    value = version.get("value")
    return mark if value is None else f"{_number(value)} {mark}"


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
