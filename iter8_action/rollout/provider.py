"""What the rollout task needs from a code host (`Provider`); GitHub and GitLab implement it
on `HostApi`, which holds what their clients share: retry bounds and error messages.

`CodeHost` and `RequestOptions` are where the change goes and how its request is made,
as the `rollout` and `traffic` tasks' `with:` say: frozen, parsed when the experiment
loads (`tasks/_change.py`); `change.make_provider` fills in what they leave to the CI
job's environment and the host's defaults when the task runs."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from iter8_action.core.errors import TaskFailed
from iter8_action.platforms import CIHost

if TYPE_CHECKING:
    import requests

TIMEOUT_S = 15
BACKOFF_MAX_S = 10
MAX_WAIT_S = 60
RETRIES: Mapping[str, Any] = {
    "total": 3,
    "backoff_factor": 0.5,
    "backoff_max": BACKOFF_MAX_S,
    "retry_after_max": MAX_WAIT_S,
}
"""The retries of both hosts' clients (urllib3's `Retry`; PyGithub's `GithubRetry` extends it):
bounded, so that a rate limit that would need a longer wait fails the task instead."""

_ERRNO = re.compile(r"\[Errno -?\d+\] ([^\"')]+)")
_E = TypeVar("_E", bound=Exception)
_T = TypeVar("_T")


@dataclass(frozen=True)
class CodeHost:
    """The code host and repository a change goes to (`platform`, `repository`, `apiURL`,
    `tokenEnv`); None leaves a field to the CI job and the host's defaults."""

    platform: CIHost | None = None
    """None: the CI system this runs on."""
    repository: str | None = None
    """owner/name on GitHub, group/project or the project's ID on GitLab; None: the CI's
    variable (`GITHUB_REPOSITORY`, `CI_PROJECT_PATH`)."""
    api_url: str | None = None
    """None: the CI's variable (`GITHUB_API_URL`, `CI_API_V4_URL`), else the public API."""
    token_env: str | None = None
    """The variable holding the token; None: the host's (`GITHUB_TOKEN`, `GITLAB_TOKEN`)."""


@dataclass(frozen=True)
class RequestOptions:
    """How the PR/MR is opened and decorated (`targetBranch`, `draft`, `labels`,
    `reviewers`, `autoMerge`)."""

    target_branch: str | None = None
    """None: the repository's default branch."""
    draft: bool = False
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    auto_merge: bool = False


def repository_problem(repository: str, platform: CIHost | None) -> str | None:
    """Why `repository` cannot name a repository on `platform` (on either host when None),
    or None when it can: GitHub's are owner/name, GitLab's group/project (subgroups
    between) or the project's numeric ID."""
    parts = repository.split("/")
    github = len(parts) == 2 and all(parts)
    gitlab = repository.isdigit() or (len(parts) >= 2 and all(parts))
    if platform is CIHost.GITHUB and not github:
        return f"{repository!r} is not a GitHub repository: name it owner/name (acme/shop)"
    if platform is CIHost.GITLAB and not gitlab:
        return (
            f"{repository!r} is not a GitLab project: name it group/project (acme/shop) "
            "or by its numeric ID"
        )
    if platform is None and not (github or gitlab):
        return (
            f"{repository!r} names no repository: owner/name on GitHub, group/project or "
            "the project's numeric ID on GitLab (acme/shop)"
        )
    return None


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


class HostApi(ABC, Generic[_E]):
    """What the providers share: the host library's errors (`_E`) told as task failures."""

    host: ClassVar[str]
    """"GitHub" or "GitLab", for messages."""
    hints: ClassVar[Mapping[int, str]]
    """A hint per HTTP status, with `{token_env}` for the variable holding the token."""
    error_type: type[_E]
    """The root of the host library's exceptions (an HTTP answer other than 2xx)."""
    public_api: ClassVar[str]
    """The API of the public host, when neither `apiURL` nor `api_url_env` says another."""
    api_url_env: ClassVar[str]
    """The CI variable with the API's address (set on the host's own runners)."""
    repository_env: ClassVar[str]
    """The CI variable naming the repository the job runs for."""
    default_token_env: ClassVar[str]
    """The variable holding the token when the task's `tokenEnv` does not name one."""

    def __init__(self, *, token_env: str) -> None:
        self._token_env = token_env

    @abstractmethod
    def _answer(self, exc: _E) -> tuple[int | None, str]:
        """The HTTP status and the host's message of one of its library's errors."""

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        import requests  # here, not at the top: loading a rollout task must not load requests

        try:
            yield
        except self.error_type as exc:
            status, message = self._answer(exc)
            hint = self.hints.get(status or 0, "").format(token_env=self._token_env)
            detail = "; ".join(x for x in (message, hint) if x)
            raise TaskFailed(f"rollout: {self.host} answered {status} {doing}: {detail}") from exc
        except requests.RequestException as exc:
            raise TaskFailed(
                f"rollout: cannot reach the {self.host} API {doing}: {connection_problem(exc)}"
            ) from exc

    def _get(self, doing: str, get: Callable[[], _T]) -> _T | None:
        """What `get` returns, or None when the host answers 404."""
        with self._errors(doing):
            try:
                return get()
            except self.error_type as exc:
                if self._answer(exc)[0] == 404:
                    return None
                raise


def decoded(data: bytes, path: str) -> str:
    """The text of a file read from the host; only text files can be edited."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TaskFailed(
            f"rollout: {path} is not UTF-8 text; only text files can be edited"
        ) from exc


def connection_problem(exc: requests.RequestException) -> str:
    """The useful part of a connection failure (urllib3 nests it several levels deep)."""
    import requests  # here, not at the top: loading a rollout task must not load requests

    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    found = _ERRNO.search(str(exc))
    return found.group(1).strip() if found else type(exc).__name__
