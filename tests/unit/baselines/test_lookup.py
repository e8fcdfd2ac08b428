"""`lookup.collect`: the walk through a host's runs that GitHub and GitLab share."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import requests

from iter8_action.baselines.download import DownloadFailed
from iter8_action.baselines.lookup import Candidate, collect
from iter8_action.baselines.model import BaselineInvalid
from tests.support.baselines import http_store, result_bytes
from tests.support.servers.artifacts import zip_of

Download = Callable[[], bytes | None] | None


class Refused(Exception):
    pass


@dataclass(frozen=True)
class Host:
    """Runs named by their commit, each with its artifact's download (None: no artifact)."""

    downloads: dict[str, Download]
    listing_fails: Exception | None = None
    name = "Example CI"
    api_url = "https://ci.example/api"
    branch = "main"
    error_type = Refused

    def runs(self, count: int) -> Iterable[str]:
        if self.listing_fails is not None:
            raise self.listing_fails
        return iter(self.downloads)

    def candidate(self, run: str) -> Candidate | None:
        download = self.downloads[run]
        if download is None:
            return None
        return Candidate(run, f"https://ci.example/{run}", f"run {run}", download)

    def refused(self, error: Refused) -> str:
        return f"refused: {error}"

    def expired(self, runs: int) -> str:
        return f"{runs} expired"

    def none_found(self) -> str:
        return "none found"


def _zip(median: float) -> Callable[[], bytes]:
    data = zip_of({"result.yaml": result_bytes(http_store([median]))})
    return lambda: data


def _expired() -> None:
    return None


def _raises(error: Exception) -> Callable[[], bytes]:
    def download() -> bytes:
        raise error

    return download


def test_runs_are_read_newest_first_up_to_count_and_what_was_skipped_is_noted() -> None:
    host = Host(
        {
            "a1": None,  # no artifact of that name: passed over without a note
            "b2": _expired,
            "c3": _raises(DownloadFailed("answered 500 Internal Server Error")),
            "d4": lambda: b"not a zip",
            "e5": _zip(50.0),
            "f6": _expired,
            "a7": _zip(60.0),
            "b8": _raises(AssertionError("past the count: never downloaded")),
        }
    )
    baselines = collect(host, count=2, source="base-branch")
    assert [(run.sha, run.origin, run.branch) for run in baselines.runs] == [
        ("e5", "https://ci.example/e5", "main"),
        ("a7", "https://ci.example/a7", "main"),
    ]
    assert baselines.notes == (
        "run c3: answered 500 Internal Server Error",
        "skipped: run d4: the artifact is not a zip archive (File is not a zip file)",
        "2 expired",
    )
    assert (baselines.source, baselines.branch) == ("base-branch", "main")


def test_without_a_usable_run_the_first_note_says_so() -> None:
    host = Host({"a1": _raises(BaselineInvalid("run a1: no result")), "b2": _expired})
    baselines = collect(host, count=5, source="base-branch")
    assert baselines.runs == ()
    assert baselines.notes == ("none found", "skipped: run a1: no result", "1 expired")


def test_a_refused_or_unreachable_host_is_one_note() -> None:
    refused = collect(Host({}, listing_fails=Refused("403")), count=5, source="base-branch")
    assert (refused.runs, refused.notes, refused.branch) == ((), ("refused: 403",), "main")
    down = collect(
        Host({}, listing_fails=requests.ConnectionError("no route")), count=5, source="x"
    )
    assert down.notes == (
        "could not reach the Example CI API at https://ci.example/api (ConnectionError)",
    )
