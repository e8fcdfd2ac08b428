"""The http task against real servers on 127.0.0.1: counts, errors, versions, payloads, TLS."""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from iter8_action.core.errors import InputsInvalid, Interrupted, TaskFailed
from iter8_action.report import html
from iter8_action.report.model import build_report
from iter8_action.tasks import registry
from iter8_action.tasks.base import TaskContext
from iter8_action.tasks.http import TASK, run
from tests.support.contexts import task_context
from tests.support.servers.base import RecordingServer, Reply
from tests.support.servers.targets import (
    Target,
    closed_port,
    self_signed_certificate,
    server_tls,
)


@pytest.fixture
def target() -> Iterator[Target]:
    with Target() as server:
        yield server


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path)


@pytest.fixture
def tls_target(certificate: tuple[Path, Path]) -> Iterator[Target]:
    with Target(tls=server_tls(*certificate)) as server:
        yield server


def _context(base_dir: Path) -> TaskContext:
    return task_context("http", base_dir, logger="tests.http", level=logging.INFO)


def _run(inputs: dict[str, Any], base_dir: Path) -> TaskContext:
    ctx = _context(base_dir)
    TASK.execute(inputs, ctx)
    return ctx


def test_the_task_is_registered() -> None:
    assert registry()["http"].run is run


def test_n_requests_sent_are_n_recorded(target: Target, tmp_path: Path) -> None:
    ctx = _run({"url": target.url + "/", "numRequests": 40, "qps": 0}, tmp_path)
    store = ctx.store
    assert target.count("/") == 40
    assert store.value("http/request-count", 0) == 40
    assert store.value("http/error-count", 0) == 0
    assert store.value("built-in/error-rate", 0) == 0.0
    assert store.summary("http/status-codes", 0) == {"200": 40}
    assert store.summary("http/errors-by-kind", 0) == {}
    for name in ("latency-mean", "latency-min", "latency-max", "latency-p50", "latency-p99.9"):
        value = store.value(f"http/{name}", 0)
        assert value is not None and 0 < value < 1000
    hist = store.histogram("http/latency", 0)
    assert hist is not None and sum(b.count for b in hist) == 40
    assert store.version_names == ["v1"]


def test_several_processes_record_exactly_what_they_sent(target: Target, tmp_path: Path) -> None:
    ctx = _run({"url": target.url, "numRequests": 2001, "qps": 0, "connections": 3}, tmp_path)
    assert ctx.store.value("http/request-count", 0) == 2001
    assert ctx.store.summary("http/status-codes", 0) == {"200": 2001}
    assert target.count("/") == 2001
    assert target.connections == 3


def test_open_loop_keeps_the_schedule(target: Target, tmp_path: Path) -> None:
    started = time.monotonic()
    ctx = _run({"url": target.url, "numRequests": 10, "qps": 40, "connections": 2}, tmp_path)
    elapsed = time.monotonic() - started
    assert ctx.store.value("http/request-count", 0) == 10
    assert 0.2 <= elapsed < 2.0  # 10 requests at 40 per second: the last leaves at 225 ms
    qps = ctx.store.value("http/qps-achieved", 0)
    # 9 intervals of 25 ms; a timer that fires a few ms late on a busy machine moves it a little
    assert qps is not None and 36 <= qps <= 44


def test_duration_sets_the_count_of_an_open_loop(target: Target, tmp_path: Path) -> None:
    ctx = _run({"url": target.url, "duration": "300ms", "qps": 50}, tmp_path)
    assert ctx.store.value("http/request-count", 0) == 15
    assert target.count("/") == 15


