"""The CI a test runs in, taken away: tests run the same inside and outside CI."""

from __future__ import annotations

import pytest

CI_VARIABLES = (
    "GITHUB_SERVER_URL",
    "GITHUB_REPOSITORY",
    "GITHUB_RUN_ID",
    "GITHUB_ACTIONS",
    "GITHUB_API_URL",
    "CI_JOB_URL",
    "CI_PIPELINE_URL",
    "GITLAB_CI",
    "CI_API_V4_URL",
    "CI_PROJECT_PATH",
)
"""What GitHub Actions and GitLab CI set that changes a run: a run link, a default
repository, the platform detected."""


def without_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset `CI_VARIABLES` for the test (monkeypatch restores them after it)."""
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
