#!/usr/bin/env python3
"""Benchmark of the http task's load generator, side by side with hey, wrk and locust.

Usage (from the repository root, with the project's Python):

    python -m bench.loadgen [--quick] [--rounds N] [--seconds S]

It installs nothing. It starts nginx (Debian's nginx-light) on a free loopback
port with a small JSON body, then in one run measures:

1. closed-loop requests/s at 8 and 64 connections, ours against hey, wrk and
   locust's FastHttpUser (when locust is importable), rounds interleaved;
2. open-loop accuracy: achieved / requested rate at 200, 1000 and 5000 qps;
3. coordinated omission: 100 qps against nginx frozen (SIGSTOP) for 1 s in the
   middle; our p99 against the p99 the schedule implies, and hey's;
4. percentile accuracy of our histogram against exact percentiles of a fixed
   synthetic set of latencies, and its recording cost against `hdrhistogram`;
5. peak RSS of one load-generating process at 10 thousand and 1 million requests.

`--quick` runs each measure for a second or two, and on fewer values (about 20 s:
the tests' smoke run). Figures on a shared machine are noisy: compare ratios from one run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import math
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from iter8_action.load.http.histogram import LatencyHistogram
from iter8_action.load.http.plan import Stream, available_cores, build_request
from iter8_action.load.http.runner import run_streams
from tests.support.paths import ROOT

NGINX_CONF = """
worker_processes {workers};
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      default_type application/json;
      return 200 '{{"status":"ok","app":"bench","version":"v1"}}';
    }}
  }}
}}
"""


# -- the target ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def nginx() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        sys.exit("nginx is not installed: apt-get install nginx-light (scripts/system-deps)")
    with tempfile.TemporaryDirectory(prefix="iter8-bench-") as directory:
        port = _free_port()
        conf = Path(directory) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(workers=1, dir=directory, port=port))
        process = subprocess.Popen(
            [binary, "-c", str(conf), "-p", directory],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, to freeze it whole
        )
        try:
            _wait_listening(port)
            yield f"http://127.0.0.1:{port}/", process
        finally:
            os.killpg(process.pid, signal.SIGCONT)
            process.terminate()
            process.wait(timeout=10)


def _wait_listening(port: int) -> None:
    for _ in range(100):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    sys.exit(f"nginx did not start listening on 127.0.0.1:{port}")


def _stream(
    url: str,
    *,
    connections: int = 4,
    qps: float | None = None,
    num_requests: int | None = None,
    duration_s: float | None = None,
) -> Stream:
    port = int(url.split(":")[2].split("/")[0])
    request = build_request(
        method="GET",
        host_header=f"127.0.0.1:{port}",
        target="/",
        headers={},
        body=None,
        content_type=None,
    )
    return Stream(
        host="127.0.0.1",
        port=port,
        request=request,
        connections=connections,
        timeout_s=10.0,
        qps=qps,
        num_requests=num_requests,
        duration_s=duration_s,
    )


# -- 1. closed-loop throughput --------------------------------------------------------------


def ours_closed(url: str, connections: int, seconds: float) -> float:
    result = run_streams(
        [_stream(url, connections=connections, duration_s=seconds)], stop=threading.Event()
    )[0]
    return result.stats.achieved_qps() or 0.0


def hey_closed(url: str, connections: int, seconds: float) -> float | None:
    if shutil.which("hey") is None:
        return None
    out = _run(["hey", "-z", f"{seconds:g}s", "-c", str(connections), url])
    return _number(r"Requests/sec:\s+([\d.]+)", out)


def wrk_closed(url: str, connections: int, seconds: float) -> float | None:
    if shutil.which("wrk") is None:
        return None
    threads = min(available_cores(), connections)
    out = _run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", url])
    return _number(r"Requests/sec:\s+([\d.]+)", out)


def locust_closed(url: str, connections: int, seconds: float) -> float | None:
    if not _has_locust():
        return None
    with tempfile.TemporaryDirectory(prefix="iter8-bench-locust-") as directory:
        prefix = str(Path(directory) / "stats")
        locustfile = Path(directory) / "locustfile.py"
        locustfile.write_text(LOCUSTFILE)
        command = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(locustfile),
            "--headless",
            "--only-summary",
            "-u",
            str(connections),
            "-r",
            str(connections * 10),
            "-t",
            f"{seconds:g}s",
            "--host",
            url.rstrip("/"),
            "--csv",
            prefix,
            "--processes",
            str(available_cores()),
        ]
        _run(command)
        stats = Path(prefix + "_stats.csv")
        if not stats.exists():
            return None
        lines = stats.read_text().splitlines()
        header = lines[0].split(",")
        for line in lines[1:]:
            row = line.split(",")
            if "Aggregated" in row:
                return float(row[header.index("Requests/s")])
    return None


# locust's fastest client (FastHttpUser, no wait), written where locust reads it: as a
# module of bench/ it would need locust to type-check, and it is only locust's input.
LOCUSTFILE = """\
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser


