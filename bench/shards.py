#!/usr/bin/env python3
"""Sharded open-loop load on one machine: N `iter8 run --shard I/N` processes, merged.

Usage (from the repository root, with the project's Python):

    python -m bench.shards [--quick] [--shards N] [--qps TOTAL] [--seconds S]

It starts nginx on a free loopback port (the Python test target with --quick, or
when nginx is missing), writes an experiment asking for TOTAL qps for S seconds,
runs N shard processes at once with a common `--start-at`, merges their results
with `iter8 merge`, and prints the merged request count (it must be exactly
TOTAL x S) and the merged achieved rate against the rate asked for: within 1%
when the shards' schedules lined up. Each shard's start delay and clock skew are
printed too. Shards on one machine share its cores: the point is the merge and
the common start, not more throughput than one process (see docs/scaling.md).
It exits 1 only when a shard fails or the merged count is off: the rate is a
figure, which a busy machine moves. `--quick`: 2 shards, 200 qps for 2 s.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bench.loadgen import nginx
from tests.support.servers.targets import Target

TOLERANCE = 0.01


@dataclass(frozen=True)
class Load:
    """One run of the bench: the shards, the rate they share, and how long it lasts."""

    shards: int
    qps: float
    seconds: float
    startup_margin_s: float
    """How far ahead the common start lies: every shard process must have started by then."""


QUICK = Load(shards=2, qps=200.0, seconds=2.0, startup_margin_s=4.0)


@contextlib.contextmanager
def target(quick: bool) -> Iterator[str]:
    if not quick and shutil.which("nginx"):
        with nginx() as (url, _):
            yield url
        return
    with Target() as server:
        yield server.url


def run(load: Load, *, quick: bool) -> int:
    with tempfile.TemporaryDirectory(prefix="iter8-shards-") as tmp, target(quick) as url:
        directory = Path(tmp)
        experiment = {
            "spec": [
                {
                    "task": "http",
                    "with": {
                        "url": url.rstrip("/") + "/",
                        "qps": load.qps,
                        "duration": f"{load.seconds}s",
                    },
                }
            ]
        }
        (directory / "experiment.yaml").write_text(yaml.safe_dump(experiment))
        began = time.monotonic()
        if not run_shards(load, directory):
            print("a shard failed", file=sys.stderr)
            return 1
        return report(load, directory, elapsed=time.monotonic() - began)


ITER8 = [sys.executable, "-m", "iter8_action"]


def run_shards(load: Load, directory: Path) -> bool:
    """Run every shard at once with a common start, then merge them; False if one failed."""
    start = datetime.now(UTC) + timedelta(seconds=load.startup_margin_s)
    start_at = start.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    numbers = range(1, load.shards + 1)
    processes = [
        subprocess.Popen(
            [
                *ITER8,
                "run",
                "--shard",
                f"{i}/{load.shards}",
                "--start-at",
                start_at,
                "-o",
                f"shard-{i}.yaml",
                "--log-level",
                "warning",
            ],
            cwd=directory,
        )
        for i in numbers
    ]
    if any(p.wait() != 0 for p in processes):
        return False
    merge = [*ITER8, "merge", *(f"shard-{i}.yaml" for i in numbers)]
    subprocess.run(
        [*merge, "-o", "merged.yaml", "--log-level", "warning"], cwd=directory, check=True
    )
    return True


def report(load: Load, directory: Path, *, elapsed: float) -> int:
    """Print the shards and the merge; exit 1 only when the merge lost or invented requests
    (the rate is a figure that a busy machine moves: printed against its bound)."""
    result = yaml.safe_load((directory / "merged.yaml").read_text())["result"]
    values = result["insights"]["nonHistMetricValues"][0]
    count = int(values["http/request-count"][-1])
    achieved = float(values["http/qps-achieved"][-1])
    expected = round(load.qps * load.seconds)
    error = achieved / load.qps - 1
    print(
        f"{load.shards} shards, {load.qps:g} qps in all for {load.seconds:g} s "
        f"({elapsed:.1f} s with startup)"
    )
    for i in range(1, load.shards + 1):
        shard = yaml.safe_load((directory / f"shard-{i}.yaml").read_text())["result"]["shard"]
        first = shard["loads"]["0"]
        delay_ms, skew_ms = first["startDelaySeconds"] * 1e3, first["clockSkewSeconds"] * 1e3
        print(
            f"  shard {i}/{load.shards}: {shard_count(shard)} requests, "
            f"start delay {delay_ms:.1f} ms, clock skew {skew_ms:.3f} ms"
        )
    errors = int(values["http/error-count"][-1])
    print(f"merged: {count} requests (expected {expected}), errors {errors}")
    print(
        f"merged achieved rate: {achieved:.1f} qps, {error:+.2%} of {load.qps:g} "
        f"(bound ±{TOLERANCE:.0%})"
    )
    if count != expected:
        print("NOT OK: the merged count is off")
        return 1
    print("OK" if abs(error) <= TOLERANCE else "NOT OK: the merged rate is off")
    return 0


def shard_count(shard: dict[str, Any]) -> int:
    """The requests of a shard's first load (`result.shard` of its result file)."""
    streams: list[dict[str, Any]] = shard["loads"]["0"]["streams"]
    return sum(int(s["stats"]["requests"]) for s in streams)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 shards, 200 qps, 2 s (a smoke run)")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--qps", type=float, default=4000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if args.quick:
        return run(QUICK, quick=True)
    return run(Load(args.shards, args.qps, args.seconds, startup_margin_s=8.0), quick=False)


if __name__ == "__main__":
    sys.exit(main())
