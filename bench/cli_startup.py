#!/usr/bin/env python3
"""How long the quick commands take: `iter8 validate` and `iter8 assert` against `iter8 version`.

Usage (from the repository root, with the project's Python):

    python -m bench.cli_startup [--quick] [--rounds N]

Each command runs as a fresh process (the `iter8` script next to this Python), N
rounds interleaved so that a busy moment of a shared machine hits every command
alike; it prints each command's median wall time, its ratio to `iter8 version`
(the floor: Python, click and nothing of ours to speak of) and whether the median is
under the target. Bytecode is written as a normal install has it (the warm-up run writes
it even where PYTHONDONTWRITEBYTECODE is set): compiling every module's source on each run
is not what a user waits for. Checking a file must not load what running one needs (SciPy,
grpc, uvloop, plotly): `python -X importtime -m iter8_action validate` shows what
does when a figure grows. A benchmark prints figures; it never fails on them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.support.paths import ROOT

TARGET_S = 0.3
"""`iter8 validate` and `iter8 assert`: the median of 5 stays under this (issue 13.4)."""

COMMANDS: dict[str, list[str]] = {
    "version": ["version"],
    "validate (http, ready)": ["validate", "-f", "tests/examples/valid/current-form.yaml"],
    "validate (grpc, assess)": ["validate", "-f", "tests/examples/valid/grpc.yaml"],
    "assert": [
        "assert",
        "-c",
        "completed",
        "-c",
        "nofailure",
        "-c",
        "slos",
        "-f",
        "tests/fixtures/results/winner.yaml",
    ],
}
CHECKED = ("validate (http, ready)", "validate (grpc, assess)", "assert")


def iter8_command() -> list[str]:
    """The installed `iter8` script beside this Python, else `python -m iter8_action`."""
    script = Path(sys.executable).with_name("iter8")
    if script.exists():
        return [str(script)]
    found = shutil.which("iter8")
    return [found] if found else [sys.executable, "-m", "iter8_action"]


def time_once(argv: list[str]) -> float:
    """Wall time of one run; a command that fails for a reason other than a verdict
    (exit 0 or 1) would time an error path, so that stops the bench."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    began = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - began
    if done.returncode not in (0, 1):
        raise SystemExit(
            f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr.decode(errors='replace')}"
        )
    return elapsed


def measure(rounds: int) -> dict[str, list[float]]:
    base = iter8_command()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for args in COMMANDS.values():  # one warm-up each: .pyc files, the page cache
        time_once([*base, *args])
    for _ in range(rounds):
        for name, args in COMMANDS.items():
            times[name].append(time_once([*base, *args]))
    return times


def report(times: dict[str, list[float]]) -> list[str]:
    floor = statistics.median(times["version"])
    lines = [f"{'command':<26} {'median s':>9} {'x version':>10}  target"]
    for name, samples in times.items():
        median = statistics.median(samples)
        verdict = (
            ("under" if median < TARGET_S else "OVER") + f" {TARGET_S:g} s"
            if name in CHECKED
            else ""
        )
        lines.append(f"{name:<26} {median:>9.3f} {median / floor:>10.2f}  {verdict}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round (a smoke test)")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each command (default 5)")
    args = parser.parse_args()
    rounds = 1 if args.quick else max(1, args.rounds)
    times = measure(rounds)
    print(f"iter8 start-up, median of {rounds} run(s) each, from {ROOT}")
    for line in report(times):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
