"""Lenient readers of a loaded document's fields (a result file, its insights).

The document has passed its schema already; these take what is there as it is
written (a missing field is None) and leave a field of the wrong shape to raise
TypeError or ValueError, which the caller turns into its own error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def mapping(value: Any) -> Mapping[str, Any]:
    """`value` when it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def float_or_none(value: Any) -> float | None:
    """A finite number, or None (for null, a boolean, NaN and the infinities)."""
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    return int(value)


def str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
