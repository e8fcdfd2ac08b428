"""A result's verdicts on its versions: the one reader, and the writer beside it.

Reports, events, `if:` conditions, `iter8 assert` and the CI job all read the
SLOs, rewards and winner of a result through `read_insights`, so they cannot
disagree. Two generations of fields are read, one way each::

    assessment: {baseline, confidence, slos, rewards, versions, winner}
        iter8-py's own block (written by `write_assessment`, see
        CONTRACT-assessment.md): SLO statuses with notes and tests, reward
        verdicts with their comparisons, the overall winner and why.
    SLOs, SLOsSatisfied, rewards, rewardsWinners
        Iter8's fields (v0.8-v0.14, `base/experiment.go`), the only ones in a
        result Iter8 wrote: `SLOsSatisfied.upper[i][j]` says whether version j
        meets upper SLO i, `rewardsWinners.max[i]` is the index of the best
        version on reward i (-1 for none). iter8-py writes them too.

The block wins when present. From Iter8's fields alone an SLO is satisfied when
`SLOsSatisfied` says so (as Iter8's `SLOs()` decided), else "no-data" when the
version has no value and "violated" when it has one; the winner is the version
that every reward picked, if it meets every SLO.

The dataclasses are plain data (no statistics, no I/O); `report.model` shows
them as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from iter8_action.metrics.store import MetricStore
from iter8_action.results.fields import float_or_none, int_or_none, mapping, str_or_none


class SloStatus(StrEnum):
    """An SLO for one version, as the result and every report spell it."""

    SATISFIED = "satisfied"
    VIOLATED = "violated"
    NO_DATA = "no-data"
    NOT_APPLICABLE = "not-applicable"
    """A relative SLO on the baseline, or a version the SLO does not name."""

    @property
    def holds(self) -> bool:
        """An SLO that does not apply to a version does not fail it."""
        return self in (SloStatus.SATISFIED, SloStatus.NOT_APPLICABLE)


class RewardVerdict(StrEnum):
    """What a reward says about the versions."""

    WINNER = "winner"
    TIE = "tie"
    NO_WINNER_YET = "no-winner-yet"
    NO_DATA = "no-data"


UPPER, LOWER = "upper", "lower"
MAX, MIN = "max", "min"
NO_ITER8_WINNER = -1
"""Iter8's `rewardsWinners` entry for a reward without a winner."""

_T = TypeVar("_T")

_RESULT_ONLY = {"report": False}
"""Field metadata: recorded in the result, not part of the JSON report (schemaVersion 1)."""


@dataclass(frozen=True)
class Comparison:
    """A candidate against the baseline on one metric, as the assessment judged it."""

    version: int
    baseline: int
    test: str | None
    statistic: float | None
    p_value: float | None
    adjusted_p_value: float | None
    effect: float | None
    effect_label: str | None
    ci_low: float | None
    ci_high: float | None
    significant: bool | None
    more_requests_needed: float | None
    difference_ci_low: float | None = None
    difference_ci_high: float | None = None
    """For proportions: the interval of the absolute difference (candidate - baseline)."""
    difference: float | None = field(default=None, metadata=_RESULT_ONLY)
    value: float | None = field(default=None, metadata=_RESULT_ONLY)
    baseline_value: float | None = field(default=None, metadata=_RESULT_ONLY)
    requests: tuple[int, int] | None = field(default=None, metadata=_RESULT_ONLY)
    note: str | None = field(default=None, metadata=_RESULT_ONLY)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "baseline": self.baseline,
            "test": self.test,
            "statistic": self.statistic,
            "pValue": self.p_value,
            "adjustedPValue": self.adjusted_p_value,
            "effect": self.effect,
            "effectLabel": self.effect_label,
            "ciLow": self.ci_low,
            "ciHigh": self.ci_high,
            "difference": self.difference,
            "differenceCiLow": self.difference_ci_low,
            "differenceCiHigh": self.difference_ci_high,
            "value": self.value,
            "baselineValue": self.baseline_value,
            "requests": None if self.requests is None else list(self.requests),
            "significant": self.significant,
            "moreRequestsNeeded": self.more_requests_needed,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, entry: Mapping[str, Any]) -> Comparison:
        significant = entry.get("significant")
        requests = entry.get("requests")
        return cls(
            version=int(entry["version"]),
            baseline=int(entry.get("baseline", 0)),
            test=str_or_none(entry.get("test")),
            statistic=float_or_none(entry.get("statistic")),
            p_value=float_or_none(entry.get("pValue")),
            adjusted_p_value=float_or_none(entry.get("adjustedPValue")),
            effect=float_or_none(entry.get("effect")),
            effect_label=str_or_none(entry.get("effectLabel")),
            ci_low=float_or_none(entry.get("ciLow")),
            ci_high=float_or_none(entry.get("ciHigh")),
            significant=None if significant is None else bool(significant),
            more_requests_needed=float_or_none(entry.get("moreRequestsNeeded")),
            difference_ci_low=float_or_none(entry.get("differenceCiLow")),
            difference_ci_high=float_or_none(entry.get("differenceCiHigh")),
            difference=float_or_none(entry.get("difference")),
            value=float_or_none(entry.get("value")),
            baseline_value=float_or_none(entry.get("baselineValue")),
            requests=(int(requests[0]), int(requests[1]))
            if isinstance(requests, Sequence) and len(requests) == 2
            else None,
            note=str_or_none(entry.get("note")),
        )


