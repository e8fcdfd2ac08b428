"""A reviewed change: one branch, one commit on the target, one PR/MR updated in place.

Shared by the `rollout` task (edits a user names) and the `traffic` task (the next step
of a release): the code host comes from the task's inputs, the branch is re-pointed only
when its files differ, and an open PR/MR from it is updated rather than a second opened.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from iter8_action.core.errors import TaskFailed
from iter8_action.core.secrets import env_secrets, url_secrets
from iter8_action.platforms import CIHost
from iter8_action.rollout.provider import ChangeRequest, Provider

if TYPE_CHECKING:
    from iter8_action.rollout.github import GitHubProvider
    from iter8_action.rollout.gitlab import GitLabProvider


def host_secrets(inputs: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[str]:
    """The code host's token (and any credentials in `apiURL`), registered at load."""
    # Without tokenEnv the platform picks the variable (GITHUB_TOKEN or GITLAB_TOKEN).
    names = [inputs["tokenEnv"]] if "tokenEnv" in inputs else ["GITHUB_TOKEN", "GITLAB_TOKEN"]
    yield from env_secrets(env, names)
    yield from url_secrets(inputs.get("apiURL"))


def make_provider(
    inputs: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    platform: CIHost | None,
    task: str = "rollout",
) -> Provider:
    """The code host named by the input `platform`, else the CI `platform` this runs on;
    `env` is the job's environment (tokens, the repository, the API's address)."""
    from iter8_action.events.delivery import api_url, secret_from_env

    host = _host_class(inputs.get("platform") or _platform_here(platform, task))
    token_env = str(inputs.get("tokenEnv", host.default_token_env))
    return host(
        api_url=api_url(inputs, env_var=host.api_url_env, default=host.public_api, env=env),
        repository=_repository(inputs, env, host.repository_env, task),
        token=secret_from_env(token_env, what=task, env=env),
        token_env=token_env,
    )


def _host_class(name: str) -> type[GitHubProvider | GitLabProvider]:
    """The provider of a code host; each names its defaults (token, API, repository)."""
    # imported here: the host libraries load only for the host a task uses
    if name == "github":
        from iter8_action.rollout.github import GitHubProvider

        return GitHubProvider
    from iter8_action.rollout.gitlab import GitLabProvider

    return GitLabProvider


def _platform_here(platform: CIHost | None, task: str) -> str:
    if platform is not None:
        return platform.value
    raise TaskFailed(
        f"{task}: cannot tell the code host outside GitHub Actions and GitLab CI; "
        "set `platform: github` or `platform: gitlab`"
    )


def _repository(inputs: Mapping[str, Any], env: Mapping[str, str], env_var: str, task: str) -> str:
    repository = inputs.get("repository") or env.get(env_var)
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