def test_request_rate_counts_each_seconds_sends_per_version(target: Target, tmp_path: Path) -> None:
    """3 s at 10 qps: 10 sends due in each second, for each version. Timers fire late,
    never early, and the second version's phase puts its sends 50 ms inside a second:
    only a send more than 50 ms late crosses into the next one."""
    inputs = {
        "duration": "3s",
        "qps": 10,
        "connections": 2,
        "versions": [{"name": "stable", "url": target.url}, {"name": "canary", "url": target.url}],
    }
    ctx = _run(inputs, tmp_path)
    for version in (0, 1):
        summary = ctx.store.summary("http/request-rate", version)
        assert summary is not None and summary["intervalSeconds"] == 1
        values = summary["values"]
        assert len(values) == 3 and sum(values) == 30 == ctx.store.value("http/request-count", 0)
        assert values[1] == 10
        assert 9 <= values[0] <= 10 and 10 <= values[2] <= 11
    report = build_report({"metadata": {}, "spec": [], "result": ctx.result.to_dict()})
    [series] = report.timeseries
    assert (series.metric, series.units, series.interval_s) == (
        "http/request-rate",
        "requests/sec",
        1.0,
    )
    assert [sum(v or ()) for v in series.versions] == [30.0, 30.0]
    page = html.render(report, plotly_js="")
    assert len(re.findall(r'<div class="chart" id="chart-timeseries-\d+"></div>', page)) == 1


def test_endpoints_get_their_own_request_rate(target: Target, tmp_path: Path) -> None:
    inputs = {
        "url": target.url,
        "numRequests": 6,
        "qps": 0,
        "endpoints": {"home": {"url": "/"}, "missing": {"url": "/status/404", "numRequests": 2}},
    }
    store = _run(inputs, tmp_path).store
    for endpoint, count in (("home", 6), ("missing", 2)):
        summary = store.summary(f"http-{endpoint}/request-rate", 0)
        assert summary is not None and sum(summary["values"]) == count
    assert store.summary("http/request-rate", 0) is None


def test_request_rate_leaves_out_what_allow_initial_errors_leaves_out(
    target: Target, tmp_path: Path
) -> None:
    inputs = {"url": target.url + "/fail-first/3", "numRequests": 10, "connections": 1}
    ctx = _run({**inputs, "qps": 0, "allowInitialErrors": True}, tmp_path)
    assert ctx.store.summary("http/request-rate", 0) == {"intervalSeconds": 1, "values": [7]}


def test_closed_loop_for_a_duration_ends_on_time(target: Target, tmp_path: Path) -> None:
    started = time.monotonic()
    ctx = _run({"url": target.url, "duration": "300ms", "qps": "max"}, tmp_path)
    elapsed = time.monotonic() - started
    count = ctx.store.value("http/request-count", 0)
    assert count is not None and count == target.count("/") and count > 10
    assert elapsed < 5.0


def test_default_is_100_requests_at_8_qps_over_4_connections(
    target: Target, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = _context(tmp_path)
    ctx.stop.set()  # we only want to see the plan: stop before the first request
    with caplog.at_level(logging.INFO, logger="tests.http"), pytest.raises(Interrupted):
        TASK.execute({"url": target.url}, ctx)
    assert (
        "loading 1 version(s), 1 stream(s): 100 requests, 8 qps, 4 to 256 connections"
        in caplog.text
    )
    assert target.count("/") == 0


def test_errors_are_counted_by_status_code(target: Target, tmp_path: Path) -> None:
    ctx = _run({"url": target.url + "/status/503", "numRequests": 6, "qps": 0}, tmp_path)
    store = ctx.store
    assert store.value("http/request-count", 0) == 6
    assert store.value("http/error-count", 0) == 6
    assert store.value("http/error-rate", 0) == 1.0
    assert store.summary("http/status-codes", 0) == {"503": 6}
    assert store.summary("http/errors-by-kind", 0) == {"status": 6}


def test_error_ranges_choose_what_is_an_error(target: Target, tmp_path: Path) -> None:
    inputs = {
        "url": target.url + "/status/404",
        "numRequests": 5,
        "qps": 0,
        "errorRanges": [{"lower": 500}],
    }
    ctx = _run(inputs, tmp_path)
    assert ctx.store.value("http/error-count", 0) == 0
    assert ctx.store.summary("http/status-codes", 0) == {"404": 5}


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/reset", "reset"), ("/close", "reset"), ("/garbage", "protocol"), ("/stall", "timeout")],
)
def test_failures_without_an_answer_are_counted_by_kind(
    target: Target, tmp_path: Path, path: str, kind: str
) -> None:
    inputs = {"url": target.url + path, "numRequests": 4, "qps": 0, "timeout": "200ms"}
    ctx = _run(inputs, tmp_path)
    assert ctx.store.value("http/request-count", 0) == 4
    assert ctx.store.value("http/error-count", 0) == 4
    assert ctx.store.summary("http/errors-by-kind", 0) == {kind: 4}
    assert ctx.store.summary("http/status-codes", 0) == {}


