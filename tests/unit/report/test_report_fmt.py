"""Formatting helpers shared by the renderers."""

from __future__ import annotations

import pytest

from iter8_action.report import fmt
from iter8_action.report.model import Comparison, build_report
from tests.support.results import load


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "—"),
        (float("nan"), "—"),
        (300.0, "300"),
        (112.84, "112.8"),
        (36.876, "36.88"),
        (0.006667, "0.00667"),
        (-1.5, "-1.50"),
    ],
)
def test_number(value: float | None, expected: str) -> None:
    assert fmt.number(value) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (None, "—"),
        (0.0123, "12 ms"),
        (15.4, "15.40 s"),
        (62.4, "1 min 02 s"),
        (3725.0, "1 h 02 min 05 s"),
    ],
)
def test_duration(seconds: float | None, expected: str) -> None:
    assert fmt.duration(seconds) == expected


def test_timestamp() -> None:
    assert fmt.timestamp("2026-11-20T10:00:00.000Z") == "2026-11-20 10:00:00 UTC"
    assert fmt.timestamp("2026-11-20T10:00:00+02:00") == "2026-11-20 10:00:00+02:00"
    assert fmt.timestamp(None) == "—"


def test_relative_labels() -> None:
    report = build_report(load("three-versions"))
    assert fmt.relative_label({"baseline": 0, "maxIncreasePercent": 10}, report, "ms") == "v1 +10%"
    assert fmt.relative_label({"maxIncrease": 0.5}, report, "ms") == "v1 +0.5 ms"
    assert fmt.relative_label({"baseline": 1, "maxDecreasePercent": 5}, report, None) == "v2 -5%"
    assert fmt.relative_label({"baseline": 7, "rule": "same"}, report, None) == (
        "version 7 rule=same"
    )


def test_statistics() -> None:
    assert fmt.p_value(None) == "—"
    assert fmt.p_value(0.00001) == "<0.0001"
    assert fmt.p_value(0.0123) == "0.012"
    c = Comparison(1, 0, "other-test", None, None, None, -0.1234, None, None, 0.2, False, None)
    assert fmt.effect(c) == "-12.3%"
    assert fmt.interval(c) == "—"
    assert fmt.test_name(c.test) == "other-test"
    assert fmt.test_name(None) == "—"
    assert fmt.significance(c) == "no"
    unknown = Comparison(1, 0, None, None, None, None, None, None, None, None, None, None)
    assert fmt.significance(unknown) == "—"
    assert fmt.sentence("") == ""
    assert fmt.sentence("done!") == "done!"


def test_reward_best_for_a_tie() -> None:
    report = build_report(load("no-winner"))
    reward = report.rewards[0]
    tied = type(reward)(**{**reward.__dict__, "verdict": "tie", "tied": (0, 1)})
    assert fmt.reward_best(tied, report) == "tie: v1, v2"
    assert fmt.reward_best(reward, report) == "no winner yet"
