"""A real Prometheus (Debian's `prometheus`) on 127.0.0.1, scraping an exporter the test runs.

The exporter is Python's `prometheus-client` on its own registry, with the usual
HTTP metrics of two versions: `http_requests_total{version, code}` and the
histogram `http_request_duration_seconds{version}`::

    with Exporter() as exporter, PrometheusServer(exporter.target) as prom:
        exporter.serve("v1", codes={"200": 38, "500": 2}, latencies_s=[0.0625] * 40)
        prom.wait_for("sum(http_requests_total)", 40)
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import requests
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

PROMETHEUS_BINARY = "prometheus"
LATENCY_BUCKETS_S = (0.1, 0.2, 0.4, 0.8)
SCRAPE_INTERVAL = "1s"
START_TIMEOUT_S = 30.0  # a loaded CI machine is slow to start it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Exporter:
    """An application's /metrics endpoint with request counters and a latency histogram."""

    def __init__(
        self, versions: Sequence[str] = ("v1", "v2"), codes: Sequence[str] = ("200", "500")
    ):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests", "HTTP requests", ["version", "code"], registry=self.registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["version"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        # Every series exists from the first scrape on, at 0: `increase` then counts all traffic.
        for version in versions:
            self.latency.labels(version=version)
            for code in codes:
                self.requests.labels(version=version, code=code)
        self.started = time.time()
        self._server: Any = None

    def __enter__(self) -> Exporter:
        self._server, _thread = start_http_server(0, addr="127.0.0.1", registry=self.registry)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self._server.server_port}"

    def serve(
        self, version: str, *, codes: Mapping[str, int], latencies_s: Iterable[float]
    ) -> None:
        """Record traffic of one version: request counts per status code and their latencies."""
        for code, count in codes.items():
            self.requests.labels(version=version, code=code).inc(count)
        for latency in latencies_s:
            self.latency.labels(version=version).observe(latency)


class PrometheusServer:
    """Prometheus on a free port with a temporary config and storage, scraping `targets`."""

    def __init__(self, *targets: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._targets = targets
        self._dir = Path(tempfile.mkdtemp(prefix="iter8-prometheus-"))
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PrometheusServer:
        binary = shutil.which(PROMETHEUS_BINARY) or "/usr/bin/prometheus"
        config = self._dir / "prometheus.yml"
        targets = ", ".join(f"'{t}'" for t in self._targets)
        config.write_text(
            "global:\n"
            f"  scrape_interval: {SCRAPE_INTERVAL}\n"
            f"  evaluation_interval: {SCRAPE_INTERVAL}\n"
            "scrape_configs:\n"
            "- job_name: app\n"
            f"  static_configs:\n  - targets: [{targets}]\n",
            encoding="utf-8",
        )
        self._process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={self._dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(self._dir / "prometheus.log").open("wb"),
        )
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                log = (self._dir / "prometheus.log").read_text(errors="replace")
                raise RuntimeError(f"prometheus exited with {self._process.returncode}:\n{log}")
            try:
                if requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"prometheus was not ready within {START_TIMEOUT_S:g}s")

    def query(self, promql: str, *, at: str | None = None) -> list[dict[str, Any]]:
        params = {"query": promql} if at is None else {"query": promql, "time": at}
        answer = requests.get(f"{self.url}/api/v1/query", params=params, timeout=5).json()
        assert answer["status"] == "success", answer
        return list(answer["data"]["result"])

    def wait_for(self, promql: str, expected: float, *, timeout_s: float = 15.0) -> None:
        """Wait until `promql` (one series, at the latest scrape) equals `expected`."""
        deadline = time.monotonic() + timeout_s
        seen: Any = None
        while time.monotonic() < deadline:
            seen = self.query(promql)
            if seen and float(seen[0]["value"][1]) == expected:
                return
            time.sleep(0.2)
        raise AssertionError(f"{promql} did not reach {expected} in {timeout_s:g}s (last: {seen})")

    def last_sample(self, metric: str) -> str:
        """When `metric` was last scraped, as Prometheus writes it (Unix seconds, ms precision).

        The series' own samples, not `up`: after a failed scrape `up` is newer than the data.
        """
        return str(self.query(f"max(timestamp({metric}))")[0]["value"][1])