def test_timed_out_requests_show_in_the_latencies(target: Target, tmp_path: Path) -> None:
    inputs = {"url": target.url + "/stall", "numRequests": 2, "qps": 0, "timeout": "200ms"}
    ctx = _run(inputs, tmp_path)
    minimum = ctx.store.value("http/latency-min", 0)
    assert minimum is not None and 200 <= minimum < 600


def test_a_target_that_is_down_gives_all_errors_and_a_clear_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    with caplog.at_level(logging.INFO, logger="tests.http"):
        ctx = _run({"url": url, "numRequests": 5}, tmp_path)
    assert ctx.store.value("http/error-rate", 0) == 1.0
    assert ctx.store.summary("http/errors-by-kind", 0) == {"refused": 5}
    assert ctx.store.value("http/latency-mean", 0) is None
    assert (
        f"http v1 ({url}): every request failed (refused 5): "
        "is the app running and listening on that host and port?"
    ) in caplog.text


def test_an_unknown_host_is_a_dns_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="tests.http"):
        ctx = _run({"url": "http://no-such-host.invalid/", "numRequests": 3}, tmp_path)
    assert ctx.store.summary("http/errors-by-kind", 0) == {"dns": 3}
    assert "the host name does not resolve; check the url" in caplog.text


def test_a_closed_loop_against_an_unknown_host_ends_on_time(tmp_path: Path) -> None:
    inputs = {"url": "http://no-such-host.invalid/", "duration": "300ms", "qps": "max"}
    started = time.monotonic()
    ctx = _run({**inputs, "connections": 1}, tmp_path)
    assert time.monotonic() - started < 3
    count = ctx.store.value("http/request-count", 0)
    assert count is not None and count > 100
    assert ctx.store.summary("http/errors-by-kind", 0) == {"dns": count}


def test_versions_are_loaded_together_and_kept_apart(target: Target, tmp_path: Path) -> None:
    inputs = {
        "numRequests": 20,
        "qps": 100,
        "connections": 2,
        "versions": [
            {"name": "stable", "url": target.url + "/"},
            {"name": "canary", "url": target.url + "/status/500", "headers": {"X-V": "2"}},
        ],
    }
    ctx = _run(inputs, tmp_path)
    store = ctx.store
    assert store.version_names == ["stable", "canary"]
    assert [store.value("http/request-count", v) for v in (0, 1)] == [20, 20]
    assert [store.value("http/error-count", v) for v in (0, 1)] == [0, 20]
    assert target.count("/") == 20 and target.count("/status/500") == 20
    assert {r.headers.get("X-V") for r in target.requests if r.path == "/status/500"} == {"2"}
    # interleaved in time: the two versions' requests alternate rather than run one after another
    paths = [r.path for r in target.requests]
    assert paths[:20].count("/") < 16


def test_old_style_versions_are_named_v1_v2(target: Target, tmp_path: Path) -> None:
    versions = [{"url": target.url + "/"}, {"url": target.url + "/status/404"}]
    ctx = _run({"numRequests": 3, "qps": 0, "versions": versions}, tmp_path)
    assert ctx.store.version_names == ["v1", "v2"]
    assert ctx.store.value("http/error-count", 1) == 3


def test_endpoints_get_their_own_metrics(target: Target, tmp_path: Path) -> None:
    inputs = {
        "url": target.url,
        "numRequests": 4,
        "qps": 0,
        "endpoints": {"home": {"url": "/"}, "missing": {"url": "/status/404", "numRequests": 2}},
    }
    ctx = _run(inputs, tmp_path)
    store = ctx.store
    assert store.value("http-home/request-count", 0) == 4
    assert store.value("http-missing/request-count", 0) == 2
    assert store.value("http-missing/error-rate", 0) == 1.0
    assert store.value("http/request-count", 0) is None


