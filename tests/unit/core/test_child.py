"""Work on untrusted data in a bounded child process (core/child.py)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import pytest

from iter8_action.core.child import (
    Died,
    Finished,
    Outcome,
    Refused,
    TooSlow,
    run_bounded,
    value_or_raise,
)
from iter8_action.core.errors import InvalidValue

MIB = 2**20


def _run(
    work: Callable[[], object], *, timeout_s: float = 10.0, memory_bytes: int = 256 * MIB
) -> Outcome:
    return run_bounded(
        work,
        timeout_s=timeout_s,
        memory_bytes=memory_bytes,
        refusals=(KeyError, InvalidValue),
    )


def test_the_answer_comes_back_as_json_data() -> None:
    assert _run(lambda: {"text": "é\n", "notices": ["a"], "n": 1.5}) == Finished(
        {"text": "é\n", "notices": ["a"], "n": 1.5}
    )


def test_an_allowed_exception_is_a_refusal_with_its_kind_and_message() -> None:
    def work() -> str:
        raise InvalidValue("no good: line 3")

    assert _run(work) == Refused(InvalidValue, "no good: line 3")


def test_another_exception_is_a_bug() -> None:
    def work() -> str:
        raise ZeroDivisionError("division by zero")

    with pytest.raises(RuntimeError, match="ZeroDivisionError: division by zero"):
        _run(work)


def test_work_past_its_time_is_killed() -> None:
    started = time.monotonic()
    assert _run(lambda: time.sleep(60), timeout_s=0.5) == TooSlow(0.5)
    # far below the 60 s the work wanted: the parent stopped waiting and killed it
    assert time.monotonic() - started < 30


def test_a_regular_expression_that_backtracks_without_end_is_stopped() -> None:
    import re

    pattern = re.compile(r"^(a+)+$")
    assert _run(lambda: bool(pattern.match("a" * 64 + "b")), timeout_s=0.5) == TooSlow(0.5)


def test_a_child_that_dies_says_how() -> None:
    assert _run(lambda: os.kill(os.getpid(), signal.SIGKILL)) == Died(
        f"signal {signal.SIGKILL.value}"
    )


def test_memory_past_the_bound_cannot_be_had() -> None:
    def work() -> str:
        try:
            bytearray(512 * MIB)
        except MemoryError:
            return "refused"
        return "allocated"

    assert _run(work, memory_bytes=64 * MIB) == Finished("refused")


def test_value_or_raise_gives_the_value_or_the_callers_message() -> None:
    def died(how: str) -> str:
        return f"{{x}} ended with {how}"  # braces are data, never formatted again

    def ask(outcome: Outcome) -> object:
        return value_or_raise(outcome, InvalidValue, too_slow="a{2,3} took too long", died=died)

    assert ask(Finished([1, "a"])) == [1, "a"]
    cases: list[tuple[Outcome, str]] = [
        (Refused(InvalidValue, "its own {message}"), "its own {message}"),
        (TooSlow(1.0), "a{2,3} took too long"),
        (Died("signal 9"), "{x} ended with signal 9"),
    ]
    for outcome, message in cases:
        with pytest.raises(InvalidValue) as refused:
            ask(outcome)
        assert str(refused.value) == message
