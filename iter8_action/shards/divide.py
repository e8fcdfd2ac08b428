"""Each shard's share of a load stream, so that the shares add up to the whole exactly.

Counts and connections are cut as evenly as integers go (10 requests over 3
shards: 4, 3, 3). An open-loop schedule is dealt out slot by slot: shard I (from
0) sends slots I, I+N, I+2N, ... of the whole schedule, that is its share of the
slots at 1/N of the rate, offset by I periods. So N shards together send at the
rate asked, interleaved in time as one process would, with versions still
alternating. A duration becomes the count of slots it holds, so the shares of
`duration x qps` add up exactly too. A closed loop with a duration runs for the
whole duration on every shard, with its share of the connections.
"""

from __future__ import annotations

import math
from dataclasses import replace

from iter8_action.load.grpc.plan import GrpcStream
from iter8_action.load.http.plan import Stream
from iter8_action.shards.spec import ShardSpec


def part(total: int, spec: ShardSpec) -> int:
    """Shard `spec`'s part of `total`: the first `total % N` shards get one more."""
    n, i = spec.total, spec.zero_based
    return total // n + (1 if i < total % n else 0)


def at_least_one(total: int, spec: ShardSpec) -> int:
    """A part of a pool (connections, concurrency): every shard needs one to send at all."""
    return max(1, part(total, spec))


def http_stream(stream: Stream, spec: ShardSpec) -> Stream:
    connections = at_least_one(stream.connections, spec)
    if stream.qps is None:
        count = None if stream.num_requests is None else part(stream.num_requests, spec)
        return replace(stream, connections=connections, num_requests=count)
    cap = max(connections, part(stream.pool_cap(), spec))
    return replace(
        stream,
        qps=stream.qps / spec.total,
        num_requests=part(stream.scheduled_count(), spec),
        duration_s=None,
        connections=connections,
        max_connections=cap,
        phase_s=stream.phase_s + spec.zero_based / stream.qps,
    )


def grpc_stream(stream: GrpcStream, spec: ShardSpec) -> GrpcStream:
    concurrency = at_least_one(stream.concurrency, spec)
    connections = min(at_least_one(stream.connections, spec), concurrency)
    skip_first = part(stream.skip_first, spec)
    if stream.rps is None:
        total = None if stream.total is None else part(stream.total, spec)
        return replace(
            stream,
            total=total,
            concurrency=concurrency,
            connections=connections,
            skip_first=skip_first,
        )
    count = stream.total
    if count is None:
        assert stream.duration_s is not None
        # as the load generator counts the slots of a duration
        count = max(1, math.ceil(stream.duration_s * stream.rps - 1e-9))
    return replace(
        stream,
        rps=stream.rps / spec.total,
        total=part(count, spec),
        duration_s=None,
        concurrency=concurrency,
        connections=connections,
        skip_first=skip_first,
        phase_s=stream.phase_s + spec.zero_based / stream.rps,
    )
