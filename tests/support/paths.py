"""Where the repository and the tests' data files are."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository's root (it holds `action.yml`, `entrypoint.py` and `iter8_action/`)."""
TEST_DATA = ROOT / "tests" / "fixtures"
RESULTS = TEST_DATA / "results"
"""Result documents of every shape the report reads (`tests/fixtures/results/*.yaml`)."""
GOLDEN = ROOT / "tests" / "golden" / "report"
"""The expected reports of `RESULTS`, one folder per format."""
FIXTURES = sorted(p.stem for p in RESULTS.glob("*.yaml"))
"""The names of the result documents in `RESULTS`."""