@dataclass(frozen=True)
class SloVersion:
    """One SLO for one version."""

    value: float | None
    limit: float | None
    status: SloStatus
    test: Mapping[str, Any] | None = None
    """The comparison with the baseline (a relative SLO), with whether it is `conclusive`."""
    note: str | None = None
    """Why, in the assessment's words (e.g. `v1 is the baseline`)."""

    @property
    def holds(self) -> bool:
        return self.status.holds


@dataclass(frozen=True)
class Slo:
    """An SLO and its status in every version."""

    metric: str
    kind: str
    """upper | lower"""
    limit: float | None
    relative: Mapping[str, Any] | None
    units: str | None
    versions: tuple[SloVersion, ...]
    applies_to: tuple[int, ...] | None = field(default=None, metadata=_RESULT_ONLY)
    """The versions it names; None for all."""

    @property
    def satisfied(self) -> bool:
        return all(v.holds for v in self.versions)

    def holds_for(self, version: int) -> bool:
        return version >= len(self.versions) or self.versions[version].holds

    def absolute_holds(self, version: int) -> bool:
        """Iter8's `SLOsSatisfied` entry: the absolute limit alone."""
        status = self.versions[version]
        if status.status is SloStatus.NOT_APPLICABLE or self.limit is None:
            return True
        if status.value is None:
            return False
        return status.value <= self.limit if self.kind == UPPER else status.value >= self.limit


@dataclass(frozen=True)
class Reward:
    """A reward metric and the version that is best on it, if any."""

    metric: str
    direction: str
    """max | min"""
    verdict: RewardVerdict
    winner: int | None
    tied: tuple[int, ...]
    reason: str | None
    units: str | None
    values: tuple[float | None, ...]
    comparisons: tuple[Comparison, ...]


@dataclass(frozen=True)
class Winner:
    version: int | None
    name: str | None
    reason: str | None


@dataclass(frozen=True)
class Insights:
    """What a result says about its versions."""

    store: MetricStore
    slos: tuple[Slo, ...]
    rewards: tuple[Reward, ...]
    winner: Winner | None
    """None when there was nothing to pick a winner by (no assessment, or no rewards in
    a result Iter8 wrote)."""
    baseline: int | None
    confidence: float | None
    assessed: bool
    """An assessment ran: iter8-py's block, or Iter8's `SLOs` or `rewards` are present."""

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(self.store.version_names)

    def version_name(self, index: int) -> str:
        names = self.store.version_names
        return names[index] if 0 <= index < len(names) else f"version {index}"

    def slos_hold(self, version: int) -> bool:
        """Every SLO satisfied (or not applicable); no data counts as not satisfied."""
        return all(s.holds_for(version) for s in self.slos)

    def slo_failures(self, version: int | None = None) -> list[str]:
        """Each SLO missed by a version (or by the one given), as
        "v2: upper SLO on http/latency-p95 violated (...)"; empty when all hold."""
        out = []
        for slo in self.slos:
            for v, status in enumerate(slo.versions):
                if (version is None or v == version) and not status.holds:
                    note = f" ({status.note})" if status.note else ""
                    out.append(
                        f"{self.version_name(v)}: {slo.kind} SLO on {slo.metric} "
                        f"{status.status}{note}"
                    )
        return out

    def overall_winner(self) -> tuple[int | None, str]:
        """The overall winner's index (or None) and why."""
        if self.winner is None:
            if not self.assessed:
                return None, "there is no assessment in the result (did an assess task run?)"
            return None, "the assessment has no rewards to pick a winner by"
        return self.winner.version, self.winner.reason or ""


# -- reading ------------------------------------------------------------------------------


def read_insights(insights: Mapping[str, Any], store: MetricStore | None = None) -> Insights:
    """The verdicts in a result's `insights` (iter8-py's or Iter8's); `store` when already read.

    The insights are expected to have passed the result schema; a field of the wrong
    shape that slipped through raises TypeError, ValueError or KeyError.
    """
    store = MetricStore.from_insights(insights) if store is None else store
    assessment = mapping(insights.get("assessment"))
    slos = _block(assessment, "slos", _slo_from_assessment, store)
    slos = slos or _slos_from_iter8(insights, store)
    rewards = _block(assessment, "rewards", _reward_from_assessment, store)
    rewards = rewards or _rewards_from_iter8(insights, store)
    return Insights(
        store=store,
        slos=slos,
        rewards=rewards,
        winner=_winner(assessment, rewards, slos, store.version_names),
        baseline=int_or_none(assessment.get("baseline")),
        confidence=float_or_none(assessment.get("confidence")),
        assessed=bool(assessment) or "SLOs" in insights or "rewards" in insights,
    )


