"""The grpc task against a real gRPC server on 127.0.0.1: counts, data, errors, versions."""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import descriptor_pb2

from iter8_action.core.errors import InputsInvalid, Interrupted, TaskFailed
from iter8_action.core.secrets import SECRETS
from iter8_action.engine.aliases import canonical_task
from iter8_action.tasks import registry
from iter8_action.tasks.base import TaskContext
from iter8_action.tasks.grpc import TASK, run
from tests.support.contexts import task_context
from tests.support.servers.base import RecordingServer, Reply
from tests.support.servers.grpc_target import CALL, PROTO, GrpcTarget, protoset
from tests.support.servers.targets import closed_port, self_signed_certificate


@pytest.fixture
def target() -> Iterator[GrpcTarget]:
    with GrpcTarget() as server:
        yield server


def _context(base_dir: Path) -> TaskContext:
    return task_context("grpc", base_dir, logger="tests.grpc", level=logging.INFO)


def _run(inputs: dict[str, Any], base_dir: Path) -> TaskContext:
    ctx = _context(base_dir)
    TASK.execute(inputs, ctx)
    return ctx


def _inputs(target: GrpcTarget, **fields: Any) -> dict[str, Any]:
    return {"host": target.host, "call": CALL, "proto": str(PROTO), **fields}


def test_the_task_is_registered() -> None:
    assert registry()["grpc"].run is run


def test_n_calls_sent_are_n_recorded(target: GrpcTarget, tmp_path: Path) -> None:
    ctx = _run(_inputs(target, total=40, concurrency=4), tmp_path)
    store = ctx.store
    assert target.count() == 40
    assert store.value("grpc/request-count", 0) == 40
    assert store.value("grpc/error-count", 0) == 0
    assert store.value("grpc/error-rate", 0) == 0.0
    assert store.summary("grpc/status-codes", 0) == {"OK": 40}
    assert store.summary("grpc/errors-by-kind", 0) == {}
    for name in ("mean", "stddev", "min", "max", "p50", "p75", "p90", "p95", "p99", "p99.9"):
        value = store.value(f"grpc/latency/{name}", 0)
        assert value is not None and 0 <= value < 1000, name
    hist = store.histogram("grpc/latency", 0)
    assert hist is not None and sum(b.count for b in hist) == 40
    assert store.version_names == ["v1"]
    # a percentile nobody asked for comes from the full-resolution distribution
    assert store.value("grpc/latency/p97.5", 0) is not None


def test_data_and_metadata_reach_the_server(target: GrpcTarget, tmp_path: Path) -> None:
    inputs = _inputs(
        target,
        total=3,
        data={"name": "frodo", "tags": ["a", "b"], "sent": "2024-01-02T03:04:05Z"},
        metadata={"X-Team": "hobbits", "trace-id": "42"},
    )
    _run(inputs, tmp_path)
    assert [c.request for c in target.calls] == [
        {"name": "frodo", "tags": ["a", "b"], "sent": "2024-01-02T03:04:05Z"}
    ] * 3
    for call in target.calls:
        assert call.metadata["x-team"] == "hobbits" and call.metadata["trace-id"] == "42"


def test_a_protoset_gives_the_types(target: GrpcTarget, tmp_path: Path) -> None:
    path = protoset(tmp_path)
    inputs = {"host": target.host, "call": CALL, "protoset": path.name, "total": 5}
    inputs["data"] = {"name": "sam"}
    ctx = _run(inputs, tmp_path)
    assert ctx.store.value("grpc/request-count", 0) == 5
    assert [c.request["name"] for c in target.calls] == ["sam"] * 5


def test_server_reflection_gives_the_types(target: GrpcTarget, tmp_path: Path) -> None:
    inputs = {"host": target.host, "call": CALL, "data": {"sleepMs": 1}, "total": 5}
    ctx = _run(inputs, tmp_path)
    assert ctx.store.summary("grpc/status-codes", 0) == {"OK": 5}
    assert [c.request for c in target.calls] == [{"sleepMs": 1}] * 5


