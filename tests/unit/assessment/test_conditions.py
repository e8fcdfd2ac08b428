"""`if:` functions and `iter8 assert` conditions read the assessment in the result."""

from __future__ import annotations

from typing import Any

import pytest

from iter8_action.assessment import assess, parse_spec
from iter8_action.core.errors import InputError
from iter8_action.experiment.conditions import ConditionError, parse_condition
from iter8_action.results.assertions import CONDITIONS, check, parse
from iter8_action.results.model import Result, TaskRecord, TaskStatus
from tests.support.stores import two_versions

SPEC = {
    "SLOs": {
        "upper": [
            {"metric": "http/latency-p95", "maxIncreasePercent": 10},
            {"metric": "http/error-rate", "limit": 0.05},
        ]
    },
    "rewards": {"min": ["http/latency-mean"]},
}


def _result(medians: tuple[float, float] = (50.0, 65.0), **inputs: Any) -> Result:
    store = two_versions(medians=medians)
    result = Result(store=store)
    result.assessment.update(assess(store, parse_spec({**SPEC, **inputs}, store.version_names)))
    result.tasks = [TaskRecord(index=0, task="assess", status=TaskStatus.COMPLETED)]
    result.end_time = "2026-01-01T00:00:00Z"
    return result


def _holds(condition: str, result: Result) -> bool:
    return parse_condition(condition).evaluate(result)


def test_slos_function_counts_relative_slos() -> None:
    slower = _result()
    assert _holds("SLOs()", slower) is False
    assert _holds("SLOs('v1')", slower) is True
    assert _holds("SLOs('v2')", slower) is False
    assert _holds("SLOs(0)", slower) is True
    assert _holds("SLOs()", _result(medians=(50.0, 50.0))) is True


def test_winner_function() -> None:
    slower = _result()
    assert _holds("Winner()", slower) is True
    assert _holds("Winner('v1')", slower) is True
    assert _holds("Winner('v2')", slower) is False
    assert _holds("not Winner()", _result(medians=(50.0, 50.0))) is True
    assert _holds("Winner()", Result()) is False


def test_winner_function_rejects_unknown_versions() -> None:
    with pytest.raises(ConditionError) as caught:
        _holds("Winner('v9')", _result())
    assert str(caught.value) == "Winner('v9'): no such version; versions are v1, v2"


def test_slos_function_falls_back_to_iter8_fields() -> None:
    result = Result(store=two_versions())
    result.assessment.update(
        {
            "SLOs": {"upper": [{"metric": "http/error-rate", "limit": 0.01}]},
            "SLOsSatisfied": {"upper": [[True, False]]},
        }
    )
    assert _holds("SLOs()", result) is False
    assert _holds("SLOs('v1')", result) is True


def test_assert_slos() -> None:
    slower = _result()
    holds, why = check(slower, "slos")
    assert holds is False
    assert why.startswith(
        "SLOs missed: v2: upper SLO on http/latency-p95 violated (147.62 > 124.909 (v1 +10%); "
        "Mann-Whitney U, p<1e-12"
    )
    assert check(slower, "slos=v1") == (True, "v1 meets the SLOs")
    assert check(slower, "SLOs=0") == (True, "v1 meets the SLOs")
    assert check(slower, "slos=1")[0] is False
    assert check(_result(medians=(50.0, 50.0)), "slos") == (True, "every version meets the SLOs")
    assert check(Result(), "slos") == (True, "every version meets the SLOs")


def test_assert_slos_lists_at_most_three_failures() -> None:
    result = Result(store=two_versions())
    rows = [[False, False]] * 2
    result.assessment.update(
        {
            "SLOs": {"upper": [{"metric": "a/x", "limit": 1}, {"metric": "a/y", "limit": 1}]},
            "SLOsSatisfied": {"upper": rows},
        }
    )
    assert check(result, "slos") == (
        False,
        # Iter8's fields say only "not satisfied"; without a value that is "no-data"
        "SLOs missed: v1: upper SLO on a/x no-data; v2: upper SLO on a/x no-data; "
        "v1: upper SLO on a/y no-data; and 1 more",
    )


def test_assert_winner() -> None:
    slower = _result()
    assert check(slower, "winner") == (
        True,
        "the winner is v1: v1 meets every SLO and is best on every reward",
    )
    assert check(slower, "winner=v1") == (
        True,
        "v1 is the winner: v1 meets every SLO and is best on every reward",
    )
    assert check(slower, "winner=v2") == (
        False,
        "v2 is not the winner; v1 is: v1 meets every SLO and is best on every reward",
    )
    same = _result(medians=(50.0, 50.0))
    assert check(same, "winner") == (False, "no winner: no winner yet on http/latency-mean")
    assert check(same, "winner=v2") == (
        False,
        "v2 is not the winner; there is none: no winner yet on http/latency-mean",
    )
    assert check(Result(), "winner") == (
        False,
        "no winner: there is no assessment in the result (did an assess task run?)",
    )


def test_assert_completed_and_nofailure() -> None:
    done = _result()
    assert check(done, "completed") == (True, "all 1 tasks completed")
    assert check(done, "nofailure") == (True, "no task failed")
    running = Result(
        tasks=[
            TaskRecord(index=0, task="http", status=TaskStatus.COMPLETED),
            TaskRecord(index=1, task="assess", status=TaskStatus.RUNNING),
        ]
    )
    assert check(running, "completed") == (
        False,
        "the experiment has not finished (1 of 2 tasks done; task 1 (assess) is running)",
    )
    failed = Result(
        tasks=[TaskRecord(index=0, task="http", status=TaskStatus.FAILED)],
        end_time="2026-01-01T00:00:00Z",
        failure=True,
        failure_reason="Connection refused by 127.0.0.1:8080",
        failed_task=0,
    )
    assert check(failed, "completed") == (False, "0 of 1 tasks completed")
    assert check(failed, "nofailure") == (
        False,
        "Connection refused by 127.0.0.1:8080",
    )
    assert check(Result(failure=True), "nofailure") == (False, "a task failed")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "slo",
            "unknown assert condition 'slo': known conditions are completed, nofailure, "
            "slos, winner (slos and winner take an optional =<version>)",
        ),
        ("slos=", "assert condition 'slos=': give a version after '='"),
        ("completed=v1", "assert condition 'completed' takes no argument (got completed=v1)"),
        ("nofailure=1", "assert condition 'nofailure' takes no argument (got nofailure=1)"),
        (
            "slos=v7",
            "assert condition slos=v7: there is no version 'v7' (versions are v1, v2; "
            "give a name or a 0-based index)",
        ),
        (
            "winner=5",
            "assert condition winner=5: there is no version '5' (versions are v1, v2; "
            "give a name or a 0-based index)",
        ),
    ],
)
def test_assert_input_errors(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        check(_result(), text)
    assert str(caught.value) == message


def test_parse_and_table() -> None:
    assert parse(" Winner = v2 ") == ("winner", "v2")
    assert parse("NoFailure") == ("nofailure", None)
    assert sorted(CONDITIONS) == ["completed", "nofailure", "slos", "winner"]
