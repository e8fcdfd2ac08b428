"""GitHub Actions: workflow commands, `$GITHUB_OUTPUT`, the step summary, sticky PR comments."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import requests
from github import Auth, Github, GithubException, GithubRetry
from github.PullRequest import PullRequest
from github.Repository import Repository

from iter8_action.core.logs import get_logger
from iter8_action.core.logtext import encodable, inert
from iter8_action.core.secrets import SECRETS
from iter8_action.platforms import sticky
from iter8_action.platforms.base import (
    Annotation,
    CommentAction,
    CommentFailed,
    CommentOutcome,
    Platform,
)
from iter8_action.platforms.workflow_commands import command, output_block

SUMMARY_LIMIT_BYTES = 1024 * 1024
"""GitHub rejects a step summary above 1 MiB; a longer one is cut, with a note."""
API_TIMEOUT_S = 15
API_RETRIES = 4
RETRY_AFTER_MAX_S = 30
"""Longest wait that a `Retry-After` (or a secondary rate limit) may impose per retry."""
BACKOFF_FACTOR = 0.5
"""urllib3's exponential backoff: 0, 1, 2, 4 s between the retries of a 5xx."""
BACKOFF_MAX_S = 8.0
PR_EVENTS = ("pull_request", "pull_request_target", "workflow_run")
WORKFLOW_TOKEN_LOGIN = "github-actions[bot]"
"""The author of what the workflow's own token (`github.token`) writes."""
FORK_PATTERN_DOC = "https://github.com/iter8-py/action#pull-requests-from-forks"

log = get_logger("github")


