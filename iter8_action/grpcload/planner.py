"""From a `grpc` task's inputs to the streams it sends: descriptors, requests, TLS.

Each version (and each endpoint of each version) becomes one `GrpcStream`. The
service's types come from a .proto, a protoset or server reflection; a version whose
server does not answer reflection borrows the service as another version reflects it.
Every descriptor source and request is loaded once per run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import grpc
from google.protobuf import descriptor_pool

from iter8_action import durations
from iter8_action.errors import TaskFailed
from iter8_action.grpcload import descriptors, messages
from iter8_action.grpcload.descriptors import DescriptorError, Method
from iter8_action.grpcload.messages import MessageError
from iter8_action.grpcload.plan import GrpcStream, Tls
from iter8_action.loadgen import export
from iter8_action.secrets import SECRETS
from iter8_action.sizes import message_size

DEFAULT_TOTAL = 200
DEFAULT_CONCURRENCY = 50
DEFAULT_CONNECTIONS = 1
DEFAULT_TIMEOUT_S = 20.0
_SECRET_KEY_WORDS = ("authorization", "cookie", "token", "secret", "key", "password")
_VERSION_ONLY = ("name",)
_TYPE_SOURCES = ("proto", "protoURL", "protoset")
_NOT_MERGED = ("versions", "endpoints", "warmup")


@dataclass(frozen=True)
class Target:
    """One stream as the user described it: where its metrics go, and what it calls."""

    version: int
    prefix: str
    where: str
    percentiles: list[float]
    stream: GrpcStream

    @property
    def rate(self) -> float | None:
        return self.stream.rps


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
    def parse(cls, fields: Mapping[str, Any], where: str) -> LoadInputs:
        raw_rps = fields.get("rps")
        return cls(
            concurrency=int(fields.get("concurrency") or DEFAULT_CONCURRENCY),
            connections=int(fields.get("connections") or DEFAULT_CONNECTIONS),
            timeout_s=_duration(fields.get("timeout"), "timeout", where) or DEFAULT_TIMEOUT_S,
            skip_first=int(fields.get("skipFirst") or 0),
            connect_timeout_s=_duration(fields.get("connect-timeout"), "connect-timeout", where),
            max_duration_s=_duration(fields.get("max-duration"), "max-duration", where),
            keepalive_s=_duration(fields.get("keepalive"), "keepalive", where),
            count_errors=bool(fields.get("count-errors", True)),
            percentiles=tuple(float(p) for p in fields.get("percentiles") or []),
            rps=float(raw_rps) if raw_rps else None,
            total=int(fields.get("total") or DEFAULT_TOTAL),
            duration_s=_duration(fields.get("duration"), "duration", where),
        )


class Planner:
    """Builds the streams; loads each descriptor source and request once.

    Its collaborators are handed in by the task: `fetch(url, field, where)` answers a URL
    field (once per run), `path` resolves a file name from the experiment, `tempdir` is the
    run's scratch directory and `log` the task's log.
    """

    def __init__(
        self,
        inputs: Mapping[str, Any],
        *,
        fetch: Callable[[str, str, str], bytes],
        path: Callable[[str], Path],
        tempdir: Path,
        log: logging.Logger,
    ) -> None:
        self.inputs = inputs
        self._fetch_url = fetch
        self._path = path
        self._tempdir = tempdir
        self._log = log
        self.pools: dict[tuple[str, str], tuple[descriptor_pool.DescriptorPool, list[str]]] = {}
        self.reflections: list[descriptors.Reflection] = []
        self.reflection_hosts: list[tuple[str, Tls | None]] = []

    def targets(self, versions: list[tuple[str, dict[str, Any]]]) -> list[Target]:
        base = {k: v for k, v in self.inputs.items() if k not in _NOT_MERGED}
        endpoints: Mapping[str, Mapping[str, Any]] = self.inputs.get("endpoints") or {}
        plans: list[tuple[dict[str, Any], int, str, str]] = []
        for index, (name, fields) in enumerate(versions):
            merged_version = _merge(
                base, {k: v for k, v in fields.items() if k not in _VERSION_ONLY}
            )
            if not endpoints:
                where = f"version {name}" if self.inputs.get("versions") else "the task"
                plans.append((merged_version, index, "grpc", where))
                continue
            for endpoint_id, endpoint in sorted(endpoints.items()):
                if "host" in endpoint and len(versions) > 1:
                    raise TaskFailed(
                        f"endpoint {endpoint_id} sets host but there are {len(versions)} "
                        "versions; give each version its host and leave host out of endpoints"
                    )
                where = f"endpoint {endpoint_id}" + (
                    f" of version {name}" if len(versions) > 1 else ""
                )
                plans.append(
                    (_merge(merged_version, endpoint), index, f"grpc-{endpoint_id}", where)
                )
        for fields, _, _, where in plans:
            if not any(fields.get(f) for f in _TYPE_SOURCES) and fields.get("host"):
                self.reflection_hosts.append((str(fields["host"]), self._tls(fields, where)))
        try:
            count = len(plans)
            return [
                self._target(fields, index, prefix, where, phase=i / count)
                for i, (fields, index, prefix, where) in enumerate(plans)
            ]
        finally:
            for reflection in self.reflections:
                reflection.close()

    def _target(
        self, fields: Mapping[str, Any], version: int, prefix: str, where: str, *, phase: float
    ) -> Target:
        host = fields.get("host")
        if not host:
            raise TaskFailed(f"{where} has no host; set host: (host:port of the gRPC server)")
        call = fields.get("call")
        if not call:
            raise TaskFailed(f"{where} has no call; set call: (package.Service.Method)")
        tls = self._tls(fields, where)
        method = self._method(fields, str(host), tls, str(call), where)
        spec = LoadInputs.parse(fields, where)
        load = _load_model(spec, where)
        rps = spec.rps
        stream = GrpcStream(
            host=str(host),
            path=method.path,
            request=self._request(fields, method, where),
            metadata=_metadata(self._metadata(fields, where)),
            concurrency=spec.concurrency,
            connections=spec.connections,
            timeout_s=spec.timeout_s,
            skip_first=spec.skip_first,
            tls=tls,
            phase_s=phase / rps if rps else 0.0,
            connect_timeout_s=spec.connect_timeout_s,
            channel_options=_channel_options(fields, spec, where),
            max_duration_s=spec.max_duration_s,
            count_errors=spec.count_errors,
            **load,
        )
        percentiles = export.percentile_list(list(spec.percentiles))
        return Target(version, prefix, where, percentiles, stream)

    # -- descriptors ------------------------------------------------------------------

    def _method(
        self, fields: Mapping[str, Any], host: str, tls: Tls | None, call: str, where: str
    ) -> Method:
        source = next((f for f in _TYPE_SOURCES if fields.get(f)), None)
        try:
            if source is None:
                origin = f"the server at {host} (reflection)"
                timeout_s = _duration(fields.get("timeout"), "timeout", where) or DEFAULT_TIMEOUT_S
                pool, services = self._reflected(host, tls, where, timeout_s)
            else:
                key = (source, str(fields[source]))
                origin = _origin(*key)
                if key not in self.pools:
                    load = self._protoset if source == "protoset" else self._compiled
                    self.pools[key] = load(fields, key, where, origin)
                pool, services = self.pools[key]
            return descriptors.find_method(pool, services, call, origin)
        except DescriptorError as exc:
            raise TaskFailed(f"{where}: {exc}") from exc

    def _compiled(
        self, fields: Mapping[str, Any], key: tuple[str, str], where: str, origin: str
    ) -> tuple[descriptor_pool.DescriptorPool, list[str]]:
        if key[0] == "protoURL":
            # protoc needs a file: the fetched text goes to this run's scratch directory
            folder = self._tempdir / f"proto-{len(self.pools)}"
            folder.mkdir(parents=True, exist_ok=True)
            name = PurePosixPath(urlsplit(key[1]).path).name or "service.proto"
            path = folder / (name if name.endswith(".proto") else f"{name}.proto")
            path.write_bytes(self._fetch(key[1], "protoURL", where))
        else:
            path = self._path(key[1])
            if not path.is_file():
                raise TaskFailed(f"{where}: proto {key[1]!r} does not exist ({path})")
        imports = [self._path(str(p)) for p in fields.get("import-paths") or []]
        data = descriptors.compile_proto(path, imports)
        return descriptors.pool_from_set(data, origin), descriptors.set_services(data)

    def _protoset(
        self, fields: Mapping[str, Any], key: tuple[str, str], where: str, origin: str
    ) -> tuple[descriptor_pool.DescriptorPool, list[str]]:
        path = self._path(key[1])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TaskFailed(
                f"{where}: protoset {key[1]!r} cannot be read ({exc.strerror})"
            ) from exc
        return descriptors.pool_from_set(data, origin), descriptors.set_services(data)

    def _reflected(
        self, host: str, tls: Tls | None, where: str, timeout_s: float
    ) -> tuple[descriptor_pool.DescriptorPool, list[str]]:
        """The service as `host` reflects it; a version that is down borrows another's."""
        own = ("reflection", host)
        if own in self.pools:
            return self.pools[own]
        failure: DescriptorError | None = None
        candidates = [(host, tls)] + [h for h in self.reflection_hosts if h[0] != host]
        for candidate, candidate_tls in candidates:
            try:
                reflection = descriptors.reflect(
                    candidate,
                    _credentials(candidate_tls),
                    _options(candidate_tls),
                    timeout_s=timeout_s,
                )
            except DescriptorError as exc:
                failure = failure or exc
                continue
            self.reflections.append(reflection)
            if candidate != host:
                self._log.warning(
                    "%s: server reflection on %s failed; using the service as %s reflects it",
                    where,
                    host,
                    candidate,
                )
            self.pools[own] = (reflection.pool, reflection.services)
            return self.pools[own]
        assert failure is not None
        raise failure

    # -- request, TLS ------------------------------------------------------------------

    def _request(self, fields: Mapping[str, Any], method: Method, where: str) -> bytes:
        try:
            for field in ("binary-file", "binaryDataURL"):
                if fields.get(field):
                    origin = _origin(field, str(fields[field]))
                    content = self._content(fields, field, where)
                    return messages.check_binary(method.input_type, content, f"{where}: {origin}")
            for field in ("data-file", "dataURL"):
                if fields.get(field):
                    origin = f"{where}: {_origin(field, str(fields[field]))}"
                    data = _json_object(
                        self._content(fields, field, where), origin, "request message"
                    )
                    return messages.from_json(method.input_type, data, origin)
            return messages.from_json(method.input_type, fields.get("data") or {}, f"{where}: data")
        except MessageError as exc:
            raise TaskFailed(str(exc)) from exc

    def _metadata(self, fields: Mapping[str, Any], where: str) -> dict[str, Any]:
        """`metadata`, over the map that `metadataURL` holds (Iter8's field), over the map
        that `metadata-file` holds (ghz's)."""
        merged: dict[str, Any] = {}
        for field in ("metadata-file", "metadataURL"):
            if not fields.get(field):
                continue
            origin = f"{where}: {_origin(field, str(fields[field]))}"
            fetched = _json_object(self._content(fields, field, where), origin, "metadata")
            wrong = sorted(k for k, v in fetched.items() if not isinstance(v, str))
            if wrong:
                raise TaskFailed(
                    f"{origin}: the value of {wrong[0]!r} is not a string; "
                    "metadata maps names to strings"
                )
            merged.update(fetched)
        return {**merged, **(fields.get("metadata") or {})}

    def _content(self, fields: Mapping[str, Any], field: str, where: str) -> bytes:
        """The bytes a file field names, or that a URL field's URL answers."""
        value = str(fields[field])
        if field.endswith("URL"):
            return self._fetch(value, field, where)
        return self._read(value, field, where)

    def _fetch(self, url: str, field: str, where: str) -> bytes:
        return self._fetch_url(url, field, where)

    def _read(self, name: str, field: str, where: str) -> bytes:
        try:
            return self._path(name).read_bytes()
        except OSError as exc:
            raise TaskFailed(f"{where}: {field} {name!r} cannot be read ({exc.strerror})") from exc

    def _tls(self, fields: Mapping[str, Any], where: str) -> Tls | None:
        if fields.get("insecure", True):
            return None
        roots = None
        if fields.get("cacert"):
            roots = self._read(str(fields["cacert"]), "cacert", where)
            if b"-----BEGIN CERTIFICATE-----" not in roots:
                raise TaskFailed(
                    f"{where}: cacert {fields['cacert']!r} is not a PEM file of CA certificates"
                )
        cname = fields.get("cname")
        return Tls(roots, str(cname) if cname else None)


