"""Rewards: the best version on a metric, named only when the data supports it.

With per-request data every pair of versions is compared (the candidates with
the baseline first, then the candidates with each other) as one family
corrected for multiplicity; the winner is the version significantly better than
every other. When no version is, but a group is significantly better than all
the rest, the group is reported as tied. With one value per version (a gauge
from a backend) the comparison is plain, as in Iter8, except that equal values
are a tie rather than a win for the first version.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from iter8_action.assessment.comparisons import compare_family, recorded, statistical, summary
from iter8_action.assessment.data import MetricData
from iter8_action.assessment.spec import AssessSpec
from iter8_action.assessment.statistics import PairTest, plain_comparison
from iter8_action.results import insights
from iter8_action.results.insights import MAX, RewardVerdict

TIE_RELATIVE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class RewardJudgement:
    metric: str
    direction: str
    verdict: RewardVerdict
    winner: int | None
    tied: tuple[int, ...]
    reason: str
    comparisons: tuple[PairTest, ...]
    values: tuple[float | None, ...] = ()
    """Each version's value (not written to the result: the store has them)."""

    @property
    def statistical(self) -> bool:
        return any(c.statistical for c in self.comparisons)

    def beats(self, a: int, b: int, comparisons: Sequence[PairTest] | None = None) -> bool:
        """Whether version `a` is better than `b`: significantly (in `comparisons`, by default
        this reward's own family) when there is per-request data, else by value."""
        if self.statistical:
            return prefers(self.direction, comparisons or self.comparisons, a, b)
        va, vb = self.values[a], self.values[b]
        if va is None or vb is None or math.isclose(va, vb, rel_tol=TIE_RELATIVE_TOLERANCE):
            return False
        return va > vb if self.direction == MAX else va < vb

    def recorded(self) -> insights.Reward:
        """The verdict as the result records it (see `iter8_action.results.insights`)."""
        return insights.Reward(
            metric=self.metric,
            direction=self.direction,
            verdict=self.verdict,
            winner=self.winner,
            tied=self.tied,
            reason=self.reason,
            units=None,
            values=self.values,
            comparisons=tuple(recorded(c) for c in self.comparisons),
        )


@dataclass(frozen=True)
class _Judging:
    """One reward being judged: what every step needs."""

    data: MetricData
    direction: str
    spec: AssessSpec
    names: Sequence[str]
    present: list[int]
    """The versions with a value."""

    @property
    def missing(self) -> str:
        missing = [self.names[v] for v, value in enumerate(self.data.values) if value is None]
        return f" ({', '.join(missing)}: no data)" if missing else ""

    def verdict(
        self,
        kind: RewardVerdict,
        reason: str,
        *,
        winner: int | None = None,
        tied: Sequence[int] = (),
        comparisons: Sequence[PairTest] = (),
    ) -> RewardJudgement:
        return RewardJudgement(
            self.data.metric,
            self.direction,
            kind,
            winner,
            tuple(tied),
            reason,
            tuple(comparisons),
            self.data.values,
        )


def judge_reward(
    data: MetricData, direction: str, spec: AssessSpec, names: Sequence[str]
) -> RewardJudgement:
    j = _Judging(data, direction, spec, names, data.with_value())
    if not j.present:
        return j.verdict(RewardVerdict.NO_DATA, f"no version has a value for {data.metric}")
    if len(names) == 1:
        return j.verdict(RewardVerdict.WINNER, f"{names[0]} is the only version", winner=0)
    if statistical(data, j.present):
        return _judge_statistically(j)
    if len(j.present) == 1:
        only = names[j.present[0]]
        return j.verdict(RewardVerdict.NO_WINNER_YET, f"only {only} has a value for {data.metric}")
    return _judge_plainly(j)


def _judge_plainly(j: _Judging) -> RewardJudgement:
    data, names, b = j.data, j.names, j.spec.baseline
    best = _leader(data, j.direction, j.present)
    best_value = _value(data, best)
    tied = [
        v
        for v in j.present
        if math.isclose(_value(data, v), best_value, rel_tol=TIE_RELATIVE_TOLERANCE)
    ]
    comparisons = [
        plain_comparison(v, b, data.values[v], data.values[b])
        for v in j.present
        if v != b and data.values[b] is not None
    ]
    plain = f"compared plainly: one value per version{j.missing}"
    if len(tied) > 1:
        joined = " and ".join(names[v] for v in tied)
        reason = f"{joined} tie at {best_value:.6g} ({plain})"
        return j.verdict(RewardVerdict.TIE, reason, tied=tied, comparisons=comparisons)
    word = "highest" if j.direction == MAX else "lowest"
    reason = f"{names[best]} has the {word} value, {best_value:.6g} ({plain})"
    return j.verdict(RewardVerdict.WINNER, reason, winner=best, comparisons=comparisons)


