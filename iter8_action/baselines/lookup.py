"""Looking through a base branch's runs for their results: what both CI hosts share.

A host (`RunHost`: GitHub's workflow runs, GitLab's pipelines) lists its runs newest
first and says where one run's result is (`Candidate`). `collect` walks the runs
within `LOOKUP_TIMEOUT_S`, reads each candidate's artifact, and tells what it could
not use as notes: an expired artifact, a failed download, a file that is not a result,
a host that refused to list the runs or could not be reached.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import requests

from iter8_action.baselines.archive import read_artifact
from iter8_action.baselines.download import DownloadFailed
from iter8_action.baselines.model import (
    LOOKUP_TIMEOUT_S,
    BaselineInvalid,
    BaselineRun,
    Baselines,
)

_R = TypeVar("_R")
_E = TypeVar("_E", bound=Exception)


@dataclass(frozen=True)
class Candidate:
    """A run of the base branch with an artifact that may hold its result."""

    sha: str
    url: str
    origin: str
    """The run and its artifact, for notes: `<run URL> (artifact NAME)`."""
    download: Callable[[], bytes | None]
    """The artifact zip, or None when it expired (counted, not noted one by one); raises
    `DownloadFailed` or `BaselineInvalid` when it cannot be had."""


class RunHost(Protocol[_R, _E]):
    """A CI host's runs of the base branch, and what to say of those without a result."""

    @property
    def name(self) -> str:
        """ "GitHub" or "GitLab", for notes."""

    @property
    def api_url(self) -> str: ...

    @property
    def branch(self) -> str: ...

    @property
    def error_type(self) -> type[_E]:
        """The host library's error: a listing the host refused."""

    def runs(self, count: int) -> Iterable[_R]:
        """The successful runs of the branch, newest first; enough to find `count` results."""

    def candidate(self, run: _R) -> Candidate | None:
        """Where the run's result is, or None when it has no artifact of that name."""

    def refused(self, error: _E) -> str:
        """The note when the host refuses to list the runs."""

    def expired(self, runs: int) -> str:
        """The note for this many runs whose artifact expired."""

    def none_found(self) -> str:
        """The first note when no run had a usable result."""


def collect(host: RunHost[Any, Any], *, count: int, source: str) -> Baselines:
    """The results of the first `count` runs of `host` that read, newest first."""
    try:
        found, notes = _walk(host, count)
    except host.error_type as e:
        note = host.refused(e)
    except requests.RequestException as e:
        note = f"could not reach the {host.name} API at {host.api_url} ({type(e).__name__})"
    else:
        return Baselines(source, tuple(found), tuple(notes), host.branch)
    return Baselines(source, branch=host.branch, notes=(note,))


def _walk(host: RunHost[_R, Any], count: int) -> tuple[list[BaselineRun], list[str]]:
    found: list[BaselineRun] = []
    notes: list[str] = []
    expired = 0
    deadline = time.monotonic() + LOOKUP_TIMEOUT_S
    for run in host.runs(count):
        if time.monotonic() > deadline:
            notes.append(f"stopped looking for baselines after {LOOKUP_TIMEOUT_S:g}s")
            break
        where = host.candidate(run)
        if where is None:
            continue
        try:
            data = where.download()
            if data is None:
                expired += 1
                continue
            store, own = read_artifact(data, where.origin)
        except DownloadFailed as e:
            notes.append(f"{where.origin}: {e}")
            continue
        except BaselineInvalid as e:
            notes.append(f"skipped: {e}")
            continue
        found.append(BaselineRun(host.branch, where.sha, where.url, store, own))
        if len(found) == count:
            break
    if expired:
        notes.append(host.expired(expired))
    if not found:
        notes.insert(0, host.none_found())
    return found, notes
