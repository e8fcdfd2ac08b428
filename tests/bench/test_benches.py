"""Every bench script runs in its `--quick` mode, so that none rots unnoticed.

A bench prints figures and never fails on them; each test here runs one bench the
way docs/performance.md says (`python -m bench.<name> --quick` from the repository
root) and checks that it runs to the end and prints the rows and columns it
promises, not how fast anything is. A new script in bench/ fails
`test_every_bench_script_is_smoke_run` until a test here runs it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from typing import TypeVar

import pytest

from tests.support.paths import DOCS, ROOT

BENCH = ROOT / "bench"
PERFORMANCE = DOCS / "performance.md"

SMOKE_RUN: set[str] = set()
"""The bench scripts a test below runs."""

Test = TypeVar("Test", bound=Callable[..., None])


def smoke_run_of(script: str) -> Callable[[Test], Test]:
    """Mark a test as the smoke run of `bench/<script>.py`."""

    def register(test: Test) -> Test:
        SMOKE_RUN.add(script)
        return test

    return register


def quick(script: str, *args: str, timeout: float = 120) -> list[str]:
    """The lines `python -m bench.<script> --quick` prints; it must exit 0."""
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{script}", "--quick", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


def scripts() -> list[str]:
    return sorted(path.stem for path in BENCH.glob("*.py") if path.stem != "__init__")


def test_every_bench_script_is_smoke_run() -> None:
    assert scripts() == sorted(SMOKE_RUN)


@pytest.mark.parametrize("script", scripts())
def test_a_bench_says_how_to_run_it_and_its_quick_mode(script: str) -> None:
    usage = f"python -m bench.{script}"
    text = (BENCH / f"{script}.py").read_text()
    assert usage in text
    assert "--quick" in text
    assert "sys.path" not in text
    assert usage in PERFORMANCE.read_text()


@smoke_run_of("cli_startup")
def test_the_cli_startup_bench_reports_each_command_against_version() -> None:
    lines = quick("cli_startup")
    assert lines[1].split() == ["command", "median", "s", "x", "version", "target"]
    rows = [line.split() for line in lines[2:]]
    assert [row[0] for row in rows] == ["version", "validate", "validate", "assert"]
    assert rows[0][-1] == "1.00"
    for row in rows[1:]:
        assert row[-3:-1] in (["under", "0.3"], ["OVER", "0.3"]), row


@smoke_run_of("assessment_power")
def test_the_assessment_simulation_prints_every_table() -> None:
    lines = quick("assessment_power")
    rows = [line.strip("| ").split(" | ") for line in lines if re.match(r"\| [^-]", line)]
    assert [row[0] for row in rows] == [
        "versions",
        *["A/A"] * 2,
        *["A/A/A"] * 2,
        "versions",
        *["A/B"] * 4,
        *["A/B/C (C = A)"] * 8,
        *["K baseline runs", "1", "3", "5"] * 2,
    ]
    rates = [cell for row in rows for cell in row if "%" in cell and "[" in cell]
    assert len(rates) == 4 * 5 + 12 * 3 + 6 * 3
    for cell in rates:
        assert re.fullmatch(r"\d+\.\d% \[\d+\.\d%, \d+\.\d%\]", cell.strip()), cell


@smoke_run_of("grpcload")
def test_the_grpc_bench_prints_closed_and_open_loop_tables() -> None:
    lines = quick("grpcload")
    closed = lines.index("concurrency channels   calls/s   p50 ms   p99 ms")
    assert [line.split()[:2] for line in lines[closed + 1 : closed + 5]] == [
        ["1", "1"],
        ["10", "1"],
        ["50", "1"],
        ["50", "4"],
    ]
    opened = lines.index("requested  achieved  ratio   p99 ms errors")
    rows = [line.split() for line in lines[opened + 1 :]]
    assert [row[0] for row in rows] == ["200", "500", "1000"]
    assert all(len(row) == 5 and re.fullmatch(r"\d+\.\d{3}", row[2]) for row in rows), rows


@smoke_run_of("loadgen")
def test_the_loadgen_bench_prints_every_measure_against_its_peers() -> None:
    text = "\n".join(quick("loadgen", timeout=180))
    figure = r"(\d[\d,]*|absent)"
    for connections in (8, 64):
        assert re.search(
            rf"^ +{connections} connections: ours \d[\d,]*, hey {figure}, wrk {figure}, "
            rf"locust {figure}\n +ours/hey (\S+), ours/wrk (\S+), ours/locust (\S+)$",
            text,
            re.M,
        ), text
    for qps in ("200", "1,000", "5,000"):
        row = rf"^ +{qps} qps: achieved [\d,.]+ \(\d+ requests\), ratio \d\.\d{{4}}$"
        assert re.search(row, text, re.M), text
    assert re.search(r"^   p99 implied by the schedule [\d,]+ ms; ours [\d,]+ ms", text, re.M)
    percentiles = re.findall(r"^   p(\S+) +exact [\d.]+ ms, ours [\d.]+ ms, error", text, re.M)
    assert percentiles == ["50", "90", "99", "99.9"], text
    assert re.search(r"^   recording one value: ours \d+ ns", text, re.M), text
    rss = r"^   10,000 requests: [\d.]+ MiB; [\d,]+ requests: [\d.]+ MiB; ratio \d\.\d{3}$"
    assert re.search(rss, text, re.M), text


@smoke_run_of("shards")
def test_the_shards_bench_merges_exactly_the_requests_asked_for() -> None:
    lines = quick("shards")
    assert lines[0].startswith("2 shards, 200 qps in all for 2 s (")
    assert [line.split(":")[0] for line in lines[1:3]] == ["  shard 1/2", "  shard 2/2"]
    assert lines[3] == "merged: 400 requests (expected 400), errors 0"
    rate = r"merged achieved rate: [\d.]+ qps, [+-][\d.]+% of 200 \(bound ±1%\)"
    assert re.fullmatch(rate, lines[4]), lines
    assert lines[5] in ("OK", "NOT OK: the merged rate is off")


@pytest.fixture(scope="module")
def docker_base() -> None:
    """A Docker engine and the image's base (as the image tests have them)."""
    for script, timeout in (("docker-engine", 120), ("stand-in-base", 900)):
        subprocess.run([str(ROOT / "scripts" / script)], check=True, timeout=timeout)


@pytest.mark.slow
@smoke_run_of("image")
def test_the_image_bench_reports_the_added_size_and_the_start_up(docker_base: None) -> None:
    # the build reuses the layers the image tests built (tests/acceptance/test_action_image.py)
    text = "\n".join(quick("image", "--max-added-mb", "300", timeout=900))
    assert re.search(r"^build: [\d.]+ s \(with the layer cache\)$", text, re.M), text
    added = re.search(r"^added to the base \(.+\): (\d+) MB$", text, re.M)
    assert added is not None and 0 < int(added[1]) <= 300, text
    assert re.search(r"^largest packages: \S+ \d+ MB(, \S+ \d+ MB)*$", text, re.M), text
    for line in ("empty container \\(docker run ... true\\)", "docker run to the first request"):
        assert re.search(rf"^{line}: median \d+\.\d+ s \(min .+, 1 runs\)$", text, re.M), text
