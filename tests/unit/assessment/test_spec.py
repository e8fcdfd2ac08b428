"""The assess task's inputs: defaults, both SLO forms, versions by name or index."""

from __future__ import annotations

import pytest

from iter8_action.assessment.spec import LOWER, UPPER, Relative, SloSpec, SpecError, parse_spec

NAMES = ["v1", "v2", "v3"]


def test_defaults_and_canonical_metric_names() -> None:
    spec = parse_spec(
        {
            "SLOs": {"upper": [{"metric": "built-in/p95.0", "limit": 200}]},
            "rewards": {"min": ["built-in/mean-latency"], "max": ["app/revenue"]},
        },
        NAMES,
    )
    assert spec.baseline == 0
    assert (spec.confidence, spec.correction, spec.min_requests) == (0.95, "holm", 30)
    assert spec.slos == (SloSpec("http/latency-p95", UPPER, 200.0, (), None),)
    assert spec.rewards_min == ("http/latency-mean",)
    assert spec.rewards_max == ("app/revenue",)


def test_relative_limits_and_versions_by_name_or_index() -> None:
    spec = parse_spec(
        {
            "baseline": "v2",
            "confidence": 0.99,
            "correction": "bonferroni",
            "minRequests": 10,
            "SLOs": {
                "upper": [
                    {"metric": "http/latency-p95", "maxIncreasePercent": 10, "versions": ["v3"]},
                    {"metric": "http/error-rate", "maxIncrease": 0.005, "limit": 0.01},
                ],
                "lower": [
                    {"metric": "app/conversion", "maxDecreasePercent": 5, "versions": [2, 0]}
                ],
            },
        },
        NAMES,
    )
    assert (spec.baseline, spec.confidence, spec.correction, spec.min_requests) == (
        1,
        0.99,
        "bonferroni",
        10,
    )
    assert spec.slos == (
        SloSpec("http/latency-p95", UPPER, None, (Relative(10.0, percent=True),), (2,)),
        SloSpec("http/error-rate", UPPER, 0.01, (Relative(0.005, percent=False),), None),
        SloSpec("app/conversion", LOWER, None, (Relative(5.0, percent=True),), (0, 2)),
    )


def test_iter8_list_form_of_slos() -> None:
    spec = parse_spec(
        {
            "SLOs": [
                {"metric": "built-in/error-rate", "upperLimit": 0.01},
                {"metric": "built-in/p99", "upperLimit": 300, "lowerLimit": 1},
            ]
        },
        NAMES,
    )
    assert spec.slos == (
        SloSpec("http/error-rate", UPPER, 0.01, (), None),
        SloSpec("http/latency-p99", UPPER, 300.0, (), None),
        SloSpec("http/latency-p99", LOWER, 1.0, (), None),
    )


def test_relative_limit_arithmetic() -> None:
    assert Relative(10, percent=True).limit(UPPER, 200.0) == 220.0
    assert Relative(10, percent=True).limit(LOWER, 200.0) == 180.0
    assert Relative(0.005, percent=False).limit(UPPER, 0.01) == pytest.approx(0.015)
    assert Relative(10, percent=True).describe(UPPER) == "+10%"
    assert Relative(0.5, percent=False).describe(LOWER) == "-0.5"
    assert Relative(10, percent=True).key(UPPER) == "maxIncreasePercent"
    assert Relative(1, percent=False).key(LOWER) == "maxDecrease"


def test_the_strictest_limit_binds() -> None:
    both = (Relative(10, percent=True), Relative(5, percent=False))
    upper = SloSpec("m", UPPER, 112.0, both, None)
    assert upper.binding(100.0) == (105.0, both[1])
    assert upper.binding(40.0) == (44.0, both[0])
    assert upper.binding(None) == (None, None)
    assert SloSpec("m", UPPER, 30.0, both, None).binding(40.0) == (30.0, None)
    assert SloSpec("m", LOWER, 95.0, (Relative(10, percent=True),), None).binding(100.0) == (
        95.0,
        None,
    )
    assert SloSpec("m", LOWER, None, (), None).binding(1.0) == (None, None)
    assert upper.relative_dict(1) == {"baseline": 1, "maxIncreasePercent": 10, "maxIncrease": 5}
    assert SloSpec("m", UPPER, 1.0, (), None).relative_dict(0) is None


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            {"baseline": "v9"},
            "baseline: there is no version named 'v9' (versions are 0: v1, 1: v2, 2: v3)",
        ),
        (
            {"baseline": 3},
            "baseline: there is no version 3 (versions are numbered from 0: 0: v1, 1: v2, 2: v3)",
        ),
        (
            {
                "SLOs": {
                    "lower": [
                        {"metric": "m", "limit": 1},
                        {"metric": "m", "limit": 2, "versions": ["v1", "canary"]},
                    ]
                }
            },
            "SLOs.lower[1].versions: there is no version named 'canary' "
            "(versions are 0: v1, 1: v2, 2: v3)",
        ),
    ],
)
def test_unknown_versions_are_named(inputs: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(inputs, NAMES)
    assert str(caught.value) == message
