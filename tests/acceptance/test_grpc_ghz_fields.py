"""ghz's configuration fields in the grpc task, through `iter8 run` (issue 12 item 12).

Iter8 passed ghz's configuration through, so users' files carry ghz fields:
every one is accepted; `connect-timeout`, `keepalive`, `name`, `count-errors`,
`max-duration` and `metadata-file` act, the rest validate with a warning that
they have no effect here.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.cli import Iter8
from tests.support.servers.base import RecordingServer, Reply
from tests.support.servers.grpc_target import CALL, PROTO, GrpcTarget


@pytest.fixture
def target() -> Iterator[GrpcTarget]:
    with GrpcTarget() as server:
        yield server


def _insights(tmp_path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((tmp_path / "result.json").read_text())["result"]
    return dict(data["insights"])


def _write(tmp_path: Path, spec: list[dict[str, Any]]) -> None:
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump({"spec": spec}, sort_keys=False))


def test_iter8s_grpc_experiment_with_the_typo_fixed_runs(
    iter8: Iter8, tmp_path: Path, target: GrpcTarget
) -> None:
    """Written after Iter8 v0.14's testdata/experiment_grpc.yaml (proto by URL, data,
    total, concurrency, timeout, connect-timeout; SLOs under `Upper:`; a script
    under `if: SLOs()`), plus ghz fields that act and one that has no effect."""
    (tmp_path / "md.json").write_text('{"x-team": "checkout", "x-from": "file"}')
    with RecordingServer() as web:
        web.route("GET", "/greeter.proto", lambda _: Reply(200, PROTO.read_text()))
        (tmp_path / "experiment.yaml").write_text(
            f"""\
spec:
- task: grpc
  with:
    name: checkout-greeter
    host: "{target.host}"
    call: {CALL}
    protoURL: "{web.url}/greeter.proto"
    data:
      name: bob
    total: 120
    concurrency: 6
    timeout: 9s
    connect-timeout: 4s
    keepalive: 30s
    metadata-file: md.json
    metadata: {{x-from: experiment}}
    cpus: 2
- task: assess
  with:
    SLOs:
      Upper:
      - metric: "grpc/error-rate"
        limit: 0
      - metric: "grpc/latency/p50.0"
        limit: 1000
      - metric: "grpc/latency/p97.5"
        limit: 2000
- if: SLOs()
  run: echo "all good"
