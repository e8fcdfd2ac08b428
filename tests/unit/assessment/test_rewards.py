"""Reward verdicts: plain (one value per version) and statistical (per-request data)."""

from __future__ import annotations

from typing import Any

from iter8_action.assessment import assess, judge, parse_spec
from iter8_action.assessment.rewards import RewardJudgement, family_pairs
from iter8_action.metrics.store import MetricStore
from tests.support.stores import add_http, lognormal_latencies, store_with, two_versions


def _gauges(metric: str, values: list[float | None]) -> MetricStore:
    store = store_with([f"v{i + 1}" for i in range(len(values))])
    for v, value in enumerate(values):
        if value is not None:
            store.add_value(metric, v, value)
    return store


def _reward(store: MetricStore, rewards: dict[str, Any], **inputs: Any) -> RewardJudgement:
    spec = parse_spec({"rewards": rewards, **inputs}, store.version_names)
    return judge(store, spec).rewards[0]


def _latencies(medians: list[float], n: int = 1000) -> MetricStore:
    store = store_with([f"v{i + 1}" for i in range(len(medians))])
    for v, median in enumerate(medians):
        add_http(store, v, lognormal_latencies(n, median))
    return store


def test_plain_clear_win() -> None:
    r = _reward(_gauges("app/revenue", [10.0, 12.0, 11.0]), {"max": ["app/revenue"]})
    assert (r.verdict, r.winner, r.tied) == ("winner", 1, ())
    assert r.reason == "v2 has the highest value, 12 (compared plainly: one value per version)"
    assert [(c.version, c.baseline, c.test, c.effect) for c in r.comparisons] == [
        (1, 0, "plain", 0.2),
        (2, 0, "plain", 0.1),
    ]


def test_plain_tie_is_a_tie_not_a_win_for_the_first() -> None:
    store = _gauges("app/revenue", [12.0, 12.0, 11.0])
    r = _reward(store, {"max": ["app/revenue"]})
    assert (r.verdict, r.winner, r.tied) == ("tie", None, (0, 1))
    assert r.reason == "v1 and v2 tie at 12 (compared plainly: one value per version)"
    insights = assess(store, parse_spec({"rewards": {"max": ["app/revenue"]}}, ["v1", "v2", "v3"]))
    assert insights["rewardsWinners"] == {"max": [-1], "min": []}
    assert insights["assessment"]["rewards"][0]["tied"] == [0, 1]


def test_no_data() -> None:
    r = _reward(_gauges("app/revenue", [None, None]), {"max": ["app/revenue"]})
    assert (r.verdict, r.winner, r.reason) == (
        "no-data",
        None,
        "no version has a value for app/revenue",
    )


def test_plain_win_among_versions_with_data_names_the_missing() -> None:
    r = _reward(_gauges("app/cost", [None, 5.0, 7.0]), {"min": ["app/cost"]})
    assert (r.verdict, r.winner) == ("winner", 1)
    assert r.reason == (
        "v2 has the lowest value, 5 (compared plainly: one value per version (v1: no data))"
    )
    assert r.comparisons == ()  # the baseline has no value to compare with


def test_only_one_version_with_data_is_no_winner_yet() -> None:
    r = _reward(_gauges("app/cost", [None, 5.0]), {"min": ["app/cost"]})
    assert (r.verdict, r.reason) == ("no-winner-yet", "only v2 has a value for app/cost")


def test_single_version_experiment_wins_trivially() -> None:
    r = _reward(_gauges("app/cost", [5.0]), {"min": ["app/cost"]})
    assert (r.verdict, r.winner, r.reason) == ("winner", 0, "v1 is the only version")


def test_statistical_clear_win_on_latency() -> None:
    r = _reward(two_versions(medians=(50.0, 40.0)), {"min": ["http/latency-mean"]})
    assert (r.verdict, r.winner) == ("winner", 1)
    assert r.reason == (
        "v2 is best: 20.0% lower than v1 (v2 vs v1: Mann-Whitney U, p<1e-12, effect -20.0%, "
        "CI [-23.7%, -16.4%])"
    )
    comparison = assess(
        two_versions(medians=(50.0, 40.0)),
        parse_spec({"rewards": {"min": ["http/latency-mean"]}}, ["v1", "v2"]),
    )["assessment"]["rewards"][0]["comparisons"][0]
    assert comparison == {
        "version": 1,
        "baseline": 0,
        "test": "mann-whitney-u",
        "statistic": 376241.0,
        "pValue": 9.26506e-22,
        "adjustedPValue": 9.26506e-22,
        "effect": -0.2,
        "effectLabel": "-20.0%",
        "ciLow": -0.237179,
        "ciHigh": -0.164316,
        "difference": -11.3288,
        "differenceCiLow": -13.7016,
        "differenceCiHigh": -9.03391,
        "value": 45.3151,
        "baselineValue": 56.6438,
        "requests": [1000, 1000],
        "significant": True,
        "moreRequestsNeeded": None,
        "note": None,
    }


def test_identical_versions_have_no_winner_and_say_why() -> None:
    r = _reward(two_versions(), {"min": ["http/latency-mean"]})
    assert (r.verdict, r.winner, r.tied) == ("no-winner-yet", None, ())
    assert r.reason == (
        "no winner yet: v2 vs v1: difference within noise (p=1, not below 0.05) "
        "(Mann-Whitney U, p=1, effect +0.0%, CI [-4.5%, +4.4%])"
    )


def test_small_difference_estimates_more_requests() -> None:
    r = _reward(two_versions(n=100, medians=(50.0, 48.0)), {"min": ["http/latency-mean"]})
    assert r.verdict == "no-winner-yet"
    assert r.reason.endswith("; about 2555 more requests per version may settle it")
    assert r.comparisons[0].more_requests_needed == 2555


