"""A fake GitHub REST API for issue (pull-request) comments, on a real 127.0.0.1 server.

It answers what PyGithub asks when the action keeps its sticky comment::

    GET   /user                                             (who the token is)
    GET   /repos/{owner}/{repo}/issues/{number}
    GET   /repos/{owner}/{repo}/issues/{number}/comments   (paginated, Link header)
    POST  /repos/{owner}/{repo}/issues/{number}/comments
    PATCH /repos/{owner}/{repo}/issues/comments/{id}
    GET   /repos/{owner}/{repo}/pulls?head=owner:branch     (workflow_run from a fork)

Every comment has an author. A request's token decides who it is: `token` is
the workflow's (an app installation token: comments by `github-actions[bot]`,
and `GET /user` answers 403 as GitHub does for an integration) unless `login`
names its user (a personal access token); `users` maps more personal tokens to
their logins. `read_only=True` answers writes with GitHub's 403 for a fork's
token; faults (502, secondary rate limits) are scripted on the underlying
RecordingServer.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.support.servers.base import RecordingServer, Reply, Request, ServedFake

PAGE_SIZE = 30
FORK_403 = {
    "message": "Resource not accessible by integration",
    "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
    "status": "403",
}
WORKFLOW_BOT = "github-actions[bot]"
NOT_FOR_INTEGRATIONS = {
    "message": "Resource not accessible by integration",
    "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user",
    "status": "403",
}
SECONDARY_RATE_LIMIT = {
    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before "
    "you try again.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
}


@dataclass
class PullRequestInfo:
    number: int
    head_owner: str = "octocat"
    head_branch: str = "feature"
    head_sha: str = "0" * 40


@dataclass
class FakeGitHub(ServedFake):
    repo: str = "iter8-py/demo"
    token: str = "ghs_fake_token_1234567890"
    login: str | None = None
    """The user of `token` when it is a personal access token; None for the workflow's."""
    users: dict[str, str] = field(default_factory=dict)
    """More personal access tokens and their users' logins."""
    read_only: bool = False
    pulls: list[PullRequestInfo] = field(default_factory=lambda: [PullRequestInfo(7)])
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    server: RecordingServer = field(default_factory=RecordingServer)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1001)
        self._lock = threading.Lock()
        repo = self.repo.replace("/", "\\/").replace(".", "\\.")
        base = f"/repos/{repo}"
        self.server.route("GET", r"/user", self._user)
        self.server.route("GET", rf"{base}/issues/(?P<n>\d+)", self._issue)
        self.server.route("GET", rf"{base}/issues/(?P<n>\d+)/comments", self._list)
        self.server.route("POST", rf"{base}/issues/(?P<n>\d+)/comments", self._create)
        self.server.route("PATCH", rf"{base}/issues/comments/(?P<id>\d+)", self._edit)
        self.server.route("GET", rf"{base}/pulls", self._pulls)

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["issue"] == number]

    def add_comment(self, number: int, body: str, *, user: str = "someone") -> int:
        with self._lock:
            comment_id = next(self._ids)
            self.comments[comment_id] = {
                "id": comment_id,
                "issue": number,
                "body": body,
                "user": user,
            }
        return comment_id

    def writes(self) -> list[Request]:
        return [r for r in self.server.requests if r.method in ("POST", "PATCH")]

    # -- handlers ----------------------------------------------------------

    def author(self, request: Request) -> str | None:
        """Who the request's token is: a login, the workflow's bot, or None (no such token)."""
        auth = request.header("Authorization") or ""
        token = auth.partition(" ")[2]
        if token == self.token:
            return self.login or WORKFLOW_BOT
        return self.users.get(token)

    def _denied(self, request: Request) -> Reply | None:
        if self.author(request) is None:
            return Reply(401, {"message": "Bad credentials", "status": "401"})
        return None

    def _user(self, request: Request) -> Reply:
        if denied := self._denied(request):
            return denied
        login = self.author(request)
        if login == WORKFLOW_BOT:
            return Reply(403, NOT_FOR_INTEGRATIONS)
        return Reply(200, {"login": login, "id": 4242, "type": "User"})

    def _write_refused(self, request: Request) -> Reply | None:
        """A bad token's 401, or the 403 a fork's read-only token gets for a write."""
        return self._denied(request) or (Reply(403, FORK_403) if self.read_only else None)

    def _issue_json(self, number: int) -> dict[str, Any]:
        url = f"{self.url}/repos/{self.repo}/issues/{number}"
        return {
            "id": 500 + number,
            "number": number,
            "url": url,
            "comments_url": f"{url}/comments",
            "html_url": f"https://github.com/{self.repo}/pull/{number}",
            "title": f"pull request {number}",
            "state": "open",
            "pull_request": {"url": f"{self.url}/repos/{self.repo}/pulls/{number}"},
        }

    def _comment_json(self, comment: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": comment["id"],
            "url": f"{self.url}/repos/{self.repo}/issues/comments/{comment['id']}",
            "html_url": f"https://github.com/{self.repo}/pull/{comment['issue']}"
            f"#issuecomment-{comment['id']}",
            "issue_url": f"{self.url}/repos/{self.repo}/issues/{comment['issue']}",
            "body": comment["body"],
            "user": {
                "login": comment["user"],
                "id": 1,
                "type": "Bot" if comment["user"].endswith("[bot]") else "User",
            },
        }

    def _issue(self, request: Request) -> Reply:
        number = int(request.match["n"]) if request.match else 0
        if denied := self._denied(request):
            return denied
        if not any(p.number == number for p in self.pulls):
            return Reply(404, {"message": "Not Found", "status": "404"})
        return Reply(200, self._issue_json(number))

    def _list(self, request: Request) -> Reply:
        number = int(request.match["n"]) if request.match else 0
        if denied := self._denied(request):
            return denied
        page = int(request.query.get("page", ["1"])[0])
        mine = self.comments_on(number)
        chunk = mine[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        headers = {}
        if page * PAGE_SIZE < len(mine):
            next_url = f"{self.url}/repos/{self.repo}/issues/{number}/comments?page={page + 1}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        return Reply(200, [self._comment_json(c) for c in chunk], headers)

    def _create(self, request: Request) -> Reply:
        number = int(request.match["n"]) if request.match else 0
        if refused := self._write_refused(request):
            return refused
        comment_id = self.add_comment(
            number, request.json()["body"], user=self.author(request) or ""
        )
        return Reply(201, self._comment_json(self.comments[comment_id]))

    def _edit(self, request: Request) -> Reply:
        comment_id = int(request.match["id"]) if request.match else 0
        if refused := self._write_refused(request):
            return refused
        comment = self.comments.get(comment_id)
        if comment is None:
            return Reply(404, {"message": "Not Found", "status": "404"})
        comment["body"] = request.json()["body"]
        return Reply(200, self._comment_json(comment))

    def _pulls(self, request: Request) -> Reply:
        if denied := self._denied(request):
            return denied
        head = request.query.get("head", [""])[0]
        found = [p for p in self.pulls if not head or head == f"{p.head_owner}:{p.head_branch}"]
        return Reply(
            200,
            [
                {
                    "number": p.number,
                    "url": f"{self.url}/repos/{self.repo}/pulls/{p.number}",
                    "state": "open",
                    "head": {"sha": p.head_sha, "ref": p.head_branch},
                }
                for p in found
            ],
        )


def bad_credentials(request: Request, token: str) -> Reply | None:
    """GitHub's 401 unless the request carries `token` (as `token ...` or `Bearer ...`)."""
    auth = request.header("Authorization") or ""
    if auth not in (f"token {token}", f"Bearer {token}"):
        return Reply(401, {"message": "Bad credentials", "status": "401"})
    return None


def pull_request_event(
    repo: str = "iter8-py/demo", number: int = 7, *, fork: bool = False
) -> dict[str, Any]:
    """A `pull_request` event payload as the runner writes it to `GITHUB_EVENT_PATH`.

    Trimmed to the fields GitHub documents for the event
    (https://docs.github.com/webhooks/webhook-events-and-payloads#pull_request),
    with their real shapes and nesting.
    """
    owner = repo.split("/")[0]
    head_repo = f"contributor/{repo.split('/')[1]}" if fork else repo
    repository = {
        "id": 123456,
        "name": repo.split("/")[1],
        "full_name": repo,
        "private": False,
        "owner": {"login": owner, "id": 1, "type": "Organization"},
        "html_url": f"https://github.com/{repo}",
        "fork": False,
        "default_branch": "main",
    }
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "url": f"https://api.github.com/repos/{repo}/pulls/{number}",
            "id": 987654321,
            "html_url": f"https://github.com/{repo}/pull/{number}",
            "number": number,
            "state": "open",
            "title": "Use the new cache",
            "user": {"login": "contributor", "id": 2, "type": "User"},
            "head": {
                "label": f"{head_repo.split('/')[0]}:feature",
                "ref": "feature",
                "sha": "a" * 40,
                "repo": {**repository, "full_name": head_repo, "fork": fork},
            },
            "base": {"label": f"{owner}:main", "ref": "main", "sha": "b" * 40, "repo": repository},
            "draft": False,
            "merged": False,
        },
        "before": "c" * 40,
        "after": "a" * 40,
        "repository": repository,
        "sender": {"login": "contributor", "id": 2, "type": "User"},
    }
