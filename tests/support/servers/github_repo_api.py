"""A GitHub REST (and the auto-merge GraphQL mutation) server over one in-memory repository.

Enough of GitHub for PyGithub to read files, commit several files at once
(trees, commits, refs), and find, open and update pull requests with labels,
reviewers and auto-merge. It answers as GitHub does where the rollout task
depends on it: 404 for a missing file or ref, 401 for a wrong token, 422 for a
second open pull request from the same branch or a reviewer who is not a
collaborator::

    with GitHubRepoServer(files={"deploy.yaml": "..."}) as gh:
        ... Github(base_url=gh.url, auth=Auth.Token(gh.token)) ...
        assert gh.files_at("iter8/rollout-x")["deploy.yaml"] == "..."
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from tests.support.servers.base import RecordingServer, Reply, Request
from tests.support.servers.github_api import bad_credentials


def _sha(*parts: str) -> str:
    return hashlib.sha1("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


class GitHubRepoServer(RecordingServer):
    def __init__(
        self,
        *,
        files: Mapping[str, str],
        owner: str = "acme",
        repo: str = "app",
        default_branch: str = "main",
        token: str = "ghs_repo_token_123",
        collaborators: tuple[str, ...] = ("alice", "bob"),
        allow_auto_merge: bool = True,
    ) -> None:
        super().__init__()
        self.owner, self.repo, self.token = owner, repo, token
        self.default_branch = default_branch
        self.collaborators = set(collaborators)
        self.allow_auto_merge = allow_auto_merge
        self.trees: dict[str, dict[str, str]] = {}
        self.commits: dict[str, dict[str, Any]] = {}
        self.refs: dict[str, str] = {}
        self.pulls: list[dict[str, Any]] = []
        tree = self._store_tree(dict(files))
        self.refs[default_branch] = self._store_commit("initial commit", tree, [])
        self._routes_for_repo()

    # -- the model -------------------------------------------------------------------

    def files_at(self, branch: str) -> dict[str, str]:
        return dict(self.trees[self.commits[self.refs[branch]]["tree"]])

    def commit_on(self, branch: str) -> dict[str, Any]:
        return self.commits[self.refs[branch]]

    def push(self, branch: str, files: Mapping[str, str], message: str = "a push") -> None:
        """Change files on a branch as someone else would (a new commit on top)."""
        tree = self._store_tree({**self.files_at(branch), **files})
        self.refs[branch] = self._store_commit(message, tree, [self.refs[branch]])

    def _store_tree(self, files: dict[str, str]) -> str:
        sha = _sha("tree", json.dumps(files, sort_keys=True))
        self.trees[sha] = files
        return sha

    def _store_commit(self, message: str, tree: str, parents: list[str]) -> str:
        sha = _sha("commit", message, tree, *parents, str(len(self.commits)))
        self.commits[sha] = {"message": message, "tree": tree, "parents": parents}
        return sha

    # -- JSON shapes -----------------------------------------------------------------

    @property
    def repo_url(self) -> str:
        return f"{self.url}/repos/{self.owner}/{self.repo}"

    def _repo_json(self) -> dict[str, Any]:
        return {
            "id": 1,
            "node_id": "R_1",
            "name": self.repo,
            "full_name": f"{self.owner}/{self.repo}",
            "owner": {"login": self.owner, "id": 1, "type": "Organization"},
            "default_branch": self.default_branch,
            "url": self.repo_url,
            "html_url": f"https://github.example/{self.owner}/{self.repo}",
            "allow_auto_merge": self.allow_auto_merge,
        }

    def _ref_json(self, branch: str) -> dict[str, Any]:
        sha = self.refs[branch]
        return {
            "ref": f"refs/heads/{branch}",
            "node_id": f"REF_{branch}",
            "url": f"{self.repo_url}/git/refs/heads/{branch}",
            "object": {"sha": sha, "type": "commit", "url": f"{self.repo_url}/git/commits/{sha}"},
        }

    def _commit_json(self, sha: str) -> dict[str, Any]:
        commit = self.commits[sha]
        return {
            "sha": sha,
            "url": f"{self.repo_url}/git/commits/{sha}",
            "message": commit["message"],
            "tree": {"sha": commit["tree"], "url": f"{self.repo_url}/git/trees/{commit['tree']}"},
            "parents": [
                {"sha": p, "url": f"{self.repo_url}/git/commits/{p}"} for p in commit["parents"]
            ],
        }

    def _pull_json(self, pull: dict[str, Any]) -> dict[str, Any]:
        n = pull["number"]
        return {
            **pull,
            "id": 1000 + n,
            "node_id": f"PR_{n}",
            "url": f"{self.repo_url}/pulls/{n}",
            "issue_url": f"{self.repo_url}/issues/{n}",
            "html_url": f"https://github.example/{self.owner}/{self.repo}/pull/{n}",
            "head": {
                "ref": pull["head"],
                "label": f"{self.owner}:{pull['head']}",
                "sha": self.refs.get(pull["head"]),
            },
            "base": {"ref": pull["base"], "label": f"{self.owner}:{pull['base']}"},
            "labels": [{"name": name} for name in pull["labels"]],
            "requested_reviewers": [{"login": r} for r in pull["requested_reviewers"]],
            "auto_merge": {"merge_method": "squash"} if pull["auto_merge"] else None,
        }

    def _issue_json(self, pull: dict[str, Any]) -> dict[str, Any]:
        n = pull["number"]
        return {
            "id": 2000 + n,
            "number": n,
            "title": pull["title"],
            "state": pull["state"],
            "url": f"{self.repo_url}/issues/{n}",
            "html_url": f"https://github.example/{self.owner}/{self.repo}/pull/{n}",
            "labels": [{"name": name} for name in pull["labels"]],
        }

    # -- routes ----------------------------------------------------------------------

    def _routes_for_repo(self) -> None:
        base = f"/repos/{self.owner}/{self.repo}"
        for method in ("GET", "POST", "PATCH"):  # anything else under /repos, as GitHub answers it
            self.route(method, "/repos/.*", lambda r: Reply(404, {"message": "Not Found"}))
        routes = [
            ("GET", base, lambda r: Reply(200, self._repo_json())),
            ("GET", rf"{base}/contents/(?P<path>.+)", self._get_contents),
            ("GET", rf"{base}/git/ref/heads/(?P<branch>.+)", self._get_ref),
            ("GET", rf"{base}/git/refs/heads/(?P<branch>.+)", self._get_ref),
            ("PATCH", rf"{base}/git/refs/heads/(?P<branch>.+)", self._update_ref),
            ("POST", rf"{base}/git/refs", self._create_ref),
            ("GET", rf"{base}/git/commits/(?P<sha>\w+)", self._get_commit),
            ("POST", rf"{base}/git/trees", self._create_tree),
            ("POST", rf"{base}/git/commits", self._create_commit),
            ("GET", rf"{base}/pulls", self._list_pulls),
            ("POST", rf"{base}/pulls", self._create_pull),
            ("GET", rf"{base}/pulls/(?P<n>\d+)", lambda r: self._with_pull(r, self._pull_json)),
            ("PATCH", rf"{base}/pulls/(?P<n>\d+)", self._edit_pull),
            ("POST", rf"{base}/pulls/(?P<n>\d+)/requested_reviewers", self._request_reviewers),
            ("GET", rf"{base}/issues/(?P<n>\d+)", lambda r: self._with_pull(r, self._issue_json)),
            ("POST", rf"{base}/issues/(?P<n>\d+)/labels", self._add_labels),
            ("POST", "/graphql", self._graphql),
        ]
        self.route_guarded(routes, refuse=lambda r: bad_credentials(r, self.token))

    def _get_contents(self, request: Request) -> Reply:
        assert request.match is not None
        path = unquote(request.match["path"])
        ref = (request.query.get("ref") or [self.default_branch])[0]
        if ref not in self.refs:
            return Reply(404, {"message": f"No commit found for the ref {ref}"})
        files = self.files_at(ref)
        if path not in files:
            return Reply(404, {"message": "Not Found"})
        data = files[path].encode("utf-8", "surrogateescape")  # lone surrogates: raw bytes
        return Reply(
            200,
            {
                "type": "file",
                "encoding": "base64",
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                "size": len(data),
                "sha": _sha("blob", files[path]),
                "content": base64.encodebytes(data).decode(),
                "url": f"{self.repo_url}/contents/{path}?ref={ref}",
            },
        )

    def _get_ref(self, request: Request) -> Reply:
        assert request.match is not None
        branch = unquote(request.match["branch"])
        if branch not in self.refs:
            return Reply(404, {"message": "Not Found"})
        return Reply(200, self._ref_json(branch))

    def _update_ref(self, request: Request) -> Reply:
        assert request.match is not None
        branch = unquote(request.match["branch"])
        body = request.json()
        if branch not in self.refs:
            return Reply(422, {"message": "Reference does not exist"})
        if body["sha"] not in self.commits:
            return Reply(422, {"message": "Object does not exist"})
        if not body.get("force") and self.refs[branch] not in self.commits[body["sha"]]["parents"]:
            return Reply(422, {"message": "Update is not a fast forward"})
        self.refs[branch] = body["sha"]
        return Reply(200, self._ref_json(branch))

    def _create_ref(self, request: Request) -> Reply:
        body = request.json()
        branch = str(body["ref"]).removeprefix("refs/heads/")
        if branch in self.refs:
            return Reply(422, {"message": "Reference already exists"})
        if body["sha"] not in self.commits:
            return Reply(422, {"message": "Object does not exist"})
        self.refs[branch] = body["sha"]
        return Reply(201, self._ref_json(branch))

    def _get_commit(self, request: Request) -> Reply:
        assert request.match is not None
        sha = request.match["sha"]
        if sha not in self.commits:
            return Reply(404, {"message": "Not Found"})
        return Reply(200, self._commit_json(sha))

    def _create_tree(self, request: Request) -> Reply:
        body = request.json()
        files = dict(self.trees.get(body.get("base_tree", ""), {}))
        for entry in body["tree"]:
            if "content" not in entry:
                return Reply(422, {"message": "this server takes tree entries with content only"})
            files[entry["path"]] = entry["content"]
        sha = self._store_tree(files)
        entries = [
            {"path": p, "mode": "100644", "type": "blob", "sha": _sha("blob", c)}
            for p, c in sorted(files.items())
        ]
        return Reply(201, {"sha": sha, "url": f"{self.repo_url}/git/trees/{sha}", "tree": entries})

    def _create_commit(self, request: Request) -> Reply:
        body = request.json()
        if body["tree"] not in self.trees or any(p not in self.commits for p in body["parents"]):
            return Reply(422, {"message": "Tree or parent does not exist"})
        sha = self._store_commit(body["message"], body["tree"], list(body["parents"]))
        return Reply(201, self._commit_json(sha))

    def _list_pulls(self, request: Request) -> Reply:
        def wanted(pull: dict[str, Any]) -> bool:
            for key, value in (
                ("state", request.query.get("state", ["open"])[0]),
                ("head", request.query.get("head", [None])[0]),
                ("base", request.query.get("base", [None])[0]),
            ):
                have = f"{self.owner}:{pull['head']}" if key == "head" else pull[key]
                if value not in (None, "all") and have != value:
                    return False
            return True

        return Reply(200, [self._pull_json(p) for p in self.pulls if wanted(p)])

    def _create_pull(self, request: Request) -> Reply:
        body = request.json()
        head, base = body["head"].split(":")[-1], body["base"]
        if head not in self.refs or base not in self.refs:
            return Reply(
                422,
                {"message": "Validation Failed", "errors": [{"field": "head", "code": "invalid"}]},
            )
        for pull in self.pulls:
            if pull["head"] == head and pull["base"] == base and pull["state"] == "open":
                message = f"A pull request already exists for {self.owner}:{head}."
                return Reply(
                    422, {"message": "Validation Failed", "errors": [{"message": message}]}
                )
        pull = {
            "number": len(self.pulls) + 1,
            "state": "open",
            "title": body["title"],
            "body": body.get("body"),
            "draft": bool(body.get("draft", False)),
            "head": head,
            "base": base,
            "labels": [],
            "requested_reviewers": [],
            "auto_merge": False,
        }
        self.pulls.append(pull)
        return Reply(201, self._pull_json(pull))

    def _find_pull(self, request: Request) -> dict[str, Any] | None:
        assert request.match is not None
        n = int(request.match["n"])
        return next((p for p in self.pulls if p["number"] == n), None)

    def _with_pull(self, request: Request, shape: Any) -> Reply:
        pull = self._find_pull(request)
        return Reply(404, {"message": "Not Found"}) if pull is None else Reply(200, shape(pull))

    def _edit_pull(self, request: Request) -> Reply:
        pull = self._find_pull(request)
        if pull is None:
            return Reply(404, {"message": "Not Found"})
        for key in ("title", "body", "state", "base"):
            if key in request.json():
                pull[key] = request.json()[key]
        return Reply(200, self._pull_json(pull))

    def _request_reviewers(self, request: Request) -> Reply:
        pull = self._find_pull(request)
        if pull is None:
            return Reply(404, {"message": "Not Found"})
        wanted = list(request.json().get("reviewers") or [])
        strangers = [r for r in wanted if r not in self.collaborators]
        if strangers:
            message = (
                "Reviews may only be requested from collaborators. One or more of the users or "
                f"teams you specified is not a collaborator of the {self.owner}/{self.repo} "
                "repository."
            )
            return Reply(422, {"message": message})
        pull["requested_reviewers"] = sorted(set(pull["requested_reviewers"]) | set(wanted))
        return Reply(201, self._pull_json(pull))

    def _add_labels(self, request: Request) -> Reply:
        pull = self._find_pull(request)
        if pull is None:
            return Reply(404, {"message": "Not Found"})
        body = request.json()
        names: list[str] = body["labels"] if isinstance(body, dict) else body
        for name in names:
            if unquote(name) not in pull["labels"]:
                pull["labels"].append(unquote(name))
        return Reply(200, [{"name": n} for n in pull["labels"]])

    def _graphql(self, request: Request) -> Reply:
        body = request.json()
        if "enablePullRequestAutoMerge" not in body["query"]:
            return Reply(200, {"errors": [{"message": "this server knows one mutation"}]})
        node_id = body["variables"]["input"]["pullRequestId"]
        pull = next((p for p in self.pulls if f"PR_{p['number']}" == node_id), None)
        if pull is None:
            return Reply(
                200, {"errors": [{"type": "NOT_FOUND", "message": "Could not resolve to a node"}]}
            )
        if not self.allow_auto_merge:
            return Reply(
                200,
                {
                    "data": {"enablePullRequestAutoMerge": None},
                    "errors": [
                        {
                            "type": "UNPROCESSABLE",
                            "message": "Pull request Auto merge is not allowed for this repository",
                        }
                    ],
                },
            )
        pull["auto_merge"] = True
        actor = {"login": "iter8-bot", "avatarUrl": "", "resourcePath": "/iter8-bot", "url": ""}
        return Reply(
            200,
            {"data": {"enablePullRequestAutoMerge": {"actor": actor, "clientMutationId": None}}},
        )
