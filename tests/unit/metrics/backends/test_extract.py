"""Values through a real jq: the first result, as a number, or no data with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from iter8_action.metrics.backends import extract as extract_module
from iter8_action.metrics.backends.extract import Extracted, extract, to_number

PROM = {"status": "success", "data": {"resultType": "vector", "result": []}}
EXPR = ".data.result[0].value[1] | tonumber"


def _prom(value: str) -> dict[str, Any]:
    result = [{"metric": {}, "value": [1714564800.0, value]}]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


@pytest.mark.parametrize(
    ("document", "expression", "value"),
    [
        (_prom("42"), EXPR, 42.0),
        (_prom("0.05"), ".data.result[0].value[1]", 0.05),
        (_prom("12.5"), ".data.result.[0].value.[1]", 12.5),  # gojq's spelling, as Iter8 wrote it
        ({"a": [3, 4]}, ".a[]", 3.0),
        ({"hits": {"total": {"value": 7}}}, ".hits.total.value", 7.0),
        ({"x": "1e3"}, ".x", 1000.0),
    ],
)
def test_numbers(document: Any, expression: str, value: float) -> None:
    assert extract(document, expression) == Extracted(value)


@pytest.mark.parametrize(
    ("document", "expression", "reason"),
    [
        (
            PROM,
            EXPR,
            "the jq expression found null where it expected a value (null (null) cannot be "
            "parsed as a number); the query matched no series (check the labels and the "
            "metric names)",
        ),
        (
            PROM,
            ".data.result[0].value[1]",
            "the jq expression gave null; the query matched no series "
            "(check the labels and the metric names)",
        ),
        (_prom("NaN"), EXPR, "the value is NaN (for example 0/0: no requests in the window)"),
        (
            _prom("NaN"),
            ".data.result[0].value[1]",
            "the value is NaN (for example 0/0: no requests in the window)",
        ),
        (_prom("+Inf"), EXPR, "the value is infinite (1.7976931348623157e+308)"),
        (_prom("+Inf"), ".data.result[0].value[1]", "the value is infinite (+Inf)"),
        ({"a": []}, ".a[]", "the jq expression gave no result"),
        ({"a": [1, 2]}, ".a", "the jq expression gave [1, 2], not a number"),
        ({"a": True}, ".a", "the jq expression gave true, not a number"),
        ({"a": "n/a"}, ".a", 'the jq expression gave "n/a", not a number'),
        ({"a": "x"}, ".a | tonumber", 'jq failed: string ("x") cannot be parsed as a number'),
        (
            {"data": None, "errors": [{"message": "NRQL Syntax error"}]},
            ".data.actor.account.nrql.results[0].count",
            "the jq expression gave null; the backend reported: NRQL Syntax error",
        ),
        (
            {"status": "error", "error": "bad query"},
            ".data.result[0]",
            "the jq expression gave null; the backend reported: bad query",
        ),
        (
            {"errors": ["boom"]},
            ".nothing[]?",
            "the jq expression gave no result; the backend reported: boom",
        ),
        ([1], ".[5]", "the jq expression gave null"),
        (
            {},
            ".a |||",
            "not a valid jq expression: syntax error, unexpected '|' "
            "at <top-level>, line 1, column 5",
        ),
    ],
)
def test_no_data_and_its_reason(document: Any, expression: str, reason: str) -> None:
    assert extract(document, expression) == Extracted(None, reason)


def test_long_values_are_shortened_in_the_reason() -> None:
    reason = to_number(["x" * 200]).reason
    assert reason is not None
    assert reason == f'the jq expression gave ["{"x" * 75}..., not a number'


def test_an_expression_that_loops_without_end_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    # a provider spec may come from a URL; jq loops in C where no clock reaches
    monkeypatch.setattr(extract_module, "JQ_TIMEOUT_S", 0.5)
    assert extract({"a": 1}, "until(false; .)") == Extracted(
        None,
        "the jq expression took longer than 0.5s, the most it may take "
        "(a repeat, recurse or range without a limit?)",
    )


def test_the_first_result_is_the_value_as_in_iter8() -> None:
    # gojq's iterator is read once: what comes after the first result is never run
    assert extract({"a": 2}, '.a, error("never reached")') == Extracted(2.0)
    assert extract({"a": 2}, "repeat(.) | .a") == Extracted(2.0)
