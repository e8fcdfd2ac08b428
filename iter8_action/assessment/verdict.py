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
from iter8_action.assessment.rewards import RewardJudgement, judge_reward
from iter8_action.assessment.slos import SloVerdict, judge_slo
from iter8_action.assessment.spec import AssessSpec
from iter8_action.assessment.statistics import PairTest, adjust
from iter8_action.metrics.store import MetricStore
from iter8_action.results.insights import MAX, MIN, Method, RewardVerdict, Winner, write_assessment


@dataclass(frozen=True)
class Assessment:
    spec: AssessSpec
    names: tuple[str, ...]
    slos: tuple[SloVerdict, ...]
    rewards: tuple[RewardJudgement, ...]
    joint: tuple[tuple[PairTest, ...], ...]
    """Per reward, its comparisons decided again as one family with those of every other
    reward: the overall winner rests on all of them at once, so its chance of being a
    false winner stays within 1 - confidence however many rewards there are."""

    def slos_hold(self, version: int) -> bool:
        return all(s.versions[version].holds for s in self.slos)

    def winner(self) -> tuple[int | None, str]:
        """The overall winner and why (or why there is none).

        Among the versions that meet every SLO, the winner has a value on every
        reward, is worse than none of them on any reward, and is better than
        each of them on at least one (significantly, where the data allows a
        test). Without rewards it is the only version that meets every SLO.
        """
        if not self.slos and not self.rewards:
            return None, "there are no SLOs and no rewards to judge the versions by"
        passing = [v for v in range(len(self.names)) if self.slos_hold(v)]
        if not passing:
            return None, "no version meets every SLO"
        if not self.rewards:
            if len(passing) == 1:
                only = passing[0]
                return only, f"{self.names[only]} is the only version that meets every SLO"
            joined = " and ".join(self.names[v] for v in passing)
            return None, f"{joined} all meet every SLO: add a reward to choose between them"
        found = _preferred(self.rewards, self.joint, passing)
        if found is not None:
            return found, self._win_reason(found, passing)
        return None, self._no_win_reason(passing)

    def _win_reason(self, w: int, passing: list[int]) -> str:
        name = self.names[w]
        if all(r.winner == w for r in self.rewards):
            return f"{name} meets every SLO and is best on every reward"
        if passing == [w]:
            return f"{name} is the only version that meets every SLO"
        better = []
        for o in passing:
            if o != w:
                metric = next(
                    r.metric
                    for r, c in zip(self.rewards, self.joint, strict=True)
                    if r.beats(w, o, c)
                )
                better.append(f"than {self.names[o]} on {metric}")
        return f"{name} meets every SLO, is better {', '.join(better)}, and worse on no reward"

    def _no_win_reason(self, passing: list[int]) -> str:
        alone = _preferred(self.rewards, tuple(r.comparisons for r in self.rewards), passing)
        if alone is not None:
            return (
                f"{self.names[alone]} leads, but not significantly once the comparisons of "
                f"all {len(self.rewards)} rewards are corrected together"
            )
        undecided = [
            f"{'no data' if r.verdict is RewardVerdict.NO_DATA else 'no winner yet'} on {r.metric}"
            for r in self.rewards
            if r.verdict not in (RewardVerdict.WINNER, RewardVerdict.TIE)
        ]
        if undecided:
            return "; ".join(undecided)
        best = [
            f"{self.names[r.winner]} on {r.metric}" for r in self.rewards if r.winner is not None
        ]
        if best:
            return "the rewards disagree: best are " + ", ".join(best)
        joined = " and ".join(self.names[v] for v in passing)
        return f"{joined} meet every SLO and the rewards do not separate them"


def _preferred(
    rewards: Sequence[RewardJudgement],
    comparisons: Sequence[Sequence[PairTest]],
    passing: list[int],
) -> int | None:
    """The one version of `passing` that is worse on no reward and better than each other
    one on some reward, judged on `comparisons` (per reward); None when there is none."""
    judged = list(zip(rewards, comparisons, strict=True))

    def unbeaten(w: int) -> bool:
        return all(
            r.values[w] is not None and not any(r.beats(o, w, c) for o in passing if o != w)
            for r, c in judged
        )

    def ahead(w: int) -> bool:
        return all(any(r.beats(w, o, c) for r, c in judged) for o in passing if o != w)

    found = [w for w in passing if unbeaten(w) and ahead(w)]
    return found[0] if len(found) == 1 else None


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
    return Assessment(spec, names, slos, rewards, _joint(rewards, spec))


def _joint(
    rewards: Sequence[RewardJudgement], spec: AssessSpec
) -> tuple[tuple[PairTest, ...], ...]:
    """Every reward's comparisons decided again as one family (see `Assessment.joint`)."""
    flat = [c for r in rewards for c in r.comparisons]
    decided = adjust(
        flat, confidence=spec.confidence, correction=spec.correction, min_requests=spec.min_requests
    )
    out = []
    for r in rewards:
        out.append(tuple(decided[: len(r.comparisons)]))
        decided = decided[len(r.comparisons) :]
    return tuple(out)


def to_insights(a: Assessment) -> dict[str, Any]:
    """The insight fields of an assessment, written by `iter8_action.results.insights`."""
    winner, reason = a.winner()
    spec = a.spec
    return write_assessment(
        a.names,
        Method(spec.baseline, spec.confidence, str(spec.correction), spec.min_requests),
        [s.recorded() for s in a.slos],
        [r.recorded() for r in a.rewards],
        Winner(winner, None if winner is None else a.names[winner], reason),
    )
