"""The baselines tests run as they would outside CI."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_ci(no_ci_environment: None) -> None:
    """Every test here gets `no_ci_environment` (tests/conftest.py)."""
