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
from iter8_action.rollout.provider import ChangeRequest, CodeHost, Provider, RequestOptions

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
    host: CodeHost,
    *,
    env: Mapping[str, str],
    platform: CIHost | None,
    task: str = "rollout",
) -> Provider:
    """The code host the task names, else the CI `platform` this runs on; `env` is the
    job's environment (tokens, and the repository and API's address the task leaves out)."""
    from iter8_action.events.delivery import api_base, secret_from_env

    kind = _host_class(host.platform or _platform_here(platform, task))
    token_env = host.token_env or kind.default_token_env
    return kind(
        api_url=api_base(host.api_url, env_var=kind.api_url_env, default=kind.public_api, env=env),
        repository=_repository(host.repository, env, kind.repository_env, task),
        token=secret_from_env(token_env, what=task, env=env),
        token_env=token_env,
    )


def _host_class(name: CIHost) -> type[GitHubProvider | GitLabProvider]:
    """The provider of a code host; each names its defaults (token, API, repository)."""
    # imported here: the host libraries load only for the host a task uses
    if name is CIHost.GITHUB:
        from iter8_action.rollout.github import GitHubProvider

        return GitHubProvider
    from iter8_action.rollout.gitlab import GitLabProvider

    return GitLabProvider


def _platform_here(platform: CIHost | None, task: str) -> CIHost:
    if platform is not None:
        return platform
    raise TaskFailed(
        f"{task}: cannot tell the code host outside GitHub Actions and GitLab CI; "
        "set `platform: github` or `platform: gitlab`"
    )


def _repository(named: str | None, env: Mapping[str, str], env_var: str, task: str) -> str:
    repository = named or env.get(env_var)
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
    options: RequestOptions,
    *,
    task: str = "rollout",
) -> None:
    """Labels, reviewers and auto-merge, as the task's inputs ask."""
    if options.labels:
        provider.add_labels(request, options.labels)
    if options.reviewers:
        provider.request_reviewers(request, options.reviewers)
    if options.auto_merge:
        refused = provider.enable_auto_merge(request)
        if refused:
            log.warning("%s: auto-merge not enabled: %s", task, refused)