def test_endpoints_of_several_versions_take_each_versions_host(
    target: Target, tmp_path: Path
) -> None:
    with Target() as other:
        inputs = {
            "numRequests": 3,
            "qps": 0,
            "versions": [{"url": target.url}, {"url": other.url}],
            "endpoints": {"ok": {"url": "/"}, "bad": {"url": "/status/500"}},
        }
        ctx = _run(inputs, tmp_path)
        assert (target.count("/"), target.count("/status/500")) == (3, 3)
        assert (other.count("/"), other.count("/status/500")) == (3, 3)
    assert ctx.store.value("http-bad/error-count", 1) == 3


def test_warmup_sends_but_records_nothing(
    target: Target, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tests.http"):
        ctx = _run({"url": target.url, "numRequests": 5, "qps": 0, "warmup": True}, tmp_path)
    assert target.count("/") == 5
    assert ctx.store.names() == []
    assert "warmup done: its results are discarded" in caplog.text


def test_payload_and_headers_reach_the_server(target: Target, tmp_path: Path) -> None:
    inputs = {
        "url": target.url + "/",
        "numRequests": 3,
        "qps": 0,
        "payloadStr": '{"hello": "world"}',
        "contentType": "application/json",
        "headers": {"X-Request-Source": "iter8", "Authorization": "Bearer s3cret"},
    }
    ctx = _run(inputs, tmp_path)
    assert ctx.store.value("http/request-count", 0) == 3
    for request in target.requests:
        assert request.method == "POST"
        assert request.body == b'{"hello": "world"}'
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["X-Request-Source"] == "iter8"
        assert request.headers["Authorization"] == "Bearer s3cret"


def test_credentials_in_the_url_are_sent_as_basic_auth(target: Target, tmp_path: Path) -> None:
    credentials = "alice:pa%20ss"  # a space, percent-encoded, in the password
    url = target.url.replace("://", f"://{credentials}@") + "/"
    _run({"url": url, "numRequests": 1}, tmp_path)
    assert target.requests[0].headers["Authorization"] == "Basic YWxpY2U6cGEgc3M="
    assert target.requests[0].headers["Host"] == f"127.0.0.1:{target.port}"


def test_a_payload_file_is_posted_with_a_default_content_type(
    target: Target, tmp_path: Path
) -> None:
    (tmp_path / "body.bin").write_bytes(b"\x00\x01binary")
    _run({"url": target.url, "numRequests": 2, "qps": 0, "payloadFile": "body.bin"}, tmp_path)
    assert [r.body for r in target.requests] == [b"\x00\x01binary"] * 2
    assert target.requests[0].headers["Content-Type"] == "application/octet-stream"


def test_a_payload_url_is_fetched_once(target: Target, tmp_path: Path) -> None:
    with RecordingServer() as source:
        source.route("GET", "/payload", lambda request: Reply(200, b"from-url"))
        inputs = {
            "url": target.url,
            "numRequests": 4,
            "qps": 0,
            "method": "PUT",
            "payloadURL": source.url + "/payload",
        }
        _run(inputs, tmp_path)
        assert len(source.requests) == 1
    assert [(r.method, r.body) for r in target.requests] == [("PUT", b"from-url")] * 4


def test_a_head_request_completes_without_a_body(target: Target, tmp_path: Path) -> None:
    ctx = _run({"url": target.url, "numRequests": 3, "qps": 0, "method": "HEAD"}, tmp_path)
    assert ctx.store.summary("http/status-codes", 0) == {"200": 3}
    assert [r.method for r in target.requests] == ["HEAD"] * 3


def test_connection_close_answers_are_followed_by_new_connections(
    target: Target, tmp_path: Path
) -> None:
    ctx = _run({"url": target.url + "/bye", "numRequests": 6, "connections": 1}, tmp_path)
    assert ctx.store.value("http/error-count", 0) == 0
    assert target.connections == 6


def test_keep_alive_reuses_connections(target: Target, tmp_path: Path) -> None:
    _run({"url": target.url, "numRequests": 30, "qps": 0, "connections": 1}, tmp_path)
    assert target.connections == 1


def test_initial_errors_can_be_left_out(target: Target, tmp_path: Path) -> None:
    inputs = {"url": target.url + "/fail-first/3", "numRequests": 10, "connections": 1}
    ctx = _run({**inputs, "qps": 0, "allowInitialErrors": True}, tmp_path)
    assert ctx.store.value("http/request-count", 0) == 7
    assert ctx.store.value("http/error-count", 0) == 0


def test_initial_errors_count_without_allow_initial_errors(target: Target, tmp_path: Path) -> None:
    inputs = {"url": target.url + "/fail-first/3", "numRequests": 10, "connections": 1}
    ctx = _run({**inputs, "qps": 0}, tmp_path)
    assert ctx.store.value("http/request-count", 0) == 10
    assert ctx.store.value("http/error-count", 0) == 3


def test_a_stall_shows_up_in_the_tail_latency(target: Target, tmp_path: Path) -> None:
    """Coordinated omission: requests due while the target froze are timed from their
    scheduled time, so the freeze shows in p99 (a closed-loop view would hide it)."""
    freezer = threading.Timer(0.4, target.freeze, args=(0.5,))
    freezer.start()
    ctx = _run({"url": target.url, "numRequests": 100, "qps": 100, "connections": 2}, tmp_path)
    freezer.join()
    p50 = ctx.store.value("http/latency-p50", 0)
    p99 = ctx.store.value("http/latency-p99", 0)
    assert p50 is not None and p50 < 100
    # the request due at the start of the freeze waited ~500 ms, those after it less
    assert p99 is not None and 380 < p99 < 700


def test_requests_that_wait_too_long_for_a_connection_time_out(
    target: Target, tmp_path: Path
) -> None:
    """At 100 qps over one connection (capped there) to a target that takes 150 ms, the
    backlog grows; requests still unsent a timeout after they were due count as
    timeouts, so the run ends near its schedule's end instead of draining the backlog."""
    started = time.monotonic()
    inputs = {
        "url": target.url + "/slow/150",
        "numRequests": 30,
        "qps": 100,
        "connections": 1,
        "maxConnections": 1,
        "timeout": "400ms",
    }
    ctx = _run(inputs, tmp_path)
    # about 1 s when unsent requests time out; 4.5 s if the backlog were drained
    assert time.monotonic() - started < 3.0
    assert ctx.store.value("http/request-count", 0) == 30
    kinds = ctx.store.summary("http/errors-by-kind", 0)
    assert kinds is not None and kinds["timeout"] >= 20
    # due in the first 300 ms, and sent (or given up) within 400 ms of that: all in second 0
    assert ctx.store.summary("http/request-rate", 0) == {"intervalSeconds": 1, "values": [30]}
    slowest = ctx.store.value("http/latency-max", 0)
    assert slowest is not None and slowest >= 400


def test_the_pool_grows_to_keep_the_rate_of_a_slow_target(
    target: Target, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """100 qps to an app that takes 50 ms needs 5 connections: from 1, the pool grows,
    no request waits, and the rate holds."""
    inputs = {"url": target.url + "/slow/50", "numRequests": 100, "qps": 100, "connections": 1}
    with caplog.at_level(logging.INFO, logger="tests.http"):
        ctx = _run(inputs, tmp_path)
    assert ctx.store.value("http/request-count", 0) == 100
    assert ctx.store.value("http/error-count", 0) == 0
    assert ctx.store.value("http/waited-count", 0) == 0
    assert ctx.store.summary("http/client-limit", 0) is None
    assert 5 <= target.connections <= 20
    achieved = ctx.store.value("http/qps-achieved", 0)
    assert achieved is not None and 90 <= achieved <= 110
    # the app's 50 ms, not a queue's wait (over a pool capped at 2, p50 is ~700 ms)
    p50 = ctx.store.value("http/latency-p50", 0)
    assert p50 is not None and p50 < 100
    assert "limited the rate" not in caplog.text


def test_a_capped_pool_says_the_client_limited_the_rate(
    target: Target, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The same load with the pool capped at 2 connections: requests wait, and the log
    and the result say that the client, not the app, was the limit, with the numbers."""
    inputs = {
        "url": target.url + "/slow/50",
        "numRequests": 100,
        "qps": 100,
        "connections": 1,
        "maxConnections": 2,
    }
    with caplog.at_level(logging.INFO, logger="tests.http"):
        ctx = _run(inputs, tmp_path)
    assert ctx.store.value("http/request-count", 0) == 100
    assert target.connections == 2
    waited = ctx.store.value("http/waited-count", 0)
    assert waited is not None and 90 <= waited <= 98
    limit = ctx.store.summary("http/client-limit", 0)
    assert limit is not None
    assert limit["requests waited"] == waited
    assert limit["rate asked (qps)"] == 100
    assert limit["connections allowed (maxConnections)"] == 2
    assert limit["connections used (peak)"] == 2
    # Little's law: rate x mean time a request holds its connection (50 ms and HTTP's own)
    needed = limit["connections needed (rate x time)"]
    assert limit["time per request (ms)"] >= 50
    assert needed == math.ceil(limit["time per request (ms)"] / 10)
    warning = (
        rf"http v1 \({re.escape(target.url)}/slow/50\): the load generator limited the "
        rf"rate: {int(waited)} of 100 requests waited for a free connection \(2 in use, "
        rf"maxConnections 2\); 100 qps x \d+\.\d ms per request = {needed} connections "
        rf"needed: raise maxConnections to at least {needed}"
    )
    assert re.search(warning, caplog.text), caplog.text
    assert [r.levelname for r in caplog.records if "limited" in r.message] == ["WARNING"]


def test_a_closed_loop_keeps_its_connections(target: Target, tmp_path: Path) -> None:
    inputs = {"url": target.url + "/slow/20", "numRequests": 20, "qps": 0, "connections": 2}
    ctx = _run(inputs, tmp_path)
    assert target.connections == 2
    assert ctx.store.value("http/waited-count", 0) == 0


def test_max_connections_below_connections_is_refused_at_load() -> None:
    inputs = {"url": "http://127.0.0.1:1/", "connections": 8, "maxConnections": 4}
    with pytest.raises(InputsInvalid, match="maxConnections 4, below connections 8") as refused:
        TASK.parse(inputs)
    assert refused.value.field == ("maxConnections",)


def test_tls_with_the_ca_file(tls_target: Target, tmp_path: Path, certificate: Any) -> None:
    inputs = {"url": tls_target.url, "numRequests": 5, "qps": 0, "caFile": str(certificate[0])}
    ctx = _run(inputs, tmp_path)
    assert ctx.store.summary("http/status-codes", 0) == {"200": 5}


def test_tls_without_trust_fails_as_tls(tls_target: Target, tmp_path: Path) -> None:
    ctx = _run({"url": tls_target.url, "numRequests": 3, "qps": 0}, tmp_path)
    assert ctx.store.summary("http/errors-by-kind", 0) == {"tls": 3}


def test_tls_with_insecure_skip_verify(tls_target: Target, tmp_path: Path) -> None:
    inputs = {"url": tls_target.url, "numRequests": 3, "qps": 0, "insecureSkipVerify": True}
    ctx = _run(inputs, tmp_path)
    assert ctx.store.value("http/error-count", 0) == 0


def test_an_interrupted_run_stops_promptly(target: Target, tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    threading.Timer(0.3, ctx.stop.set).start()
    started = time.monotonic()
    with pytest.raises(Interrupted):
        TASK.execute({"url": target.url, "duration": "30s", "qps": 20}, ctx)
    assert time.monotonic() - started < 3


def test_an_interrupted_run_of_several_processes_stops_promptly(
    target: Target, tmp_path: Path
) -> None:
    ctx = _context(tmp_path)
    threading.Timer(1.0, ctx.stop.set).start()
    started = time.monotonic()
    with pytest.raises(Interrupted):
        TASK.execute({"url": target.url, "duration": "30s", "qps": 0, "connections": 2}, ctx)
    assert time.monotonic() - started < 10  # of a 30 s run: generous for a loaded CI machine


@pytest.mark.parametrize(
    ("inputs", "field", "message"),
    [
        (
            {"url": "ftp://example.com/"},
            ("url",),
            "the task has the url 'ftp://example.com/', which is not an http:// or https:// URL "
            "with a host",
        ),
        (
            {"url": "http://127.0.0.1:99999/"},
            ("url",),
            "the task has the url 'http://127.0.0.1:99999/' with a bad port: "
            "Port out of range 0-65535",
        ),
        (
            {
                "versions": [
                    {"url": "http://a.invalid/", "name": "x"},
                    {"url": "http://b.invalid/", "name": "x"},
                ]
            },
            ("versions", 1, "name"),
            "two versions are named 'x'; give each version its own name",
        ),
        (
            {
                "versions": [{"url": "http://a.invalid/"}, {"url": "http://b.invalid/"}],
                "endpoints": {"e": {"url": "http://c.invalid/"}},
            },
            ("endpoints", "e", "url"),
            "endpoint e has a full URL (http://c.invalid/) but there are 2 versions; "
            "give endpoints a path (url: /login) so that each version's URL supplies the host",
        ),
        (
            {"endpoints": {"e": {"url": "/login"}}},
            ("endpoints", "e", "url"),
            "endpoint e has the path '/login' as its url, but there is no task or version url "
            "to take it from; write a full URL (http://host:port/path)",
        ),
        (
            {"endpoints": {"e": {"numRequests": 3}}},
            ("endpoints", "e"),
            "endpoint e has no url, and the task has none to inherit",
        ),
        (
            {"url": "http://a.invalid/", "duration": "0s", "qps": 5},
            ("duration",),
            "the task has duration 0: give it a duration like 10s, or numRequests",
        ),
    ],
)
def test_bad_inputs_are_refused_at_load_with_a_clear_message(
    inputs: dict[str, Any], field: tuple[str | int, ...], message: str
) -> None:
    with pytest.raises(InputsInvalid) as refused:
        TASK.parse(inputs)
    assert (refused.value.field, refused.value.message) == (field, message)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            {"url": "http://a.invalid/", "payloadFile": "missing.json"},
            "the task: payloadFile 'missing.json' cannot be read (No such file or directory)",
        ),
        (
            {"url": "https://a.invalid/", "caFile": "missing.pem"},
            "the task: caFile 'missing.pem' does not exist (TMP/missing.pem)",
        ),
    ],
)
def test_bad_inputs_fail_with_a_clear_message(
    tmp_path: Path, inputs: dict[str, Any], message: str
) -> None:
    with pytest.raises(TaskFailed) as failure:
        _run(inputs, tmp_path)
    assert str(failure.value) == message.replace("TMP", str(tmp_path))


def test_a_ca_file_that_is_not_pem_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate")
    with pytest.raises(TaskFailed) as failure:
        _run({"url": "https://a.invalid/", "caFile": "ca.pem"}, tmp_path)
    assert str(failure.value).startswith(
        "the task: caFile 'ca.pem' is not a PEM file of CA certificates ("
    )


def test_a_payload_url_that_fails_stops_the_task(tmp_path: Path) -> None:
    with RecordingServer() as source:
        url = source.url + "/nothing"
        with pytest.raises(TaskFailed) as failure:
            _run({"url": "http://a.invalid/", "payloadURL": url}, tmp_path)
    assert str(failure.value) == (
        f"the task: payloadURL {url} answered 404; it must answer 200 with the request body"
    )


def test_a_payload_url_that_cannot_be_reached_stops_the_task(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/payload"
    with pytest.raises(TaskFailed) as failure:
        _run({"url": "http://a.invalid/", "payloadURL": url}, tmp_path)
    assert str(failure.value).startswith("the task: payloadURL could not be fetched: ")
