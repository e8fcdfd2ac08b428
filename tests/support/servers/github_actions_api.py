"""A fake GitHub Actions API: workflow runs and their artifact zips, on a real 127.0.0.1 server.

It answers what PyGithub (and a plain GET for the zip) asks when the action
looks for the base branch's results::

    GET /repos/{owner}/{repo}/actions/runs/{run_id}
    GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs?branch=&status=   (paginated)
    GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts
    GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/zip   302 to /blobs/{id}?sig=...
    GET /blobs/{artifact_id}                                        the zip (signed URL)

Runs are listed newest first, as GitHub does. An expired artifact is listed
with `expired: true` and its zip answers 410, as on GitHub. Only
`Authorization: token|Bearer <token>` is accepted on the API routes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from tests.support.servers.base import RecordingServer, Reply, Request, ServedFake

WORKFLOW_ID = 161335


@dataclass
class ArtifactInfo:
    name: str
    data: bytes
    expired: bool = False
    id: int = 0


@dataclass
class RunInfo:
    head_branch: str
    head_sha: str
    artifacts: list[ArtifactInfo] = field(default_factory=list)
    conclusion: str = "success"
    workflow_id: int = WORKFLOW_ID
    id: int = 0


@dataclass
class FakeGitHubActions(ServedFake):
    repo: str = "iter8-py/demo"
    token: str = "ghs_fake_token_1234567890"
    current_run: int = 4242
    runs: list[RunInfo] = field(default_factory=list)
    """Oldest first, as they were added; listed newest first."""
    server: RecordingServer = field(default_factory=RecordingServer)

    def __post_init__(self) -> None:
        self._run_ids = itertools.count(9000)
        self._artifact_ids = itertools.count(500)
        base = "/repos/" + self.repo.replace("/", "\\/").replace(".", "\\.") + "/actions"
        self.server.route_guarded(
            [
                ("GET", rf"{base}/runs/(?P<id>\d+)", self._run),
                ("GET", rf"{base}/workflows/(?P<wid>\d+)/runs", self._runs),
                ("GET", rf"{base}/runs/(?P<id>\d+)/artifacts", self._artifacts),
                ("GET", rf"{base}/artifacts/(?P<id>\d+)/zip", self._zip),
            ],
            refuse=self._refused,
        )
        self.server.route("GET", r"/blobs/(?P<id>\d+)", self._blob)

    def add_run(self, branch: str, sha: str, artifacts: dict[str, bytes], **kw: Any) -> RunInfo:
        """A finished run with artifacts (name -> zip bytes); `expired=True` expires them."""
        expired = kw.pop("expired", False)
        run = RunInfo(branch, sha, id=next(self._run_ids), **kw)
        for name, data in artifacts.items():
            run.artifacts.append(ArtifactInfo(name, data, expired, next(self._artifact_ids)))
        self.runs.append(run)
        return run

    def _refused(self, request: Request) -> Reply | None:
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() not in ("token", "bearer") or token != self.token:
            return Reply(401, {"message": "Bad credentials"})
        return None

    def _api(self) -> str:
        return f"{self.url}/repos/{self.repo}/actions"

    def _run_json(self, run: RunInfo) -> dict[str, Any]:
        return {
            "id": run.id,
            "name": "experiment",
            "head_branch": run.head_branch,
            "head_sha": run.head_sha,
            "status": "completed",
            "conclusion": run.conclusion,
            "workflow_id": run.workflow_id,
            "event": "push",
            "url": f"{self._api()}/runs/{run.id}",
            "html_url": f"https://github.com/{self.repo}/actions/runs/{run.id}",
            "artifacts_url": f"{self._api()}/runs/{run.id}/artifacts",
        }

    def _run(self, request: Request) -> Reply:
        run_id = int(request.match["id"]) if request.match else 0
        if run_id == self.current_run:
            current = RunInfo("feature", "a" * 40, id=run_id, conclusion="")
            return Reply(200, {**self._run_json(current), "status": "in_progress"})
        for run in self.runs:
            if run.id == run_id:
                return Reply(200, self._run_json(run))
        return Reply(404, {"message": "Not Found"})

    def _runs(self, request: Request) -> Reply:
        wid = int(request.match["wid"]) if request.match else 0
        branch = request.query.get("branch", [None])[0]
        status = request.query.get("status", [None])[0]
        chosen = [
            r
            for r in reversed(self.runs)
            if r.workflow_id == wid
            and (branch is None or r.head_branch == branch)
            and (status is None or r.conclusion == status)
        ]
        page = int(request.query.get("page", ["1"])[0])
        per_page = int(request.query.get("per_page", ["30"])[0])
        chunk = chosen[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(chosen):
            query = f"branch={branch}&status={status}&per_page={per_page}&page={page + 1}"
            headers["Link"] = f'<{self._api()}/workflows/{wid}/runs?{query}>; rel="next"'
        body = {"total_count": len(chosen), "workflow_runs": [self._run_json(r) for r in chunk]}
        return Reply(200, body, headers)

    def _artifacts(self, request: Request) -> Reply:
        run_id = int(request.match["id"]) if request.match else 0
        run = next((r for r in self.runs if r.id == run_id), None)
        if run is None:
            return Reply(404, {"message": "Not Found"})
        listed = [
            {
                "id": a.id,
                "name": a.name,
                "size_in_bytes": len(a.data),
                "expired": a.expired,
                "url": f"{self._api()}/artifacts/{a.id}",
                "archive_download_url": f"{self._api()}/artifacts/{a.id}/zip",
            }
            for a in run.artifacts
        ]
        return Reply(200, {"total_count": len(listed), "artifacts": listed})

    def _artifact(self, request: Request) -> ArtifactInfo | None:
        wanted = int(request.match["id"]) if request.match else 0
        return next((a for r in self.runs for a in r.artifacts if a.id == wanted), None)

    def _zip(self, request: Request) -> Reply:
        artifact = self._artifact(request)
        if artifact is None:
            return Reply(404, {"message": "Not Found"})
        if artifact.expired:
            return Reply(410, {"message": "Artifact has expired"})
        return Reply(302, b"", {"Location": f"{self.url}/blobs/{artifact.id}?sig=s3cr3t-signature"})

    def _blob(self, request: Request) -> Reply:
        artifact = self._artifact(request)
        if artifact is None:
            return Reply(404, {"message": "BlobNotFound"})
        return Reply(200, artifact.data, {"Content-Type": "application/zip"})
