"""Local GitHub and GitLab APIs for the platform tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.servers.github_api import FakeGitHub
from tests.support.servers.gitlab_api import FakeGitLab


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        yield server


@pytest.fixture
def fake_gitlab() -> Iterator[FakeGitLab]:
    with FakeGitLab() as server:
        yield server
