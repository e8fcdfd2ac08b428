"""SLO verdicts: absolute, per-version and relative limits; no data is not a violation."""

from __future__ import annotations

from typing import Any

import pytest

from iter8_action.assessment import assess, judge, parse_spec
from iter8_action.metrics.store import MetricStore
from tests.support.stores import store_with, two_versions


def _gauges(metric: str, values: list[float | None]) -> MetricStore:
    store = store_with([f"v{i + 1}" for i in range(len(values))])
    for v, value in enumerate(values):
        if value is not None:
            store.add_value(metric, v, value)
    return store


def _statuses(
    store: MetricStore, slos: dict[str, Any], **inputs: Any
) -> list[list[tuple[str, float | None, str]]]:
    spec = parse_spec({"SLOs": slos, **inputs}, store.version_names)
    return [
        [(s.status, s.limit, s.note) for s in verdict.versions]
        for verdict in judge(store, spec).slos
    ]


def test_absolute_limits_upper_and_lower() -> None:
    store = _gauges("app/p95", [90.0, 120.0])
    slos = {
        "upper": [{"metric": "app/p95", "limit": 100}],
        "lower": [{"metric": "app/p95", "limit": 95}],
    }
    assert _statuses(store, slos) == [
        [("satisfied", 100.0, "90 <= 100"), ("violated", 100.0, "120 > 100")],
        [("violated", 95.0, "90 < 95"), ("satisfied", 95.0, "120 >= 95")],
    ]
    insights = assess(store, parse_spec({"SLOs": slos}, store.version_names))
    assert insights["SLOs"] == {
        "upper": [{"metric": "app/p95", "limit": 100.0}],
        "lower": [{"metric": "app/p95", "limit": 95.0}],
    }
    assert insights["SLOsSatisfied"] == {"upper": [[True, False]], "lower": [[False, True]]}


def test_missing_value_is_no_data_and_never_satisfies() -> None:
    store = _gauges("app/p95", [90.0, None])
    slos = {"upper": [{"metric": "app/p95", "limit": 100}]}
    assert _statuses(store, slos) == [
        [("satisfied", 100.0, "90 <= 100"), ("no-data", 100.0, "no data for app/p95 in v2")]
    ]
    insights = assess(store, parse_spec({"SLOs": slos}, store.version_names))
    assert insights["SLOsSatisfied"] == {"upper": [[True, False]], "lower": []}
    assert insights["assessment"]["versions"][1] == {
        "name": "v2",
        "slosSatisfied": False,
        "slosViolated": [],
        "slosNoData": ["app/p95"],
        "rewardsWon": [],
        "rewardsTied": [],
    }


def test_relative_limit_exactly_at_the_boundary_is_satisfied() -> None:
    store = _gauges("app/p95", [100.0, 110.0, 110.5])
    slos = {"upper": [{"metric": "app/p95", "maxIncreasePercent": 10}]}
    assert _statuses(store, slos) == [
        [
            ("not-applicable", None, "v1 is the baseline"),
            ("satisfied", 110.0, "110 <= 110 (v1 +10%)"),
            ("violated", 110.0, "110.5 > 110 (v1 +10%)"),
        ]
    ]


def test_relative_lower_limits_in_units_and_percent() -> None:
    store = _gauges("app/conversion", [200.0, 180.0, 179.0])
    slos = {
        "lower": [
            {"metric": "app/conversion", "maxDecreasePercent": 10},
            {"metric": "app/conversion", "maxDecrease": 20.5},
        ]
    }
    assert _statuses(store, slos) == [
        [
            ("not-applicable", None, "v1 is the baseline"),
            ("satisfied", 180.0, "180 >= 180 (v1 -10%)"),
            ("violated", 180.0, "179 < 180 (v1 -10%)"),
        ],
        [
            ("not-applicable", None, "v1 is the baseline"),
            ("satisfied", 179.5, "180 >= 179.5 (v1 -20.5)"),
            ("violated", 179.5, "179 < 179.5 (v1 -20.5)"),
        ],
    ]


def test_relative_to_another_baseline_and_absolute_together_take_the_stricter() -> None:
    store = _gauges("app/p95", [100.0, 104.0, 120.0])
    slos = {"upper": [{"metric": "app/p95", "maxIncreasePercent": 10, "limit": 105}]}
    assert _statuses(store, slos, baseline="v3") == [
        [
            ("satisfied", 105.0, "100 <= 105"),  # stricter than v3 +10% (132)
            ("satisfied", 105.0, "104 <= 105"),
            ("violated", 105.0, "120 > 105"),  # the baseline: its absolute limit still applies
        ]
    ]


def test_per_version_slos() -> None:
    store = _gauges("app/p95", [150.0, 90.0, 150.0])
    slos = {"upper": [{"metric": "app/p95", "limit": 100, "versions": ["v2", 2]}]}
    assert _statuses(store, slos) == [
        [
            ("not-applicable", None, "v1 is not in its versions"),
            ("satisfied", 100.0, "90 <= 100"),
            ("violated", 100.0, "150 > 100"),
        ]
    ]
    insights = assess(store, parse_spec({"SLOs": slos}, store.version_names))
    assert insights["SLOsSatisfied"]["upper"] == [[True, True, False]]
    assert insights["assessment"]["slos"][0]["appliesTo"] == [1, 2]


def test_relative_slo_without_baseline_data_is_no_data() -> None:
    store = _gauges("app/p95", [None, 90.0])
    slos = {"upper": [{"metric": "app/p95", "maxIncrease": 5}]}
    assert _statuses(store, slos) == [
        [
            ("not-applicable", None, "v1 is the baseline"),
            ("no-data", None, "no data for the baseline v1"),
        ]
    ]


