"""Where the repository and the tests' data files are.

The one module under `tests/` that works out a location from its own file: every
other test, conftest.py and bench script takes its paths from here, so that moving a
test to another folder cannot silently change what it reads
(tests/harness/test_paths.py checks it).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository's root (it holds `action.yml`, `entrypoint.py` and `iter8_action/`)."""
DOCS = ROOT / "docs"
"""The documentation site's pages."""
SCHEMAS = ROOT / "schemas"
"""The JSON schemas of the experiment, the result, the report and the provider templates."""
EXAMPLES = ROOT / "tests" / "examples"
"""Experiments: `valid/` ones, and `invalid/` ones with the messages they must produce."""
TEST_DATA = ROOT / "tests" / "fixtures"
"""The tests' data files: result documents, the gRPC target's proto."""
RESULTS = TEST_DATA / "results"
"""Result documents of every shape the report reads (`tests/fixtures/results/*.yaml`)."""
ITER8_RESULTS = TEST_DATA / "iter8"
"""Result documents in the forms Iter8 (Go) wrote them (`tests/fixtures/iter8/*.yaml`)."""
GOLDEN = ROOT / "tests" / "golden" / "report"
"""The expected reports of `RESULTS`, one folder per format."""
FIXTURES = sorted(p.stem for p in RESULTS.glob("*.yaml"))
"""The names of the result documents in `RESULTS`."""
