"""The report tests run once per result document of `tests/fixtures/results/`."""

from __future__ import annotations

import pytest

from tests.support.paths import FIXTURES


@pytest.fixture(params=FIXTURES)
def fixture_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)
