from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iter8_action.experiment.conditions import (
    And,
    Call,
    Compare,
    ConditionError,
    Const,
    Field,
    Not,
    Or,
    ResultRef,
    parse_condition,
)
from iter8_action.metrics.store import MetricStore
from iter8_action.results.model import Result, TaskRecord, TaskStatus


def _result(
    *, failure: bool = False, satisfied: dict[str, list[list[bool]]] | None = None
) -> Result:
    store = MetricStore()
    store.ensure_versions(2, ["v1", "v2"])
    result = Result(
        tasks=[TaskRecord(0, "http", TaskStatus.COMPLETED), TaskRecord(1, "assess")],
        store=store,
        failure=failure,
    )
    if satisfied is not None:
        result.assessment["SLOsSatisfied"] = satisfied
    return result


def evaluate(source: str, result: Result | None = None) -> bool:
    return parse_condition(source).evaluate(result or _result())


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("SLOs()", True),
        ("not SLOs()", False),
        ("NoFailure()", True),
        ("Completed()", True),
        ("slos() AND nofailure()", True),
        ("SLOs() && !NoFailure()", False),
        ("not not SLOs()", True),
        ("(SLOs() or false) and true", True),
        ("result.numCompletedTasks == 1", True),
        ("result.numCompletedTasks >= 2", False),
        ("result.insights.numVersions == 2", True),
        ("result.insights.versionNames[1] == 'v2'", True),
        ('result["insights"]["versionNames"][0] == "v1"', True),
        ("result.insights.versionNames[7] == null", True),
        ("result.NUMCOMPLETEDTASKS == 1", True),
        ("result.missing.deeper == null", True),
        ("result.missing > 1", False),
        ("result.failure == false", True),
        ("1.5 < 2 and 2e1 == 20 and .5 < 1", True),
        ("'a' < 'b'", True),
        ("result.tasks[0].status == 'completed'", True),
    ],
)
def test_evaluates(source: str, expected: bool) -> None:
    assert evaluate(source) is expected


def test_slos_reads_satisfaction_per_version() -> None:
    result = _result(satisfied={"upper": [[True, False]], "lower": [[True, True]]})
    result.assessment["SLOs"] = {
        "upper": [{"metric": "http/latency-p95", "limit": 100}],
        "lower": [{"metric": "http/request-count", "limit": 1}],
    }
    assert evaluate("SLOs()", result) is False
    assert evaluate("SLOs('v1')", result) is True
    assert evaluate('SLOs("v2")', result) is False


def test_slos_of_unknown_version_is_an_error() -> None:
    with pytest.raises(ConditionError, match=r"SLOs\('v9'\): no such version; versions are v1, v2"):
        evaluate("SLOs('v9')")


def test_no_failure_sees_a_failure() -> None:
    assert evaluate("NoFailure()", _result(failure=True)) is False


def test_comparing_a_string_with_a_number_is_an_error() -> None:
    with pytest.raises(ConditionError) as info:
        evaluate("result.startTime > 3")
    assert info.value.column == 18
    assert "cannot compare str" in info.value.message


@pytest.mark.parametrize(
    ("source", "message", "column"),
    [
        ("", "the condition is empty", 1),
        ("SLOs(", "the condition ends where a value was expected", 6),
        ("SLOs() and", "the condition ends where a value was expected", 11),
        ("SLOs())", "unexpected ')'", 7),
        ("SLOs() SLOs()", "unexpected 'SLOs'", 8),
        ("Best()", "unknown function Best(); known: Completed(), NoFailure(), SLOs(), Winner()", 1),
        ("SLOs(1, 2)", "SLOs() takes 0 to 1 argument(s), not 2", 1),
        ("NoFailure(1)", "NoFailure() takes 0 argument(s), not 1", 1),
        ("x == 1", "unknown name 'x': use 'result.<field>' or a function", 1),
        ("result.", "expected a field name after '.' but found the end", 8),
        ("result[SLOs]", "expected a number or a string in [] but found 'SLOs'", 8),
        ("result['a'", "expected ']' but found the end", 11),
        ("SLOs() @ 1", "unexpected character '@'", 8),
        ("'unterminated", 'unexpected character "\'"', 1),
        ("(SLOs()", "expected ')' but found the end", 8),
    ],
)
def test_malformed_conditions_say_where(source: str, message: str, column: int) -> None:
    with pytest.raises(ConditionError) as info:
        parse_condition(source)
    assert info.value.message.startswith(message)
    assert info.value.column == column


def test_the_syntax_tree_is_typed_nodes() -> None:
    tree = parse_condition(
        "not (result.insights['numVersions'] >= 2 && SLOs()) || Winner(\"v2\")"
    ).tree
    assert tree == Or(
        (
            Not(
                And(
                    (
                        Compare(
                            ">=", Field(ResultRef(), ("insights", "numVersions")), Const(2), 37
                        ),
                        Call("slos", ()),
                    )
                )
            ),
            Call("winner", (Const("v2"),)),
        )
    )


def test_string_escapes() -> None:
    assert evaluate(r"'it\'s' == " + '"it\'s"') is True


_WORDS = [*"()[].,'\"<>=!&| 0123456789", "SLOs", "not", "and", "or", "result", "x", "()"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=20).map("".join))
def test_random_conditions_raise_only_condition_errors(source: str) -> None:
    try:
        expression = parse_condition(source)
    except ConditionError:
        return
    with contextlib.suppress(ConditionError):
        expression.evaluate(_result())


@pytest.mark.parametrize(
    "source",
    [
        "(" * 5000 + "SLOs()" + ")" * 5000,
        "not " * 5000 + "SLOs()",
        "SLOs(" * 5000 + ")" * 5000,
    ],
)
def test_deep_nesting_is_a_condition_error_not_a_recursion_error(source: str) -> None:
    with pytest.raises(ConditionError) as info:
        parse_condition(source)
    assert info.value.message.startswith("the condition nests more than 50 levels deep")


def test_fifty_levels_are_fine() -> None:
    # the call SLOs() is a level of its own
    assert evaluate("(" * 49 + "SLOs()" + ")" * 49) is True
    assert evaluate("not " * 48 + "SLOs()") is True
    with pytest.raises(ConditionError):
        parse_condition("(" * 50 + "SLOs()" + ")" * 50)


def test_long_chains_are_flat_and_evaluate() -> None:
    # chains cost no depth: thousands of terms parse and evaluate without recursion
    assert evaluate(" or ".join(["false"] * 3000 + ["SLOs()"])) is True
    assert evaluate(" and ".join(["true"] * 3000 + ["false"])) is False
    assert evaluate("result" + ".x" * 3000 + " == null") is True
