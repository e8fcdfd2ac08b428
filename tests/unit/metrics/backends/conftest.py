from __future__ import annotations

from collections.abc import Iterator

import pytest

from iter8_action.core.secrets import SECRETS


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    """Each test starts and ends with no registered secret."""
    SECRETS.clear()
    yield
    SECRETS.clear()