class Bench(FastHttpUser):
    wait_time = constant(0)

    @task
    def root(self):
        self.client.get("/")
"""


def _has_locust() -> bool:
    # Not `import locust`: that monkey-patches this process with gevent.
    return importlib.util.find_spec("locust") is not None


# -- 2. open-loop accuracy ----------------------------------------------------------------


def ours_open(url: str, qps: float, seconds: float) -> tuple[float, int]:
    stream = _stream(url, qps=qps, duration_s=seconds, connections=16)
    result = run_streams([stream], stop=threading.Event())[0]
    return result.stats.achieved_qps() or 0.0, result.stats.requests


# -- 3. coordinated omission ----------------------------------------------------------------


def _freeze_later(process: subprocess.Popen[bytes], at_s: float, for_s: float) -> threading.Thread:
    def freeze() -> None:
        time.sleep(at_s)
        os.killpg(process.pid, signal.SIGSTOP)
        time.sleep(for_s)
        os.killpg(process.pid, signal.SIGCONT)

    thread = threading.Thread(target=freeze, daemon=True)
    thread.start()
    return thread


def implied_p99_ms(qps: float, seconds: float, freeze_at: float, freeze_for: float) -> float:
    """p99 if every request due during the freeze waits until its end (and others take 0)."""
    latencies = []
    for i in range(int(qps * seconds)):
        due = i / qps
        frozen = freeze_at <= due < freeze_at + freeze_for
        latencies.append((freeze_at + freeze_for - due) * 1000 if frozen else 0.0)
    latencies.sort()
    return latencies[math.ceil(0.99 * len(latencies)) - 1]


def ours_stalled(url: str, process: subprocess.Popen[bytes], seconds: float) -> float:
    stream = _stream(url, qps=100.0, duration_s=seconds, connections=4)
    # the run starts about 0.1 s after the call (connect, then a common start time)
    freezer = _freeze_later(process, seconds / 2 + 0.1, 1.0)
    result = run_streams([stream], stop=threading.Event())[0]
    freezer.join()
    p99 = result.stats.histogram.percentile_ns(99)
    return (p99 or 0.0) / 1e6


def hey_stalled(url: str, process: subprocess.Popen[bytes], seconds: float) -> float | None:
    if shutil.which("hey") is None:
        return None
    freezer = _freeze_later(process, seconds / 2, 1.0)
    # hey's -q is per connection: 4 connections at 25 qps each make 100 qps
    out = _run(["hey", "-z", f"{seconds:g}s", "-c", "4", "-q", "25", url])
    freezer.join()
    value = _number(r"99%+ in ([\d.]+) secs", out)
    return None if value is None else value * 1000


# -- 4. percentile accuracy and recording cost ------------------------------------------------


def percentile_errors(count: int) -> list[tuple[float, float, float, float]]:
    rng = random.Random(20240521)
    # latencies of about 1 ms with a long tail, in nanoseconds
    values = [int(rng.lognormvariate(math.log(1e6), 0.8)) for _ in range(count)]
    hist = LatencyHistogram()
    for value in values:
        hist.record(value)
    values.sort()
    rows = []
    for p in (50.0, 90.0, 99.0, 99.9):
        exact = values[math.ceil(p / 100 * len(values)) - 1]
        ours = hist.percentile_ns(p) or 0.0
        rows.append((p, exact / 1e6, ours / 1e6, abs(ours - exact) / exact * 100))
    return rows


def record_cost_ns(count: int) -> tuple[float, float | None]:
    rng = random.Random(5)
    values = [int(rng.lognormvariate(math.log(1e6), 0.8)) for _ in range(count)]
    hist = LatencyHistogram()
    started = time.perf_counter_ns()
    for value in values:
        hist.record(value)
    ours = (time.perf_counter_ns() - started) / count
    try:
        from hdrh.histogram import HdrHistogram
    except ImportError:
        return ours, None
    theirs = HdrHistogram(1, 3_600_000_000_000, 2)
    started = time.perf_counter_ns()
    for value in values:
        theirs.record_value(value)
    return ours, (time.perf_counter_ns() - started) / count


# -- 5. memory ----------------------------------------------------------------------------------

# Run in the repository root, which `-c` puts on the import path (as `-m` does).
RSS_CHILD = """
import resource, threading
from bench.loadgen import _stream
from iter8_action.load.http.runner import run_streams
result = run_streams([_stream({url!r}, connections=16, qps=None, num_requests={n})],
                     stop=threading.Event(), processes=1)[0]
assert result.stats.requests == {n}, result.stats.requests
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_kib(url: str, requests: int) -> int:
    code = RSS_CHILD.format(url=url, n=requests)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return int(out.split()[-1])


# -- helpers and main -----------------------------------------------------------------------------


def _run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return done.stdout + done.stderr


def _number(pattern: str, text: str) -> float | None:
    match = re.search(pattern, text)
    return float(match.group(1)) if match else None


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "n/a"


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _fmt(value: float | None, digits: int = 0) -> str:
    return "absent" if value is None else f"{value:,.{digits}f}"