class GitHubPlatform(Platform):
    name = "github"

    def __init__(
        self,
        environ: Mapping[str, str],
        *,
        out: TextIO | None = None,
        backoff_factor: float = BACKOFF_FACTOR,
    ) -> None:
        super().__init__(out=out)
        self._env = dict(environ)
        self._backoff_factor = backoff_factor

    def run_url(self) -> str | None:
        server, repo, run = (
            self._env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
        )
        return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None

    # -- workflow commands -------------------------------------------------

    def _command(self, name: str, message: str, properties: Mapping[str, object]) -> None:
        if name != "add-mask":  # the one command that must carry the secret itself
            message = SECRETS.redact(message)
            properties = {
                k: SECRETS.redact(v) if isinstance(v, str) else v for k, v in properties.items()
            }
        self.out.write(command(name, message, properties) + "\n")
        self.out.flush()

    def _report(self, note: Annotation) -> None:
        self._command(
            note.level, note.message, {"title": note.title, "file": note.file, "line": note.line}
        )

    def mask(self, secret: str) -> None:
        # A multi-line secret is masked line by line: the runner matches each
        # log line on its own, so a mask spanning lines never matches. A part
        # with control characters is masked as the log shows it too (escaped);
        # one that UTF-8 cannot carry (a lone surrogate) only that way.
        for part in dict.fromkeys([secret, *secret.splitlines()]):
            for shown in dict.fromkeys([part, inert(part)]):
                if shown.strip() and _encodable(shown):
                    self._command("add-mask", shown, {})

    def set_output(self, name: str, value: str) -> None:
        path = self._env.get("GITHUB_OUTPUT")
        if not path:
            # The runner always sets it; without it, say so rather than drop outputs silently.
            log.warning("GITHUB_OUTPUT is not set; output %s=%s is not recorded", name, value)
            return
        with Path(path).open("a", encoding="utf-8") as f:
            f.write(output_block(name, encodable(value)))

    def write_summary(self, markdown: str) -> None:
        path = self._env.get("GITHUB_STEP_SUMMARY")
        if not path:
            log.warning("GITHUB_STEP_SUMMARY is not set; the step summary is not written")
            return
        with Path(path).open("a", encoding="utf-8") as f:
            f.write(_fit_summary(markdown))

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        self._command("group", title, {})
        try:
            yield
        finally:
            self._command("endgroup", "", {})

    # -- the sticky comment ------------------------------------------------

    def post_comment(self, *, key: str, body: str, create: bool = True) -> CommentOutcome:
        event_name = self._env.get("GITHUB_EVENT_NAME", "")
        if event_name not in PR_EVENTS:
            return CommentOutcome(
                CommentAction.SKIPPED,
                "no pull request to comment on: the workflow runs on "
                f"{event_name or 'an unknown event'} "
                f"(comments are posted on {', '.join(PR_EVENTS)})",
            )
        if not self._token:
            raise CommentFailed(
                "no GitHub token to comment with: the `token` input is empty.\n"
                "Fix: leave `token` at its default (`${{ github.token }}`) or pass a token "
                "that may write pull requests."
            )
        event = self._event()
        try:
            return self._post(event_name, event, key=key, body=body, create=create)
        except GithubException as e:
            raise CommentFailed(self._explain(e, event)) from e
        except requests.RequestException as e:
            raise CommentFailed(
                f"could not reach the GitHub API at {self._api_url()} after {API_RETRIES} "
                f"retries ({type(e).__name__}: {e}); the comment was not posted"
            ) from e

    def _post(
        self, event_name: str, event: Mapping[str, Any], *, key: str, body: str, create: bool
    ) -> CommentOutcome:
        gh = self._client()
        repo = gh.get_repo(self._env.get("GITHUB_REPOSITORY", ""))
        number = pull_request_number(event_name, event, repo)
        if number is None:
            return CommentOutcome(
                CommentAction.SKIPPED,
                f"no pull request to comment on: the {event_name} event names none",
            )
        issue = repo.get_issue(number)
        me = self._own_login(gh)
        existing = sticky.find_marked(
            issue.get_comments(), key, mine=lambda c: _same_login(c.user.login, me)
        )
        text = sticky.with_marker(body, key)
        if existing is not None:
            existing.edit(text)
            return CommentOutcome(
                CommentAction.UPDATED,
                f"updated the comment on pull request #{number}",
                existing.html_url,
            )
        if not create:
            return CommentOutcome(
                CommentAction.SKIPPED,
                f"no comment on pull request #{number}: the experiment passed and none exists yet",
            )
        comment = issue.create_comment(text)
        return CommentOutcome(
            CommentAction.CREATED, f"commented on pull request #{number}", comment.html_url
        )

    def _own_login(self, gh: Github) -> str | None:
        """The login that the token comments as, or None when it cannot be known.

        A personal access token is a user: `GET /user` names it. The workflow's
        token is an app installation token, for which GitHub answers 403 to
        `GET /user` ("Resource not accessible by integration"); its comments are
        by the `github-actions[bot]` app. (Another app's token is taken for it
        too: its own comment is then never found, and a new one is posted.)
        """
        try:
            return str(gh.get_user().login)
        except GithubException as e:
            if e.status == 401:
                raise  # a bad token: explained like any refusal
            if e.status == 403:
                return WORKFLOW_TOKEN_LOGIN
            log.info(
                "comment: cannot tell whose token this is (GET /user answered %s); "
                "posting a new comment rather than editing one that may be someone else's",
                e.status,
            )
            return None

    def _client(self) -> Github:
        retry = GithubRetry(
            total=API_RETRIES,
            backoff_factor=self._backoff_factor,
            backoff_max=BACKOFF_MAX_S,
            retry_after_max=RETRY_AFTER_MAX_S,
            secondary_rate_wait=RETRY_AFTER_MAX_S,
            max_rate_limit_wait=RETRY_AFTER_MAX_S,
        )
        return Github(
            base_url=self._api_url(),
            auth=Auth.Token(self._token),
            # Lazy objects: the issue is not fetched, only its comments are.
            lazy=True,
            timeout=API_TIMEOUT_S,
            retry=retry,
            # One write per run: PyGithub's default pauses (0.25 s, 1 s) only slow us down.
            seconds_between_requests=None,
            seconds_between_writes=None,
        )

    def _api_url(self) -> str:
        return self._env.get("GITHUB_API_URL") or "https://api.github.com"

    def _event(self) -> Mapping[str, Any]:
        path = self._env.get("GITHUB_EVENT_PATH")
        if not path:
            raise CommentFailed(
                "GITHUB_EVENT_PATH is not set: cannot tell which pull request to comment on"
            )
        try:
            event = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise CommentFailed(f"cannot read the event payload {path}: {e}") from e
        return event if isinstance(event, dict) else {}

    def _explain(self, e: GithubException, event: Mapping[str, Any]) -> str:
        message = e.data.get("message") if isinstance(e.data, dict) else None
        said = f"{e.status} {message}" if message else str(e.status)
        if e.status == 403 and _from_fork(event):
            return (
                f"GitHub refused the pull-request comment ({said}): a pull request from a fork "
                "gets a read-only token. The summary, outputs and reports are complete.\n"
                "Fix: comment from a second workflow triggered by `workflow_run`, which "
                f"gets a token that may write; see {FORK_PATTERN_DOC}"
            )
        if e.status in (403, 404):
            return (
                f"GitHub refused the pull-request comment ({said}): the token may not write "
                "pull requests.\nFix: give the job `permissions: {pull-requests: write}` "
                "or pass a token with that permission as the `token` input."
            )
        if e.status == 401:
            return (
                f"GitHub rejected the token ({said}).\n"
                "Fix: pass a valid token as the `token` input (the default is the workflow's)."
            )
        return f"GitHub answered {said}; the comment was not posted"


