"""The copy-paste YAML of the CI pages (action, forks, component) is valid as pasted."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from iter8_action.engine.loader import load_experiment
from tests.support.paths import DOCS

PAGES = ("getting-started/github-action.md", "ci/forks.md", "getting-started/gitlab-component.md")
BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)


def section_blocks() -> list[str]:
    return [
        block
        for page in PAGES
        for block in BLOCK.findall((DOCS / page).read_text(encoding="utf-8"))
    ]


def kind(block: str) -> str:
    data = yaml.safe_load(block)
    if isinstance(data, dict) and "jobs" in data:
        return "github-workflows"
    if isinstance(data, dict) and "spec" in data:
        return "experiment"
    return "gitlab-ci"


def check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    executable = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run(
        [str(executable), "--builtin-schema", f"vendor.{schema}", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_pages_have_workflows_an_experiment_and_gitlab_configs() -> None:
    kinds = [kind(block) for block in section_blocks()]
    assert kinds.count("github-workflows") == 3
    assert kinds.count("experiment") == 1
    assert kinds.count("gitlab-ci") == 3


@pytest.mark.parametrize("index", range(len(section_blocks())))
def test_each_block_is_valid(index: int, tmp_path: Path) -> None:
    block = section_blocks()[index]
    path = tmp_path / "block.yaml"
    path.write_text(block)
    what = kind(block)
    if what == "experiment":
        assert [t.name for t in load_experiment(path, env=os.environ).tasks] == [
            "ready",
            "http",
            "assess",
        ]
        return
    done = check_jsonschema(what, path)
    assert done.returncode == 0, done.stdout + done.stderr