def test_a_data_file_and_a_binary_file_give_the_request(target: GrpcTarget, tmp_path: Path) -> None:
    (tmp_path / "hello.json").write_text('{"name": "pippin"}')
    request = target.request_type(name="merry", tags=["x"])
    (tmp_path / "hello.bin").write_bytes(request.SerializeToString())
    _run(_inputs(target, total=2, **{"data-file": "hello.json"}), tmp_path)
    _run(_inputs(target, total=2, **{"binary-file": "hello.bin"}), tmp_path)
    assert [c.request for c in target.calls] == [{"name": "pippin"}] * 2 + [
        {"name": "merry", "tags": ["x"]}
    ] * 2


def test_open_loop_keeps_the_schedule(target: GrpcTarget, tmp_path: Path) -> None:
    started = time.monotonic()
    ctx = _run(_inputs(target, total=10, rps=40), tmp_path)
    elapsed = time.monotonic() - started
    assert ctx.store.value("grpc/request-count", 0) == 10
    assert 0.2 <= elapsed < 2.5  # 10 calls at 40 per second: the last leaves at 225 ms
    rps = ctx.store.value("grpc/rps-achieved", 0)
    assert rps is not None and 32 <= rps <= 48  # room for a late send on a busy machine


def test_duration_sets_the_count_of_an_open_loop(target: GrpcTarget, tmp_path: Path) -> None:
    ctx = _run(_inputs(target, duration="300ms", rps=50, total=999), tmp_path)
    assert ctx.store.value("grpc/request-count", 0) == 15  # duration wins over total, as in ghz
    assert target.count() == 15


def test_closed_loop_for_a_duration_ends_on_time(target: GrpcTarget, tmp_path: Path) -> None:
    started = time.monotonic()
    ctx = _run(_inputs(target, duration="300ms", concurrency=4), tmp_path)
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 5.0
    count = ctx.store.value("grpc/request-count", 0)
    assert count is not None and count == target.count() and count > 20


def test_a_stall_shows_up_in_the_tail_latency(target: GrpcTarget, tmp_path: Path) -> None:
    """Calls due while the server froze are timed from their due time, so the
    freeze shows in p99 (a closed-loop view would hide it)."""
    freezer = threading.Timer(0.4, target.freeze, args=(0.5,))
    freezer.start()
    ctx = _run(_inputs(target, total=100, rps=100, concurrency=4), tmp_path)
    freezer.join()
    p50 = ctx.store.value("grpc/latency/p50", 0)
    p99 = ctx.store.value("grpc/latency/p99", 0)
    assert p50 is not None and p50 < 100
    # with 4 calls in flight, calls due during the freeze wait for a free slot; the
    # upper bound only leaves out a freeze counted twice
    assert p99 is not None and 380 < p99 < 1500


