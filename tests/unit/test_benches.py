"""Each cheap bench script runs in its `--quick` mode, so that none rots unnoticed.

A bench prints figures and never fails on them; this checks that it runs to the end
and prints what it promises, not how fast anything is.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

# bench scripts cheap enough for every test run (seconds, no system tools), with a line
# each prints at the end; loadgen.py and grpcload.py start servers and take minutes
QUICK = {
    "cli_startup.py": "assert",
}


@pytest.mark.parametrize("script", sorted(QUICK))
def test_a_bench_runs_in_quick_mode(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith(QUICK[script])


def test_the_cli_startup_bench_reports_each_command_against_version() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "cli_startup.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows = [line.split()[0] for line in done.stdout.splitlines()[2:]]
    assert rows == ["version", "validate", "validate", "assert"]
    assert done.stdout.splitlines()[2].split()[-1] == "1.00"
