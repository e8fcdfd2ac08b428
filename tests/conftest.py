"""Fixtures every test gets.

The secret registry is process-wide, as in a real run (one experiment per process);
a test that runs the CLI or the CI job in this process registers secrets, and the
next test must not inherit them, or its logs and files are masked by values it never
saw.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from iter8_action.secrets import SECRETS


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    yield
    SECRETS.clear()