def test_too_little_concurrency_is_a_warning_with_the_numbers(
    target: GrpcTarget, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """100 rps to a method that takes 50 ms needs 5 calls in flight; with 2 allowed, calls
    wait for a slot, and the task says the client, not the server, was the limit."""
    inputs = _inputs(target, total=60, rps=100, concurrency=2, data={"sleep_ms": 50})
    with caplog.at_level(logging.INFO, logger="tests.grpc"):
        ctx = _run(inputs, tmp_path)
    assert ctx.store.value("grpc/request-count", 0) == 60
    waited = ctx.store.value("grpc/waited-count", 0)
    assert waited is not None and 50 <= waited <= 58
    limit = ctx.store.summary("grpc/client-limit", 0)
    assert limit is not None
    assert limit["call slots allowed (concurrency)"] == 2
    assert limit["call slots used (peak)"] == 2
    # Little's law: rate x mean time a call holds its slot (50 ms and gRPC's own)
    assert limit["time per call (ms)"] >= 50
    assert limit["call slots needed (rate x time)"] == math.ceil(limit["time per call (ms)"] / 10)
    assert "calls waited for a free call slot (2 in use, concurrency 2)" in caplog.text
    assert "raise concurrency to at least " in caplog.text


def test_enough_concurrency_is_no_warning(
    target: GrpcTarget, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    inputs = _inputs(target, total=60, rps=100, concurrency=20, data={"sleep_ms": 50})
    with caplog.at_level(logging.INFO, logger="tests.grpc"):
        ctx = _run(inputs, tmp_path)
    assert ctx.store.value("grpc/waited-count", 0) == 0
    assert ctx.store.summary("grpc/client-limit", 0) is None
    assert "limited the rate" not in caplog.text


def test_errors_are_counted_by_status(target: GrpcTarget, tmp_path: Path) -> None:
    ctx = _run(_inputs(target, total=6, data={"failWith": "INVALID_ARGUMENT"}), tmp_path)
    store = ctx.store
    assert store.value("grpc/request-count", 0) == 6
    assert store.value("grpc/error-count", 0) == 6
    assert store.value("grpc/error-rate", 0) == 1.0
    assert store.summary("grpc/status-codes", 0) == {"INVALID_ARGUMENT": 6}
    assert store.summary("grpc/errors-by-kind", 0) == {"INVALID_ARGUMENT": 6}


def test_a_call_past_its_timeout_is_deadline_exceeded(target: GrpcTarget, tmp_path: Path) -> None:
    inputs = _inputs(target, total=3, timeout="100ms", data={"sleepMs": 400})
    ctx = _run(inputs, tmp_path)
    assert ctx.store.summary("grpc/status-codes", 0) == {"DEADLINE_EXCEEDED": 3}
    low = ctx.store.value("grpc/latency/min", 0)
    assert low is not None and 100 <= low < 400


def test_a_server_that_is_down_gives_all_errors_and_a_clear_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    host = f"127.0.0.1:{closed_port()}"
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="tests.grpc"):
        ctx = _run({"host": host, "call": CALL, "proto": str(PROTO), "total": 20}, tmp_path)
    assert time.monotonic() - started < 5
    assert ctx.store.summary("grpc/status-codes", 0) == {"UNAVAILABLE": 20}
    assert ctx.store.value("grpc/error-rate", 0) == 1.0
    warning = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warning) == 1
    assert warning[0].startswith(
        f"grpc v1 ({host}/iter8test.Greeter/SayHello): every call failed (UNAVAILABLE 20): "
        "UNAVAILABLE: "
    )
    assert warning[0].endswith(
        "; is the server running and listening on that host and port "
        "(and does insecure match whether it serves TLS)?"
    )


def test_skip_first_leaves_the_first_answers_out(target: GrpcTarget, tmp_path: Path) -> None:
    ctx = _run(_inputs(target, total=10, concurrency=1, skipFirst=3), tmp_path)
    assert target.count() == 10
    assert ctx.store.value("grpc/request-count", 0) == 7
    hist = ctx.store.histogram("grpc/latency", 0)
    assert hist is not None and sum(b.count for b in hist) == 7