def test_purely_relative_slos_are_not_in_iter8_fields() -> None:
    store = _gauges("app/p95", [100.0, 120.0])
    spec = parse_spec(
        {"SLOs": {"upper": [{"metric": "app/p95", "maxIncrease": 5}]}}, store.version_names
    )
    insights = assess(store, spec)
    assert insights["SLOs"] == {"upper": [], "lower": []}
    assert insights["SLOsSatisfied"] == {"upper": [], "lower": []}
    assert insights["assessment"]["slos"][0]["relative"] == {"baseline": 0, "maxIncrease": 5.0}
    assert insights["assessment"]["versions"][1]["slosViolated"] == ["app/p95"]


def test_slower_version_violates_relative_latency_slo_with_the_test_shown() -> None:
    store = two_versions(medians=(50.0, 65.0))
    spec = parse_spec(
        {"SLOs": {"upper": [{"metric": "http/latency-p95", "maxIncreasePercent": 10}]}},
        ["v1", "v2"],
    )
    slo = judge(store, spec).slos[0]
    status = slo.versions[1]
    assert status.status == "violated"
    assert status.test is not None
    assert status.test.test == "mann-whitney-u"
    assert status.test.effect == pytest.approx(0.3)
    assert status.test.p_value is not None and status.test.p_value < 1e-12
    assert status.test.significant is True
    assert status.conclusive is True
    assert status.note.startswith(
        "147.62 > 124.909 (v1 +10%); Mann-Whitney U, p<1e-12, effect +30.0%"
    )


def test_identical_versions_satisfy_relative_latency_slo() -> None:
    store = two_versions()
    spec = parse_spec(
        {"SLOs": {"upper": [{"metric": "http/latency-p95", "maxIncreasePercent": 10}]}},
        ["v1", "v2"],
    )
    status = judge(store, spec).slos[0].versions[1]
    assert status.status == "satisfied"
    assert status.test is not None
    assert (status.test.p_value, status.test.effect, status.test.significant) == (1.0, 0.0, False)
    assert status.conclusive is True


def test_error_rate_relative_slo_in_points_uses_the_counts() -> None:
    store = two_versions(errors=(10, 30))
    spec = parse_spec(
        {"SLOs": {"upper": [{"metric": "http/error-rate", "maxIncrease": 0.005}]}}, ["v1", "v2"]
    )
    status = judge(store, spec).slos[0].versions[1]
    assert (status.status, status.limit) == ("violated", 0.015)
    assert status.test is not None
    assert status.test.test == "two-proportion-z"
    assert status.test.difference == pytest.approx(0.02)
    assert status.conclusive is True
    assert status.note == (
        "0.03 > 0.015 (v1 +0.005); two-proportion z-test, p=0.0014, effect +2.00 points "
        "(+200.0%), CI [+0.78, +3.33] points"
    )


def test_inconclusive_relative_slo_says_so() -> None:
    store = two_versions(errors=(10, 10))
    spec = parse_spec(
        {"SLOs": {"upper": [{"metric": "http/error-rate", "maxIncrease": 0.005}]}}, ["v1", "v2"]
    )
    status = judge(store, spec).slos[0].versions[1]
    assert status.status == "satisfied"
    assert status.conclusive is False
    assert status.note.endswith(
        "the interval straddles the allowance, more requests would firm this up"
    )


def test_percent_and_amount_together_take_the_stricter() -> None:
    store = _gauges("app/p95", [100.0, 104.0, 106.0])
    slos = {"upper": [{"metric": "app/p95", "maxIncreasePercent": 10, "maxIncrease": 5}]}
    assert _statuses(store, slos) == [
        [
            ("not-applicable", None, "v1 is the baseline"),
            ("satisfied", 105.0, "104 <= 105 (v1 +5)"),
            ("violated", 105.0, "106 > 105 (v1 +5)"),
        ]
    ]
    insights = assess(store, parse_spec({"SLOs": slos}, store.version_names))
    assert insights["assessment"]["slos"][0]["relative"] == {
        "baseline": 0,
        "maxIncreasePercent": 10.0,
        "maxIncrease": 5.0,
    }


def test_absolute_limit_binding_leaves_the_interval_out_of_it() -> None:
    store = two_versions(medians=(50.0, 65.0))
    slos = {"upper": [{"metric": "http/latency-p95", "maxIncreasePercent": 50, "limit": 120}]}
    status = judge(store, parse_spec({"SLOs": slos}, ["v1", "v2"])).slos[0].versions[1]
    assert (status.status, status.limit, status.conclusive) == ("violated", 120.0, None)
    assert status.test is not None and status.test.significant is True


def test_relative_lower_slo_with_per_request_data() -> None:
    store = two_versions(medians=(50.0, 65.0))
    slos = {"lower": [{"metric": "http/latency-mean", "maxDecreasePercent": 10}]}
    status = judge(store, parse_spec({"SLOs": slos}, ["v1", "v2"])).slos[0].versions[1]
    assert (status.status, status.conclusive) == ("satisfied", True)
    faster = two_versions(medians=(65.0, 50.0))
    status = judge(faster, parse_spec({"SLOs": slos}, ["v1", "v2"])).slos[0].versions[1]
    assert (status.status, status.conclusive) == ("violated", True)


def test_relative_percent_slo_against_a_zero_baseline_has_no_interval_of_the_ratio() -> None:
    store = two_versions(errors=(0, 40))
    slos = {"upper": [{"metric": "http/error-rate", "maxIncreasePercent": 10}]}
    status = judge(store, parse_spec({"SLOs": slos}, ["v1", "v2"])).slos[0].versions[1]
    assert (status.status, status.limit, status.conclusive) == ("violated", 0.0, None)
