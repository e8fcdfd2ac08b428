"""Readers for the `parse` functions of tasks: a field of `with:` in its unit, or
`InputsInvalid` at that field.

The schema has checked each field's shape and format; these convert (a duration to
seconds, a size to bytes) and apply the default. They import nothing heavy, because
they run when an experiment is loaded (`iter8 validate` among others).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from iter8_action.core.durations import parse_duration
from iter8_action.core.errors import InputsInvalid

if TYPE_CHECKING:
    from iter8_action.net import httpclient


FieldPath = tuple[str | int, ...]


def duration_s(
    inputs: Mapping[str, Any], name: str, *, at: FieldPath | None = None
) -> float | None:
    """The duration `inputs[name]` in seconds, None when absent; `at` is where the field
    is written in `with:` when `inputs` merges several places (a load task's layers)."""
    return InputsInvalid.converting(inputs, name, parse_duration, at=at)


def size_bytes(inputs: Mapping[str, Any], name: str) -> int | None:
    """The size `inputs[name]` in bytes (`10MiB`), None when absent."""
    if inputs.get(name) is None:
        return None
    from iter8_action.net.httpclient import parse_size  # only when a size is written

    return InputsInvalid.converting(inputs, name, parse_size)


def strings(value: Any) -> dict[str, str]:
    """A map of names to strings (headers, variables), as text."""
    return {str(k): str(v) for k, v in (value or {}).items()}


def text_or_none(value: Any) -> str | None:
    """A string field; None when absent or empty."""
    return str(value) if value else None


@dataclass(frozen=True)
class HttpLimits:
    """How long an HTTP exchange may take in all, and how large its answer may be, as a
    task's `with:` sets them (`timeout`, `maxBodySize`, or the fields named)."""

    timeout_s: float
    max_body_bytes: int | None
    """None: `httpclient`'s default cap."""
    timeout_field: str = "timeout"
    size_field: str = "maxBodySize"

    @classmethod
    def parse(
        cls,
        inputs: Mapping[str, Any],
        *,
        default_timeout_s: float,
        default_max_body_bytes: int | None = None,
        timeout_field: str = "timeout",
        size_field: str = "maxBodySize",
    ) -> HttpLimits:
        timeout_s = duration_s(inputs, timeout_field)
        size = size_bytes(inputs, size_field)
        return cls(
            timeout_s=default_timeout_s if timeout_s is None else timeout_s,
            max_body_bytes=default_max_body_bytes if size is None else size,
            timeout_field=timeout_field,
            size_field=size_field,
        )

    def limits(self) -> httpclient.Limits:
        from iter8_action.net import httpclient

        size = (
            httpclient.DEFAULT_MAX_BODY_BYTES
            if self.max_body_bytes is None
            else self.max_body_bytes
        )
        return httpclient.Limits(
            self.timeout_s, size, timeout_field=self.timeout_field, size_field=self.size_field
        )
