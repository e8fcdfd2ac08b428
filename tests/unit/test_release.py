"""scripts/release: the release commit's rewrites and the release notes from CHANGELOG.md."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.paths import ROOT

FILES = ("scripts/release", "action.yml", "gitlab/templates/iter8.yml", "CHANGELOG.md")


def release(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "scripts" / "release"), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def checkout(tmp_path: Path) -> Path:
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_main_builds_the_image_and_a_release_pulls_its_own_version(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    action = yaml.safe_load((root / "action.yml").read_text())
    assert action["runs"] == {"using": "docker", "image": "Dockerfile"}  # main: `uses: ./`

    done = release(root, "pin", "1.2.3")

    assert done.returncode == 0, done.stderr
    pinned = yaml.safe_load((root / "action.yml").read_text())
    assert pinned["runs"] == {"using": "docker", "image": "docker://ghcr.io/iter8-py/action:1.2.3"}
    assert {k: v for k, v in pinned.items() if k != "runs"} == {
        k: v for k, v in action.items() if k != "runs"
    }
    header, jobs = yaml.safe_load_all((root / "gitlab/templates/iter8.yml").read_text())
    assert header["spec"]["inputs"]["image"]["default"] == "ghcr.io/iter8-py/action:1.2.3"
    original = list(yaml.safe_load_all((ROOT / "gitlab/templates/iter8.yml").read_text()))
    assert jobs == original[1]
    # Pinning twice finds no `image: "Dockerfile"` left: the workflow stops, files unchanged.
    again = release(root, "pin", "1.2.4")
    assert again.returncode == 1
    assert "action.yml: expected one line matching" in again.stderr


def test_the_release_notes_are_the_changelog_entry(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    (root / "CHANGELOG.md").write_text(
        "# Changelog\n\n## Unreleased\n\n- next\n\n## [1.2.3] - 2026-11-30\n\n"
        "- Faster start-up.\n- Pinned image.\n\n## 1.2.2\n\n- Older.\n"
    )
    notes = release(root, "notes", "1.2.3")
    assert notes.returncode == 0, notes.stderr
    assert notes.stdout == "- Faster start-up.\n- Pinned image.\n"
    missing = release(root, "notes", "1.3.0")
    assert missing.returncode == 1
    assert "no entry for 1.3.0; add a `## 1.3.0` section" in missing.stderr
    assert release(root, "notes", "v1.2.3").returncode == 2  # the version, not the tag