def test_too_few_requests() -> None:
    r = _reward(two_versions(n=20, medians=(50.0, 25.0)), {"min": ["http/latency-mean"]})
    assert r.verdict == "no-winner-yet"
    assert r.reason.startswith(
        "no winner yet: v2 vs v1: too few requests (20; at least 30 are needed per version, "
        "see minRequests) (Mann-Whitney U, p=2.5e-04"
    )
    assert r.reason.endswith("; about 10 more requests per version may settle it")
    r = _reward(
        two_versions(n=20, medians=(50.0, 25.0)), {"min": ["http/latency-mean"]}, minRequests=20
    )
    assert (r.verdict, r.winner) == ("winner", 1)


def test_error_rate_reward_uses_the_counts() -> None:
    r = _reward(two_versions(errors=(30, 10)), {"min": ["http/error-rate"]})
    assert (r.verdict, r.winner) == ("winner", 1)
    assert r.reason == (
        "v2 is best: 66.7% lower than v1 (v2 vs v1: two-proportion z-test, p=0.0014, "
        "effect -2.00 points (-66.7%), CI [-3.33, -0.78] points)"
    )


def test_abn_winner_must_beat_every_other_version() -> None:
    r = _reward(_latencies([50.0, 40.0, 30.0]), {"min": ["http/latency-p95"]})
    assert (r.verdict, r.winner) == ("winner", 2)
    assert [(c.version, c.baseline) for c in r.comparisons] == [(1, 0), (2, 0), (2, 1)]
    assert all(c.significant for c in r.comparisons)
    assert r.reason.startswith("v3 is best: 40.0% lower than v1 (v3 vs v1: Mann-Whitney U")
    assert "; 25.0% lower than v2 (v3 vs v2: Mann-Whitney U" in r.reason


def test_abn_group_better_than_the_rest_is_a_tie() -> None:
    r = _reward(_latencies([50.0, 40.0, 40.0]), {"min": ["http/latency-mean"]})
    assert (r.verdict, r.winner, r.tied) == ("tie", None, (1, 2))
    assert r.reason == (
        "v2 and v3 are each significantly better than v1 but not distinguishable from each other"
    )


def test_abn_one_better_than_baseline_but_not_than_a_third_is_no_winner_yet() -> None:
    # v3 has too few requests to be told apart from anyone: v2 cannot be named the best.
    store = store_with(["v1", "v2", "v3"])
    add_http(store, 0, lognormal_latencies(1000, 50.0))
    add_http(store, 1, lognormal_latencies(1000, 40.0))
    add_http(store, 2, lognormal_latencies(10, 40.0))
    r = _reward(store, {"min": ["http/latency-mean"]})
    assert r.verdict == "no-winner-yet"
    assert r.reason.startswith("no winner yet: v3 vs v1: too few requests (10;")
    assert "; v3 vs v2: too few requests (10;" in r.reason


def test_max_reward_on_a_sample_metric() -> None:
    store = store_with(["v1", "v2"])
    store.add_samples("app/basket", 0, [float(v % 20) for v in range(200)])
    store.add_samples("app/basket", 1, [float(v % 20) + 5 for v in range(200)])
    r = _reward(store, {"max": ["app/basket"]})
    assert (r.verdict, r.winner) == ("winner", 1)
    assert r.comparisons[0].test == "mann-whitney-u"
    assert (r.comparisons[0].value, r.comparisons[0].baseline_value) == (14.5, 9.5)


def test_mixed_data_falls_back_to_a_plain_comparison() -> None:
    store = two_versions(medians=(50.0, 40.0))
    store.set_histogram("http/latency", 1, [])
    r = _reward(store, {"min": ["http/latency-mean"]})
    assert (r.verdict, r.winner) == ("winner", 1)
    assert r.comparisons[0].test == "plain"


def test_family_pairs_without_baseline_data() -> None:
    assert family_pairs([0, 1, 2], 0) == [(1, 0), (2, 0), (2, 1)]
    assert family_pairs([1, 2, 3], 0) == [(2, 1), (3, 1), (3, 2)]


def test_win_over_a_version_at_zero_reads_in_units() -> None:
    store = store_with(["v1", "v2"])
    store.add_samples("app/items", 0, [0.0] * 50)
    store.add_samples("app/items", 1, [float(v % 3) for v in range(50)])
    r = _reward(store, {"max": ["app/items"]})
    assert (r.verdict, r.winner) == ("winner", 1)
    assert r.comparisons[0].effect is None
    assert r.reason == (
        "v2 is best: 0.98 higher than v1 (v2 vs v1: Mann-Whitney U, p=7.9e-12, effect +0.98, "
        "CI [+0.7646, +1.2])"
    )


def test_too_few_identical_requests_ask_for_min_requests() -> None:
    r = _reward(two_versions(n=10), {"min": ["http/latency-mean"]})
    assert r.comparisons[0].more_requests_needed == 20


def test_versions_beating_each_other_in_a_circle_have_no_winner() -> None:
    # Efron-style non-transitive samples: each beats the next with probability 5/9.
    store = store_with(["v1", "v2", "v3"])
    for v, faces in enumerate(([2, 4, 9], [1, 6, 8], [3, 5, 7])):
        store.add_samples("app/score", v, [float(f) for f in faces] * 400)
    r = _reward(store, {"max": ["app/score"]})
    assert all(c.significant for c in r.comparisons)
    assert (r.verdict, r.winner, r.tied) == ("no-winner-yet", None, ())
    assert r.reason == (
        "no winner yet: every pair differs significantly, but no version is better than all "
        "the others"
    )
