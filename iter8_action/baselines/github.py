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
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from github import Auth, Github, GithubException, GithubRetry

from iter8_action.baselines.archive import read_artifact
from iter8_action.baselines.download import DownloadFailed, fetch
from iter8_action.baselines.model import (
    LOOKUP_TIMEOUT_S,
    BaselineInvalid,
    BaselineRun,
    Baselines,
)
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
    try:
        return _collect(ctx, artifact=artifact, count=count, source=source)
    except GithubException as e:
        said = f"{e.status} {e.data.get('message') if isinstance(e.data, dict) else ''}".strip()
        note = f"GitHub refused to list the runs of {branch} ({said})"
        if e.status in (401, 403, 404):
            note += f"; {ACCESS_FIX}"
        return Baselines(source, branch=branch, notes=(note,))
    except requests.RequestException as e:
        note = f"could not reach the GitHub API at {ctx.api_url} ({type(e).__name__})"
        return Baselines(source, branch=branch, notes=(note,))


def _collect(ctx: GitHubRunContext, *, artifact: str, count: int, source: str) -> Baselines:
    gh = _client(ctx)
    repo = gh.get_repo(ctx.repository)
    workflow_id = repo.get_workflow_run(int(ctx.run_id)).workflow_id
    runs = repo.get_workflow(workflow_id).get_runs(branch=ctx.base_branch, status="success")
    found: list[BaselineRun] = []
    notes: list[str] = []
    expired = 0
    deadline = time.monotonic() + LOOKUP_TIMEOUT_S
    for run in _first(runs, count * RUNS_LOOKED_AT):
        if time.monotonic() > deadline:
            notes.append(f"stopped looking for baselines after {LOOKUP_TIMEOUT_S:g}s")
            break
        match = [a for a in run.get_artifacts() if a.name == artifact]
        if not match:
            continue
        if match[0].expired:
            expired += 1
            continue
        origin = f"{run.html_url} (artifact {artifact})"
        headers = {"Authorization": f"Bearer {ctx.token}", "Accept": "application/vnd.github+json"}
        try:
            data = fetch(match[0].archive_download_url, headers=headers)
        except DownloadFailed as e:
            notes.append(f"{origin}: {e}")
            continue
        try:
            store, own = read_artifact(data, origin)
        except BaselineInvalid as e:
            notes.append(f"skipped: {e}")
            continue
        found.append(BaselineRun(ctx.base_branch, run.head_sha, run.html_url, store, own))
        if len(found) == count:
            break
    if expired:
        notes.append(
            f"{expired} run{'s' if expired > 1 else ''} of {ctx.base_branch} had an expired "
            f"artifact {artifact!r} (raise retention-days of the upload step)"
        )
    if not found:
        notes.insert(
            0,
            f"no successful run of this workflow on {ctx.base_branch} has a result in an "
            f"artifact named {artifact!r}",
        )
    return Baselines(source, tuple(found), tuple(notes), ctx.base_branch)


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
