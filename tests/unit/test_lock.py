"""requirements.lock (what the image installs, with --require-hashes) satisfies pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from typing import NamedTuple

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support.paths import ROOT

PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\#]+?))?\s*\\?$"
)
HASH = re.compile(r"^\s+--hash=sha256:[0-9a-f]{64}( \\)?$")

# The image's platforms (amd64 and arm64 Linux) and every supported Python.
ENVIRONMENTS = [
    {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": machine,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "os_name": "posix",
    }
    for python in ("3.11", "3.12", "3.13")
    for machine in ("x86_64", "aarch64")
]


class Pin(NamedTuple):
    name: str
    version: Version
    marker: Marker | None
    hashes: int


def read_pins(text: str) -> list[Pin]:
    pins: list[Pin] = []
    for line in text.splitlines():
        if match := PIN.match(line):
            marker = Marker(match["marker"]) if match["marker"] else None
            pins.append(Pin(canonicalize_name(match["name"]), Version(match["version"]), marker, 0))
        elif HASH.match(line):
            pins[-1] = pins[-1]._replace(hashes=pins[-1].hashes + 1)
        else:
            assert not line.strip() or line.lstrip().startswith("#"), f"unexpected line: {line}"
    return pins


def problems(pins: list[Pin], dependencies: list[str], env: dict[str, str]) -> list[str]:
    """What is wrong with the lock for one environment: missing, duplicate or out-of-bounds pins."""
    chosen: dict[str, list[Version]] = {}
    for pin in pins:
        if pin.marker is None or pin.marker.evaluate(env):
            chosen.setdefault(pin.name, []).append(pin.version)
    found = [f"{name} pinned {len(v)} times" for name, v in chosen.items() if len(v) != 1]
    for dependency in map(Requirement, dependencies):
        if dependency.marker is not None and not dependency.marker.evaluate(env):
            continue
        name = canonicalize_name(dependency.name)
        if name not in chosen:
            found.append(f"{name} is not pinned")
        elif chosen[name][0] not in dependency.specifier:
            found.append(f"{name}=={chosen[name][0]} is outside {dependency.specifier}")
    found += [f"{p.name}=={p.version} has no --hash" for p in pins if p.hashes == 0]
    return found


@pytest.fixture(scope="module")
def pins() -> list[Pin]:
    return read_pins((ROOT / "requirements.lock").read_text())


@pytest.mark.parametrize(
    "env", ENVIRONMENTS, ids=lambda e: f"py{e['python_version']}-{e['platform_machine']}"
)
def test_the_lock_pins_every_dependency_once_within_its_bounds(
    pins: list[Pin], env: dict[str, str]
) -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert problems(pins, dependencies, env) == [], "run scripts/lock"


@pytest.mark.parametrize("env", ENVIRONMENTS[::2], ids=lambda e: f"py{e['python_version']}")
def test_the_build_backend_lock_satisfies_build_system_requires(env: dict[str, str]) -> None:
    """The image builds the package with the backend of requirements-build.lock."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    build = read_pins((ROOT / "requirements-build.lock").read_text())
    assert problems(build, requires, env) == [], "run scripts/lock"


def test_the_lock_holds_hashes_for_both_architectures_and_not_the_project(
    pins: list[Pin],
) -> None:
    assert "iter8-py" not in {pin.name for pin in pins}
    # A binary package carries one hash per published file (the manylinux wheels for
    # x86_64 and aarch64 among them, for each Python), not only this machine's wheel.
    assert min(pin.hashes for pin in pins if pin.name == "numpy") > 10


def test_a_stale_lock_is_caught() -> None:
    lock = read_pins(
        "numpy==1.20.0 ; python_full_version < '3.12' \\\n"
        "    --hash=sha256:" + "a" * 64 + "\n"
        "numpy==2.4.6 ; python_full_version >= '3.12'\n"
        "pyyaml==6.0.4\n"
    )
    assert problems(lock, ["numpy>=1.26", "pyyaml>=6.0", "click>=8.1"], ENVIRONMENTS[0]) == [
        "numpy==1.20.0 is outside >=1.26",
        "click is not pinned",
        "numpy==2.4.6 has no --hash",
        "pyyaml==6.0.4 has no --hash",
    ]
    assert problems(lock[:1] * 2, ["numpy"], ENVIRONMENTS[0])[0] == "numpy pinned 2 times"
