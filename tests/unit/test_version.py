"""The version comes from the git tag (hatch-vcs), with a fallback when there is none."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT

HATCHLING = [sys.executable, "-m", "hatchling", "version"]


def project_copy(tmp_path: Path) -> Path:
    """pyproject.toml and what it names, in a fresh directory (no git yet)."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, root / name)
    (root / "iter8_action").mkdir()
    (root / "iter8_action" / "__init__.py").write_text("")
    return root


def version_of(root: Path, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SETUPTOOLS_SCM")}
    done = subprocess.run(
        HATCHLING, cwd=root, env={**clean, **env}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_the_tag_is_the_version_and_later_commits_are_dev_versions(tmp_path: Path) -> None:
    root = project_copy(tmp_path)
    assert version_of(root) == "0.0.0"  # no git: the fallback, as in the Docker build context
    assert version_of(root, SETUPTOOLS_SCM_PRETEND_VERSION="1.4.0") == "1.4.0"  # the release
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first")
    git(root, "tag", "-a", "v1.2.3", "-m", "iter8-py 1.2.3")
    assert version_of(root) == "1.2.3"
    (root / "README.md").write_text("changed\n")
    git(root, "commit", "-qam", "second")
    assert version_of(root).startswith("1.2.4.dev1+g")


def test_the_package_reports_its_installed_version() -> None:
    import importlib.metadata

    import iter8_action

    assert iter8_action.__version__ == importlib.metadata.version("iter8-py")
