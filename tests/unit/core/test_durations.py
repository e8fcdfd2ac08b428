from __future__ import annotations

import pytest

from iter8_action.core.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("10s", 10.0),
        ("1m30s", 90.0),
        ("1h", 3600.0),
        ("1.5h", 5400.0),
        ("2h45m", 9900.0),
        ("250us", 0.00025),
        ("250µs", 0.00025),
        ("100ns", 1e-7),
        (" 5s ", 5.0),
        ("5", 5.0),
        (".5s", 0.5),
        (7, 7.0),
        (0.25, 0.25),
    ],
)
def test_parses_go_durations(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "x", "10 s", "1d", "s", "1m30", "-5s", True, -1])
def test_rejects_what_is_not_a_duration(text: str | float) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.5, "500ms"), (90.0, "1m30s"), (3600.0, "1h"), (0.0, "0ms"), (10, "10s")],
)
def test_formats(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
