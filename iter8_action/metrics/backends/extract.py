"""A metric's value from a backend's JSON answer, through a real jq (the `jq` package).

As in Iter8, the first result of the expression is the value. What is not a
finite number (null, no result, a list, `"NaN"`, `+Inf`) is "no data", with a
reason that says what the expression gave, so the user can fix the query or
the expression without guessing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import jq

from iter8_action.core.child import Died, Finished, Refused, TooSlow, run_bounded

_SHOWN_CHARS = 80
JQ_TIMEOUT_S = 5.0
JQ_MEMORY_BYTES = 256 * 1024 * 1024
# jq turns infinities into the largest double; a value that large is no measurement
_JQ_MAX = 1.7976931348623157e308


@dataclass(frozen=True)
class Extracted:
    """A number, or None with the reason there is no data."""

    value: float | None
    reason: str | None = None


def _show(value: Any) -> str:
    text = json.dumps(value, allow_nan=True)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def _backend_error(document: Any) -> str:
    """What the answer says about the missing value (GraphQL `errors`, no Prometheus series)."""
    if not isinstance(document, dict):
        return ""
    data = document.get("data")
    if isinstance(data, dict) and data.get("result") == []:
        return "; the query matched no series (check the labels and the metric names)"
    errors = document.get("errors")
    if isinstance(errors, list) and errors:
        first = errors[0]
        message = first.get("message") if isinstance(first, dict) else first
        return f"; the backend reported: {message}"
    if isinstance(document.get("error"), str):
        return f"; the backend reported: {document['error']}"
    return ""


def to_number(value: Any) -> Extracted:
    """Iter8's conversion: numbers and numeric strings are values; anything else is no data."""
    if value is None:
        return Extracted(None, "the jq expression gave null")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return Extracted(None, f"the jq expression gave {_show(value)}, not a number")
    try:
        number = float(value)
    except ValueError:
        return Extracted(None, f"the jq expression gave {_show(value)}, not a number")
    if math.isnan(number):
        return Extracted(None, "the value is NaN (for example 0/0: no requests in the window)")
    if math.isinf(number) or abs(number) >= _JQ_MAX:
        return Extracted(None, f"the value is infinite ({value})")
    return Extracted(number)


def jq_error(message: str) -> str:
    """jq's message, first line only (the rest draws a caret that a one-line message loses)."""
    first = message.strip().splitlines()[0] if message.strip() else "ValueError"
    return first.removeprefix("jq: error: ").rstrip(":")


def extract(document: Any, expression: str) -> Extracted:
    """Run `expression` on `document` and convert its first result to a number.

    The expression runs in a child process bounded in time and memory (`core.child`): it is
    data (a provider spec may come from a URL), and jq's `repeat`, `recurse` or `range`
    can loop in C where no clock reaches."""
    try:
        program = jq.compile(expression)
    except ValueError as exc:
        return Extracted(None, f"not a valid jq expression: {jq_error(str(exc))}")

    def first() -> dict[str, Any]:
        for result in program.input_value(document):
            return {"found": True, "result": result}
        return {"found": False}

    match run_bounded(
        first, timeout_s=JQ_TIMEOUT_S, memory_bytes=JQ_MEMORY_BYTES, refusals=(ValueError,)
    ):
        case Finished({"found": True, "result": result}):
            return _value_of(result, document)
        case Finished(_):
            return Extracted(None, f"the jq expression gave no result{_backend_error(document)}")
        case Refused(_, raw):
            message = jq_error(raw)
            if message.startswith("null (null)"):
                # `null | tonumber` and the like: the path led nowhere, which is no data
                message = f"the jq expression found null where it expected a value ({message})"
            else:
                message = f"jq failed: {message}"
            return Extracted(None, f"{message}{_backend_error(document)}")
        case TooSlow():
            return Extracted(
                None,
                f"the jq expression took longer than {JQ_TIMEOUT_S:g}s, the most it may take "
                "(a repeat, recurse or range without a limit?)",
            )
        case Died(how):
            return Extracted(
                None,
                f"the jq expression ended with {how} "
                f"(more than {JQ_MEMORY_BYTES // 2**20} MiB of memory?)",
            )
    raise AssertionError("unreachable")


def _value_of(result: Any, document: Any) -> Extracted:
    extracted = to_number(result)
    if result is None and '"NaN"' in json.dumps(document):
        # jq's `tonumber` turns Prometheus's "NaN" into null: say what really happened
        return to_number("NaN")
    if result is None:
        return Extracted(None, f"{extracted.reason}{_backend_error(document)}")
    return extracted
