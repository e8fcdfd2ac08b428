"""A task's `with:` parsed once into a frozen, typed object (docs/development.md)."""

from __future__ import annotations

import dataclasses

import pytest

from iter8_action.grpcload.planner import LoadInputs
from iter8_action.tasks.http import StreamInputs
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
    assert ReadyInputs.parse({"url": "http://x.invalid/", "status": 503}).wanted == frozenset({503})


def test_parsed_inputs_are_frozen() -> None:
    spec = ReadyInputs.parse({"url": "http://x.invalid/"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.timeout_s = 1.0  # type: ignore[misc]


def test_http_stream_inputs_take_iter8s_defaults() -> None:
    spec = StreamInputs.parse({"url": "http://127.0.0.1:1/"}, "the task")
    assert (spec.connections, spec.max_connections, spec.timeout_s) == (4, None, 10.0)
    assert (spec.qps, spec.num_requests, spec.duration_s) == (8.0, None, None)
    assert spec.error_ranges == ((400, None),)
    assert (spec.method, spec.content_type, spec.payload_str) == (None, None, None)


def test_http_stream_inputs_read_every_field() -> None:
    spec = StreamInputs.parse(
        {
            "url": "https://127.0.0.1:1/",
            "qps": "max",
            "duration": "1m",
            "connections": 8,
            "maxConnections": 16,
            "timeout": "2s",
            "headers": {"X-Trace": 1},
            "errorRanges": [{"lower": 500}],
            "percentiles": [99.9],
            "payloadStr": "{}",
            "caFile": "ca.pem",
            "insecureSkipVerify": True,
        },
        "the task",
    )
    assert (spec.qps, spec.duration_s, spec.connections, spec.max_connections) == (
        None,
        60.0,
        8,
        16,
    )
    assert (spec.timeout_s, spec.headers, spec.error_ranges) == (
        2.0,
        {"X-Trace": "1"},
        ((500, None),),
    )
    assert (spec.percentiles, spec.payload_str, spec.ca_file) == ((99.9,), "{}", "ca.pem")
    assert spec.insecure_skip_verify


def test_grpc_load_inputs_take_ghzs_defaults() -> None:
    spec = LoadInputs.parse({"host": "127.0.0.1:1", "call": "a.B.C"}, "the task")
    assert spec == LoadInputs(
        concurrency=50,
        connections=1,
        timeout_s=20.0,
        skip_first=0,
        connect_timeout_s=None,
        max_duration_s=None,
        keepalive_s=None,
        count_errors=True,
        percentiles=(),
        rps=None,
        total=200,
        duration_s=None,
    )


def test_grpc_load_inputs_read_durations_and_rates() -> None:
    spec = LoadInputs.parse(
        {"rps": 50, "duration": "10s", "keepalive": "30s", "max-duration": "1m"}, "the task"
    )
    assert (spec.rps, spec.duration_s, spec.keepalive_s, spec.max_duration_s) == (
        50.0,
        10.0,
        30.0,
        60.0,
    )
