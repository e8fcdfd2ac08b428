"""The load generator's worker processes: their protocol, and their failures."""

from __future__ import annotations

import asyncio
import io
import os
import pickle
import re
import subprocess
import sys
import threading
from pathlib import Path
from time import perf_counter_ns
from types import SimpleNamespace

import pytest

from iter8_action.load.http.client import StreamDriver
from iter8_action.load.http.plan import Stream, TlsOptions, build_request, split
from iter8_action.load.http.runner import WorkerFailed, run_streams
from iter8_action.load.http.worker import main
from iter8_action.load.progress import LoadProgress
from tests.support.servers.targets import Target


def _stream(port: int, **kwargs: object) -> Stream:
    request = build_request(
        method="GET", host_header="127.0.0.1", target="/", headers={}, body=None, content_type=None
    )
    fields: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "request": request,
        "connections": 2,
        "timeout_s": 2.0,
    }
    fields.update(kwargs)
    return Stream(**fields)  # type: ignore[arg-type]


def test_a_worker_reports_ready_progress_and_its_result(monkeypatch: pytest.MonkeyPatch) -> None:
    with Target() as target:
        shares = split([_stream(target.port, num_requests=7)], 1)[0]
        read_end, write_end = os.pipe()
        out = io.BytesIO()
        monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=os.fdopen(read_end, "rb")))
        with os.fdopen(write_end, "wb") as writer:
            pickle.dump(shares, writer)
            pickle.dump(("go", perf_counter_ns()), writer)
            writer.flush()
            assert main(out) == 0
    stream = io.BytesIO(out.getvalue())
    messages = []
    while stream.tell() < len(out.getvalue()):
        messages.append(pickle.load(stream))
    assert [m[0] for m in messages] == ["ready", "progress", "result"]
    assert messages[1][1] == [(7, 0)]
    assert messages[2][1][0].counted.requests == 7


def test_several_processes_report_progress() -> None:
    seen: list[LoadProgress] = []
    with Target() as target:
        stream = _stream(target.port, duration_s=0.8, qps=None)
        results = run_streams(
            [stream], stop=threading.Event(), on_progress=seen.append, processes=2
        )
    assert results[0].stats.requests == target.count("/")
    assert seen and seen[-1].errors == 0 and 0 < seen[-1].sent <= target.count("/")


def test_per_second_counts_of_several_processes_merge_exactly() -> None:
    """2 s at 20 qps split over two processes (each sends every other slot, 100 ms
    apart): the merged counts are the schedule's 20 per second. Only a send more than
    50 ms late crosses into the next second."""
    with Target() as target:
        stream = _stream(target.port, duration_s=2.0, qps=20.0, num_requests=None)
        [result] = run_streams([stream], stop=threading.Event(), processes=2)
    values = result.stats.per_second.tolist()
    assert sum(values) == 40 == result.stats.requests == target.count("/")
    assert values[0] in (19, 20) and values[1] in (19, 20, 21) and values[2:] in ([], [1])


def test_a_worker_that_dies_is_reported_with_its_last_words() -> None:
    stream = _stream(1, tls=TlsOptions(ca_file="/nonexistent/ca.pem"), num_requests=5)
    with pytest.raises(WorkerFailed) as failure:
        run_streams([stream], stop=threading.Event(), processes=2)
    assert re.fullmatch(
        r"load generator process [01] exited with code 1: "
        r"FileNotFoundError: \[Errno 2\] No such file or directory",
        str(failure.value),
    )


def test_a_stop_while_the_processes_start_ends_the_run_without_a_failure() -> None:
    stop = threading.Event()
    stop.set()
    with Target() as target:
        [result] = run_streams([_stream(target.port, duration_s=30.0)], stop=stop, processes=2)
    assert result.stats.requests == 0 == target.count("/")


def test_what_a_worker_prints_does_not_garble_its_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sitecustomize.py").write_text("print('hello from sitecustomize')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    with Target() as target:
        [result] = run_streams(
            [_stream(target.port, num_requests=6)], stop=threading.Event(), processes=2
        )
    assert result.stats.requests == 6 == target.count("/")


def test_a_worker_whose_messages_are_garbled_is_reported_with_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Bytes that are no pickle, on the worker's message pipe (its fd ends its argv).
    (tmp_path / "sitecustomize.py").write_text(
        "import os, sys\nos.write(int(sys.argv[-1]), b'\\xff')\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    with Target() as target, pytest.raises(WorkerFailed) as failure:
        run_streams(
            [_stream(target.port, num_requests=5)],
            stop=threading.Event(),
            processes=2,
            env=os.environ,  # the workers inherit the job's environment, PYTHONPATH with it
        )
    assert re.fullmatch(
        r"the messages of load generator process [01] could not be read "
        r"\(UnpicklingError: invalid load key, '\\xff'\.\); it exited with code \d+",
        str(failure.value),
    )


def test_a_worker_started_without_its_message_pipe_says_how_to_start_it() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "iter8_action.load.http.worker"],
        input=b"",
        capture_output=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.decode().strip().splitlines()[-1] == (
        "SystemExit: usage: python -m iter8_action.load.http.worker --messages-fd FD"
    )


def test_a_run_cut_at_its_deadline_records_every_request_as_timed_out() -> None:
    """Should the event loop be starved past a run's deadline, the requests in flight and
    those not yet sent are recorded as timeouts: none goes missing from the count."""
    with Target() as target:
        request = build_request(
            method="GET",
            host_header="127.0.0.1",
            target="/stall",
            headers={},
            body=None,
            content_type=None,
        )
        stream = _stream(
            target.port,
            request=request,
            connections=1,
            max_connections=2,
            qps=10.0,
            num_requests=5,
            timeout_s=30.0,
        )
        share = split([stream], 1)[0][0]

        async def cut_mid_run() -> StreamDriver:
            loop = asyncio.get_running_loop()
            driver = StreamDriver(
                share,
                loop,
                address=("127.0.0.1", target.port),
                resolve_error=None,
                on_idle=lambda: None,
            )
            await driver.preconnect()
            driver.start(perf_counter_ns())
            await asyncio.sleep(0.25)  # 3 due: 2 sent (the pool's cap), 1 waiting, 2 to come
            driver.cut(perf_counter_ns())
            return driver

        driver = asyncio.run(cut_mid_run())
    counted = driver.outcome.counted
    assert (counted.requests, counted.errors, counted.error_kinds) == (5, 5, {"timeout": 5})
    assert sum(counted.per_second) == 5 and counted.histogram.total == 5
    assert (driver.outcome.sent, driver.in_flight, driver.done) == (5, 0, True)
    assert (counted.pool.peak, counted.pool.cap) == (2, 2)


def test_a_worker_raises_its_open_files_limit_for_the_pool_up_to_the_hard_limit() -> None:
    """Checked in a process of its own: limits are per process and this one's stay put."""
    script = """
import resource
from iter8_action.load.http.worker import raise_open_files_limit
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (100, hard))
print(raise_open_files_limit(50), raise_open_files_limit(300), raise_open_files_limit(10**9))
print(resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    first, second = done.stdout.splitlines()
    soft, hard = (int(x) for x in second.split())
    assert soft == hard
    assert first.split() == ["100", "300", str(hard)]
