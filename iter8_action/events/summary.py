"""The summary of a result that every event carries (its payload, or its template values).

The shape is documented in the README ("events and rollout") and is a public
interface: fields may be added, none renamed. It has at most ten top-level
keys because GitHub's `repository_dispatch` rejects a `client_payload` with
more (REST API, "Create a repository dispatch event")::

    experiment: {name, startTime, endTime, numCompletedTasks, failure, failureReason}
    verdict:    pass | fail | error | no-slos
    reason:     one line that explains the verdict
    versions:   [{index, name, slosSatisfied, rewardsWon, metrics: {metric: value}}]
    winner:     {index, name, reason} or null
    slos:       [{metric, kind, limit, versions: [{name, value, limit, status}]}]
    rewards:    [{metric, direction, verdict, winner, winnerName, reason}]
    run:        {url, platform} or null (the CI run that produced the result)
    iter8Version

It is built from the result as written to the result file (`Result.to_dict()`),
so it works the same on a live run and on a result read back from disk.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from iter8_action.result import Result

VERDICTS = ("pass", "fail", "error", "no-slos")


def summarize(result: Mapping[str, Any], *, experiment_name: str | None = None) -> dict[str, Any]:
    """The documented summary of `result` (a result dict, as in the result file)."""
    insights = result.get("insights") or {}
    names = [str(n) for n in insights.get("versionNames") or []]
    slos = _slos(insights, names)
    rewards = _rewards(insights, names)
    versions = _versions(result, insights, names, slos, rewards)
    winner = _winner(insights, names)
    verdict, reason = _verdict(result, slos, versions)
    return {
        "experiment": _experiment(result, experiment_name),
        "verdict": verdict,
        "reason": reason,
        "versions": versions,
        "winner": winner,
        "slos": slos,
        "rewards": rewards,
        "run": run_link(os.environ),
        "iter8Version": result.get("iter8Version"),
    }


def run_link(env: Mapping[str, str]) -> dict[str, str] | None:
    """The CI run, from the variables GitHub Actions and GitLab CI set (documented by each)."""
    server, repo, run_id = (
        env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    if server and repo and run_id:
        return {"url": f"{server}/{repo}/actions/runs/{run_id}", "platform": "github"}
    job_url = env.get("CI_JOB_URL") or env.get("CI_PIPELINE_URL")
    if job_url:
        return {"url": job_url, "platform": "gitlab"}
    return None


def _experiment(result: Mapping[str, Any], name: str | None) -> dict[str, Any]:
    return {
        "name": name,
        "startTime": result.get("startTime"),
        "endTime": result.get("endTime"),
        "numCompletedTasks": result.get("numCompletedTasks", 0),
        "failure": bool(result.get("failure", False)),
        "failureReason": result.get("failureReason"),
    }


def _name(names: list[str], index: Any) -> str | None:
    if isinstance(index, int) and 0 <= index < len(names):
        return names[index]
    return None


def _slos(insights: Mapping[str, Any], names: list[str]) -> list[dict[str, Any]]:
    assessment = insights.get("assessment") or {}
    if assessment.get("slos") is not None:
        return [
            {
                "metric": slo.get("metric"),
                "kind": slo.get("kind"),
                "limit": slo.get("limit"),
                "versions": [
                    {
                        "name": _name(names, i) or f"version {i}",
                        "value": _number(v.get("value")),
                        "limit": v.get("limit"),
                        "status": v.get("status"),
                    }
                    for i, v in enumerate(slo.get("versions") or [])
                ],
            }
            for slo in assessment["slos"]
        ]
    return _iter8_slos(insights, names)


def _iter8_slos(insights: Mapping[str, Any], names: list[str]) -> list[dict[str, Any]]:
    """The SLO table from Iter8's own fields, for a result written without our assessment."""
    store = Result.from_dict({"insights": insights}).store
    slos = insights.get("SLOs") or {}
    satisfied = insights.get("SLOsSatisfied") or {}
    out: list[dict[str, Any]] = []
    for kind in ("upper", "lower"):
        rows = satisfied.get(kind) or []
        for i, slo in enumerate(slos.get(kind) or []):
            row = rows[i] if i < len(rows) else []
            versions = []
            for v, name in enumerate(names):
                value = _number(store.value(str(slo.get("metric")), v))
                ok = bool(row[v]) if v < len(row) else False
                status = "no-data" if value is None else ("satisfied" if ok else "violated")
                versions.append(
                    {"name": name, "value": value, "limit": slo.get("limit"), "status": status}
                )
            out.append(
                {
                    "metric": slo.get("metric"),
                    "kind": kind,
                    "limit": slo.get("limit"),
                    "versions": versions,
                }
            )
    return out


