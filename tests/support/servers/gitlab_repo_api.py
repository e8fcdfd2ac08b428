"""A GitLab REST API v4 server over one in-memory project, for python-gitlab.

Enough of GitLab for the rollout task: the project, file contents, branches,
commits with several file actions (`start_branch` and `force` as GitLab
treats them), merge requests (found, opened, updated, labelled, reviewers,
merge when the pipeline succeeds) and users by name. It answers 401 for a
wrong `PRIVATE-TOKEN`, 404 for a missing file or branch, 409 for a second open
merge request from the same branch::

    with GitLabRepoServer(files={"values.yaml": "..."}) as gl:
        ... gitlab.Gitlab(gl.url, private_token=gl.token) ...
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from tests.support.servers.base import RecordingServer, Reply, Request
from tests.support.servers.gitlab_api import bad_token

API = "/api/v4"


class GitLabRepoServer(RecordingServer):
    def __init__(
        self,
        *,
        files: Mapping[str, str],
        path: str = "acme/app",
        project_id: int = 42,
        default_branch: str = "main",
        token: str = "glpat-repo-token-123",
        users: tuple[str, ...] = ("alice", "bob"),
        auto_merge_allowed: bool = True,
    ) -> None:
        super().__init__()
        self.path, self.project_id, self.token = path, project_id, token
        self.default_branch = default_branch
        self.users = {name: 100 + i for i, name in enumerate(users)}
        self.auto_merge_allowed = auto_merge_allowed
        self.branches: dict[str, dict[str, str]] = {default_branch: dict(files)}
        self.commits: list[dict[str, Any]] = []
        self.merge_requests: list[dict[str, Any]] = []
        self._routes_for_project()

    def files_at(self, branch: str) -> dict[str, str]:
        return dict(self.branches[branch])

    # -- JSON shapes ---------------------------------------------------------------

    @property
    def web_url(self) -> str:
        return f"https://gitlab.example/{self.path}"

    def _project_json(self) -> dict[str, Any]:
        return {
            "id": self.project_id,
            "path_with_namespace": self.path,
            "name": self.path.rsplit("/", 1)[-1],
            "default_branch": self.default_branch,
            "web_url": self.web_url,
        }

    def _mr_json(self, mr: dict[str, Any]) -> dict[str, Any]:
        return {
            **mr,
            "id": 5000 + mr["iid"],
            "project_id": self.project_id,
            "web_url": f"{self.web_url}/-/merge_requests/{mr['iid']}",
            "draft": str(mr["title"]).startswith("Draft: "),
            "reviewers": [
                {"id": i, "username": n} for n, i in self.users.items() if i in mr["reviewer_ids"]
            ],
        }

    # -- routes --------------------------------------------------------------------

    def _routes_for_project(self) -> None:
        project = rf"{API}/projects/(?:{self.project_id}|{self.path.replace('/', '%2F')})"
        routes = [
            ("GET", project, lambda r: Reply(200, self._project_json())),
            ("GET", rf"{project}/repository/files/(?P<file>[^/]+)", self._get_file),
            ("GET", rf"{project}/repository/branches/(?P<branch>[^/]+)", self._get_branch),
            ("POST", rf"{project}/repository/commits", self._create_commit),
            ("GET", rf"{project}/merge_requests", self._list_mrs),
            ("POST", rf"{project}/merge_requests", self._create_mr),
            ("GET", rf"{project}/merge_requests/(?P<iid>\d+)", self._get_mr),
            ("PUT", rf"{project}/merge_requests/(?P<iid>\d+)", self._update_mr),
            ("PUT", rf"{project}/merge_requests/(?P<iid>\d+)/merge", self._merge),
            ("GET", rf"{API}/users", self._users),
        ]
        self.route_guarded(routes, refuse=lambda r: bad_token(r, self.token))

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        body = request.json()
        return body if isinstance(body, dict) else {}

    def _get_file(self, request: Request) -> Reply:
        assert request.match is not None
        path = unquote(request.match["file"])
        ref = (request.query.get("ref") or [""])[0]
        if ref not in self.branches:
            return Reply(404, {"message": "404 Commit Not Found"})
        if path not in self.branches[ref]:
            return Reply(404, {"message": "404 File Not Found"})
        data = self.branches[ref][path].encode("utf-8", "surrogateescape")  # raw bytes kept
        return Reply(
            200,
            {
                "file_name": path.rsplit("/", 1)[-1],
                "file_path": path,
                "size": len(data),
                "encoding": "base64",
                "content": base64.b64encode(data).decode(),
                "ref": ref,
                "blob_id": hashlib.sha1(data).hexdigest(),
            },
        )

    def _get_branch(self, request: Request) -> Reply:
        assert request.match is not None
        branch = unquote(request.match["branch"])
        if branch not in self.branches:
            return Reply(404, {"message": "404 Branch Not Found"})
        return Reply(200, {"name": branch, "default": branch == self.default_branch})

    def _create_commit(self, request: Request) -> Reply:
        body = self._body(request)
        branch, start = body["branch"], body.get("start_branch")
        if branch in self.branches and start and not body.get("force"):
            return Reply(
                400,
                {
                    "message": f"A branch called '{branch}' already exists. Switch to that "
                    "branch in order to make changes"
                },
            )
        source = start if start else branch
        if source not in self.branches:
            return Reply(
                400, {"message": "You can only create or edit files when you are on a branch"}
            )
        files = dict(self.branches[source])
        for action in body["actions"]:
            if action["action"] == "update" and action["file_path"] not in files:
                return Reply(400, {"message": "A file with this name doesn't exist"})
            if action["action"] == "create" and action["file_path"] in files:
                return Reply(400, {"message": "A file with this name already exists"})
            files[action["file_path"]] = action["content"]
        self.branches[branch] = files
        commit = {
            "id": hashlib.sha1(repr(body).encode()).hexdigest(),
            "message": body["commit_message"],
            "branch": branch,
        }
        self.commits.append(commit)
        return Reply(201, {**commit, "title": body["commit_message"].split("\n")[0]})

    def _list_mrs(self, request: Request) -> Reply:
        def wanted(mr: dict[str, Any]) -> bool:
            return all(
                (request.query.get(key) or [mr[key]])[0] == mr[key]
                for key in ("source_branch", "target_branch", "state")
            )

        return Reply(200, [self._mr_json(mr) for mr in self.merge_requests if wanted(mr)])

    def _create_mr(self, request: Request) -> Reply:
        body = self._body(request)
        for mr in self.merge_requests:
            if mr["source_branch"] == body["source_branch"] and mr["state"] == "opened":
                message = (
                    "Another open merge request already exists for this source branch: "
                    f"!{mr['iid']}"
                )
                return Reply(409, {"message": [message]})
        if body["source_branch"] not in self.branches:
            return Reply(422, {"message": ["Source branch does not exist"]})
        mr = {
            "iid": len(self.merge_requests) + 1,
            "state": "opened",
            "title": body["title"],
            "description": body.get("description"),
            "source_branch": body["source_branch"],
            "target_branch": body["target_branch"],
            "labels": [],
            "reviewer_ids": [],
            "merge_when_pipeline_succeeds": False,
        }
        self.merge_requests.append(mr)
        return Reply(201, self._mr_json(mr))

    def _find_mr(self, request: Request) -> dict[str, Any] | None:
        assert request.match is not None
        iid = int(request.match["iid"])
        return next((m for m in self.merge_requests if m["iid"] == iid), None)

    def _get_mr(self, request: Request) -> Reply:
        mr = self._find_mr(request)
        return (
            Reply(404, {"message": "404 Not found"})
            if mr is None
            else Reply(200, self._mr_json(mr))
        )

    def _update_mr(self, request: Request) -> Reply:
        mr = self._find_mr(request)
        if mr is None:
            return Reply(404, {"message": "404 Not found"})
        body = self._body(request)
        for key in ("title", "description", "state_event"):
            if key in body:
                mr[key] = body[key]
        if "add_labels" in body:
            for label in str(body["add_labels"]).split(","):
                if label and label not in mr["labels"]:
                    mr["labels"].append(label)
        if "reviewer_ids" in body:
            mr["reviewer_ids"] = [int(i) for i in body["reviewer_ids"]]
        return Reply(200, self._mr_json(mr))

    def _merge(self, request: Request) -> Reply:
        mr = self._find_mr(request)
        if mr is None:
            return Reply(404, {"message": "404 Not found"})
        if not self.auto_merge_allowed:
            return Reply(405, {"message": "405 Method Not Allowed"})
        mr["merge_when_pipeline_succeeds"] = bool(
            self._body(request).get("merge_when_pipeline_succeeds")
        )
        return Reply(200, self._mr_json(mr))

    def _users(self, request: Request) -> Reply:
        name = (request.query.get("username") or [""])[0]
        if name in self.users:
            return Reply(200, [{"id": self.users[name], "username": name}])
        return Reply(200, [])
