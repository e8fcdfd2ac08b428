"""SLOs: each version's value against its limit, absolute or relative to the baseline.

The status is decided as Iter8 users expect: the observed value against the
limit (an upper SLO holds when value <= limit, a lower one when value >=
limit); a missing value is "no-data", never "satisfied". A relative limit is
the baseline's observed value moved by the allowance. Where per-request data
exists, a relative SLO also carries the comparison of the version with the
baseline (test, p-value, effect and interval) and whether the interval lies
entirely on one side of the allowance ("conclusive").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from iter8_action.assessment.comparisons import compare_family, recorded, statistical, summary
from iter8_action.assessment.data import MetricData
from iter8_action.assessment.spec import UPPER, AssessSpec, Relative, SloSpec
from iter8_action.assessment.statistics import PairTest
from iter8_action.results import insights
from iter8_action.results.insights import SloStatus


@dataclass(frozen=True)
class SloJudgement:
    """One SLO for one version."""

    value: float | None
    limit: float | None
    status: SloStatus
    note: str
    test: PairTest | None = None
    conclusive: bool | None = None
    relative: Relative | None = None
    """The relative limit that set `limit`, when one did."""

    @property
    def holds(self) -> bool:
        """Not violated and not missing (an SLO that does not apply holds)."""
        return self.status.holds


@dataclass(frozen=True)
class SloVerdict:
    slo: SloSpec
    baseline: int
    versions: tuple[SloJudgement, ...]

    def recorded(self) -> insights.Slo:
        """The verdict as the result records it (see `iter8_action.results.insights`)."""
        slo = self.slo
        return insights.Slo(
            metric=slo.metric,
            kind=slo.kind,
            limit=slo.limit,
            relative=slo.relative_dict(self.baseline),
            units=None,
            versions=tuple(_recorded_status(s) for s in self.versions),
            applies_to=slo.versions,
        )


def _recorded_status(s: SloJudgement) -> insights.SloVersion:
    test = None
    if s.test is not None:
        test = {**recorded(s.test).to_dict(), "conclusive": s.conclusive}
    return insights.SloVersion(s.value, s.limit, s.status, test, s.note)


def judge_slo(slo: SloSpec, data: MetricData, spec: AssessSpec, names: Sequence[str]) -> SloVerdict:
    b = spec.baseline
    statuses = [_status(slo, data, v, b, names) for v in range(len(names))]
    if slo.relative:
        statuses = _with_tests(slo, data, statuses, spec, names)
    return SloVerdict(slo, b, tuple(statuses))


def _status(slo: SloSpec, data: MetricData, v: int, b: int, names: Sequence[str]) -> SloJudgement:
    value = data.values[v]
    if not slo.listed(v):
        return SloJudgement(
            value, None, SloStatus.NOT_APPLICABLE, f"{names[v]} is not in its versions"
        )
    if slo.limit is None and v == b:
        return SloJudgement(value, None, SloStatus.NOT_APPLICABLE, f"{names[v]} is the baseline")
    relative = slo.relative if v != b else ()
    base_value = data.values[b]
    limit, binding = replace(slo, relative=relative).binding(base_value)
    if limit is None:
        return SloJudgement(value, None, SloStatus.NO_DATA, f"no data for the baseline {names[b]}")
    if value is None:
        return SloJudgement(
            None, limit, SloStatus.NO_DATA, f"no data for {slo.metric} in {names[v]}"
        )
    holds = value <= limit if slo.kind == UPPER else value >= limit
    op = ("<=" if holds else ">") if slo.kind == UPPER else (">=" if holds else "<")
    note = f"{value:.6g} {op} {limit:.6g}"
    if binding is not None:
        note += f" ({names[b]} {binding.describe(slo.kind)})"
    return SloJudgement(
        value, limit, SloStatus.SATISFIED if holds else SloStatus.VIOLATED, note, relative=binding
    )


def _with_tests(
    slo: SloSpec,
    data: MetricData,
    statuses: list[SloJudgement],
    spec: AssessSpec,
    names: Sequence[str],
) -> list[SloJudgement]:
    """Attach the comparison with the baseline to every judged version with per-request data."""
    b = spec.baseline
    judged = [
        v
        for v, s in enumerate(statuses)
        if v != b
        and s.status in (SloStatus.SATISFIED, SloStatus.VIOLATED)
        and statistical(data, [v, b])
    ]
    comparisons = compare_family(data, [(v, b) for v in judged], spec)
    out = list(statuses)
    for v, c in zip(judged, comparisons, strict=True):
        s = statuses[v]
        conclusive = _conclusive(slo.kind, s.relative, c, s.status)
        note = f"{s.note}; {summary(c, spec)}"
        if conclusive is False:
            note += "; the interval straddles the allowance, more requests would firm this up"
        out[v] = replace(s, note=note, test=c, conclusive=conclusive)
    return out


def _conclusive(
    kind: str, relative: Relative | None, c: PairTest, status: SloStatus
) -> bool | None:
    """Whether the interval of the effect lies entirely on the side of the status.

    Judged against the relative limit that applies; None when the absolute
    limit is the stricter one (the interval says nothing about it).
    """
    if relative is None:
        return None
    allowance = relative.amount / (100.0 if relative.percent else 1.0)
    if relative.percent:
        low, high = c.ci_low, c.ci_high
    else:
        low, high = c.difference_ci_low, c.difference_ci_high
    if low is None or high is None:
        return None
    if kind == UPPER:
        return high <= allowance if status is SloStatus.SATISFIED else low > allowance
    return low >= -allowance if status is SloStatus.SATISFIED else high < -allowance
