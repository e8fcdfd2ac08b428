"""A fake GitLab REST API (v4) for pipelines, jobs and job artifacts, on a real 127.0.0.1 server.

It answers what python-gitlab asks when the component looks for the target
branch's results::

    GET /api/v4/projects/{id}/pipelines?ref=&status=&order_by=id&sort=desc   (paginated)
    GET /api/v4/projects/{id}/pipelines/{pipeline_id}/jobs?scope[]=success
    GET /api/v4/projects/{id}/jobs/{job_id}/artifacts                        the zip

Pipelines are listed newest first. A job whose artifacts expired carries a past
`artifacts_expire_at` and its artifacts answer 404, as on GitLab. Only
`PRIVATE-TOKEN: <token>` is accepted.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from tests.support.servers.base import RecordingServer, Reply, Request, ServedFake
from tests.support.servers.gitlab_api import bad_token

PAST = "2020-01-01T00:00:00.000Z"
FUTURE = "2999-01-01T00:00:00.000Z"


@dataclass
class JobInfo:
    name: str
    artifacts: bytes | None
    expired: bool = False
    status: str = "success"
    id: int = 0


@dataclass
class PipelineInfo:
    ref: str
    sha: str
    jobs: list[JobInfo] = field(default_factory=list)
    status: str = "success"
    id: int = 0


@dataclass
class FakeGitLabPipelines(ServedFake):
    project_id: int = 42
    token: str = "glpat-fake-token-123456"
    pipelines: list[PipelineInfo] = field(default_factory=list)
    """Oldest first, as they were added; listed newest first."""
    server: RecordingServer = field(default_factory=RecordingServer)

    def __post_init__(self) -> None:
        self._pipeline_ids = itertools.count(300)
        self._job_ids = itertools.count(8000)
        base = rf"/api/v4/projects/{self.project_id}"
        self.server.route_guarded(
            [
                ("GET", rf"{base}/pipelines", self._pipelines),
                ("GET", rf"{base}/pipelines/(?P<id>\d+)/jobs", self._jobs),
                ("GET", rf"{base}/jobs/(?P<id>\d+)/artifacts", self._artifacts),
            ],
            refuse=lambda request: bad_token(request, self.token),
        )

    def add_pipeline(
        self, ref: str, sha: str, jobs: dict[str, bytes | None], *, expired: bool = False
    ) -> PipelineInfo:
        """A finished pipeline whose jobs (name -> artifacts zip) succeeded."""
        pipeline = PipelineInfo(ref, sha, id=next(self._pipeline_ids))
        for name, data in jobs.items():
            pipeline.jobs.append(JobInfo(name, data, expired, id=next(self._job_ids)))
        self.pipelines.append(pipeline)
        return pipeline

    def _web(self, pipeline: PipelineInfo) -> str:
        return f"https://gitlab.example/group/demo/-/pipelines/{pipeline.id}"

    def _pipelines(self, request: Request) -> Reply:
        ref = request.query.get("ref", [None])[0]
        status = request.query.get("status", [None])[0]
        chosen = [
            p
            for p in reversed(self.pipelines)
            if (ref is None or p.ref == ref) and (status is None or p.status == status)
        ]
        per_page = int(request.query.get("per_page", ["20"])[0])
        page = int(request.query.get("page", ["1"])[0])
        chunk = chosen[(page - 1) * per_page : page * per_page]
        body = [
            {
                "id": p.id,
                "iid": p.id - 299,
                "project_id": self.project_id,
                "sha": p.sha,
                "ref": p.ref,
                "status": p.status,
                "source": "push",
                "web_url": self._web(p),
            }
            for p in chunk
        ]
        headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(chosen))}
        return Reply(200, body, headers)

    def _jobs(self, request: Request) -> Reply:
        pid = int(request.match["id"]) if request.match else 0
        pipeline = next((p for p in self.pipelines if p.id == pid), None)
        if pipeline is None:
            return Reply(404, {"message": "404 Pipeline Not Found"})
        scopes = request.query.get("scope[]", [])
        body = [
            self._job_json(pipeline, j) for j in pipeline.jobs if not scopes or j.status in scopes
        ]
        return Reply(200, body, {"X-Page": "1", "X-Total": str(len(body))})

    def _job_json(self, pipeline: PipelineInfo, job: JobInfo) -> dict[str, Any]:
        return {
            "id": job.id,
            "name": job.name,
            "status": job.status,
            "stage": "test",
            "ref": pipeline.ref,
            "pipeline": {"id": pipeline.id, "sha": pipeline.sha, "ref": pipeline.ref},
            "artifacts_expire_at": PAST if job.expired else FUTURE,
            "web_url": f"https://gitlab.example/group/demo/-/jobs/{job.id}",
        }

    def _artifacts(self, request: Request) -> Reply:
        jid = int(request.match["id"]) if request.match else 0
        job = next((j for p in self.pipelines for j in p.jobs if j.id == jid), None)
        if job is None or job.artifacts is None or job.expired:
            return Reply(404, {"message": "404 Not found"})
        return Reply(200, job.artifacts, {"Content-Type": "application/octet-stream"})
