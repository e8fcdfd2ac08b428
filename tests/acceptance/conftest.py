"""Acceptance tests call `iter8` as a user would: a subprocess, with the package on its path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def iter8_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "iter8_action", *args]


def iter8_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **extra}
    env.pop("GITHUB_ACTIONS", None)
    env.pop("GITLAB_CI", None)
    return env


@pytest.fixture
def iter8(tmp_path: Path) -> object:
    """Run `iter8 ARGS` in tmp_path; returns the CompletedProcess (text)."""

    def call(
        *args: str, timeout: float = 60, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            iter8_command(*args),
            cwd=cwd or tmp_path,
            env=iter8_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    return call


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
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("peak-rss-kib "), done.stderr
    return int(last.split()[1]) / 1024


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace folder to run the CI job in (its parent holds the runner's files)."""
    root = tmp_path / "workspace"
    root.mkdir()
    monkeypatch.chdir(root)
    return root
