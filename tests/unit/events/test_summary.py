from __future__ import annotations

import math

import pytest

from iter8_action.events import values_for
from iter8_action.events.summary import run_link, summarize
from iter8_action.results.model import ITER8_VERSION, Result
from tests.support.results import assessed_result

PASSING_SLOS = [
    {
        "metric": "http/latency-p95",
        "kind": "upper",
        "limit": 100,
        "versions": [
            {"name": "v1", "value": 87.25, "limit": 100, "status": "satisfied"},
            {"name": "v2", "value": 92.5, "limit": 100, "status": "satisfied"},
        ],
    },
    {
        "metric": "http/error-rate",
        "kind": "upper",
        "limit": 0.01,
        "versions": [
            {"name": "v1", "value": 0.0, "limit": 0.01, "status": "satisfied"},
            {"name": "v2", "value": 0.005, "limit": 0.01, "status": "satisfied"},
        ],
    },
]


def test_summary_of_a_passing_experiment() -> None:
    summary = summarize(assessed_result().to_dict(), experiment_name="demo")
    assert summary == {
        "experiment": {
            "name": "demo",
            "startTime": "2026-11-27T08:00:00.000Z",
            "endTime": None,
            "numCompletedTasks": 2,
            "failure": False,
            "failureReason": None,
        },
        "verdict": "pass",
        "reason": "every version meets all 2 SLO(s)",
        "versions": [
            {
                "index": 0,
                "name": "v1",
                "slosSatisfied": True,
                "rewardsWon": [],
                "metrics": {
                    "http/error-rate": 0.0,
                    "http/latency-mean": 40.0,
                    "http/latency-p95": 87.25,
                },
            },
            {
                "index": 1,
                "name": "v2",
                "slosSatisfied": True,
                "rewardsWon": ["http/latency-mean"],
                "metrics": {
                    "http/error-rate": 0.005,
                    "http/latency-mean": 35.5,
                    "http/latency-p95": 92.5,
                },
            },
        ],
        "winner": {
            "index": 1,
            "name": "v2",
            "reason": "v2 meets every SLO and is best on every reward",
        },
        "slos": PASSING_SLOS,
        "rewards": [
            {
                "metric": "http/latency-mean",
                "direction": "min",
                "verdict": "winner",
                "winner": 1,
                "winnerName": "v2",
                "reason": "v2 is 11.3% lower than v1",
            }
        ],
        "run": None,
        "iter8Version": ITER8_VERSION,
    }


def test_summary_has_at_most_ten_top_level_keys_for_github_client_payload() -> None:
    assert len(summarize(assessed_result().to_dict())) <= 10


def test_a_violated_slo_fails_and_names_the_version() -> None:
    summary = summarize(assessed_result(v2_p95=120.0).to_dict())
    assert summary["verdict"] == "fail"
    assert summary["reason"] == "1 SLO check(s) not satisfied (v2)"
    assert summary["winner"] is None
    assert [v["slosSatisfied"] for v in summary["versions"]] == [True, False]
    assert summary["slos"][0]["versions"][1]["status"] == "violated"


def test_a_failed_experiment_is_an_error_whatever_the_slos() -> None:
    summary = summarize(assessed_result(failure=True).to_dict())
    assert summary["verdict"] == "error"
    assert summary["reason"] == "the experiment failed: task 0 (http) failed: cannot connect"
    assert summary["experiment"]["failure"] is True


def test_an_empty_result_has_no_slos() -> None:
    summary = summarize(Result(start_time="t").to_dict())
    assert (summary["verdict"], summary["reason"]) == ("no-slos", "no SLOs were assessed")
    assert summary["versions"] == []
    assert summary["winner"] is None


def test_iter8_fields_alone_give_the_slo_table_and_reward_winners() -> None:
    result = assessed_result(v2_p95=120.0)
    del result.assessment["assessment"]
    result.assessment["SLOs"]["lower"] = [{"metric": "http/request-count", "limit": 10}]
    result.assessment["SLOsSatisfied"]["lower"] = [[False]]
    result.assessment["rewards"]["max"] = ["http/latency-max"]
    result.assessment["rewardsWinners"]["max"] = [-1]
    summary = summarize(result.to_dict())
    assert summary["slos"][0] == {
        "metric": "http/latency-p95",
        "kind": "upper",
        "limit": 100,
        "versions": [
            {"name": "v1", "value": 87.25, "limit": 100, "status": "satisfied"},
            {"name": "v2", "value": 120.0, "limit": 100, "status": "violated"},
        ],
    }
    assert summary["slos"][2]["versions"] == [
        {"name": "v1", "value": None, "limit": 10, "status": "no-data"},
        {"name": "v2", "value": None, "limit": 10, "status": "no-data"},
    ]
    assert summary["rewards"] == [
        {
            "metric": "http/latency-max",
            "direction": "max",
            "verdict": "no-data",
            "winner": None,
            "winnerName": None,
            "reason": None,
        },
        {
            "metric": "http/latency-mean",
            "direction": "min",
            "verdict": "winner",
            "winner": 1,
            "winnerName": "v2",
            "reason": None,
        },
    ]
    assert summary["winner"] is None
    assert summary["verdict"] == "fail"
    assert summary["reason"] == "3 SLO check(s) not satisfied (v1, v2)"


def test_not_applicable_slos_do_not_fail_a_version() -> None:
    result = assessed_result()
    result.assessment["assessment"]["slos"][0]["versions"][0]["status"] = "not-applicable"
    assert summarize(result.to_dict())["verdict"] == "pass"


def test_values_that_json_cannot_carry_become_null() -> None:
    result = assessed_result()
    result.store.add_value("http/latency-mean", 0, math.inf)
    result.assessment["assessment"]["slos"][0]["versions"][0]["value"] = math.nan
    summary = summarize(result.to_dict())
    assert "http/latency-mean" not in summary["versions"][0]["metrics"]
    assert summary["slos"][0]["versions"][0]["value"] is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {
                "GITHUB_SERVER_URL": "https://github.com",
                "GITHUB_REPOSITORY": "acme/app",
                "GITHUB_RUN_ID": "77",
            },
            {"url": "https://github.com/acme/app/actions/runs/77", "platform": "github"},
        ),
        (
            {"CI_JOB_URL": "https://gitlab.com/acme/app/-/jobs/5"},
            {"url": "https://gitlab.com/acme/app/-/jobs/5", "platform": "gitlab"},
        ),
        ({"GITHUB_REPOSITORY": "acme/app"}, None),
    ],
)
def test_run_link(env: dict[str, str], expected: dict[str, str] | None) -> None:
    assert run_link(env) == expected


def test_template_values_offer_the_winners_metrics() -> None:
    result = assessed_result()
    summary = summarize(result.to_dict())
    values = values_for(summary, result.to_dict())
    assert values["winner"]["name"] == "v2"
    assert values["winnerMetrics"] == {
        "http/error-rate": 0.005,
        "http/latency-mean": 35.5,
        "http/latency-p95": 92.5,
    }
    assert values["summary"] == summary
    assert values["result"]["startTime"] == "2026-11-27T08:00:00.000Z"
    assert values_for(summarize(Result().to_dict()), {})["winnerMetrics"] == {}