def _origin(field: str, value: str) -> str:
    """How an error names a field's file or URL: `data-file 'x.json'`, `dataURL https://...`."""
    return f"{field} {value}" if field.endswith("URL") else f"{field} {value!r}"


def _json_object(content: bytes, origin: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(content)
    except ValueError as exc:
        raise TaskFailed(f"{origin} is not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise TaskFailed(
            f"{origin} holds a JSON {type(data).__name__}; it must hold one JSON object, the {what}"
        )
    return data


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over`'s fields over `base`'s; metadata maps are merged key by key."""
    merged = {**base, **over}
    if "metadata" in base and "metadata" in over:
        merged["metadata"] = {**base["metadata"], **over["metadata"]}
    return merged


def _metadata(fields: Mapping[str, Any]) -> tuple[tuple[str, str | bytes], ...]:
    """Call metadata: gRPC keys are lowercase, and `-bin` keys carry bytes (gRPC spec)."""
    out: list[tuple[str, str | bytes]] = []
    for key, value in fields.items():
        name = str(key).lower()
        text = str(value)
        if any(word in name for word in _SECRET_KEY_WORDS):
            SECRETS.add(text)
        out.append((name, text.encode() if name.endswith("-bin") else text))
    return tuple(out)


def _credentials(tls: Tls | None) -> grpc.ChannelCredentials | None:
    if tls is None:
        return None
    return grpc.ssl_channel_credentials(root_certificates=tls.root_certificates)


def _options(tls: Tls | None) -> list[tuple[str, str]]:
    if tls is None or not tls.server_name:
        return []
    return [("grpc.ssl_target_name_override", tls.server_name)]


def _load_model(spec: LoadInputs, where: str) -> dict[str, Any]:
    """`rps`, `total`, `duration_s` of a stream, with ghz's defaults (duration wins over total)."""
    if spec.duration_s == 0:
        raise TaskFailed(f"{where} has duration 0: give it a duration like 10s, or total")
    if spec.duration_s is not None:
        return {"rps": spec.rps, "total": None, "duration_s": spec.duration_s}
    return {"rps": spec.rps, "total": spec.total, "duration_s": None}


def _channel_options(
    fields: Mapping[str, Any], spec: LoadInputs, where: str
) -> tuple[tuple[str, int], ...]:
    """gRPC channel arguments for ghz's `keepalive` and message size limits."""
    options: list[tuple[str, int]] = []
    keepalive_s = spec.keepalive_s
    if keepalive_s:
        options.append(("grpc.keepalive_time_ms", max(1, round(keepalive_s * 1000))))
    for field, argument in _SIZE_OPTIONS:
        if fields.get(field) is not None:
            try:
                options.append((argument, message_size(fields[field])))
            except ValueError as exc:
                raise TaskFailed(f"{where}: {field}: {exc}") from exc
    return tuple(options)


_SIZE_OPTIONS = (
    ("max-recv-message-size", "grpc.max_receive_message_length"),
    ("max-send-message-size", "grpc.max_send_message_length"),
)


def _duration(value: Any, field: str, where: str) -> float | None:
    if value is None:
        return None
    try:
        return durations.parse_duration(value)
    except durations.DurationError as exc:
        raise TaskFailed(f"{where}: {field}: {exc}") from exc
