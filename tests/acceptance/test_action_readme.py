"""The README's copy-paste YAML for the action and the component is valid as pasted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from iter8_action.loader import load_experiment

REPO = Path(__file__).resolve().parents[2]
START = "<!-- section: github action and gitlab component (issue 6) -->"
BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)


def section_blocks() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split(START, 1)[1].split("<!-- section:", 1)[0]
    return BLOCK.findall(section)


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


def test_the_section_has_workflows_an_experiment_and_gitlab_configs() -> None:
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
        assert [t.name for t in load_experiment(path).tasks] == ["ready", "http", "assess"]
        return
    done = check_jsonschema(what, path)
    assert done.returncode == 0, done.stdout + done.stderr
