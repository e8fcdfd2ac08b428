"""Go-style durations (`500ms`, `10s`, `1m30s`, `1.5h`), as Iter8 wrote them.

Follows Go's `time.ParseDuration`: a sequence of decimal numbers, each with a
unit (ns, us, µs, ms, s, m, h); a bare number is accepted as seconds, since
YAML users write `timeout: 5`.
"""

from __future__ import annotations

import re

from iter8_action.core.errors import InvalidValue

_UNITS_S = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


class DurationError(InvalidValue, ValueError):
    """Not a duration; the message says what a duration looks like."""


def parse_duration(value: str | float | int) -> float:
    """A duration in seconds."""
    if isinstance(value, bool):
        raise DurationError(f"{value!r} is not a duration; write it like 500ms, 10s or 1m30s")
    if isinstance(value, int | float):
        if value < 0:
            raise DurationError(f"{value} is negative; a duration is 0 or more")
        return float(value)
    text = value.strip()
    if re.fullmatch(r"\d+(?:\.\d*)?", text):
        return float(text)
    pos = 0
    total = 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS_S[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise DurationError(
            f"{value!r} is not a duration; write it like 500ms, 10s or 1m30s "
            "(units: ns, us, ms, s, m, h)"
        )
    return total


def format_duration(seconds: float) -> str:
    """`90.0` -> `1m30s`, `0.5` -> `500ms`: the inverse of `parse_duration` for display."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    out = f"{hours}h" if hours else ""
    out += f"{minutes}m" if minutes else ""
    if secs or not out:
        out += f"{secs:g}s"
    return out