def pull_request_number(
    event_name: str, event: Mapping[str, Any], repo: Repository | None = None
) -> int | None:
    """The pull request an event is about, or None (a push, or a run with no open PR)."""
    if event_name in ("pull_request", "pull_request_target"):
        number = (event.get("pull_request") or {}).get("number") or event.get("number")
        return int(number) if number else None
    if event_name == "workflow_run":
        run = event.get("workflow_run") or {}
        prs = run.get("pull_requests") or []
        if prs:
            return int(prs[0]["number"])
        # GitHub leaves `pull_requests` empty when the PR comes from a fork:
        # find it by its head branch and commit instead.
        return _fork_pull_request(run, repo) if repo is not None else None
    return None


def _fork_pull_request(run: Mapping[str, Any], repo: Repository) -> int | None:
    owner = ((run.get("head_repository") or {}).get("owner") or {}).get("login")
    branch = run.get("head_branch")
    if not owner or not branch:
        return None
    pulls: list[PullRequest] = list(repo.get_pulls(state="open", head=f"{owner}:{branch}"))
    for pull in pulls:
        if pull.head.sha == run.get("head_sha"):
            return pull.number
    return pulls[0].number if pulls else None


def _from_fork(event: Mapping[str, Any]) -> bool:
    pull = event.get("pull_request") or {}
    head = ((pull.get("head") or {}).get("repo") or {}).get("full_name")
    base = ((pull.get("base") or {}).get("repo") or {}).get("full_name")
    return bool(head and base and head != base)


def _same_login(author: str | None, me: str | None) -> bool:
    # GitHub logins are case-insensitive; an unknown identity matches no one.
    return me is not None and author is not None and author.lower() == me.lower()


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _fit_summary(markdown: str) -> str:
    data = markdown.encode("utf-8")
    if len(data) <= SUMMARY_LIMIT_BYTES:
        return markdown if markdown.endswith("\n") else markdown + "\n"
    note = (
        "\n\n_The summary was cut at GitHub's 1 MiB limit; the full report is in the artifacts._\n"
    )
    keep = data[: SUMMARY_LIMIT_BYTES - len(note.encode())].decode("utf-8", errors="ignore")
    return keep + note
