"""Each shard's share of a stream: the shares add up to the whole, the schedule is dealt out."""

from __future__ import annotations

import math

import pytest

from iter8_action.load.grpc.plan import GrpcStream
from iter8_action.load.http.plan import Stream, with_phases
from iter8_action.shards.divide import grpc_stream, http_stream, part
from iter8_action.shards.spec import ShardSpec


def _http(**fields: object) -> Stream:
    base: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 80,
        "request": b"GET / HTTP/1.1\r\n\r\n",
        "connections": 4,
        "timeout_s": 1.0,
    }
    return Stream(**{**base, **fields})  # type: ignore[arg-type]


def _grpc(**fields: object) -> GrpcStream:
    base: dict[str, object] = {
        "host": "127.0.0.1:50051",
        "path": "/p.S/M",
        "request": b"",
        "metadata": (),
        "total": 200,
        "duration_s": None,
        "rps": None,
        "concurrency": 50,
        "connections": 1,
        "timeout_s": 20.0,
        "skip_first": 0,
        "tls": None,
    }
    return GrpcStream(**{**base, **fields})  # type: ignore[arg-type]


def shards(n: int) -> list[ShardSpec]:
    return [ShardSpec(i, n) for i in range(1, n + 1)]


def test_ten_requests_over_three_shards_are_four_three_three() -> None:
    assert [part(10, s) for s in shards(3)] == [4, 3, 3]


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_closed_loop_counts_and_connections_add_up(n: int) -> None:
    stream = _http(num_requests=1001, connections=16, qps=None)
    parts = [http_stream(stream, s) for s in shards(n)]
    assert sum(p.num_requests or 0 for p in parts) == 1001
    assert sum(p.connections for p in parts) == 16
    assert all(p.qps is None for p in parts)


def test_every_shard_keeps_a_connection_when_there_are_fewer_than_shards() -> None:
    parts = [http_stream(_http(connections=2, qps=None, num_requests=9), s) for s in shards(3)]
    assert [p.connections for p in parts] == [1, 1, 1]


@pytest.mark.parametrize(("n", "qps", "duration"), [(3, 100.0, 10.0), (4, 7.0, 3.3), (2, 1.0, 1)])
def test_open_loop_slots_are_dealt_out_exactly(n: int, qps: float, duration: float) -> None:
    stream = _http(qps=qps, duration_s=duration)
    whole = stream.scheduled_count()
    times: list[float] = []
    for spec in shards(n):
        share = http_stream(stream, spec)
        assert share.qps is not None
        assert share.qps == pytest.approx(qps / n)
        assert share.duration_s is None
        times += [share.phase_s + i / share.qps for i in range(share.scheduled_count())]
    assert len(times) == whole
    expected = [i / qps for i in range(whole)]
    assert sorted(times) == pytest.approx(expected)
    assert sum(qps / n for _ in range(n)) == pytest.approx(qps, rel=1e-12)


def test_versions_still_alternate_within_a_shard() -> None:
    spec = ShardSpec(2, 3)
    streams = with_phases([http_stream(_http(qps=30.0, num_requests=30), spec) for _ in range(2)])
    # shard 2 of 3 sends slots 1, 4, 7... of each version; the second version half a slot later
    assert streams[0].phase_s == pytest.approx(1 / 30)
    assert streams[1].phase_s == pytest.approx(1 / 30 + 0.5 * 3 / 30)


def test_the_open_loop_pool_cap_is_shared_too() -> None:
    stream = _http(qps=10.0, num_requests=10, max_connections=10)
    parts = [http_stream(stream, s) for s in shards(3)]
    assert sum(p.pool_cap() for p in parts) == 10


def test_grpc_closed_loop_total_concurrency_and_skip_first_add_up() -> None:
    stream = _grpc(total=200, concurrency=50, connections=2, skip_first=5)
    parts = [grpc_stream(stream, s) for s in shards(3)]
    assert sum(p.total or 0 for p in parts) == 200
    assert sum(p.concurrency for p in parts) == 50
    assert sum(p.skip_first for p in parts) == 5
    assert all(1 <= p.connections <= p.concurrency for p in parts)


def test_grpc_open_loop_with_a_duration_becomes_counts_that_add_up() -> None:
    stream = _grpc(total=None, duration_s=2.5, rps=33.0)
    parts = [grpc_stream(stream, s) for s in shards(4)]
    assert sum(p.total or 0 for p in parts) == math.ceil(2.5 * 33.0)
    assert {p.rps for p in parts} == {33.0 / 4}
    assert [p.phase_s for p in parts] == pytest.approx([i / 33.0 for i in range(4)])