def _rewards(insights: Mapping[str, Any], names: list[str]) -> list[dict[str, Any]]:
    assessment = insights.get("assessment") or {}
    if assessment.get("rewards") is not None:
        return [
            {
                "metric": r.get("metric"),
                "direction": r.get("direction"),
                "verdict": r.get("verdict"),
                "winner": r.get("winner"),
                "winnerName": _name(names, r.get("winner")),
                "reason": r.get("reason"),
            }
            for r in assessment["rewards"]
        ]
    rewards = insights.get("rewards") or {}
    winners = insights.get("rewardsWinners") or {}
    out = []
    for direction in ("max", "min"):
        found = winners.get(direction) or []
        for i, metric in enumerate(rewards.get(direction) or []):
            index = found[i] if i < len(found) and found[i] != -1 else None
            out.append(
                {
                    "metric": metric,
                    "direction": direction,
                    "verdict": "winner" if index is not None else "no-winner-yet",
                    "winner": index,
                    "winnerName": _name(names, index),
                    "reason": None,
                }
            )
    return out


def _versions(
    result: Mapping[str, Any],
    insights: Mapping[str, Any],
    names: list[str],
    slos: list[dict[str, Any]],
    rewards: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    store = Result.from_dict(result).store
    # histogram names give no value and drop out below; percentiles of them are named by SLOs
    wanted = (
        set(store.names()) | {str(s["metric"]) for s in slos} | {str(r["metric"]) for r in rewards}
    )
    out = []
    for i, name in enumerate(names):
        metrics = {m: _number(store.value(m, i)) for m in sorted(wanted)}
        out.append(
            {
                "index": i,
                "name": name,
                "slosSatisfied": all(_holds(_status(s, i)) for s in slos) if slos else None,
                "rewardsWon": [r["metric"] for r in rewards if r["winner"] == i],
                "metrics": {m: v for m, v in metrics.items() if v is not None},
            }
        )
    return out


def _winner(insights: Mapping[str, Any], names: list[str]) -> dict[str, Any] | None:
    winner = (insights.get("assessment") or {}).get("winner") or {}
    index = winner.get("version")
    if not isinstance(index, int):
        return None
    return {
        "index": index,
        "name": winner.get("name") or _name(names, index),
        "reason": winner.get("reason"),
    }


def _verdict(
    result: Mapping[str, Any], slos: list[dict[str, Any]], versions: list[dict[str, Any]]
) -> tuple[str, str]:
    if result.get("failure"):
        return "error", f"the experiment failed: {result.get('failureReason') or 'a task failed'}"
    if not slos:
        return "no-slos", "no SLOs were assessed"
    failing = [v["name"] for v in versions if not v["slosSatisfied"]]
    if failing:
        count = sum(1 for s in slos for v in s["versions"] if not _holds(v["status"]))
        return "fail", f"{count} SLO check(s) not satisfied ({', '.join(failing)})"
    return "pass", f"every version meets all {len(slos)} SLO(s)"


def _status(slo: Mapping[str, Any], index: int) -> Any:
    versions = slo["versions"]
    return versions[index]["status"] if index < len(versions) else "no-data"


def _holds(status: Any) -> bool:
    # an SLO that does not apply to a version (a relative SLO on the baseline) does not fail it
    return status in ("satisfied", "not-applicable")


def _number(value: Any) -> float | None:
    """A metric value fit for JSON: NaN and infinities become null."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) or math.isinf(value) else value
