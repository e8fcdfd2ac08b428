"""The request message, built once and serialized once.

`data` is the message in protobuf's JSON mapping (field names as in the .proto
or in lowerCamelCase, as ghz accepts them); `binary-file` holds the serialized
message itself. ghz's per-call templates (`{{.RequestNumber}}`) are not
supported: every call sends the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import DecodeError

from iter8_action.core.errors import InvalidValue


class MessageError(InvalidValue):
    """The data does not fit the request message."""


def from_json(descriptor: Descriptor, data: Mapping[str, Any], origin: str) -> bytes:
    """`data` as a serialized `descriptor` message; the error names the field that does not fit."""
    message = message_factory.GetMessageClass(descriptor)()
    try:
        json_format.ParseDict(dict(data), message)
    except json_format.ParseError as exc:
        detail = " ".join(str(exc).split())
        raise MessageError(f"{origin} does not fit {descriptor.full_name}: {detail}") from exc
    return bytes(message.SerializeToString())


def check_binary(descriptor: Descriptor, data: bytes, origin: str) -> bytes:
    """`data` itself, once it parses as a `descriptor` message."""
    message = message_factory.GetMessageClass(descriptor)()
    try:
        message.ParseFromString(data)
    except DecodeError as exc:
        raise MessageError(f"{origin} is not a serialized {descriptor.full_name} message") from exc
    return data