def family_pairs(present: Sequence[int], baseline: int) -> list[tuple[int, int]]:
    """Every pair once: (candidate, baseline) first, then (later, earlier) among candidates."""
    pairs = [(v, baseline) for v in present if v != baseline and baseline in present]
    others = [v for v in present if v != baseline or baseline not in present]
    pairs += [(j, i) for a, i in enumerate(others) for j in others[a + 1 :]]
    return pairs


def _judge_statistically(j: _Judging) -> RewardJudgement:
    data, direction, spec, names, present = j.data, j.direction, j.spec, j.names, j.present
    comparisons = compare_family(data, family_pairs(present, spec.baseline), spec)

    def better(a: int, c: int) -> bool:
        return prefers(direction, comparisons, a, c)

    for w in present:
        if all(better(w, o) for o in present if o != w):
            reason = f"{names[w]} is best{j.missing}: " + "; ".join(
                _win_text(c, w, names, spec) for c in comparisons if w in (c.version, c.baseline)
            )
            return j.verdict(RewardVerdict.WINNER, reason, winner=w, comparisons=comparisons)
    top = [v for v in present if not any(better(o, v) for o in present if o != v)]
    rest = [v for v in present if v not in top]
    if len(top) > 1 and rest and all(better(t, r) for t in top for r in rest):
        joined = " and ".join(names[v] for v in top)
        reason = (
            f"{joined} are each significantly better than "
            f"{', '.join(names[v] for v in rest)} but not distinguishable from each other"
            f"{j.missing}"
        )
        return j.verdict(RewardVerdict.TIE, reason, tied=top, comparisons=comparisons)
    leader = _leader(data, direction, present)
    pending = [
        c for c in comparisons if leader in (c.version, c.baseline) and not c.significant
    ] or [c for c in comparisons if not c.significant]
    details = "; ".join(_pending_text(c, names, spec) for c in pending) or (
        # Every pair differs, yet none beats all others: Mann-Whitney U is not transitive.
        "every pair differs significantly, but no version is better than all the others"
    )
    reason = f"no winner yet{j.missing}: {details}"
    return j.verdict(RewardVerdict.NO_WINNER_YET, reason, comparisons=comparisons)


def prefers(direction: str, comparisons: Sequence[PairTest], a: int, b: int) -> bool:
    """Whether `comparisons` show version `a` significantly better than `b`."""
    for c in comparisons:
        if {c.version, c.baseline} == {a, b} and c.significant:
            a_higher = c.direction > 0 if c.version == a else c.direction < 0
            return a_higher == (direction == MAX)
    return False


def _value(data: MetricData, version: int) -> float:
    value = data.values[version]
    return 0.0 if value is None else value


def _leader(data: MetricData, direction: str, present: Sequence[int]) -> int:
    """The version with the best value (the first of equals)."""
    ordered = sorted(present, key=lambda v: _value(data, v), reverse=direction == MAX)
    return ordered[0]


def _win_text(c: PairTest, winner: int, names: Sequence[str], spec: AssessSpec) -> str:
    other = c.baseline if c.version == winner else c.version
    w_value, o_value = _values_of(c, winner)
    if o_value:
        amount = f"{abs(w_value - o_value) / abs(o_value):.1%}"
    else:
        amount = f"{abs(w_value - o_value):.4g}"
    word = "higher" if w_value > o_value else "lower"
    versus = f"{names[c.version]} vs {names[c.baseline]}"
    return f"{amount} {word} than {names[other]} ({versus}: {summary(c, spec)})"


def _values_of(c: PairTest, version: int) -> tuple[float, float]:
    """(value of `version`, value of the other version) in a comparison."""
    value, other = c.value or 0.0, c.baseline_value or 0.0
    return (value, other) if c.version == version else (other, value)


def _pending_text(c: PairTest, names: Sequence[str], spec: AssessSpec) -> str:
    text = f"{names[c.version]} vs {names[c.baseline]}: {c.note} ({summary(c, spec)})"
    if c.more_requests_needed is not None:
        text += f"; about {c.more_requests_needed} more requests per version may settle it"
    return text
