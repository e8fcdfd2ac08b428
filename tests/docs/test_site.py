"""The documentation site builds, its generated pages are current, and its examples work.

Every YAML example in `docs/` and the README is checked by what it is: an experiment is
loaded and validated as `iter8 validate` does, a GitHub workflow and a GitLab CI file are
checked against their schemas, a provider template is rendered and validated. A block that
is none of these says what it is in a marker comment before it:
`<!-- check: with:TASK -->` (the `with:` of a task), `<!-- check: provider -->`,
`<!-- check: manifest -->` (an included, generated Kubernetes manifest),
`<!-- check: steps -->` (steps of a GitHub workflow job), or
`<!-- check: none (why) -->`. Console examples are run in the folder their marker names,
`<!-- run: docs/examples -->`, and their output compared (`...` stands for any text);
`<!-- run: none (why) -->` marks one that cannot run offline.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from iter8_action.engine.loader import load_experiment
from iter8_action.metrics.backends.render import render_spec
from iter8_action.metrics.backends.sources import TemplateSource
from tests.support import k8s
from tests.support.paths import DOCS, ROOT, SCHEMAS

BIN = Path(sys.executable).parent
FENCE = re.compile(
    r"(?:^<!-- (?P<kind>check|run): (?P<marker>[^\n]*?) -->\n)?"
    r"^(?P<fence>`{3,})(?P<lang>\w+)[^\n]*\n(?P<body>.*?)^(?P=fence)$",
    flags=re.S | re.M,
)
README_MAX_BYTES = 12 * 1024


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    marker: str | None
    body: str

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _pages() -> list[Path]:
    return [*sorted(DOCS.rglob("*.md")), ROOT / "README.md"]


def _blocks(lang: str) -> list[Block]:
    found = []
    for page in _pages():
        text = page.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            if m["lang"] == lang:
                line = text.count("\n", 0, m.start("fence")) + 1
                found.append(Block(page, line, lang, m["marker"], m["body"]))
    return found


def _check_jsonschema(schema: str, document: str, tmp_path: Path) -> None:
    path = tmp_path / "document.yaml"
    path.write_text(document, encoding="utf-8")
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", f"vendor.{schema}", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _validate_experiment(document: Any, tmp_path: Path) -> None:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    load_experiment(path, env=os.environ)  # raises ExperimentInvalid with every problem


def _is_gitlab_ci(document: dict[str, Any]) -> bool:
    keywords = {"stages", "include", "variables", "default", "workflow"}
    jobs = [v for v in document.values() if isinstance(v, dict)]
    return bool(keywords & set(document)) or any("script" in j or "stage" in j for j in jobs)


def test_the_generated_pages_are_current() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "tasks" / "http" / "index.html").exists()


def test_the_readme_is_a_short_landing_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) <= README_MAX_BYTES
    assert "<!-- section:" not in readme
    two_commands = readme.index("## Two commands")
    assert readme.index("iter8 demo") > two_commands
    assert readme.index("scripts/test") > two_commands


def test_every_task_has_a_page_linked_from_the_readme() -> None:
    schema = json.loads((SCHEMAS / "experiment.schema.json").read_text())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for task in schema["$defs"]["task"]["properties"]["task"]["enum"]:
        if task.startswith(("gen-", "collect-", "assess-")):
            continue  # Iter8's older names, on the migration page
        assert (DOCS / "tasks" / f"{task}.md").exists(), task
        assert f"/tasks/{task}/" in readme, task


@pytest.mark.parametrize("block", _blocks("yaml"), ids=str)
def test_each_yaml_example_is_valid(block: Block, tmp_path: Path) -> None:
    document = yaml.safe_load(block.body)
    marker = block.marker or ""
    if marker.startswith("none"):
        assert re.fullmatch(r"none \(.+\)", marker), f"{block}: say why in the marker"
    elif marker.startswith("with:"):
        task = {"task": marker.removeprefix("with:"), "with": document}
        _validate_experiment({"spec": [task]}, tmp_path)
    elif marker == "steps":
        workflow = {"on": "push", "jobs": {"job": {"runs-on": "ubuntu-24.04", "steps": document}}}
        _check_jsonschema("github-workflows", yaml.safe_dump(workflow), tmp_path)
    elif marker == "manifest":
        snippet = re.fullmatch(r'--8<-- "(.+)"\n', block.body)
        assert snippet, f"{block}: a manifest block includes one generated file"
        text = (DOCS / snippet[1]).read_text(encoding="utf-8")
        assert k8s.problems([d for d in yaml.safe_load_all(text) if d]) == []
    elif marker == "provider":
        source = TemplateSource(block.body, str(block))
        render_spec(
            source, {"versionName": "v1", "elapsedTimeSeconds": 60}, provider="p", version="v1"
        )
    elif isinstance(document, dict) and "jobs" in document:
        _check_jsonschema("github-workflows", block.body, tmp_path)
    elif isinstance(document, dict) and "spec" in document:
        _validate_experiment(document, tmp_path)
    elif isinstance(document, list) and all(
        isinstance(t, dict) and ("task" in t or "run" in t) for t in document
    ):
        _validate_experiment({"spec": document}, tmp_path)
    elif isinstance(document, dict) and _is_gitlab_ci(document):
        _check_jsonschema("gitlab-ci", block.body, tmp_path)
    else:
        pytest.fail(f"{block}: a YAML example that no check knows; add a check: marker")


def _commands(body: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for each `$ ` line of a console block."""
    pairs: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:].split("  #", 1)[0].strip(), []))
        elif pairs:
            pairs[-1][1].append(line)
    return pairs


def _matches(expected: str, actual: str) -> bool:
    pattern = ".*?".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual) is not None


@pytest.mark.parametrize("block", _blocks("console"), ids=str)
def test_each_console_example_runs_as_shown(block: Block) -> None:
    marker = block.marker or ""
    assert marker, f"{block}: mark the folder to run in, or none (why)"
    if marker.startswith("none"):
        assert re.fullmatch(r"none \(.+\)", marker), f"{block}: say why in the marker"
        return
    for command, expected in _commands(block.body):
        argv = shlex.split(command)
        assert argv[0] == "iter8", f"{block}: only iter8 commands run here"
        done = subprocess.run(
            [str(BIN / "iter8"), *argv[1:]],
            cwd=ROOT / marker,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "NO_COLOR": "1", "CI": ""},
        )
        actual = (done.stderr + done.stdout).rstrip("\n").splitlines()
        # stderr and stdout are read apart, so compare as sets of lines in order per stream
        assert len(actual) == len(expected), f"{block}: {command}\n" + "\n".join(actual)
        unmatched = [e for e in expected if not any(_matches(e, a) for a in actual)]
        assert not unmatched, f"{block}: {command}\n" + "\n".join(actual)
