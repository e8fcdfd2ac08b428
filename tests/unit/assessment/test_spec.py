"""The assess task's inputs: parsed at load (defaults, both SLO forms, refusals at their
field), then resolved against a run's versions (by name or index)."""

from __future__ import annotations

import pytest

from iter8_action.assessment.spec import (
    LOWER,
    UPPER,
    AssessRules,
    Correction,
    Relative,
    SloRule,
    SloSpec,
    SpecError,
    parse_spec,
)
from iter8_action.core.errors import InputsInvalid

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
                        {"metric": "app/m", "limit": 1},
                        {"metric": "app/m", "limit": 2, "versions": ["v1", "canary"]},
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


def test_rules_take_their_defaults() -> None:
    assert AssessRules.parse({}) == AssessRules(
        slos=(),
        rewards_max=(),
        rewards_min=(),
        baseline=0,
        confidence=0.95,
        correction=Correction.HOLM,
        min_requests=30,
    )


def test_rules_read_every_field_and_keep_versions_as_written() -> None:
    rules = AssessRules.parse(
        {
            "baseline": "v2",
            "confidence": 0.9,
            "correction": "none",
            "minRequests": 2,
            "rewards": {"max": ["my-prom/revenue"], "min": ["built-in/p95"]},
            "SLOs": {
                "upper": [{"metric": "http/latency-p95.0", "limit": 200, "versions": ["v3", 0]}],
                "lower": [{"metric": "app/conversion", "maxDecreasePercent": 5, "maxDecrease": 1}],
            },
        }
    )
    assert (rules.baseline, rules.confidence, rules.correction, rules.min_requests) == (
        "v2",
        0.9,
        Correction.NONE,
        2,
    )
    assert (rules.rewards_max, rules.rewards_min) == (("my-prom/revenue",), ("http/latency-p95",))
    assert rules.slos == (
        SloRule("http/latency-p95", UPPER, 200.0, (), ("v3", 0), "SLOs.upper[0]"),
        SloRule(
            "app/conversion",
            LOWER,
            None,
            (Relative(5.0, percent=True), Relative(1.0, percent=False)),
            None,
            "SLOs.lower[0]",
        ),
    )
    assert AssessRules.parse({"baseline": 2}).baseline == 2
    spec = rules.resolve(NAMES)
    assert (spec.baseline, spec.slos[0].versions, spec.slos[1].versions) == (1, (0, 2), None)
    assert (spec.correction, spec.min_requests) == ("none", 2)


@pytest.mark.parametrize(
    ("inputs", "field", "message"),
    [
        (
            {"SLOs": {"upper": [{"metric": "latency", "limit": 1}]}},
            ("SLOs", "upper", 0, "metric"),
            "'latency' is not a metric name: a metric is named after its source, "
            "<source>/<name>, e.g. http/latency-p95, grpc/error-rate or my-prom/error-rate",
        ),
        (
            {"SLOs": [{"metric": "http/", "upperLimit": 1}]},
            ("SLOs", 0, "metric"),
            "'http/' is not a metric name",
        ),
        ({"rewards": {"max": ["app/x", "/x"]}}, ("rewards", "max", 1), "'/x' is not"),
        (
            {"rewards": {"max": ["app/x", "http/latency-mean"], "min": ["built-in/mean-latency"]}},
            ("rewards", "min", 0),
            "http/latency-mean is a max reward too (rewards.max[1]): higher cannot be better "
            "and worse at once; keep it in max or in min",
        ),
        (
            {
                "SLOs": {
                    "upper": [{"metric": "http/latency-p95", "limit": 200}],
                    "lower": [
                        {"metric": "http/latency-p95", "limit": 100},
                        {"metric": "http/latency-p95.0", "limit": 300, "versions": ["v2"]},
                    ],
                }
            },
            ("SLOs", "lower", 1, "limit"),
            "http/latency-p95 must be at least 300 here and at most 200 at SLOs.upper[0].limit: "
            "no value can meet both; is one of the limits a typo?",
        ),
        (
            {
                "SLOs": {
                    "upper": [{"metric": "app/x", "limit": 1, "versions": ["v1", 2]}],
                    "lower": [{"metric": "app/x", "limit": 2, "versions": [2]}],
                }
            },
            ("SLOs", "lower", 0, "limit"),
            "app/x must be at least 2 here and at most 1 at SLOs.upper[0].limit",
        ),
        (
            {"SLOs": [{"metric": "app/x", "upperLimit": 1, "lowerLimit": 1.5}]},
            ("SLOs", 0, "lowerLimit"),
            "app/x must be at least 1.5 here and at most 1 at SLOs[0].upperLimit",
        ),
    ],
)
def test_rules_refuse_what_no_run_could_use_at_its_field(
    inputs: dict[str, object], field: tuple[str | int, ...], message: str
) -> None:
    with pytest.raises(InputsInvalid) as caught:
        AssessRules.parse(inputs)
    assert caught.value.field == field
    assert caught.value.message.startswith(message)


@pytest.mark.parametrize(
    "slos",
    [
        # the same limits on versions the file names differently: only the run can tell
        {
            "upper": [{"metric": "app/x", "limit": 1, "versions": ["v1"]}],
            "lower": [{"metric": "app/x", "limit": 2, "versions": [1]}],
        },
        # a lower limit at the upper one: the value can meet both
        {"upper": [{"metric": "app/x", "limit": 1}], "lower": [{"metric": "app/x", "limit": 1}]},
        # a relative limit is only known once the baseline's value is
        {
            "upper": [{"metric": "app/x", "maxIncrease": 1}],
            "lower": [{"metric": "app/x", "limit": 2}],
        },
    ],
)
def test_rules_take_limits_that_a_run_may_meet(slos: dict[str, object]) -> None:
    assert len(AssessRules.parse({"SLOs": slos}).slos) == 2
