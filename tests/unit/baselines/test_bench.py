"""The across-run simulation runs (a smoke run: its figures are in docs/baselines.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_across_run_simulation_prints_its_tables() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "assessment_power.py"),
            "--across-runs-only",
            "--across-runs",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = (
        "| K baseline runs | significant (test alone) | regression (test and noise) "
        "| gate fails (maxIncreasePercent 10) |"
    )
    assert lines.count(header) == 2
    assert [line.split(" | ")[0] for line in lines if line.startswith("| ") and "%" in line] == [
        "| 1",
        "| 3",
        "| 5",
        "| 1",
        "| 3",
        "| 5",
    ]
