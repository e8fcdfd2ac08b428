"""A reviewed change: one branch, one commit on the target, one PR/MR updated in place.

Shared by the `rollout` task (edits a user names) and the `traffic` task (the next step
of a release): the code host comes from the task's inputs, the branch is re-pointed only
when its files differ, and an open PR/MR from it is updated rather than a second opened.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any

from iter8_action.errors import TaskFailed
from iter8_action.events.delivery import api_url, secret_from_env
from iter8_action.rollout.provider import ChangeRequest, Provider
from iter8_action.secrets import env_secrets, url_secrets


def host_secrets(inputs: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[str]:
    """The code host's token (and any credentials in `apiURL`), registered at load."""
    # Without tokenEnv the platform picks the variable (GITHUB_TOKEN or GITLAB_TOKEN).
    names = [inputs["tokenEnv"]] if "tokenEnv" in inputs else ["GITHUB_TOKEN", "GITLAB_TOKEN"]
    yield from env_secrets(env, names)
    yield from url_secrets(inputs.get("apiURL"))


def make_provider(inputs: Mapping[str, Any], *, task: str = "rollout") -> Provider:
    """The code host named by `platform` (default: the CI platform this runs on)."""
    platform = inputs.get("platform") or _platform_here(task)
    if platform == "github":
        from iter8_action.rollout.github import PUBLIC_API, GitHubProvider

        token_env = str(inputs.get("tokenEnv", "GITHUB_TOKEN"))
        return GitHubProvider(
            api_url=api_url(inputs, env_var="GITHUB_API_URL", default=PUBLIC_API),
            repository=_repository(inputs, "GITHUB_REPOSITORY", task),
            token=secret_from_env(token_env, what=task),
            token_env=token_env,
        )
    from iter8_action.rollout.gitlab import PUBLIC_API as GITLAB_API
    from iter8_action.rollout.gitlab import GitLabProvider

    token_env = str(inputs.get("tokenEnv", "GITLAB_TOKEN"))
    return GitLabProvider(
        api_url=api_url(inputs, env_var="CI_API_V4_URL", default=GITLAB_API),
        project=_repository(inputs, "CI_PROJECT_PATH", task),
        token=secret_from_env(token_env, what=task),
        token_env=token_env,
    )


def _platform_here(task: str) -> str:
    from iter8_action.platforms import ci_host

    host = ci_host(os.environ)
    if host is not None:
        return host.value
    raise TaskFailed(
        f"{task}: cannot tell the code host outside GitHub Actions and GitLab CI; "
        "set `platform: github` or `platform: gitlab`"
    )


def _repository(inputs: Mapping[str, Any], env_var: str, task: str) -> str:
    repository = inputs.get("repository") or os.environ.get(env_var)
    if not repository:
        raise TaskFailed(f"{task}: set `repository` ({env_var} is not there to default it)")
    return str(repository)


def push(
    provider: Provider,
    log: logging.Logger,
    *,
    branch: str,
    target: str,
    files: Mapping[str, str],
    message: str,
    task: str = "rollout",
) -> None:
    """Make `branch` one commit on `target` with `files`, unless it already holds them."""
    if provider.branch_exists(branch) and all(
        provider.read(path, branch) == text for path, text in files.items()
    ):
        log.info("%s: %s already holds these changes", task, branch)
        return
    provider.commit(branch=branch, base=target, files=files, message=message)
    log.info("%s: committed %s to %s", task, ", ".join(sorted(files)), branch)


def open_or_update(
    provider: Provider,
    log: logging.Logger,
    *,
    branch: str,
    target: str,
    title: str,
    body: str,
    draft: bool,
    task: str = "rollout",
) -> ChangeRequest:
    """The open PR/MR from `branch`, updated; or a new one."""
    request = provider.find_open(branch=branch, target=target)
    if request is not None:
        provider.update(request, title=title, body=body)
        log.info("%s: updated %s %s", task, provider.kind, request.url)
        return request
    request = provider.open(branch=branch, target=target, title=title, body=body, draft=draft)
    log.info("%s: opened %s %s", task, provider.kind, request.url)
    return request


def decorate(
    provider: Provider,
    log: logging.Logger,
    request: ChangeRequest,
    inputs: Mapping[str, Any],
    *,
    task: str = "rollout",
) -> None:
    """Labels, reviewers and auto-merge, as the task's inputs ask."""
    if inputs.get("labels"):
        provider.add_labels(request, [str(x) for x in inputs["labels"]])
    if inputs.get("reviewers"):
        provider.request_reviewers(request, [str(x) for x in inputs["reviewers"]])
    if inputs.get("autoMerge"):
        refused = provider.enable_auto_merge(request)
        if refused:
            log.warning("%s: auto-merge not enabled: %s", task, refused)
