"""A fake GitLab REST API (v4) for merge-request notes, on a real 127.0.0.1 server.

It answers what python-gitlab asks when the component keeps its sticky note::

    GET  /api/v4/user                                               (who the token is)
    GET  /api/v4/projects/{id}/merge_requests/{iid}/notes          (paginated)
    POST /api/v4/projects/{id}/merge_requests/{iid}/notes
    PUT  /api/v4/projects/{id}/merge_requests/{iid}/notes/{note_id}

Only `PRIVATE-TOKEN: <token>` (or one of `users`) is accepted (a job token gets
GitLab's 401). Every note has an author: the user of the token that wrote it
(`user` for `token`: a project access token's bot user). Faults are scripted on
the underlying RecordingServer.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.support.servers.base import RecordingServer, Reply, Request, ServedFake

PAGE_SIZE = 20
PROJECT_BOT = {"id": 9042, "username": "project_42_bot_5f1e", "name": "iter8", "bot": True}
REVIEWER = {"id": 17, "username": "reviewer", "name": "A Reviewer", "bot": False}


@dataclass
class FakeGitLab(ServedFake):
    project_id: int = 42
    merge_requests: tuple[int, ...] = (3,)
    token: str = "glpat-fake-token-123456"
    user: dict[str, Any] = field(default_factory=lambda: dict(PROJECT_BOT))
    """Who `token` is (`GET /user`, and the author of the notes it writes)."""
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    """More tokens and their users."""
    notes: dict[int, dict[str, Any]] = field(default_factory=dict)
    server: RecordingServer = field(default_factory=RecordingServer)

    def __post_init__(self) -> None:
        self._ids = itertools.count(7001)
        self._lock = threading.Lock()
        base = rf"/api/v4/projects/{self.project_id}/merge_requests/(?P<iid>\d+)/notes"
        self.server.route("GET", r"/api/v4/user", self._user)
        self.server.route("GET", base, self._list)
        self.server.route("POST", base, self._create)
        self.server.route("PUT", rf"{base}/(?P<id>\d+)", self._update)

    def notes_on(self, iid: int) -> list[dict[str, Any]]:
        return [n for n in self.notes.values() if n["iid"] == iid]

    def add_note(
        self, iid: int, body: str, *, system: bool = False, author: dict[str, Any] | None = None
    ) -> int:
        with self._lock:
            note_id = next(self._ids)
            self.notes[note_id] = {
                "id": note_id,
                "iid": iid,
                "body": body,
                "system": system,
                "author": dict(author or REVIEWER),
            }
        return note_id

    def author(self, request: Request) -> dict[str, Any] | None:
        """The user of the request's token, or None (no such token)."""
        token = request.header("PRIVATE-TOKEN")
        return self.user if token == self.token else self.users.get(token or "")

    def writes(self) -> list[Request]:
        return [r for r in self.server.requests if r.method in ("POST", "PUT")]

    def _user(self, request: Request) -> Reply:
        user = self.author(request)
        if user is None:
            return Reply(401, {"message": "401 Unauthorized"})
        return Reply(200, {**user, "state": "active"})

    def _refused(self, request: Request) -> Reply | None:
        if self.author(request) is None:
            return Reply(401, {"message": "401 Unauthorized"})
        iid = int(request.match["iid"]) if request.match else 0
        if iid not in self.merge_requests:
            return Reply(404, {"message": "404 Not found"})
        return None

    def _note_json(self, note: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": note["id"],
            "body": note["body"],
            "system": note["system"],
            "noteable_type": "MergeRequest",
            "noteable_iid": note["iid"],
            "author": note["author"],
        }

    def _list(self, request: Request) -> Reply:
        if refused := self._refused(request):
            return refused
        iid = int(request.match["iid"]) if request.match else 0
        page = int(request.query.get("page", ["1"])[0])
        per_page = int(request.query.get("per_page", [str(PAGE_SIZE)])[0])
        mine = self.notes_on(iid)
        chunk = mine[(page - 1) * per_page : page * per_page]
        headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(mine))}
        if page * per_page < len(mine):
            path = f"/api/v4/projects/{self.project_id}/merge_requests/{iid}/notes"
            next_url = f"{self.url}{path}?page={page + 1}&per_page={per_page}"
            headers["Link"] = f'<{next_url}>; rel="next"'
            headers["X-Next-Page"] = str(page + 1)
        return Reply(200, [self._note_json(n) for n in chunk], headers)

    def _create(self, request: Request) -> Reply:
        if refused := self._refused(request):
            return refused
        iid = int(request.match["iid"]) if request.match else 0
        note_id = self.add_note(iid, request.json()["body"], author=self.author(request))
        return Reply(201, self._note_json(self.notes[note_id]))

    def _update(self, request: Request) -> Reply:
        if refused := self._refused(request):
            return refused
        note = self.notes.get(int(request.match["id"]) if request.match else 0)
        if note is None:
            return Reply(404, {"message": "404 Not found"})
        note["body"] = request.json()["body"]
        return Reply(200, self._note_json(note))


def bad_token(request: Request, token: str) -> Reply | None:
    """GitLab's 401 unless the request carries `PRIVATE-TOKEN: <token>`."""
    if request.header("PRIVATE-TOKEN") != token:
        return Reply(401, {"message": "401 Unauthorized"})
    return None