def test_warmup_sends_but_records_nothing(
    target: GrpcTarget, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tests.grpc"):
        ctx = _run(_inputs(target, total=8, warmup=True), tmp_path)
    assert target.count() == 8
    assert ctx.store.names() == []
    assert "warmup done: its results are discarded" in caplog.messages


def test_endpoints_get_their_own_metrics(target: GrpcTarget, tmp_path: Path) -> None:
    inputs = _inputs(
        target,
        total=4,
        endpoints={
            "hello": {"data": {"name": "a"}},
            "bye": {"call": "iter8test.Greeter/Farewell", "total": 6, "percentiles": [97.5]},
        },
    )
    ctx = _run(inputs, tmp_path)
    store = ctx.store
    assert store.value("grpc-hello/request-count", 0) == 4
    assert store.value("grpc-bye/request-count", 0) == 6
    assert store.value("grpc-bye/latency/p97.5", 0) is not None
    assert store.value("grpc/request-count", 0) is None
    assert target.count("SayHello") == 4 and target.count("Farewell") == 6


def test_versions_are_called_together_and_kept_apart(tmp_path: Path) -> None:
    with GrpcTarget() as stable, GrpcTarget() as canary:
        inputs = {
            "call": CALL,
            "proto": str(PROTO),
            "total": 30,
            "rps": 100,
            "metadata": {"team": "a", "stage": "test"},
            "versions": [
                {"name": "stable", "host": stable.host},
                {"name": "canary", "host": canary.host, "metadata": {"stage": "canary"}},
            ],
        }
        ctx = _run(inputs, tmp_path)
    store = ctx.store
    assert store.version_names == ["stable", "canary"]
    assert [store.value("grpc/request-count", v) for v in (0, 1)] == [30, 30]
    assert stable.count() == 30 and canary.count() == 30
    assert {c.metadata["stage"] for c in canary.calls} == {"canary"}
    assert {(c.metadata["team"], c.metadata["stage"]) for c in stable.calls} == {("a", "test")}
    first_canary = min(c.at for c in canary.calls)
    last_stable = max(c.at for c in stable.calls)
    assert first_canary < last_stable


def test_an_interrupted_run_stops_within_a_second(target: GrpcTarget, tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    threading.Timer(0.3, ctx.stop.set).start()
    started = time.monotonic()
    with pytest.raises(Interrupted):
        TASK.execute(_inputs(target, duration="30s", concurrency=2, data={"sleepMs": 50}), ctx)
    assert time.monotonic() - started < 3  # of a 30 s run: room for a busy machine


def test_tls_with_the_ca_certificate(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    server = GrpcTarget()
    tls_host = server.add_tls_port(cert, key)
    with server:
        inputs = {"host": tls_host, "call": CALL, "total": 3, "insecure": False}
        ctx = _run({**inputs, "cacert": str(cert)}, tmp_path)
        assert ctx.store.summary("grpc/status-codes", 0) == {"OK": 3}
        untrusted = _run({**inputs, "proto": str(PROTO)}, tmp_path)
        assert untrusted.store.summary("grpc/status-codes", 0) == {"UNAVAILABLE": 3}


UNKNOWN_METHOD = (
    "the task: proto {proto!r} has no method 'iter8test.Greeter.SayHelo'; methods that "
    "exist, nearest first: iter8test.Greeter.SayHello, iter8test.Greeter.SayHellos, "
    "iter8test.Greeter.Farewell, iter8test.Greeter.Chat, iter8test.Greeter.Collect"
)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"call": "iter8test.Greeter.SayHelo"}, UNKNOWN_METHOD),
        (
            {"call": "iter8test.Greeter.SayHellos"},
            "the task: iter8test.Greeter.SayHellos is a server streaming method; "
            "the grpc task calls unary methods only",
        ),
        (
            {"call": "iter8test.Greeter/Collect"},
            "the task: iter8test.Greeter.Collect is a client streaming method; "
            "the grpc task calls unary methods only",
        ),
        (
            {"call": "iter8test.Greeter.Chat"},
            "the task: iter8test.Greeter.Chat is a bidirectional streaming method; "
            "the grpc task calls unary methods only",
        ),
        (
            {"call": "iter8test.Welcomer.SayHello"},
            "the task: proto {proto!r} has no method 'iter8test.Welcomer.SayHello'; methods "
            "that exist, nearest first: iter8test.Greeter.SayHello, "
            "iter8test.Greeter.SayHellos, iter8test.Greeter.Collect, "
            "iter8test.Greeter.Chat, iter8test.Greeter.Farewell",
        ),
        (
            {"data": {"nam": "x"}},
            "the task: data does not fit iter8test.HelloRequest: Message type "
            '"iter8test.HelloRequest" has no field named "nam" at "HelloRequest". Available '
            "Fields(except extensions): \"['name', 'sleepMs', 'failWith', 'sent', 'tags']\"",
        ),
        (
            {"data": {"sleepMs": "soon"}},
            "the task: data does not fit iter8test.HelloRequest: Failed to parse sleepMs "
            "field: invalid literal for int() with base 10: 'soon'.",
        ),
        (
            {"proto": "missing.proto"},
            "the task: proto 'missing.proto' does not exist ({dir}/missing.proto)",
        ),
        (
            {"data-file": "missing.json"},
            "the task: data-file 'missing.json' cannot be read (No such file or directory)",
        ),
        (
            {"data-file": "list.json"},
            "the task: data-file 'list.json' holds a JSON list; it must hold one JSON object, "
            "the request message",
        ),
        (
            {"data-file": "broken.json"},
            "the task: data-file 'broken.json' is not JSON (Expecting property name enclosed "
            "in double quotes: line 1 column 2 (char 1))",
        ),
        (
            {"binary-file": "garbage.bin"},
            "the task: binary-file 'garbage.bin' is not a serialized iter8test.HelloRequest "
            "message",
        ),
        (
            {"protoset": "missing.protoset", "proto": None},
            "the task: protoset 'missing.protoset' cannot be read (No such file or directory)",
        ),
        (
            {"protoset": "empty.protoset", "proto": None},
            "the task: protoset 'empty.protoset' is not a FileDescriptorSet (it holds no file)",
        ),
        (
            {"insecure": False, "cacert": "list.json"},
            "the task: cacert 'list.json' is not a PEM file of CA certificates",
        ),
    ],
)
def test_bad_inputs_fail_with_a_clear_message(
    target: GrpcTarget, tmp_path: Path, fields: dict[str, Any], message: str
) -> None:
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "broken.json").write_text("{{")
    (tmp_path / "garbage.bin").write_bytes(b"\xff\xff\xff")
    (tmp_path / "empty.protoset").write_bytes(b"")
    inputs = {k: v for k, v in _inputs(target, total=1, **fields).items() if v is not None}
    with pytest.raises(TaskFailed) as failure:
        _run(inputs, tmp_path)
    assert str(failure.value) == message.format(proto=str(PROTO), dir=tmp_path)
    assert target.count() == 0


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"duration": "0s"},
            ("duration",),
            "the task has duration 0: give it a duration like 10s, or total",
        ),
        (
            {"endpoints": {"a": {"host": "h:1"}}, "versions": [{"host": "h:2"}, {"host": "h:3"}]},
            ("endpoints", "a", "host"),
            "endpoint a sets host but there are 2 versions; give each version its host and "
            "leave host out of endpoints",
        ),
        (
            {"host": None, "endpoints": {"a": {"call": CALL}}},
            ("endpoints", "a"),
            "endpoint a has no host; set host: (host:port of the gRPC server)",
        ),
        (
            {"call": None, "versions": [{"name": "blue", "host": "h:1"}]},
            (),
            "version blue has no call; set call: (package.Service.Method)",
        ),
        (
            {"versions": [{"name": "a", "host": "h:1"}, {"name": "a", "host": "h:2"}]},
            ("versions", 1, "name"),
            "two versions are named 'a'; give each version its own name",
        ),
    ],
)
def test_bad_inputs_are_refused_at_load_with_a_clear_message(
    target: GrpcTarget,
    tmp_path: Path,
    fields: dict[str, Any],
    field: tuple[str | int, ...],
    message: str,
) -> None:
    inputs = {k: v for k, v in _inputs(target, total=1, **fields).items() if v is not None}
    with pytest.raises(InputsInvalid) as refused:
        _run(inputs, tmp_path)
    assert (refused.value.field, refused.value.message) == (field, message)
    assert target.count() == 0


