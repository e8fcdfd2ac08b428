"""The whole assessment of a run: SLOs, rewards, a verdict per version and the winner.

`assess` reads a `MetricStore` and returns the fields that go into
`result.insights` (see CONTRACT-assessment.md): Iter8's `SLOs`,
`SLOsSatisfied`, `rewards`, `rewardsWinners`, and ours under `assessment`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from iter8_action.assessment.data import MetricData, metric_data
from iter8_action.assessment.rewards import MAX, MIN, TIE, WINNER, RewardVerdict, judge_reward
from iter8_action.assessment.rewards import NO_DATA as NO_REWARD_DATA
from iter8_action.assessment.slos import NO_DATA, VIOLATED, SloVerdict, judge_slo
from iter8_action.assessment.spec import LOWER, UPPER, AssessSpec
from iter8_action.metrics import MetricStore


@dataclass(frozen=True)
class Assessment:
    spec: AssessSpec
    names: tuple[str, ...]
    slos: tuple[SloVerdict, ...]
    rewards: tuple[RewardVerdict, ...]

    def slos_hold(self, version: int) -> bool:
        return all(s.versions[version].holds for s in self.slos)

    def winner(self) -> tuple[int | None, str]:
        """The overall winner and why (or why there is none)."""
        if not self.slos and not self.rewards:
            return None, "there are no SLOs and no rewards to judge the versions by"
        qualified = [v for v in range(len(self.names)) if self._qualifies(v)]
        if len(qualified) == 1:
            w = qualified[0]
            if self.rewards:
                return w, f"{self.names[w]} meets every SLO and is best on every reward"
            return w, f"{self.names[w]} is the only version that meets every SLO"
        if qualified:
            joined = " and ".join(self.names[v] for v in qualified)
            why = "add a reward to choose between them" if not self.rewards else "they tie"
            return None, f"{joined} all meet every SLO and are not separated by rewards: {why}"
        passing = [v for v in range(len(self.names)) if self.slos_hold(v)]
        if not passing:
            return None, "no version meets every SLO"
        undecided = [
            f"{'no data on' if r.verdict == NO_REWARD_DATA else 'no winner yet on'} {r.metric}"
            for r in self.rewards
            if r.verdict not in (WINNER, TIE)
        ]
        if undecided:
            return None, "; ".join(undecided)
        return None, "no version that meets every SLO is best on every reward"

    def _qualifies(self, version: int) -> bool:
        return self.slos_hold(version) and all(
            r.winner == version or version in r.tied for r in self.rewards
        )


def assess(store: MetricStore, spec: AssessSpec) -> dict[str, Any]:
    """The insights fields of the assessment of everything in `store`."""
    return to_insights(judge(store, spec))


def judge(store: MetricStore, spec: AssessSpec) -> Assessment:
    names = tuple(store.version_names)
    cache: dict[str, MetricData] = {}

    def data(metric: str) -> MetricData:
        if metric not in cache:
            cache[metric] = metric_data(store, metric)
        return cache[metric]

    slos = tuple(judge_slo(s, data(s.metric), spec, names) for s in spec.slos)
    rewards = tuple(
        judge_reward(data(m), direction, spec, names)
        for direction, metrics in ((MAX, spec.rewards_max), (MIN, spec.rewards_min))
        for m in metrics
    )
    return Assessment(spec, names, slos, rewards)


def to_insights(a: Assessment) -> dict[str, Any]:
    absolute = [s for s in a.slos if s.slo.limit is not None]
    n = len(a.names)
    iter8_slos: dict[str, list[dict[str, Any]]] = {UPPER: [], LOWER: []}
    satisfied: dict[str, list[list[bool]]] = {UPPER: [], LOWER: []}
    for s in absolute:
        iter8_slos[s.slo.kind].append({"metric": s.slo.metric, "limit": s.slo.limit})
        satisfied[s.slo.kind].append([s.absolute_holds(v) for v in range(n)])
    winner, reason = a.winner()
    return {
        "SLOs": iter8_slos,
        "SLOsSatisfied": satisfied,
        "rewards": {
            MAX: [r.metric for r in a.rewards if r.direction == MAX],
            MIN: [r.metric for r in a.rewards if r.direction == MIN],
        },
        "rewardsWinners": {
            d: [-1 if r.winner is None else r.winner for r in a.rewards if r.direction == d]
            for d in (MAX, MIN)
        },
        "assessment": {
            "baseline": a.spec.baseline,
            "confidence": a.spec.confidence,
            "correction": a.spec.correction,
            "minRequests": a.spec.min_requests,
            "slos": [s.to_dict() for s in a.slos],
            "rewards": [r.to_dict() for r in a.rewards],
            "versions": [_version(a, v) for v in range(n)],
            "winner": {
                "version": winner,
                "name": None if winner is None else a.names[winner],
                "reason": reason,
            },
        },
    }


def _version(a: Assessment, v: int) -> dict[str, Any]:
    return {
        "name": a.names[v],
        "slosSatisfied": a.slos_hold(v),
        "slosViolated": _metrics(a.slos, v, VIOLATED),
        "slosNoData": _metrics(a.slos, v, NO_DATA),
        "rewardsWon": [r.metric for r in a.rewards if r.winner == v],
        "rewardsTied": [r.metric for r in a.rewards if v in r.tied],
    }


def _metrics(slos: Sequence[SloVerdict], v: int, status: str) -> list[str]:
    return [s.slo.metric for s in slos if s.versions[v].status == status]
