"""The `requires` marker (tests/support/requires.py): a missing tool skips a test here and
fails it under CI=true, before any fixture starts; and how tools are looked up."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from tests.support import requires
from tests.support.paths import ROOT

pytest_plugins = ["pytester"]

MISSING = "iter8-no-such-tool"
TESTS = f"""
import pytest

from tests.support.requires import require


@pytest.mark.requires("sh")
def test_present():
    pass


@pytest.mark.requires("sh", "{MISSING}")
def test_one_missing():
    pass


@pytest.fixture
def started():
    raise AssertionError("the fixture started before the check")


@pytest.mark.requires("{MISSING}")
def test_missing_before_its_fixtures(started):
    pass


def test_missing_found_while_running():
    require("{MISSING}")
"""
LOCAL = (
    f"{MISSING} is missing (an executable on PATH): run scripts/system-deps "
    "(skipped here; under CI=true this fails)"
)
SKIPPED = "Skipped: {}"
CI = (
    f"{MISSING} is missing (an executable on PATH): run scripts/system-deps "
    "(CI=true: a missing tool fails the test instead of skipping it)"
)


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A test suite with this repository's conftest.py and markers, and TESTS."""
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    markers = options["ini_options"]["markers"]
    pytester.makeini("[pytest]\nmarkers =\n" + "".join(f"    {m}\n" for m in markers))
    pytester.makeconftest((ROOT / "tests" / "conftest.py").read_text())
    pytester.makepyfile(test_tools=TESTS)
    return pytester


def _outcomes(suite: pytest.Pytester) -> dict[str, tuple[str, str, str]]:
    """Each test of the suite run in this process: the phase that decided it, its outcome
    and its message."""
    recorded = suite.inline_run("--strict-markers")
    outcomes: dict[str, tuple[str, str, str]] = {}
    for report in recorded.getreports("pytest_runtest_logreport"):
        test = report.nodeid.split("::")[-1]
        if report.when == "call" or report.outcome != "passed":
            text = report.longreprtext
            if report.skipped:  # (file, line, message): where pytest.skip was called
                assert isinstance(report.longrepr, tuple)
                text = report.longrepr[2]
            outcomes.setdefault(test, (report.when, report.outcome, text))
    return outcomes


def test_a_missing_tool_skips_here(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert _outcomes(suite) == {
        "test_present": ("call", "passed", ""),
        "test_one_missing": ("setup", "skipped", SKIPPED.format(LOCAL)),
        "test_missing_before_its_fixtures": ("setup", "skipped", SKIPPED.format(LOCAL)),
        "test_missing_found_while_running": ("call", "skipped", SKIPPED.format(LOCAL)),
    }


def test_a_missing_tool_fails_under_ci(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    assert _outcomes(suite) == {
        "test_present": ("call", "passed", ""),
        "test_one_missing": ("setup", "failed", CI),
        "test_missing_before_its_fixtures": ("setup", "failed", CI),
        "test_missing_found_while_running": ("call", "failed", CI),
    }


def _executables(folder: Path, *names: str) -> str:
    for name in names:
        path = folder / name
        path.write_text("#!/bin/sh\nexit 0\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(folder)


def test_every_known_tool_is_missing_on_an_empty_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("K8S_MODELS_DIR", str(tmp_path / "models"))
    assert requires.missing([*requires.TOOLS, "prometheus"]) == list(requires.TOOLS)


def test_known_tools_are_found_by_their_executables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _executables(
        tmp_path, "prometheus", "chromium-browser", "gitlab-ci-local", "rsync", "openssl"
    )
    monkeypatch.setenv("PATH", path)
    assert requires.missing(["prometheus", "chromium", "gitlab-ci-local", "openssl"]) == []
    assert requires.missing(["docker", "k8s-models"]) == ["docker", "k8s-models"]


def test_gitlab_ci_local_needs_rsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", _executables(tmp_path, "gitlab-ci-local"))
    assert requires.missing(["gitlab-ci-local"]) == ["gitlab-ci-local"]


def test_docker_is_a_client_and_a_dockerd_to_start_an_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", _executables(tmp_path, "docker", "dockerd"))
    assert requires.missing(["docker"]) == []


def test_the_kubernetes_validators_are_node_and_their_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", _executables(tmp_path, "node"))
    monkeypatch.setenv("K8S_MODELS_DIR", str(tmp_path / "models"))
    assert requires.missing(["k8s-models"]) == ["k8s-models"]
    (tmp_path / "models" / "node_modules" / "@kubernetes-models").mkdir(parents=True)
    assert requires.missing(["k8s-models"]) == []


def test_the_message_names_each_tool_and_how_to_get_it() -> None:
    assert requires.message(["docker", "prometheus"], ci=True) == (
        "docker is missing (the Debian package docker.io, and an engine that answers): "
        "run scripts/system-deps, then scripts/docker-engine; "
        "prometheus is missing (the Debian package prometheus): run scripts/system-deps "
        "(CI=true: a missing tool fails the test instead of skipping it)"
    )


@pytest.mark.parametrize(
    ("value", "ci"), [("true", True), ("TRUE", True), ("1", True), ("false", False), ("", False)]
)
def test_ci_is_the_variable_ci_platforms_set(value: str, ci: bool) -> None:
    assert requires.in_ci({"CI": value}) is ci
    assert requires.in_ci({}) is False
