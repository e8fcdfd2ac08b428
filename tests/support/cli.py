"""`iter8` run as a user runs it: a subprocess, with the package on its path."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.support.paths import ROOT

Iter8 = Callable[..., subprocess.CompletedProcess[str]]
"""The `iter8` fixture: `iter8(*args, timeout=60, cwd=None)` runs `iter8 ARGS`."""


def iter8_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "iter8_action", *args]


def iter8_env(**extra: str) -> dict[str, str]:
    """This process's environment without the CI it may run in, plus `extra`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **extra}
    env.pop("GITHUB_ACTIONS", None)
    env.pop("GITLAB_CI", None)
    return env


def run_measured(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`iter8 run ARGS` with its peak memory (of it and its children) printed last on stderr."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "code = subprocess.run(sys.argv[1:]).returncode\n"
        "print('peak-rss-kib', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
        "file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    command = iter8_command("run", "-f", "experiment.yaml", *args)
    return subprocess.run(
        [command[0], "-c", wrapper, *command],
        cwd=tmp_path,
        env=iter8_env(),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def peak_rss_mib(done: subprocess.CompletedProcess[str]) -> float:
    """The peak memory `run_measured` printed, in MiB."""
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("peak-rss-kib "), done.stderr
    return int(last.split()[1]) / 1024
