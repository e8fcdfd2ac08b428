"""What the `baseline-from` and `baseline-count` inputs say, parsed (no I/O).

The CI job checks its inputs with these before anything runs; `sources` resolves a
parsed source into baselines.
"""

from __future__ import annotations

from dataclasses import dataclass

from iter8_action.baselines.model import DEFAULT_COUNT, MAX_COUNT
from iter8_action.core.errors import InputError

BASE_BRANCH = "base-branch"
ARTIFACT_PREFIX = "artifact:"
DEFAULT_ARTIFACT = "iter8-reports"
"""The artifact name of the documented upload step (GitHub)."""
FILE_BRANCH = "baseline"


@dataclass(frozen=True)
class Source:
    kind: str
    """base-branch, artifact or location"""
    value: str = ""


def parse_source(text: str) -> Source | None:
    """The `baseline-from` input; None when empty (no baseline wanted)."""
    text = text.strip()
    if not text:
        return None
    if text == BASE_BRANCH:
        return Source(BASE_BRANCH)
    if text.startswith(ARTIFACT_PREFIX):
        name = text[len(ARTIFACT_PREFIX) :].strip()
        if not name:
            raise InputError(
                "baseline-from: 'artifact:' names no artifact; use e.g. artifact:iter8-reports"
            )
        return Source("artifact", name)
    return Source("location", text)


def parse_count(text: str) -> int:
    value = text.strip() or str(DEFAULT_COUNT)
    if not value.isdigit() or not 1 <= int(value) <= MAX_COUNT:
        raise InputError(
            f"baseline-count: {text!r} is not valid; use a whole number from 1 to {MAX_COUNT} "
            f"(default {DEFAULT_COUNT})"
        )
    return int(value)
