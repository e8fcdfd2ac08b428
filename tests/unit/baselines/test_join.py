from __future__ import annotations

from typing import Any

import pytest

from iter8_action.assessment import AssessRules, judge
from iter8_action.assessment.spec import UPPER, SloRule
from iter8_action.baselines.join import join, prepare
from iter8_action.baselines.model import BaselineRun, Baselines
from iter8_action.baselines.noise import Band, band, finish, is_regression
from tests.support.baselines import baselines_of, http_store

SLO_INPUTS: dict[str, Any] = {
    "baseline": "main",
    "SLOs": {
        "upper": [
            {"metric": "http/latency-mean", "maxIncreasePercent": 10},
            {"metric": "http/latency-p95", "limit": 500},
        ]
    },
}
SLO_RULES = AssessRules.parse(SLO_INPUTS)


def test_the_newest_baseline_joins_as_branch_at_short_sha_with_its_data() -> None:
    store = http_store([60.0])
    baselines = baselines_of(50.0, 51.0)
    rules, joined = prepare(SLO_RULES, store, baselines)

    assert store.version_names == ["v1", "main@0a2b3c4"]
    assert rules.baseline == "main@0a2b3c4"
    assert (joined.own, joined.names, joined.reference) == (1, ("main@0a2b3c4",), 1)
    newest = baselines.runs[0].store
    assert store.histogram("http/latency", 1) == newest.histogram("http/latency", 0)
    # the run's SLOs judge its own versions only: a baseline never fails this run's gate
    assert [s.versions for s in rules.slos] == [("v1",), ("v1",)]
    assert SLO_RULES.baseline == "main"  # the task's inputs stay as they were parsed


def test_joining_twice_adds_nothing_and_several_versions_keep_their_names() -> None:
    store = http_store([60.0])
    run = BaselineRun("main", "abcdef0123", "run", http_store([50.0, 55.0]), baseline_version=1)
    assert join(store, run) == (1, 2)
    assert join(store, run) == (1, 2)
    assert store.version_names == ["v1", "main@abcdef0/v1", "main@abcdef0/v2"]
    _, joined = prepare(AssessRules(baseline="main"), http_store([60.0]), Baselines("b", (run,)))
    assert joined.reference == 2  # `main` is the baseline run's own baseline version


def test_without_a_baseline_relative_limits_go_and_absolute_ones_stay() -> None:
    store = http_store([60.0])
    inputs = {
        **SLO_INPUTS,
        "SLOs": {
            "upper": [
                *SLO_INPUTS["SLOs"]["upper"],
                {"metric": "app/m", "limit": 1, "maxIncrease": 2},
            ]
        },
    }
    out, joined = prepare(AssessRules.parse(inputs), store, Baselines("b", notes=("expired",)))
    assert out.baseline == 0  # the default, as if the input were not there
    assert out.slos == (
        SloRule("http/latency-p95", UPPER, 500.0, (), None, "SLOs.upper[1]"),
        SloRule("app/m", UPPER, 1.0, (), None, "SLOs.upper[2]"),
    )
    assert joined.dropped == ("http/latency-mean (maxIncreasePercent)", "app/m (maxIncrease)")
    assert store.version_names == ["v1"]


def test_the_prediction_interval_of_three_runs() -> None:
    b = band([100.0, 102.0, 98.0], 0.95)
    assert b is not None
    # one-sided t(2, 0.95) = 2.919986; s = 2; sqrt(1 + 1/3)
    assert b.mean == 100.0
    assert b.half_width == pytest.approx(2.919986 * 2 * (4 / 3) ** 0.5, rel=1e-6)
    assert b.relative == pytest.approx(0.067434, rel=1e-4)
    assert band([100.0], 0.95) is None


@pytest.mark.parametrize(
    ("value", "significant", "noise", "expected"),
    [
        (120.0, True, None, True),  # K = 1: the test alone decides
        (120.0, False, None, False),
        (120.0, True, Band(100.0, 10.0, 5), True),
        (109.0, True, Band(100.0, 10.0, 5), False),  # inside the run-to-run noise
        (90.0, True, None, False),  # better, not worse
        (120.0, None, Band(100.0, 10.0, 5), True),  # no test (one value per version)
    ],
)
def test_the_regression_rule(
    value: float, significant: bool | None, noise: Band | None, expected: bool
) -> None:
    got = is_regression(value, 100.0, significant=significant, noise=noise, worse_when="higher")
    assert got is expected


def _assess(current: float, *baseline_medians: float) -> tuple[object, dict[str, object]]:
    store = http_store([current])
    baselines = baselines_of(*baseline_medians)
    rules, joined = prepare(SLO_RULES, store, baselines)
    assessment = judge(store, rules.resolve(store.version_names))
    return finish(assessment, store, joined, baselines)


def test_a_violation_within_the_run_to_run_noise_is_not_a_regression() -> None:
    """12% slower than the newest run, but the last runs spread by as much."""
    ruled, insight = _assess(56.0, 50.0, 58.0, 54.0)
    slo = ruled.slos[0]  # type: ignore[attr-defined]
    status = slo.versions[0]
    assert status.status == "satisfied"
    assert status.note.endswith(
        "not a regression: within the run-to-run noise (bound 25.0% from the mean of 3 runs)"
    )
    assert insight["regressions"] == 0
    assert ruled.winner() == (0, "v1 is the only version that meets every SLO")  # type: ignore[attr-defined]


def test_a_change_beyond_the_noise_is_a_regression_with_a_headline() -> None:
    ruled, insight = _assess(60.0, 50.0, 50.5, 49.5)
    assert ruled.slos[0].versions[0].status == "violated"  # type: ignore[attr-defined]
    assert insight["regressions"] == 2  # the mean and the p95, both 20% slower
    assert insight["headline"] == "http/latency-mean +20.0% vs main (significant, p<0.001)"
    row = insight["comparisons"][0]  # type: ignore[index]
    assert (row["metric"], row["version"], row["regression"]) == ("http/latency-mean", "v1", True)
    assert ruled.winner() == (None, "no version meets every SLO")  # type: ignore[attr-defined]


def test_the_t_quantile_is_scipys_without_scipy() -> None:
    from scipy import stats

    from iter8_action.baselines.noise import t_quantile

    for df in range(1, 20):
        for p in (0.9, 0.95, 0.975, 0.99, 0.995):
            assert t_quantile(p, df) == pytest.approx(float(stats.t.ppf(p, df)), rel=1e-9)
    assert t_quantile(0.95, 2) == pytest.approx(2.919986, rel=1e-6)  # published tables


def test_only_the_hex_digits_of_a_commit_name_the_joined_version() -> None:
    run = BaselineRun("main", "<b>@everyone 1a2b3c4", "run", http_store([50.0]))
    assert run.label == "main@beee1a2"
    assert BaselineRun("main", "", "run", http_store([50.0])).label == "main"
