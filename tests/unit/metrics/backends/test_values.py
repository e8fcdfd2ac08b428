"""The values a version's template renders with."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from iter8_action.metrics.backends.values import ValuesError, deep_merge, parse_time, version_values

START = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
NOW = datetime(2024, 5, 1, 12, 1, 30, 600000, tzinfo=UTC)


def _values(values: dict[str, Any], per_version: dict[str, Any]) -> dict[str, Any]:
    return version_values(
        values, per_version, index=1, name="canary", experiment_start=START, now=NOW
    )


def test_deep_merge_merges_maps_and_replaces_the_rest() -> None:
    base = {"labels": {"app": "shop", "version": "v1"}, "percentiles": [50, 95], "url": "a"}
    over = {"labels": {"version": "v2"}, "percentiles": [99]}
    assert deep_merge(base, over) == {
        "labels": {"app": "shop", "version": "v2"},
        "percentiles": [99],
        "url": "a",
    }
    assert base["labels"] == {"app": "shop", "version": "v1"}


def test_always_available_values() -> None:
    assert _values({"url": "u"}, {"labels": {"version": "v2"}}) == {
        "url": "u",
        "labels": {"version": "v2"},
        "elapsedTimeSeconds": 90,
        "startingTime": "2024-05-01T12:00:00Z",
        "versionIndex": 1,
        "versionName": "canary",
        "ElapsedTime": 90,
        "StartingTime": 1714564800,
    }


@pytest.mark.parametrize(
    "starting",
    [
        "2024-05-01T12:01:00Z",
        "2024-05-01T14:01:00+02:00",
        datetime(2024, 5, 1, 12, 1, 0),
        1714564860,
    ],
)
def test_starting_time_in_any_iter8_spelling(starting: Any) -> None:
    values = _values({}, {"startingTime": starting})
    assert (values["elapsedTimeSeconds"], values["startingTime"]) == (30, "2024-05-01T12:01:00Z")


def test_iter8_v09_starting_time_in_unix_seconds() -> None:
    assert _values({"StartingTime": 1714564860}, {})["elapsedTimeSeconds"] == 30


def test_elapsed_time_is_at_least_one_second() -> None:
    values = _values({}, {"startingTime": "2024-05-01T12:05:00Z"})
    assert values["elapsedTimeSeconds"] == 1


def test_an_explicit_elapsed_time_is_kept() -> None:
    assert _values({"elapsedTimeSeconds": 600}, {})["elapsedTimeSeconds"] == 600


@pytest.mark.parametrize("bad", ["yesterday", True, [1]])
def test_a_malformed_starting_time_is_an_error(bad: Any) -> None:
    with pytest.raises(ValuesError) as caught:
        _values({"startingTime": bad}, {})
    assert str(caught.value) == (
        f"startingTime of version 1 (canary) is {bad!r}; write an RFC 3339 time such as "
        "2024-05-01T12:00:00Z (or Unix seconds)"
    )


def test_parse_time_assumes_utc_without_an_offset() -> None:
    assert parse_time("2024-05-01T12:00:00", field="x") == START
