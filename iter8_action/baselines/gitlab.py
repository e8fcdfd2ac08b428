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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import gitlab
import requests
from gitlab.exceptions import GitlabError

from iter8_action.baselines.archive import read_artifact
from iter8_action.baselines.download import MAX_DOWNLOAD_BYTES, TOTAL_TIMEOUT_S
from iter8_action.baselines.model import (
    LOOKUP_TIMEOUT_S,
    BaselineInvalid,
    BaselineRun,
    Baselines,
)
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
    branch = ctx.target_branch
    if not branch:
        return Baselines(
            source, notes=("this pipeline is not for a merge request: no target branch",)
        )
    try:
        return _collect(ctx, job=job or ctx.job_name, count=count, source=source)
    except GitlabError as e:
        said = f"{e.response_code} {e.error_message}"
        note = f"GitLab refused to list the pipelines of {branch} ({said})"
        if e.response_code in (401, 403):
            note += "; pass a token with the read_api scope (the job token cannot list pipelines)"
        return Baselines(source, branch=branch, notes=(note,))
    except requests.RequestException as e:
        note = f"could not reach the GitLab API at {ctx.server_url} ({type(e).__name__})"
        return Baselines(source, branch=branch, notes=(note,))


def _collect(ctx: GitLabPipelineContext, *, job: str, count: int, source: str) -> Baselines:
    client = _client(ctx)
    project = client.projects.get(ctx.project_id, lazy=True)
    pipelines = project.pipelines.list(
        ref=ctx.target_branch,
        status="success",
        order_by="id",
        sort="desc",
        per_page=min(100, count * PIPELINES_LOOKED_AT),
        get_all=False,
    )
    found: list[BaselineRun] = []
    notes: list[str] = []
    expired = 0
    deadline = time.monotonic() + LOOKUP_TIMEOUT_S
    for pipeline in pipelines:
        if time.monotonic() > deadline:
            notes.append(f"stopped looking for baselines after {LOOKUP_TIMEOUT_S:g}s")
            break
        jobs = [j for j in pipeline.jobs.list(scope=["success"], get_all=True) if j.name == job]
        if not jobs:
            continue
        origin = f"{pipeline.web_url} (job {job})"
        if _expired(jobs[0]):
            expired += 1
            continue
        try:
            store, own = read_artifact(_download(project, jobs[0].id, origin), origin)
        except GitlabError as e:
            if e.response_code == 404:
                expired += 1
            else:
                notes.append(f"{origin}: GitLab answered {e.response_code} {e.error_message}")
            continue
        except BaselineInvalid as e:
            notes.append(f"skipped: {e}")
            continue
        found.append(BaselineRun(ctx.target_branch, pipeline.sha, pipeline.web_url, store, own))
        if len(found) == count:
            break
    if expired:
        notes.append(
            f"{expired} pipeline{'s' if expired > 1 else ''} of {ctx.target_branch} had expired "
            f"artifacts for job {job!r} (raise artifacts: expire_in)"
        )
    if not found:
        notes.insert(
            0,
            f"no successful pipeline on {ctx.target_branch} has a result in the artifacts of "
            f"job {job!r}",
        )
    return Baselines(source, tuple(found), tuple(notes), ctx.target_branch)


def _expired(job: Any) -> bool:
    when = getattr(job, "artifacts_expire_at", None)
    if not when:
        return False
    try:
        moment = datetime.fromisoformat(str(when).replace("Z", "+00:00"))
    except ValueError:
        return False
    return moment < datetime.now(UTC)


def _download(project: Any, job_id: int, origin: str) -> bytes:
    body = bytearray()
    started = time.monotonic()

    def collect(chunk: bytes) -> None:
        body.extend(chunk)
        if len(body) > MAX_DOWNLOAD_BYTES:
            raise _TooBig(f"{origin}: the artifacts are above {MAX_DOWNLOAD_BYTES} bytes")
        if time.monotonic() - started > TOTAL_TIMEOUT_S:
            raise _TooBig(f"{origin}: not downloaded within {TOTAL_TIMEOUT_S:g}s")

    try:
        project.jobs.get(job_id, lazy=True).artifacts(
            streamed=True, action=collect, chunk_size=_CHUNK
        )
    except _TooBig as e:
        raise BaselineInvalid(str(e)) from None
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
