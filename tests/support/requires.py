"""System tools the tests need: `@pytest.mark.requires("prometheus", ...)`.

A test that needs a tool the Python environment cannot install (a server it starts,
a browser, a Docker engine, gitlab-ci-local) says so with the marker. When one is
missing the test is skipped on a developer's machine, where `scripts/system-deps`
may not have run, and fails under `CI=true` (GitHub Actions and GitLab CI set it),
where a skip would hide that the suite did not test what it claims.

A tool is an executable found on PATH (`shutil.which`), unless `TOOLS` knows it
better: several names, or something that is not one executable (a Docker engine
that answers, the Kubernetes validators' npm packages).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

SYSTEM_DEPS = "scripts/system-deps"


@dataclass(frozen=True)
class Tool:
    """How to tell that a tool is there, and where it comes from."""

    found: Callable[[], bool]
    source: str
    """What installs it, for the message: "the Debian package prometheus"."""
    how: str = SYSTEM_DEPS
    """What to run to have it."""


def _executable(*names: str) -> Callable[[], bool]:
    return lambda: any(shutil.which(name) for name in names)


@functools.cache
def _engine_answers(docker: str) -> bool:
    try:
        done = subprocess.run(
            [docker, "info"], capture_output=True, timeout=30, check=False, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _docker() -> bool:
    """The client, and an engine that answers or a dockerd that scripts/docker-engine starts."""
    docker = shutil.which("docker")
    return docker is not None and (shutil.which("dockerd") is not None or _engine_answers(docker))


def k8s_models_dir() -> Path:
    """Where scripts/system-deps installs the CRD validators' npm packages."""
    default = Path.home() / ".cache" / "iter8-py-test" / "k8s-models"
    return Path(os.environ.get("K8S_MODELS_DIR", str(default)))


def _k8s_models() -> bool:
    modules = k8s_models_dir() / "node_modules" / "@kubernetes-models"
    return shutil.which("node") is not None and modules.is_dir()


CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
"""The names Chromium's executable has (Debian, Ubuntu, Google's build)."""

TOOLS: Mapping[str, Tool] = {
    "prometheus": Tool(_executable("prometheus"), "the Debian package prometheus"),
    "chromium": Tool(_executable(*CHROMIUM), "the Debian package chromium"),
    "gitlab-ci-local": Tool(
        lambda: _executable("gitlab-ci-local")() and _executable("rsync")(),
        "the npm package gitlab-ci-local, and rsync, which it runs",
    ),
    "docker": Tool(
        _docker,
        "the Debian package docker.io, and an engine that answers",
        f"{SYSTEM_DEPS}, then scripts/docker-engine",
    ),
    "k8s-models": Tool(
        _k8s_models,
        "Node, and the npm packages @kubernetes-models/gateway-api and @kubernetes-models/istio"
        " in $K8S_MODELS_DIR, by default ~/.cache/iter8-py-test/k8s-models",
    ),
    "openssl": Tool(_executable("openssl"), "the Debian package openssl"),
}


def missing(tools: Iterable[str]) -> list[str]:
    """The tools of `tools` that are not there, in order, each once."""
    absent: list[str] = []
    for name in tools:
        tool = TOOLS.get(name)
        found = tool.found() if tool else shutil.which(name) is not None
        if not found and name not in absent:
            absent.append(name)
    return absent


def message(tools: Iterable[str], *, ci: bool) -> str:
    """What is missing, what installs it, and why the test is skipped or failed."""
    lines = []
    for name in tools:
        tool = TOOLS.get(name)
        source = tool.source if tool else "an executable on PATH"
        how = tool.how if tool else SYSTEM_DEPS
        lines.append(f"{name} is missing ({source}): run {how}")
    why = (
        "CI=true: a missing tool fails the test instead of skipping it"
        if ci
        else "skipped here; under CI=true this fails"
    )
    return "; ".join(lines) + f" ({why})"


def in_ci(environ: Mapping[str, str]) -> bool:
    """GitHub Actions and GitLab CI set `CI=true`."""
    return environ.get("CI", "").lower() in ("true", "1")


def require(*tools: str) -> None:
    """Skip the running test (fail it under CI=true) unless every tool of `tools` is there.

    For a need found while the test runs, where a marker cannot say it in advance (a
    documentation example that turns out to hold a Gateway API route)."""
    absent = missing(tools)
    if not absent:
        return
    ci = in_ci(os.environ)
    if ci:
        pytest.fail(message(absent, ci=True), pytrace=False)
    pytest.skip(message(absent, ci=False))


def check(item: pytest.Item) -> None:
    """The `requires` markers of `item` (closest first), checked before its fixtures start."""
    require(*(name for mark in item.iter_markers("requires") for name in mark.args))
