"""The PR/MR description: the experiment's verdict, winner and SLO table in markdown.

A hidden marker ends it, so people and tools can tell the rollout's PRs apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MARKER = "<!-- iter8-py rollout -->"
_STATUS = {"satisfied": "✅", "violated": "❌", "no-data": "❔ no data", "not-applicable": "n/a"}


def markdown(summary: Mapping[str, Any]) -> str:
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
