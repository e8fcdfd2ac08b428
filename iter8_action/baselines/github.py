"""Baselines from GitHub Actions: the same workflow's last successful runs on the base branch.

    GET /repos/{owner}/{repo}/actions/runs/{run_id}                 this run's workflow id
    GET /repos/{owner}/{repo}/actions/workflows/{id}/runs?branch=&status=success
    GET /repos/{owner}/{repo}/actions/runs/{id}/artifacts
    GET /repos/{owner}/{repo}/actions/artifacts/{id}/zip            302 to the archive

(https://docs.github.com/rest/actions/workflow-runs, .../actions/artifacts). The
listing goes through PyGithub; the zip is streamed by `download.fetch`, bounded.
The token needs `actions: read`; a fork's token or an expired artifact is a note,
never a failure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from github import Auth, Github, GithubException, GithubRetry

from iter8_action.baselines.download import fetch
from iter8_action.baselines.lookup import Candidate, collect
from iter8_action.baselines.model import Baselines
from iter8_action.platforms.github import API_RETRIES, API_TIMEOUT_S, RETRY_AFTER_MAX_S

RUNS_LOOKED_AT = 3
"""Runs listed per result wanted: some have no artifact, or an expired one."""
ACCESS_FIX = (
    "give the job the permission actions: read (a pull request from a fork gets a token "
    "without it: its run has no baseline)"
)


@dataclass(frozen=True)
class GitHubRunContext:
    api_url: str
    repository: str
    run_id: str
    base_branch: str
    token: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], token: str) -> GitHubRunContext:
        return cls(
            api_url=environ.get("GITHUB_API_URL") or "https://api.github.com",
            repository=environ.get("GITHUB_REPOSITORY", ""),
            run_id=environ.get("GITHUB_RUN_ID", ""),
            base_branch=environ.get("GITHUB_BASE_REF") or _event_base(environ),
            token=token,
        )


def from_github(ctx: GitHubRunContext, *, artifact: str, count: int, source: str) -> Baselines:
    """The last `count` results in artifacts named `artifact` on the base branch, newest first."""
    branch = ctx.base_branch
    if not branch:
        return Baselines(source, notes=("this run is not for a pull request: no base branch",))
    if not ctx.token:
        return Baselines(source, branch=branch, notes=("no token to list the workflow's runs",))
    if not ctx.run_id.isdigit() or not ctx.repository:
        note = "GITHUB_RUN_ID or GITHUB_REPOSITORY is not set: cannot tell which workflow this is"
        return Baselines(source, branch=branch, notes=(note,))
    return collect(_WorkflowRuns(ctx, artifact), count=count, source=source)


@dataclass(frozen=True)
class _WorkflowRuns:
    """This workflow's successful runs on the base branch, with an artifact `artifact`."""

    ctx: GitHubRunContext
    artifact: str
    name = "GitHub"
    error_type = GithubException

    @property
    def api_url(self) -> str:
        return self.ctx.api_url

    @property
    def branch(self) -> str:
        return self.ctx.base_branch

    def runs(self, count: int) -> Iterator[Any]:
        repo = _client(self.ctx).get_repo(self.ctx.repository)
        workflow_id = repo.get_workflow_run(int(self.ctx.run_id)).workflow_id
        runs = repo.get_workflow(workflow_id).get_runs(branch=self.branch, status="success")
        return _first(runs, count * RUNS_LOOKED_AT)

    def candidate(self, run: Any) -> Candidate | None:
        match = [a for a in run.get_artifacts() if a.name == self.artifact]
        if not match:
            return None
        origin = f"{run.html_url} (artifact {self.artifact})"
        return Candidate(run.head_sha, run.html_url, origin, partial(_download, match[0], self.ctx))

    def refused(self, error: GithubException) -> str:
        data = error.data
        said = f"{error.status} {data.get('message') if isinstance(data, dict) else ''}".strip()
        note = f"GitHub refused to list the runs of {self.branch} ({said})"
        return f"{note}; {ACCESS_FIX}" if error.status in (401, 403, 404) else note

    def expired(self, runs: int) -> str:
        return (
            f"{runs} run{'s' if runs > 1 else ''} of {self.branch} had an expired "
            f"artifact {self.artifact!r} (raise retention-days of the upload step)"
        )

    def none_found(self) -> str:
        return (
            f"no successful run of this workflow on {self.branch} has a result in an "
            f"artifact named {self.artifact!r}"
        )


def _download(artifact: Any, ctx: GitHubRunContext) -> bytes | None:
    if artifact.expired:
        return None
    headers = {"Authorization": f"Bearer {ctx.token}", "Accept": "application/vnd.github+json"}
    return fetch(artifact.archive_download_url, headers=headers)


def _first(items: Any, limit: int) -> Iterator[Any]:
    for i, item in enumerate(items):
        if i >= limit:
            return
        yield item


def _client(ctx: GitHubRunContext) -> Github:
    retry = GithubRetry(
        total=API_RETRIES,
        backoff_factor=0.5,
        retry_after_max=RETRY_AFTER_MAX_S,
        secondary_rate_wait=RETRY_AFTER_MAX_S,
        max_rate_limit_wait=RETRY_AFTER_MAX_S,
    )
    return Github(
        base_url=ctx.api_url,
        auth=Auth.Token(ctx.token),
        timeout=API_TIMEOUT_S,
        retry=retry,
        per_page=30,
        lazy=True,  # only the runs and artifacts are fetched, never the repository itself
        seconds_between_requests=None,
    )


def _event_base(environ: Mapping[str, str]) -> str:
    """The base branch from the event payload (`workflow_run` has no GITHUB_BASE_REF)."""
    path = environ.get("GITHUB_EVENT_PATH")
    if not path:
        return ""
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    if not isinstance(event, dict):
        return ""
    pull = event.get("pull_request") or {}
    base = pull.get("base") if isinstance(pull, dict) else None
    ref = base.get("ref") if isinstance(base, dict) else None
    return ref if isinstance(ref, str) else ""
