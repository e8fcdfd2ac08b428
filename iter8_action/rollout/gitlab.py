"""The rollout provider for GitLab merge requests, through python-gitlab."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gitlab
import requests
from gitlab.v4.objects import Project, ProjectMergeRequest
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from iter8_action.core.errors import TaskFailed
from iter8_action.rollout.provider import RETRIES, TIMEOUT_S, ChangeRequest, HostApi, decoded

DRAFT_PREFIX = "Draft: "
_HINTS = {
    401: "the token was refused: check the token in {token_env}",
    403: "the token lacks a permission: it needs the `api` scope and at least the Developer "
    "role (a CI job token cannot push; use a project access token)",
    404: "not found: check the project path and that the token can see it",
}


def server_url(api_url: str) -> str:
    """python-gitlab wants the server's URL and appends /api/v4 itself."""
    api_url = api_url.rstrip("/")
    return api_url.removesuffix("/api/v4")


def _session() -> requests.Session:
    """Retries bounded like the other providers' (3 tries, backoff from 0.5s).

    python-gitlab's own `retry_transient_errors` makes up to ten tries with
    doubling waits (about 100s against a server that is down); urllib3's retry
    keeps it to a few seconds and, by default, retries only idempotent methods
    on 5xx answers, so a POST that reached GitLab is not sent twice.
    """
    retry = Retry(
        **RETRIES,
        status_forcelist=(500, 502, 503, 504),
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class GitLabProvider(HostApi[gitlab.exceptions.GitlabError]):
    kind = "merge request"
    host = "GitLab"
    hints = _HINTS
    error_type = gitlab.exceptions.GitlabError
    public_api = "https://gitlab.com/api/v4"
    api_url_env = "CI_API_V4_URL"
    repository_env = "CI_PROJECT_PATH"
    default_token_env = "GITLAB_TOKEN"

    def __init__(self, *, api_url: str, repository: str, token: str, token_env: str) -> None:
        """`repository` is the project's path (group/project)."""
        super().__init__(token_env=token_env)
        self._gitlab = gitlab.Gitlab(
            server_url(api_url), private_token=token, timeout=TIMEOUT_S, session=_session()
        )
        with self._errors(f"reading the project {repository}"):
            self._project: Project = self._gitlab.projects.get(repository)

    def _answer(self, exc: gitlab.exceptions.GitlabError) -> tuple[int | None, str]:
        return exc.response_code, str(exc.error_message or "")

    def default_branch(self) -> str:
        return str(self._project.default_branch)

    def read(self, path: str, ref: str) -> str | None:
        data = self._get(
            f"reading {path} on {ref}",
            lambda: self._project.files.get(file_path=path, ref=ref).decode(),
        )
        return None if data is None else decoded(bytes(data), path)

    def branch_exists(self, branch: str) -> bool:
        found = self._get(
            f"looking for the branch {branch}", lambda: self._project.branches.get(branch)
        )
        return found is not None

    def commit(self, *, branch: str, base: str, files: Mapping[str, str], message: str) -> None:
        # `start_branch` with `force` makes the branch exactly one commit on top of `base`,
        # whether or not it existed (REST API, "Create a commit with multiple files"); a
        # file not on `base` yet is a `create` action, GitLab refuses `update` for it.
        actions = [
            {
                "action": "update" if self.read(path, base) is not None else "create",
                "file_path": path,
                "content": text,
            }
            for path, text in sorted(files.items())
        ]
        data: dict[str, Any] = {
            "branch": branch,
            "start_branch": base,
            "force": True,
            "commit_message": message,
            "actions": actions,
        }
        with self._errors(f"committing to {branch}"):
            self._project.commits.create(data)

    def find_open(self, *, branch: str, target: str) -> ChangeRequest | None:
        with self._errors("looking for an open merge request"):
            found = self._project.mergerequests.list(
                source_branch=branch, target_branch=target, state="opened", get_all=False
            )
        for mr in found:
            return ChangeRequest(int(mr.iid), str(mr.web_url))
        return None

    def open(
        self, *, branch: str, target: str, title: str, body: str, draft: bool
    ) -> ChangeRequest:
        with self._errors("opening the merge request"):
            mr = self._project.mergerequests.create(
                {
                    "source_branch": branch,
                    "target_branch": target,
                    "title": DRAFT_PREFIX + title if draft else title,
                    "description": body,
                }
            )
        return ChangeRequest(int(mr.iid), str(mr.web_url))

    def _mr(self, request: ChangeRequest) -> ProjectMergeRequest:
        return self._project.mergerequests.get(request.number)

    def update(self, request: ChangeRequest, *, title: str, body: str) -> None:
        with self._errors(f"updating merge request !{request.number}"):
            mr = self._mr(request)
            draft = str(mr.title).startswith(DRAFT_PREFIX)
            mr.title = DRAFT_PREFIX + title if draft else title
            mr.description = body
            mr.save()

    def add_labels(self, request: ChangeRequest, labels: Sequence[str]) -> None:
        with self._errors(f"labelling merge request !{request.number}"):
            mr = self._mr(request)
            mr.add_labels = ",".join(labels)
            mr.save()

    def request_reviewers(self, request: ChangeRequest, reviewers: Sequence[str]) -> None:
        ids = []
        with self._errors("looking up reviewers"):
            for name in reviewers:
                users = self._gitlab.users.list(username=name, get_all=False)
                if not users:
                    raise TaskFailed(f"rollout: no GitLab user named {name!r} (in `reviewers`)")
                ids.append(int(users[0].id))
        with self._errors(f"requesting reviews on merge request !{request.number}"):
            mr = self._mr(request)
            # GitLab sets the whole list: keep the reviewers someone already added.
            current = [int(user["id"]) for user in getattr(mr, "reviewers", None) or []]
            wanted = current + [i for i in ids if i not in current]
            if wanted != current:
                mr.reviewer_ids = wanted
                mr.save()

    def enable_auto_merge(self, request: ChangeRequest) -> str | None:
        try:
            self._mr(request).merge(merge_when_pipeline_succeeds=True)
        except gitlab.exceptions.GitlabError as exc:
            return str(exc.error_message)
        return None