"""
        )
        done = iter8("run", "-f", "experiment.yaml", "-o", "result.json")
    assert done.returncode == 0, done.stderr
    assert (
        "experiment.yaml:17: $.spec[0].with.cpus: ghz's field, accepted so that Iter8's files "
        "validate; it has no effect here: the generator is one Python process." in done.stderr
    )
    assert "accepted 'Upper' as 'upper'" in done.stderr
    assert "load test 'checkout-greeter'" in done.stderr
    assert target.count() == 120
    assert {c.metadata.get("x-team") for c in target.calls} == {"checkout"}
    assert {c.metadata.get("x-from") for c in target.calls} == {"experiment"}
    insights = _insights(tmp_path)
    assert insights["nonHistMetricValues"][0]["grpc/request-count"] == [120.0]
    assert insights["SLOsSatisfied"]["upper"] == [[True], [True], [True]]
    result = json.loads((tmp_path / "result.json").read_text())["result"]
    assert result["tasks"][2]["output"] == "all good\n"


@pytest.mark.parametrize(("count_errors", "has_latency"), [(True, True), (False, False)])
def test_count_errors_decides_whether_failed_calls_have_latencies(
    iter8: Iter8, tmp_path: Path, target: GrpcTarget, count_errors: bool, has_latency: bool
) -> None:
    grpc = {
        "host": target.host,
        "call": CALL,
        "proto": str(PROTO),
        "total": 10,
        "concurrency": 2,
        "metadata": {"x-fail-with": "INTERNAL"},
        "count-errors": count_errors,
    }
    _write(tmp_path, [{"task": "grpc", "with": grpc}])
    done = iter8("run", "-f", "experiment.yaml", "-o", "result.json")
    assert done.returncode == 0, done.stderr
    values = _insights(tmp_path)["nonHistMetricValues"][0]
    assert values["grpc/request-count"] == [10.0]
    assert values["grpc/error-count"] == [10.0]
    assert ("grpc/latency/mean" in values) is has_latency


def test_max_duration_stops_an_open_loop_before_total(
    iter8: Iter8, tmp_path: Path, target: GrpcTarget
) -> None:
    grpc = {
        "host": target.host,
        "call": CALL,
        "proto": str(PROTO),
        "total": 1000,
        "rps": 10,
        "max-duration": "1s",
    }
    _write(tmp_path, [{"task": "grpc", "with": grpc}])
    done = iter8("run", "-f", "experiment.yaml", "-o", "result.json")
    assert done.returncode == 0, done.stderr
    assert "1000 calls (at most 1s), 10 rps" in done.stderr
    # calls are due at 0, 0.1, ..., 0.9 s: the one due at 1 s is past max-duration
    assert _insights(tmp_path)["nonHistMetricValues"][0]["grpc/request-count"] == [10.0]
    assert target.count() == 10


def test_max_duration_stops_a_closed_loop_before_total(
    iter8: Iter8, tmp_path: Path, target: GrpcTarget
) -> None:
    grpc = {
        "host": target.host,
        "call": CALL,
        "proto": str(PROTO),
        "data": {"sleep_ms": 100},
        "total": 1000,
        "concurrency": 1,
        "max-duration": "1s",
    }
    _write(tmp_path, [{"task": "grpc", "with": grpc}])
    done = iter8("run", "-f", "experiment.yaml", "-o", "result.json")
    assert done.returncode == 0, done.stderr
    count = _insights(tmp_path)["nonHistMetricValues"][0]["grpc/request-count"][0]
    # one call at a time, each 100 ms: at most 10 start within the second
    assert 1 <= count <= 10


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts TCP connections and never speaks HTTP/2: a channel stays CONNECTING."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_connect_timeout_is_how_long_the_channels_may_take(
    iter8: Iter8, tmp_path: Path, silent_server: str
) -> None:
    grpc = {
        "host": silent_server,
        "call": CALL,
        "proto": str(PROTO),
        "total": 1,
        "timeout": "300ms",
        "connect-timeout": "3s",
    }
    _write(tmp_path, [{"task": "grpc", "with": grpc}])
    done = iter8("run", "-f", "experiment.yaml", "-o", "result.json")
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "result.json").read_text())["result"]
    # without connect-timeout, at most min(timeout, 1s) = 0.3 s is spent waiting
    assert result["tasks"][0]["durationSeconds"] >= 3.0
    summary = result["insights"]["summaryMetricValues"][0]["grpc/status-codes"]
    assert summary == {"DEADLINE_EXCEEDED": 1}


@pytest.mark.parametrize(
    ("field", "size", "data"),
    [
        ("max-recv-message-size", "4B", {"name": "bob"}),  # every answer is longer
        ("max-send-message-size", "0.01KiB", {"name": "b" * 40}),  # 10 bytes, a longer request
    ],
)
def test_message_size_limits_apply_to_each_call(
    iter8: Iter8, tmp_path: Path, target: GrpcTarget, field: str, size: str, data: dict[str, str]
) -> None:
    grpc = {
        "host": target.host,
        "call": CALL,
        "proto": str(PROTO),
        "total": 5,
        "concurrency": 1,
        "data": data,
        field: size,
    }
    _write(tmp_path, [{"task": "grpc", "with": grpc}])
    done = iter8("run", "-f", "experiment.yaml", "-o", "result.json")
    assert done.returncode == 0, done.stderr
    summary = _insights(tmp_path)["summaryMetricValues"][0]["grpc/status-codes"]
    assert summary == {"RESOURCE_EXHAUSTED": 5}
