"""The values one version's template is rendered with.

`values` deep-merged with the version's `versionValues` entry (a version's map
wins, as Iter8's mustMergeOverwrite did), plus what is always available:
`elapsedTimeSeconds`, `startingTime`, `versionIndex` and `versionName`
(and Iter8 v0.9's spellings `ElapsedTime` and `StartingTime`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from iter8_action.core.errors import InvalidValue


class ValuesError(InvalidValue):
    """A value we compute from cannot be read (e.g. a malformed startingTime)."""


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` merged into a copy of `base`; nested maps merge, everything else is replaced."""
    merged = dict(base)
    for key, value in over.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def parse_time(value: Any, *, field: str) -> datetime:
    """An RFC 3339 string, a YAML timestamp, or Unix seconds, as an aware datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValuesError(
        f"{field} is {value!r}; write an RFC 3339 time such as 2024-05-01T12:00:00Z "
        "(or Unix seconds)"
    )


def version_values(
    values: Mapping[str, Any],
    per_version: Mapping[str, Any],
    *,
    index: int,
    name: str,
    experiment_start: datetime,
    now: datetime,
) -> dict[str, Any]:
    """Everything the template of version `index` may use."""
    merged = deep_merge(values, per_version)
    start_value = merged.get("startingTime", merged.get("StartingTime"))
    start = (
        experiment_start
        if start_value is None
        else parse_time(start_value, field=f"startingTime of version {index} ({name})")
    )
    if "elapsedTimeSeconds" in merged:
        elapsed = merged["elapsedTimeSeconds"]
    else:
        # At least 1: a PromQL range of [0s] is an error, and Iter8 counted whole seconds.
        elapsed = max(1, math.floor((now - start).total_seconds()))
    start_text = start.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {
        **merged,
        "elapsedTimeSeconds": elapsed,
        "startingTime": start_text,
        "versionIndex": index,
        "versionName": name,
        "ElapsedTime": elapsed,
        "StartingTime": int(start.timestamp()),
    }