@dataclass(frozen=True)
class Sizes:
    """How long and how big each measure runs."""

    closed_s: float
    rounds: int
    open_s: float
    stall_s: float
    synthetic: int
    """Latencies whose percentiles are compared with exact ones."""
    recorded: int
    """Values recorded to time one recording."""
    big: int
    """Requests of the larger run whose peak RSS is compared with 10,000's."""


QUICK = Sizes(
    closed_s=1.0, rounds=1, open_s=1.0, stall_s=2.0, synthetic=100_000, recorded=20_000, big=50_000
)
"""A smoke run of seconds: every measure and tool, none long enough for figures to hold."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke run)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved closed-loop rounds")
    parser.add_argument("--seconds", type=float, default=5.0, help="closed-loop run length")
    args = parser.parse_args()
    sizes = (
        QUICK
        if args.quick
        else Sizes(
            closed_s=args.seconds,
            rounds=args.rounds,
            open_s=10.0,
            stall_s=10.0,
            synthetic=1_000_000,
            recorded=200_000,
            big=1_000_000,
        )
    )
    print(f"machine: {available_cores()} cores; python {sys.version.split()[0]}")
    print(
        "tools: hey",
        "present" if shutil.which("hey") else "absent",
        "| wrk",
        "present" if shutil.which("wrk") else "absent",
        "| locust",
        "present" if _has_locust() else "absent (pip install locust to compare)",
    )
    with nginx() as (url, process):
        print(f"target: nginx at {url}\n")
        _closed_loop(url, sizes.closed_s, sizes.rounds)
        _open_loop(url, sizes.open_s)
        _stall(url, process, sizes.stall_s)
        _accuracy(sizes.synthetic, sizes.recorded)
        _memory(url, sizes.big)
    return 0


def _closed_loop(url: str, seconds: float, rounds: int) -> None:
    tools = {"ours": ours_closed, "hey": hey_closed, "wrk": wrk_closed, "locust": locust_closed}
    print(f"1. closed loop, requests/s ({seconds:g} s runs, median of {rounds} interleaved rounds)")
    for connections in (8, 64):
        seen: dict[str, list[float | None]] = {name: [] for name in tools}
        for _ in range(rounds):
            for name, measure in tools.items():
                seen[name].append(measure(url, connections, seconds))
        med = {name: _median(values) for name, values in seen.items()}
        print(
            f"   {connections:>2} connections: "
            + ", ".join(f"{name} {_fmt(value)}" for name, value in med.items())
        )
        print(
            f"      ours/hey {_ratio(med['ours'], med['hey'])}, "
            f"ours/wrk {_ratio(med['ours'], med['wrk'])}, "
            f"ours/locust {_ratio(med['ours'], med['locust'])}"
        )
    print()


def _open_loop(url: str, seconds: float) -> None:
    print(f"2. open loop accuracy ({seconds:g} s each): achieved / requested")
    for qps in (200.0, 1000.0, 5000.0):
        achieved, count = ours_open(url, qps, seconds)
        print(
            f"   {qps:>6,.0f} qps: achieved {achieved:,.1f} ({count} requests), "
            f"ratio {achieved / qps:.4f}"
        )
    print()


def _stall(url: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    print(f"3. coordinated omission: 100 qps for {seconds:g} s, target frozen 1 s in the middle")
    implied = implied_p99_ms(100.0, seconds, seconds / 2, 1.0)
    ours = ours_stalled(url, process, seconds)
    hey = hey_stalled(url, process, seconds)
    print(
        f"   p99 implied by the schedule {implied:,.0f} ms; ours {ours:,.0f} ms "
        f"({ours / implied:.2f} of it); hey {_fmt(hey)} ms"
    )
    print()


def _accuracy(count: int, recorded: int) -> None:
    print(f"4. percentile accuracy on {count:,} synthetic latencies (exact = nearest rank)")
    for p, exact, ours, error in percentile_errors(count):
        print(f"   p{p:<5g} exact {exact:.4f} ms, ours {ours:.4f} ms, error {error:.3f}%")
    ours_ns, hdrh_ns = record_cost_ns(recorded)
    print(
        f"   recording one value: ours {ours_ns:.0f} ns, hdrhistogram {_fmt(hdrh_ns)} ns "
        f"(ours {_ratio(hdrh_ns, ours_ns)} faster)"
    )
    print()


def _memory(url: str, big: int) -> None:
    print("5. peak RSS of one load-generating process (closed loop, 16 connections)")
    small_kib = peak_rss_kib(url, 10_000)
    big_kib = peak_rss_kib(url, big)
    print(
        f"   10,000 requests: {small_kib / 1024:.1f} MiB; {big:,} requests: "
        f"{big_kib / 1024:.1f} MiB; ratio {big_kib / small_kib:.3f}"
    )


if __name__ == "__main__":
    sys.exit(main())
