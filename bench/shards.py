#!/usr/bin/env python3
"""Sharded open-loop load on one machine: N `iter8 run --shard I/N` processes, merged.

Usage (from the repository root, with the project's Python):

    python bench/shards.py [--quick] [--shards N] [--qps TOTAL] [--seconds S]

It starts nginx on a free loopback port (the Python test target with --quick, or
when nginx is missing), writes an experiment asking for TOTAL qps for S seconds,
runs N shard processes at once with a common `--start-at`, merges their results
with `iter8 merge`, and prints the merged request count (it must be exactly
TOTAL x S) and the merged achieved rate against the rate asked for: within 1%
when the shards' schedules lined up. Each shard's start delay and clock skew are
printed too. Shards on one machine share its cores: the point is the merge and
the common start, not more throughput than one process (see docs/scaling.md).
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STARTUP_MARGIN_S = 8.0
"""How far ahead the common start lies: every shard process must have started by then."""
TOLERANCE = 0.01


@contextlib.contextmanager
def target(quick: bool) -> Iterator[str]:
    import shutil

    if not quick and shutil.which("nginx"):
        from bench.loadgen import nginx

        with nginx() as (url, _):
            yield url
        return
    from tests.support.servers.targets import Target

    with Target() as server:
        yield server.url


def run(shards: int, qps: float, seconds: float, quick: bool) -> int:
    with tempfile.TemporaryDirectory(prefix="iter8-shards-") as tmp, target(quick) as url:
        directory = Path(tmp)
        experiment = {
            "spec": [
                {
                    "task": "http",
                    "with": {"url": url.rstrip("/") + "/", "qps": qps, "duration": f"{seconds}s"},
                }
            ]
        }
        (directory / "experiment.yaml").write_text(yaml.safe_dump(experiment))
        start = datetime.now(UTC) + timedelta(seconds=STARTUP_MARGIN_S)
        start_at = start.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        command = [sys.executable, "-m", "iter8_action"]
        began = time.monotonic()
        processes = [
            subprocess.Popen(
                [
                    *command,
                    "run",
                    "--shard",
                    f"{i}/{shards}",
                    "--start-at",
                    start_at,
                    "-o",
                    f"shard-{i}.yaml",
                    "--log-level",
                    "warning",
                ],
                cwd=directory,
            )
            for i in range(1, shards + 1)
        ]
        if any(p.wait() != 0 for p in processes):
            print("a shard failed", file=sys.stderr)
            return 1
        merge = [*command, "merge", *(f"shard-{i}.yaml" for i in range(1, shards + 1))]
        subprocess.run(
            [*merge, "-o", "merged.yaml", "--log-level", "warning"], cwd=directory, check=True
        )
        elapsed = time.monotonic() - began
        result = yaml.safe_load((directory / "merged.yaml").read_text())["result"]
        values = result["insights"]["nonHistMetricValues"][0]
        count = int(values["http/request-count"][-1])
        achieved = values["http/qps-achieved"][-1]
        expected = round(qps * seconds)
        error = achieved / qps - 1
        print(
            f"{shards} shards, {qps:g} qps in all for {seconds:g} s ({elapsed:.1f} s with startup)"
        )
        for i in range(1, shards + 1):
            shard = yaml.safe_load((directory / f"shard-{i}.yaml").read_text())["result"]["shard"]
            load = shard["loads"]["0"]
            delay_ms, skew_ms = load["startDelaySeconds"] * 1e3, load["clockSkewSeconds"] * 1e3
            print(
                f"  shard {i}/{shards}: {shard_count(shard)} requests, "
                f"start delay {delay_ms:.1f} ms, clock skew {skew_ms:.3f} ms"
            )
        errors = int(values["http/error-count"][-1])
        print(f"merged: {count} requests (expected {expected}), errors {errors}")
        print(
            f"merged achieved rate: {achieved:.1f} qps, {error:+.2%} of {qps:g} "
            f"(bound ±{TOLERANCE:.0%})"
        )
        ok = count == expected and abs(error) <= TOLERANCE
        print("OK" if ok else "NOT OK: the merged rate or count is off")
        return 0 if ok else 1


def shard_count(shard: dict[str, object]) -> int:
    load = shard["loads"]["0"]  # type: ignore[index]
    return sum(int(s["stats"]["requests"]) for s in load["streams"])  # type: ignore[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 shards, 200 qps, 2 s")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--qps", type=float, default=4000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if args.quick:
        return run(2, 200.0, 2.0, quick=True)
    return run(args.shards, args.qps, args.seconds, quick=False)


if __name__ == "__main__":
    sys.exit(main())
