"""Fixtures every test gets, those any test folder may turn on, and the `requires` marker.

The secret registry is process-wide, as in a real run (one experiment per process);
a test that runs the CLI or the CI job in this process registers secrets, and the
next test must not inherit them, or its logs and files are masked by values it never
saw.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from iter8_action.core.secrets import SECRETS
from tests.support import requires
from tests.support.environment import without_ci


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """`@pytest.mark.requires("tool", ...)`: skip, or fail under CI=true, before any fixture
    starts when a tool is missing (tests/support/requires.py)."""
    requires.check(item)


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    yield
    SECRETS.clear()


@pytest.fixture
def no_ci_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No run link, no default repository, no platform: the test sees no CI around it.

    A folder's conftest.py turns it on for the folder with an autouse fixture that
    requests it."""
    without_ci(monkeypatch)