def test_a_proto_that_does_not_compile_fails_with_protocs_message(tmp_path: Path) -> None:
    (tmp_path / "bad.proto").write_text('syntax = "proto3";\nmessage M { strin name = 1; }\n')
    with pytest.raises(TaskFailed) as failure:
        _run({"host": "127.0.0.1:1", "call": "M.X", "proto": "bad.proto"}, tmp_path)
    assert str(failure.value).startswith(f"the task: cannot compile {tmp_path}/bad.proto: ")
    assert "strin" in str(failure.value)


def test_a_file_that_is_not_a_protoset_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "x.protoset").write_bytes(b"\xff\xff not protobuf")
    with pytest.raises(TaskFailed) as failure:
        _run({"host": "127.0.0.1:1", "call": CALL, "protoset": "x.protoset"}, tmp_path)
    assert str(failure.value).startswith(
        "the task: protoset 'x.protoset' is not a FileDescriptorSet ("
    )


def test_reflection_on_a_server_that_is_down_fails_clearly(tmp_path: Path) -> None:
    host = f"127.0.0.1:{closed_port()}"
    with pytest.raises(TaskFailed) as failure:
        _run({"host": host, "call": CALL}, tmp_path)
    message = str(failure.value)
    assert message.startswith(f"the task: server reflection on {host} failed (UNAVAILABLE: ")
    assert message.endswith(
        "is the server up and does it enable reflection? Otherwise give proto: "
        "(a .proto file) or protoset:"
    )


