"""Numbers that JSON cannot carry: NaN and the infinities.

YAML spells them `.nan` and `.inf`, Python's `float()` accepts them, and
JSON Schema's `minimum`/`maximum` let NaN through (every comparison with NaN
is false). RFC 8259 (section 6) has no representation for them: `json.dumps`
writes the bare word `NaN`, which no JSON parser reads. So inputs are checked
for them at validation, and every JSON we write is written strictly.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

from iter8_action.core.errors import Iter8Error
from iter8_action.core.exitcodes import ExitCode
from iter8_action.documents.source import JSONPath, format_path


def non_finite(value: Any, path: JSONPath = ()) -> Iterator[tuple[JSONPath, float]]:
    """Every NaN or infinity in `value` (maps, lists, scalars), with its path."""
    if isinstance(value, float):
        if not math.isfinite(value):
            yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from non_finite(item, (*path, key if isinstance(key, str | int) else str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from non_finite(item, (*path, index))


def lone_surrogates(value: Any, path: JSONPath = ()) -> Iterator[tuple[JSONPath, str]]:
    """Every text (a value or a key) holding a lone surrogate, with its path and the first
    one as `\\udXXX`: YAML's `"\\ud800"` escape makes one, and no UTF-8 file, log or
    report can carry it."""
    if isinstance(value, str):
        first = next((c for c in value if "\ud800" <= c <= "\udfff"), None)
        if first is not None:
            yield path, f"\\u{ord(first):04x}"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            child = (*path, key if isinstance(key, str | int) else str(key))
            if isinstance(key, str):
                yield from lone_surrogates(key, child)
            yield from lone_surrogates(item, child)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from lone_surrogates(item, (*path, index))


def spelled(value: float) -> str:
    """How YAML writes the value, and what it is."""
    if math.isnan(value):
        return ".nan (not a number)"
    return ".inf (infinity)" if value > 0 else "-.inf (minus infinity)"


class NonFiniteOutput(Iter8Error):
    """A document about to be written as JSON holds NaN or an infinity (a bug of ours)."""

    exit_code = ExitCode.INTERNAL_ERROR


def dumps(document: Any, *, what: str, **options: Any) -> str:
    """`json.dumps` that refuses NaN and the infinities, naming where one is."""
    try:
        return json.dumps(document, allow_nan=False, **options)
    except ValueError as exc:
        found = next(non_finite(document), None)
        if found is None:
            raise
        raise NonFiniteOutput(
            f"{what}: {format_path(found[0])} is {spelled(found[1])}, which JSON cannot represent; "
            "nothing was written. This is a bug in iter8-py: please report it"
        ) from exc
