"""An autouse fixture for unit tests that must not see the CI they run in.

A test folder's conftest.py imports it, which turns it on for that folder only.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from iter8_action.secrets import SECRETS


@pytest.fixture(autouse=True)
def no_ci_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests run the same inside and outside CI: no run link, no default repository."""
    for name in (
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
    ):
        monkeypatch.delenv(name, raising=False)
    yield
    SECRETS.clear()
