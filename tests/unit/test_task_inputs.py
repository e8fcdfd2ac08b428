"""A task's `with:` parsed once into a frozen, typed object (docs/development.md)."""

from __future__ import annotations

import dataclasses

import pytest

from iter8_action.tasks.ready import ReadyInputs


def test_ready_inputs_take_their_defaults() -> None:
    assert ReadyInputs.parse({"url": "http://127.0.0.1:1/health"}) == ReadyInputs(
        timeout_s=60.0,
        interval_s=1.0,
        url="http://127.0.0.1:1/health",
        method="GET",
        headers={},
        wanted=None,
        verify=True,
        host="",
        port=0,
    )


def test_ready_inputs_read_every_field() -> None:
    spec = ReadyInputs.parse(
        {
            "host": "127.0.0.1",
            "port": 8080,
            "timeout": "2m",
            "interval": "500ms",
            "status": [200, 204],
            "insecureSkipVerify": True,
        }
    )
    assert (spec.target, spec.timeout_s, spec.interval_s) == ("127.0.0.1:8080", 120.0, 0.5)
    assert (spec.wanted, spec.verify) == (frozenset({200, 204}), False)
    assert ReadyInputs.parse({"url": "http://x.invalid/", "status": 503}).wanted == {503}


def test_parsed_inputs_are_frozen() -> None:
    spec = ReadyInputs.parse({"url": "http://x.invalid/"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.timeout_s = 1.0  # type: ignore[misc]
