"""CI platforms behind one small interface.

The pipeline talks to a `Platform` only: report an error, a warning or a
notice (annotations on GitHub), mask a secret, set an output, write a summary,
group log lines, and keep one sticky comment per experiment on the pull or
merge request. Which platform runs is decided once, by `detect()`, from the
environment the CI runner builds; nothing else asks "am I on GitHub?".
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from iter8_action.platforms.base import (
    Annotation,
    AnnotationLevel,
    CommentFailed,
    CommentOutcome,
    Platform,
)


class CIHost(StrEnum):
    """The CI system (and code host) a job runs on."""

    GITHUB = "github"
    GITLAB = "gitlab"


def ci_host(environ: Mapping[str, str]) -> CIHost | None:
    """GitHub Actions, GitLab CI or neither, from the variables the runner sets.

    The one place that decides: the platform (annotations, outputs, comments)
    and the rollout task's default code host both ask here.
    """
    # Both runners document these as always "true" inside a job:
    # https://docs.github.com/actions/reference/variables-reference
    # https://docs.gitlab.com/ci/variables/predefined_variables/
    if environ.get("GITHUB_ACTIONS") == "true":
        return CIHost.GITHUB
    # gitlab-ci-local sets GITLAB_CI=false so that scripts can tell a local
    # run; the job still expects GitLab's behaviour (a dotenv report for the
    # jobs that follow, the project's API), so any value counts.
    if "GITLAB_CI" in environ:
        return CIHost.GITLAB
    return None


def detect(environ: Mapping[str, str]) -> Platform:
    """The platform this process runs on, from the variables its runner sets."""
    host = ci_host(environ)
    if host is CIHost.GITHUB:
        from iter8_action.platforms.github import GitHubPlatform

        return GitHubPlatform(environ)
    if host is CIHost.GITLAB:
        from iter8_action.platforms.gitlab import GitLabPlatform

        return GitLabPlatform(environ)
    from iter8_action.platforms.terminal import TerminalPlatform

    return TerminalPlatform()


__all__ = [
    "Annotation",
    "AnnotationLevel",
    "CIHost",
    "CommentFailed",
    "CommentOutcome",
    "Platform",
    "ci_host",
    "detect",
]
