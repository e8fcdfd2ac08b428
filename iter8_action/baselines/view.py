"""The `baselines` insight of a result, read back for the reports: plain, bounded data.

A result file may come from anywhere (`iter8 report -f`, `from-result`), so
every field is checked for its type and cut to a bound before a report shows it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_ROWS = 200
MAX_NOTES = 20
MAX_TEXT = 500


@dataclass(frozen=True)
class VersusRow:
    """One version of the run against the baseline on one metric."""

    metric: str
    version: str
    value: float | None
    baseline_value: float | None
    change_label: str | None
    p_value: float | None
    significant: bool | None
    noise: float | None
    regression: bool
    change: float | None = None
    worse_when: str = "higher"

    @property
    def better(self) -> bool:
        if self.change is None:
            return False
        return self.change < 0 if self.worse_when == "higher" else self.change > 0


@dataclass(frozen=True)
class BaselineView:
    branch: str
    runs: tuple[str, ...]
    """The compared runs' names (`main@1a2b3c4`), newest first."""
    notes: tuple[str, ...]
    dropped: tuple[str, ...]
    headline: str | None
    rows: tuple[VersusRow, ...]

    def rows_for(self, metric: str) -> list[VersusRow]:
        return [r for r in self.rows if r.metric == metric]


def read_view(insights: Mapping[str, Any]) -> BaselineView | None:
    info = insights.get("baselines")
    if not isinstance(info, Mapping):
        return None
    runs = _list(info.get("runs"))
    rows = _list(info.get("comparisons"))
    return BaselineView(
        branch=_text(info.get("branch")) or "baseline",
        runs=tuple(_text(r.get("name")) for r in runs[:MAX_ROWS] if isinstance(r, Mapping)),
        notes=_texts(info.get("notes")),
        dropped=_texts(info.get("dropped")),
        headline=_text(info.get("headline")) or None,
        rows=tuple(_row(r) for r in rows[:MAX_ROWS] if isinstance(r, Mapping)),
    )


def _row(r: Mapping[str, Any]) -> VersusRow:
    significant = r.get("significant")
    return VersusRow(
        metric=_text(r.get("metric")),
        version=_text(r.get("version")),
        value=_number(r.get("value")),
        baseline_value=_number(r.get("baselineValue")),
        change_label=_text(r.get("changeLabel")) or None,
        p_value=_number(r.get("pValue")),
        significant=significant if isinstance(significant, bool) else None,
        noise=_number(r.get("noise")),
        regression=r.get("regression") is True,
        change=_number(r.get("change")),
        worse_when="lower" if r.get("worseWhen") == "lower" else "higher",
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return str(value)[:MAX_TEXT] if isinstance(value, str | int | float) else ""


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(_text(v) for v in value[:MAX_NOTES] if isinstance(v, str))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
