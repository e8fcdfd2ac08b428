"""A `grpc` task's streams as its `with:` describes them, parsed when the experiment is
loaded (this module imports neither grpc nor protobuf).

Each stream's fields are the task's, under its version's, under its endpoint's (ghz's
names, and Iter8's `protoURL`, `dataURL`, `binaryDataURL`, `metadataURL`); metadata
maps merge key by key. What needs the server or the files (descriptors, the request,
TLS roots) is the planner's, when the task runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from iter8_action.core.durations import parse_duration
from iter8_action.core.errors import InputsInvalid
from iter8_action.core.sizes import message_size

DEFAULT_TOTAL = 200
DEFAULT_CONCURRENCY = 50
DEFAULT_CONNECTIONS = 1
DEFAULT_TIMEOUT_S = 20.0
DEFAULT_INSECURE = True
"""ghz's `insecure` as Iter8 set it: plaintext unless the task asks for TLS."""
TYPE_SOURCES = ("proto", "protoURL", "protoset")
"""Where the service's types come from, in this order of preference (else reflection)."""
BINARY_SOURCES = ("binary-file", "binaryDataURL")
DATA_SOURCES = ("data-file", "dataURL")
METADATA_SOURCES = ("metadata-file", "metadataURL")
SIZE_OPTIONS = (
    ("max-recv-message-size", "grpc.max_receive_message_length"),
    ("max-send-message-size", "grpc.max_send_message_length"),
)
"""ghz's message size fields and the gRPC channel arguments they set."""

FieldPath = tuple[str | int, ...]
Locate = Callable[[str], FieldPath]


@dataclass(frozen=True)
class LoadInputs:
    """How hard one stream loads the server: its ghz fields, parsed once with ghz's
    defaults (the schema has checked their shape and their durations)."""

    concurrency: int
    connections: int
    timeout_s: float
    skip_first: int
    connect_timeout_s: float | None
    max_duration_s: float | None
    keepalive_s: float | None
    count_errors: bool
    percentiles: tuple[float, ...]
    rps: float | None
    """None: as fast as the call slots allow."""
    total: int
    duration_s: float | None
    """When set, it wins over `total`."""

    @classmethod
    def parse(cls, fields: Mapping[str, Any], locate: Locate | None = None) -> LoadInputs:
        at = locate or _here
        raw_rps = fields.get("rps")

        def duration(name: str) -> float | None:
            return _duration(fields, name, at)

        return cls(
            concurrency=int(fields.get("concurrency") or DEFAULT_CONCURRENCY),
            connections=int(fields.get("connections") or DEFAULT_CONNECTIONS),
            timeout_s=duration("timeout") or DEFAULT_TIMEOUT_S,
            skip_first=int(fields.get("skipFirst") or 0),
            connect_timeout_s=duration("connect-timeout"),
            max_duration_s=duration("max-duration"),
            keepalive_s=duration("keepalive"),
            count_errors=bool(fields.get("count-errors", True)),
            percentiles=tuple(float(p) for p in fields.get("percentiles") or []),
            rps=float(raw_rps) if raw_rps else None,
            total=int(fields.get("total") or DEFAULT_TOTAL),
            duration_s=duration("duration"),
        )


@dataclass(frozen=True)
class CallInputs:
    """One stream's call: the server, the method, where its types, request and metadata
    come from, TLS, channel options, and its load."""

    host: str | None
    call: str | None
    type_source: tuple[str, str] | None
    """The field of `TYPE_SOURCES` that is set, and its value; None: server reflection."""
    import_paths: tuple[str, ...]
    request_source: tuple[str, str] | None
    """The binary or JSON request's file or URL field, and its value; None: `data`."""
    data: Mapping[str, Any]
    metadata_sources: tuple[tuple[str, str], ...]
    """`metadata-file` and `metadataURL`, those set, in that order (later ones win)."""
    metadata: Mapping[str, Any]
    insecure: bool
    cacert: str | None
    cname: str | None
    channel_options: tuple[tuple[str, int], ...]
    """gRPC channel arguments for ghz's message size limits."""
    load: LoadInputs

    @classmethod
    def parse(cls, fields: Mapping[str, Any], locate: Locate | None = None) -> CallInputs:
        at = locate or _here
        cname = fields.get("cname")
        return cls(
            host=_text(fields.get("host")),
            call=_text(fields.get("call")),
            type_source=_first(fields, TYPE_SOURCES),
            import_paths=tuple(str(p) for p in fields.get("import-paths") or []),
            request_source=_first(fields, BINARY_SOURCES + DATA_SOURCES),
            data=dict(fields.get("data") or {}),
            metadata_sources=tuple(
                (name, str(fields[name])) for name in METADATA_SOURCES if fields.get(name)
            ),
            metadata=dict(fields.get("metadata") or {}),
            insecure=bool(fields.get("insecure", DEFAULT_INSECURE)),
            cacert=_text(fields.get("cacert")),
            cname=str(cname) if cname else None,
            channel_options=_sizes(fields, at),
            load=LoadInputs.parse(fields, at),
        )


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over`'s fields over `base`'s; metadata maps are merged key by key."""
    merged = {**base, **over}
    if "metadata" in base and "metadata" in over:
        merged["metadata"] = {**base["metadata"], **over["metadata"]}
    return merged


def _here(name: str) -> FieldPath:
    return (name,)


def _text(value: Any) -> str | None:
    return str(value) if value else None


def _first(fields: Mapping[str, Any], names: tuple[str, ...]) -> tuple[str, str] | None:
    return next(((name, str(fields[name])) for name in names if fields.get(name)), None)


def _duration(fields: Mapping[str, Any], name: str, at: Locate) -> float | None:
    return InputsInvalid.converting(fields, name, parse_duration, at=at(name))


def _sizes(fields: Mapping[str, Any], at: Locate) -> tuple[tuple[str, int], ...]:
    sizes = (
        (arg, InputsInvalid.converting(fields, name, message_size, at=at(name)))
        for name, arg in SIZE_OPTIONS
    )
    return tuple((arg, size) for arg, size in sizes if size is not None)
