"""Questions about a finished assessment, read from the result's insights.

Conditions (`SLOs()`, `Winner()`) and `iter8 assert` ask these of a result that
may have been read back from a file, so they read the insight fields rather
than recompute anything. A result written by Iter8 itself has only
`SLOsSatisfied`; that is used when our `assessment` is absent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

HOLDING = ("satisfied", "not-applicable")


def slo_failures(insights: Mapping[str, Any], version: int | None = None) -> list[str]:
    """Each SLO missed by a version (or by the one given), as "v2: http/latency-p95 violated (...)".

    Empty when every SLO holds, or when there are no SLOs.
    """
    names: Sequence[str] = insights.get("versionNames") or []
    ours = (insights.get("assessment") or {}).get("slos")
    if ours is not None:
        return _failures_from_assessment(ours, names, version)
    return _failures_from_iter8(insights, names, version)


def _name(names: Sequence[str], v: int) -> str:
    return names[v] if v < len(names) else f"version {v}"


def _failures_from_assessment(
    slos: Sequence[Mapping[str, Any]], names: Sequence[str], version: int | None
) -> list[str]:
    out = []
    for slo in slos:
        for v, status in enumerate(slo.get("versions") or []):
            if version is not None and v != version:
                continue
            if status.get("status") not in HOLDING:
                note = f" ({status['note']})" if status.get("note") else ""
                out.append(
                    f"{_name(names, v)}: {slo.get('kind')} SLO on {slo.get('metric')} "
                    f"{status.get('status')}{note}"
                )
    return out


def _failures_from_iter8(
    insights: Mapping[str, Any], names: Sequence[str], version: int | None
) -> list[str]:
    satisfied = insights.get("SLOsSatisfied") or {}
    slos = insights.get("SLOs") or {}
    out = []
    for kind in ("upper", "lower"):
        entries = slos.get(kind) or []
        for i, row in enumerate(satisfied.get(kind) or []):
            metric = entries[i].get("metric") if i < len(entries) else f"#{i}"
            for v, ok in enumerate(row):
                if (version is None or v == version) and not ok:
                    out.append(f"{_name(names, v)}: {kind} SLO on {metric} not satisfied")
    return out


def overall_winner(insights: Mapping[str, Any]) -> tuple[int | None, str]:
    """The overall winner's index (or None) and why."""
    assessment = insights.get("assessment")
    if not assessment:
        return None, "there is no assessment in the result (did an assess task run?)"
    winner = assessment.get("winner") or {}
    return winner.get("version"), str(winner.get("reason") or "")