def test_a_version_that_is_down_borrows_anothers_reflection(tmp_path: Path) -> None:
    down = f"127.0.0.1:{closed_port()}"
    with GrpcTarget() as up:
        inputs = {
            "call": CALL,
            "total": 4,
            "versions": [{"name": "down", "host": down}, {"name": "up", "host": up.host}],
        }
        ctx = _run(inputs, tmp_path)
    assert ctx.store.summary("grpc/status-codes", 0) == {"UNAVAILABLE": 4}
    assert ctx.store.summary("grpc/status-codes", 1) == {"OK": 4}


def test_connections_are_separate_http2_connections(target: GrpcTarget, tmp_path: Path) -> None:
    _run(_inputs(target, total=30, connections=3), tmp_path)
    assert len({c.peer for c in target.calls}) == 3


def test_reflection_is_asked_once_per_host(target: GrpcTarget, tmp_path: Path) -> None:
    inputs = {
        "host": target.host,
        "call": CALL,
        "total": 2,
        "endpoints": {"a": {}, "b": {"call": "iter8test.Greeter.Farewell"}},
    }
    ctx = _run(inputs, tmp_path)
    assert ctx.store.value("grpc-a/request-count", 0) == 2
    assert ctx.store.value("grpc-b/request-count", 0) == 2