def _block(
    assessment: Mapping[str, Any],
    key: str,
    read: Callable[[Mapping[str, Any], MetricStore], _T],
    store: MetricStore,
) -> tuple[_T, ...]:
    """Each entry of the `assessment` block's list `key`; empty when it has none (Iter8's
    own fields then speak)."""
    entries = assessment.get(key)
    if not isinstance(entries, Sequence):
        return ()
    return tuple(read(e, store) for e in entries)


def _iter8_lists(
    names: Mapping[str, Any], verdicts: Mapping[str, Any], keys: tuple[str, str]
) -> Iterator[tuple[str, Any, Any]]:
    """Iter8's entries by key (`SLOs.upper[i]`), each with its verdict in the parallel list
    (`SLOsSatisfied.upper[i]`), None where that list is short."""
    for key in keys:
        parallel = verdicts.get(key) or []
        for i, entry in enumerate(names.get(key) or []):
            yield key, entry, parallel[i] if i < len(parallel) else None


def _slo_from_assessment(entry: Mapping[str, Any], store: MetricStore) -> Slo:
    metric = str(entry["metric"])
    versions = tuple(
        SloVersion(
            value=float_or_none(v.get("value")),
            limit=float_or_none(v.get("limit")),
            status=SloStatus(v.get("status", SloStatus.NO_DATA)),
            test=v.get("test") if isinstance(v.get("test"), Mapping) else None,
            note=str_or_none(v.get("note")),
        )
        for v in (entry.get("versions") or [])[: store.num_versions]
    )
    # one entry per version, whatever the file says: a version the SLO was not judged for
    # has no data on it
    versions += tuple(
        SloVersion(value=None, limit=None, status=SloStatus.NO_DATA)
        for _ in range(len(versions), store.num_versions)
    )
    relative = entry.get("relative")
    applies_to = entry.get("appliesTo")
    return Slo(
        metric=metric,
        kind=str(entry.get("kind", UPPER)),
        limit=float_or_none(entry.get("limit")),
        relative=relative if isinstance(relative, Mapping) else None,
        units=store.units(metric),
        versions=versions,
        applies_to=None if applies_to is None else tuple(int(v) for v in applies_to),
    )


def _slos_from_iter8(insights: Mapping[str, Any], store: MetricStore) -> tuple[Slo, ...]:
    """Iter8's `SLOs` and `SLOsSatisfied` (absolute limits only)."""
    slos, satisfied = mapping(insights.get("SLOs")), mapping(insights.get("SLOsSatisfied"))
    out: list[Slo] = []
    for kind, slo, row in _iter8_lists(slos, satisfied, (UPPER, LOWER)):
        metric = str(slo["metric"])
        limit = float_or_none(slo.get("limit"))
        row = row if isinstance(row, Sequence) else []
        versions = []
        for v in range(store.num_versions):
            value = store.value(metric, v)
            ok = bool(row[v]) if v < len(row) else False
            if ok:
                status = SloStatus.SATISFIED
            else:
                status = SloStatus.NO_DATA if value is None else SloStatus.VIOLATED
            versions.append(SloVersion(value=value, limit=limit, status=status))
        out.append(Slo(metric, kind, limit, None, store.units(metric), tuple(versions)))
    return tuple(out)


def _reward_from_assessment(entry: Mapping[str, Any], store: MetricStore) -> Reward:
    metric = str(entry["metric"])
    return Reward(
        metric=metric,
        direction=str(entry.get("direction", MAX)),
        verdict=RewardVerdict(entry.get("verdict", RewardVerdict.NO_DATA)),
        winner=int_or_none(entry.get("winner")),
        tied=tuple(int(t) for t in entry.get("tied") or []),
        reason=str_or_none(entry.get("reason")),
        units=store.units(metric),
        values=store.values(metric),
        comparisons=tuple(Comparison.from_dict(c) for c in entry.get("comparisons") or []),
    )


