"""The overall verdict: per version, and the winner (or why there is none)."""

from __future__ import annotations

from typing import Any

from iter8_action.assessment import assess, judge, parse_spec
from iter8_action.metrics.store import MetricStore
from tests.support.stores import store_with, two_versions

RELATIVE_P95 = {"upper": [{"metric": "http/latency-p95", "maxIncreasePercent": 10}]}
MIN_MEAN = {"min": ["http/latency-mean"]}


def _winner(store: MetricStore, **inputs: Any) -> tuple[int | None, str]:
    return judge(store, parse_spec(inputs, store.version_names)).winner()


def _gauges(values: dict[str, list[float]]) -> MetricStore:
    names = [f"v{i + 1}" for i in range(len(next(iter(values.values()))))]
    store = store_with(names)
    for metric, per_version in values.items():
        for v, value in enumerate(per_version):
            store.add_value(metric, v, value)
    return store


def test_slower_candidate_violates_relative_slo_and_baseline_wins() -> None:
    insights = assess(
        two_versions(medians=(50.0, 65.0)),
        parse_spec({"SLOs": RELATIVE_P95, "rewards": MIN_MEAN}, ["v1", "v2"]),
    )
    ours = insights["assessment"]
    assert ours["winner"] == {
        "version": 0,
        "name": "v1",
        "reason": "v1 meets every SLO and is best on every reward",
    }
    assert ours["slos"][0]["versions"][1]["status"] == "violated"
    assert ours["slos"][0]["versions"][1]["test"]["test"] == "mann-whitney-u"
    assert ours["versions"] == [
        {
            "name": "v1",
            "slosSatisfied": True,
            "slosViolated": [],
            "slosNoData": [],
            "rewardsWon": ["http/latency-mean"],
            "rewardsTied": [],
        },
        {
            "name": "v2",
            "slosSatisfied": False,
            "slosViolated": ["http/latency-p95"],
            "slosNoData": [],
            "rewardsWon": [],
            "rewardsTied": [],
        },
    ]
    assert insights["rewardsWinners"] == {"max": [], "min": [0]}


def test_faster_candidate_wins() -> None:
    assert _winner(two_versions(medians=(65.0, 50.0)), SLOs=RELATIVE_P95, rewards=MIN_MEAN) == (
        1,
        "v2 meets every SLO and is best on every reward",
    )


def test_identical_versions_have_no_winner() -> None:
    assert _winner(two_versions(), SLOs=RELATIVE_P95, rewards=MIN_MEAN) == (
        None,
        "no winner yet on http/latency-mean",
    )


def test_without_rewards_the_only_version_meeting_the_slos_wins() -> None:
    store = _gauges({"app/p95": [90.0, 120.0]})
    slos = {"upper": [{"metric": "app/p95", "limit": 100}]}
    assert _winner(store, SLOs=slos) == (0, "v1 is the only version that meets every SLO")
    assert _winner(_gauges({"app/p95": [90.0, 95.0]}), SLOs=slos) == (
        None,
        "v1 and v2 all meet every SLO: add a reward to choose between them",
    )
    assert _winner(_gauges({"app/p95": [190.0, 195.0]}), SLOs=slos) == (
        None,
        "no version meets every SLO",
    )


def test_tied_reward_leaves_no_single_winner() -> None:
    store = _gauges({"app/revenue": [12.0, 12.0]})
    assert _winner(store, rewards={"max": ["app/revenue"]}) == (
        None,
        "v1 and v2 meet every SLO and the rewards do not separate them",
    )


def test_tie_shared_with_a_version_that_misses_an_slo_is_a_win() -> None:
    store = _gauges({"app/revenue": [12.0, 12.0], "app/p95": [90.0, 120.0]})
    assert _winner(
        store,
        SLOs={"upper": [{"metric": "app/p95", "limit": 100}]},
        rewards={"max": ["app/revenue"]},
    ) == (0, "v1 is the only version that meets every SLO")


def test_best_on_rewards_but_missing_an_slo_does_not_win() -> None:
    store = _gauges({"app/revenue": [10.0, 12.0], "app/p95": [90.0, 120.0]})
    assert _winner(
        store,
        SLOs={"upper": [{"metric": "app/p95", "limit": 100}]},
        rewards={"max": ["app/revenue"]},
    ) == (0, "v1 is the only version that meets every SLO")


