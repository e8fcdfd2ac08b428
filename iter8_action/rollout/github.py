"""The rollout provider for GitHub, through PyGithub (REST, and GraphQL for auto-merge)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from github import Auth, Github, GithubException, GithubRetry, InputGitTreeElement
from github.PullRequest import PullRequest
from github.Repository import Repository

from iter8_action.core.errors import TaskFailed
from iter8_action.rollout.provider import (
    MAX_WAIT_S,
    RETRIES,
    TIMEOUT_S,
    ChangeRequest,
    HostApi,
    decoded,
)

_HINTS = {
    401: "the token was refused: check the token in {token_env}",
    403: "the token lacks a permission: it needs `contents: write` and `pull-requests: write` "
    "(workflow `permissions:`), and for `reviewers`, access to the repository's collaborators",
    404: "not found: check the repository name and that the token can see it",
    422: "GitHub refused the request",
}


class GitHubProvider(HostApi[GithubException]):
    kind = "pull request"
    host = "GitHub"
    hints = _HINTS
    error_type = GithubException
    public_api = "https://api.github.com"
    api_url_env = "GITHUB_API_URL"
    repository_env = "GITHUB_REPOSITORY"
    default_token_env = "GITHUB_TOKEN"

    def __init__(self, *, api_url: str, repository: str, token: str, token_env: str) -> None:
        super().__init__(token_env=token_env)
        self._github = Github(
            base_url=api_url,
            auth=Auth.Token(token),
            timeout=TIMEOUT_S,
            retry=GithubRetry(
                **RETRIES, secondary_rate_wait=MAX_WAIT_S, max_rate_limit_wait=MAX_WAIT_S
            ),
            # PyGithub spaces every write 1s apart by default, for clients that send many.
            # A rollout sends about six, once per run; GithubRetry still honours GitHub's
            # secondary-rate-limit answers (403/429 with Retry-After) if one comes.
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        with self._errors(f"reading the repository {repository}"):
            self._repo: Repository = self._github.get_repo(repository)
        self._owner = repository.split("/", 1)[0]

    def _answer(self, exc: GithubException) -> tuple[int | None, str]:
        message = exc.data.get("message") if isinstance(exc.data, dict) else None
        return exc.status, str(message or "")

    def default_branch(self) -> str:
        return str(self._repo.default_branch)

    def read(self, path: str, ref: str) -> str | None:
        content = self._get(
            f"reading {path} on {ref}", lambda: self._repo.get_contents(path, ref=ref)
        )
        if content is None:
            return None
        if isinstance(content, list):
            raise TaskFailed(f"rollout: {path} is a directory on {ref}, not a file")
        return decoded(content.decoded_content, path)

    def branch_exists(self, branch: str) -> bool:
        ref = self._get(
            f"looking for the branch {branch}", lambda: self._repo.get_git_ref(f"heads/{branch}")
        )
        return ref is not None

    def commit(self, *, branch: str, base: str, files: Mapping[str, str], message: str) -> None:
        with self._errors(f"committing to {branch}"):
            base_sha = self._repo.get_git_ref(f"heads/{base}").object.sha
            parent = self._repo.get_git_commit(base_sha)
            elements = [
                InputGitTreeElement(path, "100644", "blob", content=text)
                for path, text in sorted(files.items())
            ]
            tree = self._repo.create_git_tree(elements, base_tree=parent.tree)
            commit = self._repo.create_git_commit(message, tree, [parent])
            if self.branch_exists(branch):
                self._repo.get_git_ref(f"heads/{branch}").edit(commit.sha, force=True)
            else:
                self._repo.create_git_ref(f"refs/heads/{branch}", commit.sha)

    def find_open(self, *, branch: str, target: str) -> ChangeRequest | None:
        with self._errors("looking for an open pull request"):
            for pull in self._repo.get_pulls(
                state="open", head=f"{self._owner}:{branch}", base=target
            ):
                return ChangeRequest(pull.number, pull.html_url)
        return None

    def open(
        self, *, branch: str, target: str, title: str, body: str, draft: bool
    ) -> ChangeRequest:
        with self._errors("opening the pull request"):
            pull = self._repo.create_pull(
                base=target, head=branch, title=title, body=body, draft=draft
            )
        return ChangeRequest(pull.number, pull.html_url)

    def _pull(self, request: ChangeRequest) -> PullRequest:
        return self._repo.get_pull(request.number)

    def update(self, request: ChangeRequest, *, title: str, body: str) -> None:
        with self._errors(f"updating pull request #{request.number}"):
            self._pull(request).edit(title=title, body=body)

    def add_labels(self, request: ChangeRequest, labels: Sequence[str]) -> None:
        with self._errors(f"labelling pull request #{request.number}"):
            self._repo.get_issue(request.number).add_to_labels(*labels)

    def request_reviewers(self, request: ChangeRequest, reviewers: Sequence[str]) -> None:
        with self._errors(f"requesting reviews on pull request #{request.number}"):
            self._pull(request).create_review_request(reviewers=list(reviewers))

    def enable_auto_merge(self, request: ChangeRequest) -> str | None:
        try:
            self._pull(request).enable_automerge(merge_method="SQUASH")
        except GithubException as exc:
            errors = exc.data.get("errors") if isinstance(exc.data, dict) else None
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                return str(errors[0].get("message"))
            return str(exc.data.get("message") if isinstance(exc.data, dict) else exc)
        return None
