"""Families of comparisons on one metric, and how they read in the result."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from iter8_action.assessment.data import MetricData
from iter8_action.assessment.spec import AssessSpec
from iter8_action.assessment.statistics import (
    BOOTSTRAP_SEED,
    Bootstrap,
    PairTest,
    adjust,
    bootstrap,
    compare_distributions,
    compare_proportions,
    format_p,
    plain_comparison,
)
from iter8_action.results import insights

TEST_NAMES = {
    "mann-whitney-u": "Mann-Whitney U",
    "two-proportion-z": "two-proportion z-test",
    "fisher-exact": "Fisher's exact test",
    "plain": "plain comparison",
}
PROPORTION_TESTS = ("two-proportion-z", "fisher-exact")


def statistical(data: MetricData, versions: Sequence[int]) -> bool:
    """Whether every one of `versions` has per-request data of the same kind."""
    if len(versions) < 2:
        return False
    if all(data.proportions[v] is not None for v in versions):
        return True
    return all(data.distributions[v] is not None for v in versions)


def compare_family(
    data: MetricData, pairs: Sequence[tuple[int, int]], spec: AssessSpec
) -> list[PairTest]:
    """Compare each (version, comparator) pair, corrected for multiplicity as one family.

    Intervals are simultaneous (Bonferroni: each at 1 - alpha/m) unless the
    correction is "none", so every interval of the family holds at `confidence`.
    """
    m = len(pairs)
    alpha = 1.0 - spec.confidence
    level = 1.0 - alpha / m if spec.correction != "none" and m > 1 else spec.confidence
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    resampled: dict[int, Bootstrap] = {}

    def resample(version: int) -> Bootstrap:
        dist = data.distributions[version]
        if version not in resampled and dist is not None:
            resampled[version] = bootstrap(dist, data.statistic, rng)
        return resampled[version]

    raw = [_compare(data, v, b, level, resample) for v, b in pairs]
    return adjust(
        raw,
        confidence=spec.confidence,
        correction=spec.correction,
        min_requests=spec.min_requests,
    )


def _compare(
    data: MetricData,
    version: int,
    baseline: int,
    level: float,
    resample: Callable[[int], Bootstrap],
) -> PairTest:
    events, other_events = data.proportions[version], data.proportions[baseline]
    if events is not None and other_events is not None:
        return compare_proportions(
            version=version,
            baseline=baseline,
            events=(events[0], other_events[0]),
            totals=(events[1], other_events[1]),
            confidence=level,
        )
    dist, other = data.distributions[version], data.distributions[baseline]
    if dist is not None and other is not None:
        return compare_distributions(
            version=version,
            baseline=baseline,
            candidate=dist,
            reference=other,
            statistic=data.statistic,
            value=data.values[version],
            baseline_value=data.values[baseline],
            confidence=level,
            resampled=(resample(version), resample(baseline)),
        )
    return plain_comparison(version, baseline, data.values[version], data.values[baseline])


def effect_label(c: PairTest) -> str | None:
    """ "+12.3%"; for rates "+0.50 points (+25.0%)"."""
    if c.test in PROPORTION_TESTS and c.difference is not None:
        points = f"{c.difference * 100:+.2f} points"
        return points if c.effect is None else f"{points} ({c.effect:+.1%})"
    if c.effect is not None:
        return f"{c.effect:+.1%}"
    if c.difference is not None:
        return f"{c.difference:+.4g}"
    return None


def summary(c: PairTest, spec: AssessSpec) -> str:
    """One line: the test, the p-value (raw, and corrected when that differs), the effect of
    the version against the other and its interval."""
    parts = [TEST_NAMES[c.test]]
    if c.p_value is not None:
        parts.append(format_p(c.p_value))
    adjusted = c.adjusted_p_value
    if adjusted is not None and c.p_value is not None and format_p(adjusted) != format_p(c.p_value):
        parts.append(f"{format_p(adjusted)} after {spec.correction.capitalize()} correction")
    label = effect_label(c)
    if label:
        parts.append(f"effect {label}")
    interval = _interval_label(c)
    if interval:
        parts.append(interval)
    return ", ".join(parts)


def _interval_label(c: PairTest) -> str | None:
    if c.test not in PROPORTION_TESTS and c.ci_low is not None and c.ci_high is not None:
        return f"CI [{c.ci_low:+.1%}, {c.ci_high:+.1%}]"
    low, high = c.difference_ci_low, c.difference_ci_high
    if low is None or high is None:
        return None
    if c.test in PROPORTION_TESTS:
        return f"CI [{low * 100:+.2f}, {high * 100:+.2f}] points"
    return f"CI [{low:+.4g}, {high:+.4g}]"  # no ratio when the other value is 0


def recorded(c: PairTest) -> insights.Comparison:
    """The comparison as the result records it (see `iter8_action.results.insights`)."""
    return insights.Comparison(
        version=c.version,
        baseline=c.baseline,
        test=c.test,
        statistic=_num(c.statistic),
        p_value=_num(c.p_value),
        adjusted_p_value=_num(c.adjusted_p_value),
        effect=_num(c.effect),
        effect_label=effect_label(c),
        ci_low=_num(c.ci_low),
        ci_high=_num(c.ci_high),
        significant=c.significant,
        more_requests_needed=c.more_requests_needed,
        difference_ci_low=_num(c.difference_ci_low),
        difference_ci_high=_num(c.difference_ci_high),
        difference=_num(c.difference),
        value=_num(c.value),
        baseline_value=_num(c.baseline_value),
        requests=c.sizes if c.statistical else None,
        note=c.note,
    )


def _num(value: float | None) -> float | None:
    """Rounded for the result file: 6 significant digits are more than the data supports."""
    if value is None or not math.isfinite(value):
        return None  # Fisher's odds ratio is infinite when a version has no errors
    return float(f"{value:.6g}")