def test_insights_shape_of_a_small_plain_assessment() -> None:
    store = _gauges({"app/revenue": [10.0, 12.0], "app/p95": [90.0, 120.0]})
    spec = parse_spec(
        {
            "SLOs": {"upper": [{"metric": "app/p95", "limit": 100}]},
            "rewards": {"max": ["app/revenue"]},
        },
        store.version_names,
    )
    insights = assess(store, spec)
    assert insights["SLOs"] == {"upper": [{"metric": "app/p95", "limit": 100.0}], "lower": []}
    assert insights["SLOsSatisfied"] == {"upper": [[True, False]], "lower": []}
    assert insights["rewards"] == {"max": ["app/revenue"], "min": []}
    assert insights["rewardsWinners"] == {"max": [1], "min": []}
    ours = insights["assessment"]
    assert {k: ours[k] for k in ("baseline", "confidence", "correction", "minRequests")} == {
        "baseline": 0,
        "confidence": 0.95,
        "correction": "holm",
        "minRequests": 30,
    }
    assert ours["slos"] == [
        {
            "metric": "app/p95",
            "kind": "upper",
            "limit": 100.0,
            "relative": None,
            "appliesTo": None,
            "versions": [
                {
                    "value": 90.0,
                    "limit": 100.0,
                    "status": "satisfied",
                    "note": "90 <= 100",
                    "test": None,
                },
                {
                    "value": 120.0,
                    "limit": 100.0,
                    "status": "violated",
                    "note": "120 > 100",
                    "test": None,
                },
            ],
        }
    ]
    assert ours["rewards"] == [
        {
            "metric": "app/revenue",
            "direction": "max",
            "verdict": "winner",
            "winner": 1,
            "tied": [],
            "reason": "v2 has the highest value, 12 (compared plainly: one value per version)",
            "comparisons": [
                {
                    "version": 1,
                    "baseline": 0,
                    "test": "plain",
                    "statistic": None,
                    "pValue": None,
                    "adjustedPValue": None,
                    "effect": 0.2,
                    "effectLabel": "+20.0%",
                    "ciLow": None,
                    "ciHigh": None,
                    "difference": 2.0,
                    "differenceCiLow": None,
                    "differenceCiHigh": None,
                    "value": 12.0,
                    "baselineValue": 10.0,
                    "requests": None,
                    "significant": None,
                    "moreRequestsNeeded": None,
                    "note": None,
                }
            ],
        }
    ]
    assert ours["winner"] == {
        "version": 0,
        "name": "v1",
        "reason": "v1 is the only version that meets every SLO",
    }


def test_nothing_to_judge_by() -> None:
    assert _winner(_gauges({"app/p95": [90.0]})) == (
        None,
        "there are no SLOs and no rewards to judge the versions by",
    )


def test_rewards_without_data_are_named() -> None:
    store = two_versions()
    assert _winner(store, rewards={"min": ["http/latency-mean", "app/cost"]}) == (
        None,
        "no winner yet on http/latency-mean; no data on app/cost",
    )


def test_better_on_one_reward_and_no_worse_on_the_others_wins() -> None:
    # v2 is faster; both have the same error rate, which no number of requests would separate.
    store = two_versions(medians=(65.0, 50.0))
    rewards = {"min": ["http/latency-mean", "http/error-rate"]}
    assert _winner(store, SLOs=RELATIVE_P95, rewards=rewards) == (
        1,
        "v2 meets every SLO, is better than v1 on http/latency-mean, and worse on no reward",
    )


def test_rewards_that_disagree_leave_no_winner() -> None:
    store = two_versions(medians=(65.0, 50.0), errors=(10, 40))
    rewards = {"min": ["http/latency-mean", "http/error-rate"]}
    assert _winner(store, rewards=rewards) == (
        None,
        "the rewards disagree: best are v2 on http/latency-mean, v1 on http/error-rate",
    )


def test_a_lead_that_does_not_survive_correction_across_rewards_is_not_a_win() -> None:
    # 2% against 0.8% errors: significant on its own, not once Holm also counts the two
    # latency comparisons (p=1) of the other rewards.
    store = two_versions(errors=(20, 8))
    rewards = {"min": ["http/error-rate", "http/latency-mean", "http/latency-p95"]}
    a = judge(store, parse_spec({"rewards": rewards}, ["v1", "v2"]))
    assert a.rewards[0].winner == 1
    assert a.winner() == (
        None,
        "v2 leads, but not significantly once the comparisons of all 3 rewards are corrected "
        "together",
    )