def _rewards_from_iter8(insights: Mapping[str, Any], store: MetricStore) -> tuple[Reward, ...]:
    """Iter8's `rewards` and `rewardsWinners`: a best version by raw value, no statistics."""
    rewards, winners = mapping(insights.get("rewards")), mapping(insights.get("rewardsWinners"))
    out: list[Reward] = []
    for direction, name, pick in _iter8_lists(rewards, winners, (MAX, MIN)):
        metric = str(name)
        index = int_or_none(pick)
        winner = index if index is not None and 0 <= index < store.num_versions else None
        values = store.values(metric)
        if winner is not None:
            verdict = RewardVerdict.WINNER
        elif all(v is None for v in values):
            verdict = RewardVerdict.NO_DATA
        else:
            verdict = RewardVerdict.NO_WINNER_YET
        out.append(
            Reward(metric, direction, verdict, winner, (), None, store.units(metric), values, ())
        )
    return tuple(out)


def _winner(
    assessment: Mapping[str, Any],
    rewards: tuple[Reward, ...],
    slos: tuple[Slo, ...],
    versions: Sequence[str],
) -> Winner | None:
    entry = assessment.get("winner")
    if isinstance(entry, Mapping):
        return Winner(
            version=int_or_none(entry.get("version")),
            name=str_or_none(entry.get("name")),
            reason=str_or_none(entry.get("reason")),
        )
    if not rewards:
        return None
    # Iter8's insights only: the version every reward picked, if it meets every SLO.
    picks = {r.winner for r in rewards}
    index = picks.pop() if len(picks) == 1 else None
    if index is not None and all(
        s.versions[index].status is SloStatus.SATISFIED for s in slos if index < len(s.versions)
    ):
        name = versions[index] if index < len(versions) else None
        return Winner(index, name, f"{name} meets every SLO and is best on every reward")
    return Winner(None, None, "no version is best on every reward while meeting every SLO")


# -- writing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Method:
    """How the assessment judged: the inputs its verdicts rest on."""

    baseline: int
    confidence: float
    correction: str
    min_requests: int


def write_assessment(
    names: Sequence[str],
    method: Method,
    slos: Sequence[Slo],
    rewards: Sequence[Reward],
    winner: Winner,
) -> dict[str, Any]:
    """The insight fields of an assessment: Iter8's, and iter8-py's `assessment` block."""
    n = len(names)
    iter8_slos: dict[str, list[dict[str, Any]]] = {UPPER: [], LOWER: []}
    satisfied: dict[str, list[list[bool]]] = {UPPER: [], LOWER: []}
    for s in slos:
        if s.limit is not None:
            iter8_slos[s.kind].append({"metric": s.metric, "limit": s.limit})
            satisfied[s.kind].append([s.absolute_holds(v) for v in range(n)])
    return {
        "SLOs": iter8_slos,
        "SLOsSatisfied": satisfied,
        "rewards": {d: [r.metric for r in rewards if r.direction == d] for d in (MAX, MIN)},
        "rewardsWinners": {
            d: [_iter8_winner(r) for r in rewards if r.direction == d] for d in (MAX, MIN)
        },
        "assessment": {
            "baseline": method.baseline,
            "confidence": method.confidence,
            "correction": method.correction,
            "minRequests": method.min_requests,
            "slos": [_slo_dict(s) for s in slos],
            "rewards": [_reward_dict(r) for r in rewards],
            "versions": [_version_dict(names, slos, rewards, v) for v in range(n)],
            "winner": {"version": winner.version, "name": winner.name, "reason": winner.reason},
        },
    }


def _iter8_winner(reward: Reward) -> int:
    return NO_ITER8_WINNER if reward.winner is None else reward.winner


def _slo_dict(slo: Slo) -> dict[str, Any]:
    return {
        "metric": slo.metric,
        "kind": slo.kind,
        "limit": slo.limit,
        "relative": None if slo.relative is None else dict(slo.relative),
        "appliesTo": None if slo.applies_to is None else list(slo.applies_to),
        "versions": [
            {
                "value": s.value,
                "limit": s.limit,
                "status": str(s.status),
                "note": s.note,
                "test": None if s.test is None else dict(s.test),
            }
            for s in slo.versions
        ],
    }


def _reward_dict(reward: Reward) -> dict[str, Any]:
    return {
        "metric": reward.metric,
        "direction": reward.direction,
        "verdict": str(reward.verdict),
        "winner": reward.winner,
        "tied": list(reward.tied),
        "reason": reward.reason,
        "comparisons": [c.to_dict() for c in reward.comparisons],
    }


def _version_dict(
    names: Sequence[str], slos: Sequence[Slo], rewards: Sequence[Reward], v: int
) -> dict[str, Any]:
    def with_status(status: SloStatus) -> list[str]:
        return [s.metric for s in slos if s.versions[v].status == status]

    return {
        "name": names[v],
        "slosSatisfied": all(s.versions[v].holds for s in slos),
        "slosViolated": with_status(SloStatus.VIOLATED),
        "slosNoData": with_status(SloStatus.NO_DATA),
        "rewardsWon": [r.metric for r in rewards if r.winner == v],
        "rewardsTied": [r.metric for r in rewards if v in r.tied],
    }
