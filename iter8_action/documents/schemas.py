"""The JSON Schemas in `schemas/`, found wherever the package runs from.

Installed, they ship inside the package (`iter8_action/schemas/`, see
pyproject's force-include); from a checkout they are read from the top-level
`schemas/` folder, so editing a schema needs no reinstall.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def schema_dir() -> Path:
    for candidate in (_PACKAGE_DIR / "schemas", _PACKAGE_DIR.parent / "schemas"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no schemas folder next to {_PACKAGE_DIR}; reinstall iter8-py")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A schema by file name, e.g. `experiment.schema.json`."""
    with (schema_dir() / name).open(encoding="utf-8") as f:
        schema: dict[str, Any] = json.load(f)
    return schema