def test_tls_with_a_server_name_override(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    server = GrpcTarget()
    tls_host = server.add_tls_port(cert, key)
    with server:
        inputs = {"host": tls_host, "call": CALL, "total": 2, "insecure": False}
        ctx = _run({**inputs, "cacert": str(cert), "cname": "localhost"}, tmp_path)
    assert ctx.store.summary("grpc/status-codes", 0) == {"OK": 2}


def test_secret_metadata_is_masked(target: GrpcTarget, tmp_path: Path) -> None:
    _run(_inputs(target, total=1, metadata={"Authorization": "Bearer s3cr3t-value"}), tmp_path)
    assert target.calls[0].metadata["authorization"] == "Bearer s3cr3t-value"
    assert "s3cr3t-value" not in SECRETS.redact("token Bearer s3cr3t-value")


def test_a_protoset_lists_its_files_in_any_order(target: GrpcTarget, tmp_path: Path) -> None:
    files = descriptor_pb2.FileDescriptorSet.FromString(protoset(tmp_path).read_bytes())
    reordered = descriptor_pb2.FileDescriptorSet(file=list(reversed(files.file)))
    (tmp_path / "reordered.protoset").write_bytes(reordered.SerializeToString())
    inputs = {"host": target.host, "call": CALL, "protoset": "reordered.protoset", "total": 2}
    assert _run(inputs, tmp_path).store.value("grpc/request-count", 0) == 2
    (tmp_path / "partial.protoset").write_bytes(
        descriptor_pb2.FileDescriptorSet(file=[files.file[-1]]).SerializeToString()
    )
    with pytest.raises(TaskFailed) as failure:
        _run({**inputs, "protoset": "partial.protoset"}, tmp_path)
    assert str(failure.value) == (
        "the task: protoset 'partial.protoset': greeter.proto import files that the set does "
        "not hold; write it with protoc --include_imports"
    )


@pytest.fixture
def silent_host() -> Iterator[str]:
    """host:port of a socket that accepts connections and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"127.0.0.1:{sock.getsockname()[1]}"


def test_reflection_on_a_silent_server_ends_at_the_timeout(
    silent_host: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    with pytest.raises(TaskFailed) as failure:
        _run({"host": silent_host, "call": CALL, "timeout": "300ms"}, tmp_path)
    assert time.monotonic() - started < 5  # ends, rather than waiting forever
    assert str(failure.value).startswith(
        f"the task: server reflection on {silent_host} failed (DEADLINE_EXCEEDED: "
    )


def test_calls_to_a_silent_server_end_at_the_timeout(silent_host: str, tmp_path: Path) -> None:
    started = time.monotonic()
    inputs = {"host": silent_host, "call": CALL, "proto": str(PROTO), "timeout": "300ms"}
    ctx = _run({**inputs, "total": 5, "concurrency": 5}, tmp_path)
    assert time.monotonic() - started < 5  # ends, rather than waiting forever
    assert ctx.store.summary("grpc/status-codes", 0) == {"DEADLINE_EXCEEDED": 5}


@pytest.fixture
def files() -> Iterator[RecordingServer]:
    """An HTTP server with the proto, a request, its serialized form and metadata."""
    with RecordingServer() as server:
        server.route("GET", "/greeter.proto", lambda _: Reply(200, PROTO.read_bytes()))
        server.route("GET", "/hello.json", lambda _: Reply(200, {"name": "bilbo"}))
        server.route("GET", "/list.json", lambda _: Reply(200, [1]))
        server.route("GET", "/metadata.json", lambda _: Reply(200, {"x-team": "shire", "a": "1"}))
        server.route("GET", "/bad-metadata.json", lambda _: Reply(200, {"retries": 3}))
        server.route("GET", "/missing", lambda _: Reply(404, b"not found"))
        yield server


def test_iter8s_url_fields_are_fetched_once(
    target: GrpcTarget, files: RecordingServer, tmp_path: Path
) -> None:
    inputs = {
        "host": target.host,
        "call": CALL,
        "protoURL": files.url + "/greeter.proto",
        "dataURL": files.url + "/hello.json",
        "metadataURL": files.url + "/metadata.json",
        "metadata": {"a": "2"},
        "total": 3,
        "endpoints": {"one": {}, "two": {"call": "iter8test.Greeter.Farewell"}},
    }
    ctx = _run(inputs, tmp_path)
    assert ctx.store.value("grpc-one/request-count", 0) == 3
    assert [c.request for c in target.calls] == [{"name": "bilbo"}] * 6
    assert {(c.metadata["x-team"], c.metadata["a"]) for c in target.calls} == {("shire", "2")}
    assert sorted(r.path for r in files.requests) == [
        "/greeter.proto",
        "/hello.json",
        "/metadata.json",
    ]


def test_a_binary_data_url_gives_the_serialized_request(
    target: GrpcTarget, files: RecordingServer, tmp_path: Path
) -> None:
    request = target.request_type(name="rosie").SerializeToString()
    files.route("GET", "/hello.bin", lambda _: Reply(200, request))
    _run(_inputs(target, total=2, binaryDataURL=files.url + "/hello.bin"), tmp_path)
    assert [c.request for c in target.calls] == [{"name": "rosie"}] * 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"dataURL": "{url}/missing"},
            "the task: dataURL {url}/missing answered 404; it must answer 200 with the content",
        ),
        (
            {"dataURL": "{url}/list.json"},
            "the task: dataURL {url}/list.json holds a JSON list; it must hold one JSON "
            "object, the request message",
        ),
        (
            {"metadataURL": "{url}/bad-metadata.json"},
            "the task: metadataURL {url}/bad-metadata.json: the value of 'retries' is not a "
            "string; metadata maps names to strings",
        ),
        (
            {"protoURL": "{url}/hello.json", "proto": None},
            "the task: cannot compile {tmp}/proto-0/hello.json.proto: ",
        ),
    ],
)
def test_url_fields_that_fail_stop_the_task(
    target: GrpcTarget,
    files: RecordingServer,
    tmp_path: Path,
    fields: dict[str, Any],
    message: str,
) -> None:
    given = {k: v if v is None else v.format(url=files.url) for k, v in fields.items()}
    inputs = {k: v for k, v in _inputs(target, total=1, **given).items() if v is not None}
    with pytest.raises(TaskFailed) as failure:
        _run(inputs, tmp_path)
    expected = message.format(url=files.url, tmp=tmp_path)
    if expected.endswith(": "):
        assert str(failure.value).startswith(expected)
    else:
        assert str(failure.value) == expected
    assert target.count() == 0


def test_a_url_that_cannot_be_reached_stops_the_task(target: GrpcTarget, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/hello.json"
    with pytest.raises(TaskFailed) as failure:
        _run(_inputs(target, total=1, dataURL=url), tmp_path)
    assert str(failure.value).startswith("the task: dataURL could not be fetched: ")


@pytest.mark.parametrize("spelling", ["import-paths", "importPaths"])
def test_import_paths_resolve_a_protos_imports(
    target: GrpcTarget, tmp_path: Path, spelling: str
) -> None:
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "common.proto").write_text(
        'syntax = "proto3";\npackage common;\nmessage Name { string first = 1; }\n'
    )
    (tmp_path / "svc.proto").write_text(
        'syntax = "proto3";\npackage svc;\nimport "common.proto";\n'
        "service S { rpc Do (common.Name) returns (common.Name); }\n"
    )
    fields = {"host": target.host, "call": "svc.S.Do", "proto": "svc.proto", "total": 2}
    _, inputs = canonical_task("grpc", {**fields, spelling: ["vendor"], "data": {"first": "x"}})
    ctx = _run(inputs, tmp_path)
    # the test server does not serve svc.S: the types resolved, and the calls were answered
    assert ctx.store.summary("grpc/status-codes", 0) == {"UNIMPLEMENTED": 2}
    with pytest.raises(TaskFailed) as failure:
        _run(fields, tmp_path)
    assert "common.proto" in str(failure.value)


def test_an_open_loop_against_a_silent_server_ends_by_the_last_due_time_plus_timeout(
    silent_host: str, tmp_path: Path
) -> None:
    """One slot held by a call that never gets an answer: the calls due meanwhile find no
    slot before their deadline and end as DEADLINE_EXCEEDED without being sent, so the
    run does not queue 20 timeouts one after the other (8 s)."""
    inputs = {"host": silent_host, "call": CALL, "proto": str(PROTO), "timeout": "400ms"}
    started = time.monotonic()
    ctx = _run({**inputs, "rps": 20, "duration": "1s", "concurrency": 1}, tmp_path)
    assert time.monotonic() - started < 2.5  # 1 s of calls + 400 ms + connecting (<= 400 ms)
    assert ctx.store.summary("grpc/status-codes", 0) == {"DEADLINE_EXCEEDED": 20}
    low = ctx.store.value("grpc/latency/min", 0)
    high = ctx.store.value("grpc/latency/max", 0)
    assert low is not None and high is not None and 390 < low <= high < 600
