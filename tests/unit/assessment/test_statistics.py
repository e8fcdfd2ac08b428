"""The statistics: known textbook values, and the decisions built on them."""

from __future__ import annotations

import numpy as np
import pytest

from iter8_action.assessment.statistics import (
    MAX_BOOTSTRAP_ATOMS,
    Distribution,
    PairTest,
    adjust,
    compare_distributions,
    compare_proportions,
    distribution_statistic,
    format_p,
    holm,
    plain_comparison,
)
from iter8_action.metrics.store import HistBucket, histogram_quantile


def _samples(values: list[float]) -> Distribution:
    return Distribution.from_samples(values)


def _compare(x: list[float], y: list[float], statistic: str = "mean") -> PairTest:
    return compare_distributions(
        version=1,
        baseline=0,
        candidate=_samples(x),
        reference=_samples(y),
        statistic=statistic,
        value=None,
        baseline_value=None,
        confidence=0.95,
    )


def test_holm_adjusts_step_down_and_keeps_order() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5]) == [0.5]
    assert holm([]) == []


def test_mann_whitney_exact_on_small_samples_without_ties() -> None:
    c = _compare([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert c.test == "mann-whitney-u"
    assert c.statistic == 0.0
    assert c.p_value == pytest.approx(2 / 252)  # exact: 2 of the C(10, 5) rank orders
    assert c.direction == -1
    assert (c.value, c.baseline_value) == (3.0, 8.0)
    assert c.effect == pytest.approx(-0.625)
    assert c.difference == -5.0
    assert c.sizes == (5, 5)


def test_mann_whitney_identical_bucketed_data_is_no_difference() -> None:
    buckets = [HistBucket(0, 10, 40), HistBucket(10, 20, 50), HistBucket(20, 40, 10)]
    dist = Distribution.from_histogram(buckets)
    c = compare_distributions(
        version=1,
        baseline=0,
        candidate=dist,
        reference=dist,
        statistic="p95",
        value=None,
        baseline_value=None,
        confidence=0.95,
    )
    assert c.p_value == 1.0
    assert c.statistic == 5000.0  # half of the 100 x 100 pairs: all ties count half
    assert c.direction == 0
    assert c.effect == 0.0
    assert c.ci_low is not None and c.ci_high is not None
    assert c.ci_low <= 0.0 <= c.ci_high


def test_bucket_statistics_match_the_store_interpolation() -> None:
    buckets = [HistBucket(0, 10, 5), HistBucket(10, 20, 10), HistBucket(20, 40, 5)]
    dist = Distribution.from_histogram(buckets)
    for p in (0, 50, 95, 100):
        stat = distribution_statistic(dist, f"p{p}", dist.counts[None, :])
        assert stat[0] == histogram_quantile(buckets, p)
    mean = distribution_statistic(dist, "mean", dist.counts[None, :])
    assert mean[0] == (5 * 5 + 15 * 10 + 30 * 5) / 20


def test_many_distinct_samples_are_binned_for_the_bootstrap_but_tested_raw() -> None:
    values = [float(i) for i in range(3 * MAX_BOOTSTRAP_ATOMS)]
    dist = Distribution.from_samples(values)
    assert len(dist.counts) == MAX_BOOTSTRAP_ATOMS
    assert dist.n == len(values)
    assert dist.observations().tolist() == values


def test_two_proportion_z_test() -> None:
    c = compare_proportions(
        version=1, baseline=0, events=(30, 10), totals=(1000, 1000), confidence=0.95
    )
    assert c.test == "two-proportion-z"
    assert c.statistic == pytest.approx(3.19438282)  # 0.02 / sqrt(2 * 0.02 * 0.98 / 1000)
    assert c.p_value == pytest.approx(0.0014013016)
    assert c.difference == pytest.approx(0.02)
    assert c.effect == pytest.approx(2.0)
    assert c.direction == 1


def test_newcombe_interval_matches_the_paper() -> None:
    # Newcombe (1998), Statistics in Medicine 17, table II example (e): 56/70 vs 48/80.
    c = compare_proportions(
        version=1, baseline=0, events=(56, 48), totals=(70, 80), confidence=0.95
    )
    assert c.difference_ci_low == pytest.approx(0.0524, abs=5e-5)
    assert c.difference_ci_high == pytest.approx(0.3339, abs=5e-5)


def test_fisher_exact_for_small_counts_and_no_ratio_without_baseline_errors() -> None:
    c = compare_proportions(
        version=1, baseline=0, events=(3, 0), totals=(100, 100), confidence=0.95
    )
    assert c.test == "fisher-exact"
    assert c.p_value == pytest.approx(0.2462311558)
    assert c.effect is None and c.ci_low is None and c.ci_high is None
    assert c.difference == pytest.approx(0.03)


def test_no_errors_anywhere_is_no_difference() -> None:
    c = compare_proportions(
        version=1, baseline=0, events=(0, 0), totals=(500, 400), confidence=0.95
    )
    assert (c.test, c.statistic, c.p_value, c.direction) == ("two-proportion-z", 0.0, 1.0, 0)


def _decided(c: PairTest, **options: object) -> PairTest:
    settings: dict[str, object] = {"confidence": 0.95, "correction": "holm", "min_requests": 30}
    settings.update(options)
    return adjust([c], **settings)[0]  # type: ignore[arg-type]


def test_significant_comparison_has_no_estimate_of_more_requests() -> None:
    c = compare_proportions(
        version=1, baseline=0, events=(30, 10), totals=(1000, 1000), confidence=0.95
    )
    decided = _decided(c)
    assert decided.significant is True
    assert decided.note is None
    assert decided.more_requests_needed is None
    assert decided.adjusted_p_value == c.p_value


def test_difference_within_noise_estimates_requests_still_needed() -> None:
    # 2% vs 1% needs 2319 requests per version for 80% power at 95% (Fleiss, no
    # continuity correction); 1000 are there already.
    c = compare_proportions(
        version=1, baseline=0, events=(20, 10), totals=(1000, 1000), confidence=0.95
    )
    decided = _decided(c)
    assert decided.significant is False
    assert decided.note == "difference within noise (p=0.0658, not below 0.05)"
    assert decided.more_requests_needed == 2319 - 1000


def test_too_few_requests_is_never_significant() -> None:
    c = _compare([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    decided = _decided(c)
    assert decided.significant is False
    assert decided.note == (
        "too few requests (5; at least 30 are needed per version, see minRequests)"
    )
    assert decided.more_requests_needed == 25  # up to minRequests
    assert _decided(c, min_requests=5).significant is True


def test_statistic_moving_against_the_distribution_is_not_a_win() -> None:
    # Most of x is below y, but x's maximum is far above: the mean moves the other way.
    x = [float(v) for v in range(1, 40)] + [10_000.0]
    y = [float(v) for v in range(20, 60)]
    c = _compare(x, y)
    assert c.direction == -1 and c.difference is not None and c.difference > 0
    decided = _decided(c)
    assert decided.significant is False
    assert decided.note == "the distributions differ, but this statistic moves the other way"


def test_corrections_and_plain_comparisons() -> None:
    tested = [
        compare_proportions(
            version=v, baseline=0, events=(e, 10), totals=(1000, 1000), confidence=0.95
        )
        for v, e in ((1, 30), (2, 22))
    ]
    plain = plain_comparison(3, 0, 2.0, 1.0)
    family = [*tested, plain]
    raw = [c.p_value for c in tested]
    holm_adjusted = [
        c.adjusted_p_value
        for c in adjust(family, confidence=0.95, correction="holm", min_requests=30)[:2]
    ]
    assert holm_adjusted == pytest.approx(holm(raw))  # type: ignore[arg-type]
    bonferroni = adjust(family, confidence=0.95, correction="bonferroni", min_requests=30)
    assert [c.adjusted_p_value for c in bonferroni[:2]] == pytest.approx(
        [min(1.0, 2 * p) for p in raw]  # type: ignore[operator]
    )
    none = adjust(family, confidence=0.95, correction="none", min_requests=30)
    assert [c.adjusted_p_value for c in none[:2]] == raw
    assert none[2] == plain
    assert (plain.test, plain.effect, plain.difference, plain.direction) == ("plain", 1.0, 1.0, 1)


def test_plain_comparison_with_a_missing_value() -> None:
    c = plain_comparison(1, 0, None, 3.0)
    assert (c.effect, c.difference, c.direction, c.significant) == (None, None, 0, None)


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.5, "p=0.5"),
        (0.0321, "p=0.0321"),
        (0.004567, "p=0.0046"),
        (4.1e-5, "p=4.1e-05"),
        (1e-15, "p<1e-12"),
    ],
)
def test_format_p(p: float, text: str) -> None:
    assert format_p(p) == text


def test_bootstrap_is_reproducible() -> None:
    first = _compare(list(np.linspace(1, 50, 40)), list(np.linspace(5, 60, 40)))
    second = _compare(list(np.linspace(1, 50, 40)), list(np.linspace(5, 60, 40)))
    assert (first.ci_low, first.ci_high) == (second.ci_low, second.ci_high)
