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
