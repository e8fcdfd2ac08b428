"""What the rollout task needs from a code host; GitHub and GitLab implement it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import requests

_ERRNO = re.compile(r"\[Errno -?\d+\] ([^\"')]+)")


@dataclass(frozen=True)
class ChangeRequest:
    """A pull request (GitHub) or merge request (GitLab)."""

    number: int
    url: str


class Provider(Protocol):
    kind: str
    """"pull request" or "merge request", for messages."""

    def default_branch(self) -> str: ...

    def read(self, path: str, ref: str) -> str | None:
        """The text of `path` at `ref`, or None when it does not exist there."""

    def branch_exists(self, branch: str) -> bool: ...

    def commit(self, *, branch: str, base: str, files: Mapping[str, str], message: str) -> None:
        """Point `branch` at one new commit on top of `base` that writes `files`."""

    def find_open(self, *, branch: str, target: str) -> ChangeRequest | None: ...

    def open(
        self, *, branch: str, target: str, title: str, body: str, draft: bool
    ) -> ChangeRequest: ...

    def update(self, request: ChangeRequest, *, title: str, body: str) -> None: ...

    def add_labels(self, request: ChangeRequest, labels: Sequence[str]) -> None: ...

    def request_reviewers(self, request: ChangeRequest, reviewers: Sequence[str]) -> None: ...

    def enable_auto_merge(self, request: ChangeRequest) -> str | None:
        """Turn auto-merge on; return why not when the host or repository does not allow it."""


def connection_problem(exc: requests.RequestException) -> str:
    """The useful part of a connection failure (urllib3 nests it several levels deep)."""
    import requests  # here, not at the top: loading a rollout task must not load requests

    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    found = _ERRNO.search(str(exc))
    return found.group(1).strip() if found else type(exc).__name__
