"""Acceptance tests call `iter8` as a user would: a subprocess, with the package on its path."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.cli import Iter8, iter8_command, iter8_env


@pytest.fixture
def iter8(tmp_path: Path) -> Iter8:
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


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace folder to run the CI job in (its parent holds the runner's files)."""
    root = tmp_path / "workspace"
    root.mkdir()
    monkeypatch.chdir(root)
    return root
