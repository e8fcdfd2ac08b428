"""The summary of a result that every event carries (its payload, or its template values).

The shape is documented in docs/tasks/events.md ("The result summary") and is a public
interface: fields may be added, none renamed. It has at most ten top-level
keys because GitHub's `repository_dispatch` rejects a `client_payload` with
more (REST API, "Create a repository dispatch event")::

    experiment: {name, startTime, endTime, numCompletedTasks, failure, failureReason}
    verdict:    pass | fail | error | no-slos (`EventVerdict`)
    reason:     one line that explains the verdict
    versions:   [{index, name, slosSatisfied, rewardsWon, metrics: {metric: value}}]
    winner:     {index, name, reason} or null
    slos:       [{metric, kind, limit, versions: [{name, value, limit, status}]}]
    rewards:    [{metric, direction, verdict, winner, winnerName, reason}]
    run:        {url, platform} or null (the CI run that produced the result)
    iter8Version

It is built from the result as written to the result file (`Result.to_dict()`),
so it works the same on a live run and on a result read back from disk; the
SLOs, rewards and winner come from `iter8_action.results.insights`, as in the reports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from iter8_action.results.insights import Insights, SloStatus, read_insights


class EventVerdict(StrEnum):
    """The verdict an event carries: coarser than the report's, and public (never renamed)."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    NO_SLOS = "no-slos"


def summarize(
    result: Mapping[str, Any],
    *,
    experiment_name: str | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The documented summary of `result` (a result dict, as in the result file); `env`,
    the job's environment, links the CI run."""
    found = read_insights(result.get("insights") or {})
    slos = _slos(found)
    rewards = _rewards(found)
    versions = _versions(found, slos, rewards)
    verdict, reason = _verdict(result, slos, versions)
    return {
        "experiment": _experiment(result, experiment_name),
        "verdict": str(verdict),
        "reason": reason,
        "versions": versions,
        "winner": _winner(found),
        "slos": slos,
        "rewards": rewards,
        "run": run_link(env or {}),
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


def _slos(found: Insights) -> list[dict[str, Any]]:
    return [
        {
            "metric": slo.metric,
            "kind": slo.kind,
            "limit": slo.limit,
            "versions": [
                {
                    "name": found.version_name(i),
                    "value": v.value,
                    "limit": v.limit,
                    "status": str(v.status),
                }
                for i, v in enumerate(slo.versions)
            ],
        }
        for slo in found.slos
    ]


def _rewards(found: Insights) -> list[dict[str, Any]]:
    return [
        {
            "metric": r.metric,
            "direction": r.direction,
            "verdict": str(r.verdict),
            "winner": r.winner,
            "winnerName": None if r.winner is None else found.version_name(r.winner),
            "reason": r.reason,
        }
        for r in found.rewards
    ]


def _versions(
    found: Insights, slos: list[dict[str, Any]], rewards: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    store = found.store
    # histogram names give no value and drop out below; percentiles of them are named by SLOs
    wanted = (
        set(store.names()) | {str(s["metric"]) for s in slos} | {str(r["metric"]) for r in rewards}
    )
    out = []
    for i, name in enumerate(found.versions):
        metrics = {m: _number(store.value(m, i)) for m in sorted(wanted)}
        out.append(
            {
                "index": i,
                "name": name,
                "slosSatisfied": found.slos_hold(i) if slos else None,
                "rewardsWon": [r["metric"] for r in rewards if r["winner"] == i],
                "metrics": {m: v for m, v in metrics.items() if v is not None},
            }
        )
    return out


def _winner(found: Insights) -> dict[str, Any] | None:
    winner = found.winner
    if winner is None or winner.version is None:
        return None
    return {
        "index": winner.version,
        "name": winner.name or found.version_name(winner.version),
        "reason": winner.reason,
    }


def _verdict(
    result: Mapping[str, Any], slos: list[dict[str, Any]], versions: list[dict[str, Any]]
) -> tuple[EventVerdict, str]:
    if result.get("failure"):
        reason = result.get("failureReason") or "a task failed"
        return EventVerdict.ERROR, f"the experiment failed: {reason}"
    if not slos:
        return EventVerdict.NO_SLOS, "no SLOs were assessed"
    failing = [v["name"] for v in versions if not v["slosSatisfied"]]
    if failing:
        count = sum(1 for s in slos for v in s["versions"] if not SloStatus(v["status"]).holds)
        return EventVerdict.FAIL, f"{count} SLO check(s) not satisfied ({', '.join(failing)})"
    return EventVerdict.PASS, f"every version meets all {len(slos)} SLO(s)"


def _number(value: Any) -> float | None:
    """A metric value fit for JSON: NaN and infinities become null."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) or math.isinf(value) else value
