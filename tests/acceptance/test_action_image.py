"""The action's image, built the way the Dockerfile builds it, without Docker.

Docker cannot run here, so this test reads the Dockerfile and replays it: the
`COPY` sources into a fresh root, the `ENV` variables, the `RUN pip install`
into a fresh virtual environment (no access to the test's packages), then the
`ENTRYPOINT` with the environment the runner gives a Docker action.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

from tests.servers.github_api import FakeGitHub, pull_request_event

REPO = Path(__file__).resolve().parents[2]


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = dockerfile.read_text().replace("\\\n", " ")
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def in_root(root: Path, path: str) -> str:
    return str(root / path.lstrip("/")) if path.startswith("/") else path


@pytest.mark.slow
def test_the_image_installs_and_runs_the_entrypoint(tmp_path: Path) -> None:
    root = tmp_path / "image"
    env_python = root / "venv"
    venv.create(env_python, with_pip=True)
    bin_dir = env_python / "bin"
    image_env: dict[str, str] = {}
    entrypoint: list[str] = []
    for keyword, args in instructions(REPO / "Dockerfile"):
        if keyword == "ENV":
            for item in shlex.split(args):
                name, _, value = item.partition("=")
                image_env[name] = value
        elif keyword == "COPY":
            *sources, dest = shlex.split(args)
            target = Path(in_root(root, dest))
            for source in sources:
                src = REPO / source
                if src.is_dir():
                    shutil.copytree(src, target, dirs_exist_ok=True)
                elif dest.endswith("/"):
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy(src, target / src.name)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(src, target)
        elif keyword == "RUN":
            # The image's absolute paths, moved under the fresh root; `pip` is the venv's.
            script = re.sub(r"(?<![\w/])/(tmp|action)\b", f"{root}/\\1", args)
            subprocess.run(
                ["bash", "-ec", script],
                env={**os.environ, **image_env, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
                check=True,
                timeout=600,
            )
        elif keyword == "ENTRYPOINT":
            entrypoint = [in_root(root, word) for word in json.loads(args)]
    assert entrypoint[0] == "python"
    entrypoint[0] = str(bin_dir / "python")

    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "experiment.yaml").write_text("spec:\n- run: echo from the image\n")
    event = tmp_path / "event.json"
    event.write_text(json.dumps(pull_request_event()))
    output = tmp_path / "output"
    with FakeGitHub() as github:
        done = subprocess.run(
            entrypoint,
            cwd=workspace,
            env={
                "PATH": f"{bin_dir}:/usr/bin:/bin",
                **image_env,
                "GITHUB_ACTIONS": "true",
                "GITHUB_EVENT_NAME": "pull_request",
                "GITHUB_EVENT_PATH": str(event),
                "GITHUB_OUTPUT": str(output),
                "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
                "GITHUB_API_URL": github.url,
                "GITHUB_REPOSITORY": github.repo,
                "INPUT_TOKEN": github.token,
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert len(github.comments_on(7)) == 1
    assert "| from the image" in done.stdout
    assert "verdict<<" in output.read_text()
    installed = subprocess.run(
        [str(bin_dir / "python"), "-c", "import iter8_action, sys; print(iter8_action.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert installed.startswith(str(env_python)), "the package must be installed, not editable"
    assert not (root / "tmp" / "iter8-py").exists()
    assert sorted(p.name for p in (root / "action").iterdir()) == ["entrypoint.py"]
