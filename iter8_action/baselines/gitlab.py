"""Baselines from GitLab CI: the same job's artifacts in the target branch's last pipelines.

    GET /projects/{id}/pipelines?ref=&status=success&order_by=id&sort=desc
    GET /projects/{id}/pipelines/{pipeline_id}/jobs?scope[]=success
    GET /projects/{id}/jobs/{job_id}/artifacts                        the zip

(https://docs.gitlab.com/api/pipelines/, .../jobs/, .../job_artifacts/), through
python-gitlab; the zip is streamed with a size and time bound. An expired
artifact (`artifacts_expire_at` passed, or a 404) is a note, never a failure.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import gitlab
from gitlab.exceptions import GitlabError
from gitlab.v4.objects import Project

from iter8_action.baselines.download import MAX_DOWNLOAD_BYTES, TOTAL_TIMEOUT_S, DownloadFailed
from iter8_action.baselines.lookup import Candidate, collect
from iter8_action.baselines.model import BaselineInvalid, Baselines
from iter8_action.platforms.gitlab import API_RETRIES, API_TIMEOUT_S

PIPELINES_LOOKED_AT = 3
"""Pipelines listed per result wanted: some lack the job, or its artifact expired."""
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class GitLabPipelineContext:
    server_url: str
    project_id: str
    job_name: str
    target_branch: str
    token: str
    job_token: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], token: str) -> GitLabPipelineContext:
        return cls(
            server_url=environ.get("CI_SERVER_URL") or "https://gitlab.com",
            project_id=environ.get("CI_PROJECT_ID", ""),
            job_name=environ.get("CI_JOB_NAME", ""),
            target_branch=environ.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", ""),
            token=token,
            job_token=environ.get("CI_JOB_TOKEN", ""),
        )


class _TooBig(Exception):
    pass


def from_gitlab(ctx: GitLabPipelineContext, *, job: str, count: int, source: str) -> Baselines:
    """The last `count` results of job `job` on the target branch, newest first."""
    if not ctx.target_branch:
        return Baselines(
            source, notes=("this pipeline is not for a merge request: no target branch",)
        )
    project = _client(ctx).projects.get(ctx.project_id, lazy=True)  # lazy: no request yet
    return collect(_Pipelines(ctx, job or ctx.job_name, project), count=count, source=source)


@dataclass(frozen=True)
class _Pipelines:
    """The project's successful pipelines on the target branch, with a job `job`."""

    ctx: GitLabPipelineContext
    job: str
    project: Project
    name = "GitLab"
    error_type = GitlabError

    @property
    def api_url(self) -> str:
        return self.ctx.server_url

    @property
    def branch(self) -> str:
        return self.ctx.target_branch

    def runs(self, count: int) -> Iterable[Any]:
        return self.project.pipelines.list(
            ref=self.branch,
            status="success",
            order_by="id",
            sort="desc",
            per_page=min(100, count * PIPELINES_LOOKED_AT),
            get_all=False,
        )

    def candidate(self, pipeline: Any) -> Candidate | None:
        jobs = [
            j for j in pipeline.jobs.list(scope=["success"], get_all=True) if j.name == self.job
        ]
        if not jobs:
            return None
        origin = f"{pipeline.web_url} (job {self.job})"
        download = partial(_download, self.project, jobs[0], origin)
        return Candidate(pipeline.sha, pipeline.web_url, origin, download)

    def refused(self, error: GitlabError) -> str:
        note = f"GitLab refused to list the pipelines of {self.branch} "
        note += f"({error.response_code} {error.error_message})"
        if error.response_code in (401, 403):
            note += "; pass a token with the read_api scope (the job token cannot list pipelines)"
        return note

    def expired(self, runs: int) -> str:
        return (
            f"{runs} pipeline{'s' if runs > 1 else ''} of {self.branch} had expired "
            f"artifacts for job {self.job!r} (raise artifacts: expire_in)"
        )

    def none_found(self) -> str:
        return (
            f"no successful pipeline on {self.branch} has a result in the artifacts of "
            f"job {self.job!r}"
        )


def _expired(job: Any) -> bool:
    when = getattr(job, "artifacts_expire_at", None)
    if not when:
        return False
    try:
        moment = datetime.fromisoformat(str(when).replace("Z", "+00:00"))
    except ValueError:
        return False
    return moment < datetime.now(UTC)


def _download(project: Any, job: Any, origin: str) -> bytes | None:
    """The job's artifacts zip, bounded in size and time; None when they expired."""
    if _expired(job):
        return None
    try:
        return _stream(project, job.id, origin)
    except GitlabError as e:
        if e.response_code == 404:
            return None
        raise DownloadFailed(f"GitLab answered {e.response_code} {e.error_message}") from e


def _stream(project: Any, job_id: int, origin: str) -> bytes:
    body = bytearray()
    started = time.monotonic()

    def take(chunk: bytes) -> None:
        body.extend(chunk)
        if len(body) > MAX_DOWNLOAD_BYTES:
            raise _TooBig(f"{origin}: the artifacts are above {MAX_DOWNLOAD_BYTES} bytes")
        if time.monotonic() - started > TOTAL_TIMEOUT_S:
            raise _TooBig(f"{origin}: not downloaded within {TOTAL_TIMEOUT_S:g}s")

    try:
        project.jobs.get(job_id, lazy=True).artifacts(streamed=True, action=take, chunk_size=_CHUNK)
    except _TooBig as e:
        raise BaselineInvalid(str(e)) from e
    return bytes(body)


def _client(ctx: GitLabPipelineContext) -> gitlab.Gitlab:
    class _Bounded(gitlab.Gitlab):
        def http_request(self, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("max_retries", API_RETRIES)
            return super().http_request(*args, **kwargs)

    return _Bounded(
        url=ctx.server_url,
        private_token=ctx.token or None,
        job_token=None if ctx.token else ctx.job_token or None,
        timeout=API_TIMEOUT_S,
        retry_transient_errors=True,
    )
