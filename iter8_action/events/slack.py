"""The Slack message: a short summary as Block Kit blocks, escaped and within Slack's limits.

Limits and escaping follow Slack's reference ("Block Kit: blocks", "Formatting
text for app surfaces"): `&`, `<` and `>` are escaped in every mrkdwn text;
a header holds at most 150 characters, a section text 3000, a field 2000; a
message at most 50 blocks. The top-level `text` is the notification fallback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from iter8_action.events.summary import EventVerdict
from iter8_action.results.insights import SloStatus

HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
FALLBACK_MAX = 300
_HEADLINES: dict[str, tuple[str, str]] = {
    EventVerdict.PASS: (":white_check_mark:", "passed"),
    EventVerdict.FAIL: (":x:", "failed its SLOs"),
    EventVerdict.ERROR: (":warning:", "did not complete"),
    EventVerdict.NO_SLOS: (":information_source:", "finished (no SLOs)"),
}
_MARKS: dict[str, str] = {
    SloStatus.SATISFIED: "ok",
    SloStatus.VIOLATED: "FAIL",
    SloStatus.NO_DATA: "no data",
    SloStatus.NOT_APPLICABLE: "n/a",
}


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn reserves for its own markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    # `|` separates the label in Slack's link markup; percent-encode it in the URL itself
    return f"<{escape(url).replace('|', '%7C')}|{escape(label)}>"


def message(summary: Mapping[str, Any], *, title: str | None = None) -> dict[str, Any]:
    """The webhook payload for `summary` (see `events.summary`)."""
    icon, outcome = _HEADLINES.get(str(summary["verdict"]), (":grey_question:", "finished"))
    name = (summary.get("experiment") or {}).get("name") or "experiment"
    headline = title or f"Iter8 {name} {outcome}"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _cut(f"{icon} {headline}", HEADER_MAX),
                "emoji": True,
            },
        },
        {"type": "section", "text": _mrkdwn(_cut(_overview(summary), SECTION_MAX))},
    ]
    versions = summary.get("versions") or []
    if versions:
        blocks.append(
            {"type": "section", "fields": [_mrkdwn(_cut(f, FIELD_MAX)) for f in _fields(summary)]}
        )
    if summary.get("slos"):
        blocks.append(
            {
                "type": "section",
                "text": _mrkdwn(slo_table(summary["slos"], [v["name"] for v in versions])),
            }
        )
    context = [_mrkdwn(escape(str(summary.get("iter8Version") or "iter8-py")))]
    run = summary.get("run")
    if run and run.get("url"):
        context.insert(0, _mrkdwn(link(str(run["url"]), "View the run")))
    blocks.append({"type": "context", "elements": context})
    fallback = f"{headline}: {summary.get('reason') or ''}".rstrip(": ")
    return {"text": escape(_cut(fallback, FALLBACK_MAX)), "blocks": blocks}


def slo_table(slos: Sequence[Mapping[str, Any]], names: Sequence[str]) -> str:
    """The SLO table as preformatted text, rows dropped (and counted) to stay within a section."""
    header = ["SLO", *names]
    rows = [[_slo_label(s), *(_cell(v) for v in s.get("versions") or [])] for s in slos]
    widths = [
        max(len(r[i]) if i < len(r) else 0 for r in [header, *rows]) for i in range(len(header))
    ]

    def line(row: Sequence[str]) -> str:
        return "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()

    lines = [line(header)]
    for shown, row in enumerate(rows):
        candidate = [*lines, line(row)]
        remaining = len(rows) - shown - 1
        tail = [f"... and {remaining} more SLO(s)"] if remaining else []
        if len(_fence([*candidate, *tail])) > SECTION_MAX:
            lines.append(f"... and {len(rows) - shown} more SLO(s)")
            break
        lines = candidate
    return _fence(lines)


def _fence(lines: Sequence[str]) -> str:
    return "```\n" + escape("\n".join(lines)) + "\n```"


def _overview(summary: Mapping[str, Any]) -> str:
    text = (
        f"*Verdict:* {escape(str(summary['verdict']))}: {escape(str(summary.get('reason') or ''))}"
    )
    winner = summary.get("winner")
    if winner:
        text += f"\n*Winner:* {escape(str(winner.get('name')))}"
        if winner.get("reason"):
            text += f" ({escape(str(winner['reason']))})"
    return text


def _fields(summary: Mapping[str, Any]) -> list[str]:
    fields = []
    for version in list(summary["versions"])[:10]:
        ok = version.get("slosSatisfied")
        state = {True: "meets every SLO", False: "misses an SLO", None: "no SLOs"}[ok]
        won = version.get("rewardsWon") or []
        text = f"*{escape(str(version['name']))}*\n{state}"
        if won:
            text += "\nbest on " + escape(", ".join(str(m) for m in won))
        fields.append(text)
    return fields


def _slo_label(slo: Mapping[str, Any]) -> str:
    sign = "<=" if slo.get("kind") == "upper" else ">="
    limit = slo.get("limit")
    return (
        f"{slo.get('metric')} {sign} {_number(limit)}"
        if limit is not None
        else f"{slo.get('metric')} (relative)"
    )


def _cell(version: Mapping[str, Any]) -> str:
    value = version.get("value")
    mark = _MARKS.get(str(version.get("status")), str(version.get("status")))
    return mark if value is None else f"{_number(value)} {mark}"


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
