"""Sizes in bytes as ghz and Go write them (`4194304`, `4MB`, `4MiB`)."""

from __future__ import annotations

import re

MAX_MESSAGE_BYTES = 2**31 - 1
"""gRPC's message size limits are 32-bit signed integers."""
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(i?)b?|b)?\s*", re.IGNORECASE)
_POWERS = {"k": 1, "m": 2, "g": 3, "t": 4}


def message_size(value: str | int) -> int:
    """Bytes in `10485760`, `"10MB"` (10^7) or `"10MiB"` (10 x 2^20), as ghz's
    `max-recv-message-size` reads them (go-humanize's ParseBytes); ValueError if
    it is not a size from 1 byte to `MAX_MESSAGE_BYTES`."""
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.fullmatch(value)
        if match is None:
            raise ValueError(f"{value!r} is not a size; write it like 4194304, 4MB or 4MiB")
        number, unit, binary = match.groups()
        base = 1024 if binary else 1000
        size = int(float(number) * base ** _POWERS[unit.lower()]) if unit else int(float(number))
    if not 1 <= size <= MAX_MESSAGE_BYTES:
        raise ValueError(f"{value!r} is not a size from 1 byte to {MAX_MESSAGE_BYTES} bytes")
    return size
