"""From a `grpc` task's parsed streams (`load.grpc.inputs`) to what it sends: descriptors,
requests, TLS.

Each version (and each endpoint of each version) becomes one `GrpcStream`. The
service's types come from a .proto, a protoset or server reflection; a version whose
server does not answer reflection borrows the service as another version reflects it.
Every descriptor source and request is loaded once per run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import grpc
from google.protobuf import descriptor_pool

from iter8_action.core.errors import TaskFailed
from iter8_action.core.secrets import SECRETS
from iter8_action.load.grpc import descriptors, messages
from iter8_action.load.grpc.descriptors import DescriptorError, Method
from iter8_action.load.grpc.inputs import CallInputs, LoadInputs
from iter8_action.load.grpc.messages import MessageError
from iter8_action.load.grpc.plan import GrpcStream, Tls

_SECRET_KEY_WORDS = ("authorization", "cookie", "token", "secret", "key", "password")


class Planner:
    """Builds the streams; loads each descriptor source and request once.

    Its collaborators are handed in by the task: `fetch(url, field, where)` answers a URL
    field (once per run), `path` resolves a file name from the experiment, `tempdir` is the
    run's scratch directory and `log` the task's log.
    """

    def __init__(
        self,
        *,
        fetch: Callable[[str, str, str], bytes],
        path: Callable[[str], Path],
        tempdir: Path,
        log: logging.Logger,
    ) -> None:
        self._fetch_url = fetch
        self._path = path
        self._tempdir = tempdir
        self._log = log
        self.pools: dict[tuple[str, str], tuple[descriptor_pool.DescriptorPool, list[str]]] = {}
        self.reflections: list[descriptors.Reflection] = []
        self.reflection_hosts: list[tuple[str, Tls | None]] = []

    def streams(self, calls: Sequence[tuple[CallInputs, str]]) -> list[GrpcStream]:
        """One stream per call (its inputs, and how messages name it), in order; their
        open-loop calls interleave in time."""
        for call, where in calls:
            if call.type_source is None and call.host:
                self.reflection_hosts.append((call.host, self._tls(call, where)))
        try:
            count = len(calls)
            return [
                self._stream(call, where, phase=i / count) for i, (call, where) in enumerate(calls)
            ]
        finally:
            for reflection in self.reflections:
                reflection.close()

    def _stream(self, call: CallInputs, where: str, *, phase: float) -> GrpcStream:
        host, name = call.host, call.call
        assert host and name  # the grpc task's parse refuses a stream without them
        tls = self._tls(call, where)
        method = self._method(call, host, tls, name, where)
        spec = call.load
        load = _load_model(spec)
        rps = spec.rps
        return GrpcStream(
            host=host,
            path=method.path,
            request=self._request(call, method, where),
            metadata=_metadata(self._metadata(call, where)),
            concurrency=spec.concurrency,
            connections=spec.connections,
            timeout_s=spec.timeout_s,
            skip_first=spec.skip_first,
            tls=tls,
            phase_s=phase / rps if rps else 0.0,
            connect_timeout_s=spec.connect_timeout_s,
            channel_options=_channel_options(call),
            max_duration_s=spec.max_duration_s,
            count_errors=spec.count_errors,
            **load,
        )

    # -- descriptors ------------------------------------------------------------------

    def _method(
        self, call: CallInputs, host: str, tls: Tls | None, name: str, where: str
    ) -> Method:
        try:
            if call.type_source is None:
                origin = f"the server at {host} (reflection)"
                pool, services = self._reflected(host, tls, where, call.load.timeout_s)
            else:
                key = call.type_source
                origin = _origin(*key)
                if key not in self.pools:
                    load = self._protoset if key[0] == "protoset" else self._compiled
                    self.pools[key] = load(call, key, where, origin)
                pool, services = self.pools[key]
            return descriptors.find_method(pool, services, name, origin)
        except DescriptorError as exc:
            raise TaskFailed(f"{where}: {exc}") from exc

    def _compiled(
        self, call: CallInputs, key: tuple[str, str], where: str, origin: str
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
        imports = [self._path(p) for p in call.import_paths]
        data = descriptors.compile_proto(path, imports)
        return descriptors.pool_from_set(data, origin), descriptors.set_services(data)

    def _protoset(
        self, call: CallInputs, key: tuple[str, str], where: str, origin: str
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

    def _request(self, call: CallInputs, method: Method, where: str) -> bytes:
        try:
            if call.request_source is None:
                return messages.from_json(method.input_type, call.data, f"{where}: data")
            field, value = call.request_source
            content = self._content(field, value, where)
            if field in ("binary-file", "binaryDataURL"):
                origin = _origin(field, value)
                return messages.check_binary(method.input_type, content, f"{where}: {origin}")
            origin = f"{where}: {_origin(field, value)}"
            data = _json_object(content, origin, "request message")
            return messages.from_json(method.input_type, data, origin)
        except MessageError as exc:
            raise TaskFailed(str(exc)) from exc

    def _metadata(self, call: CallInputs, where: str) -> dict[str, Any]:
        """`metadata`, over the map that `metadataURL` holds (Iter8's field), over the map
        that `metadata-file` holds (ghz's)."""
        merged: dict[str, Any] = {}
        for field, value in call.metadata_sources:
            origin = f"{where}: {_origin(field, value)}"
            fetched = _json_object(self._content(field, value, where), origin, "metadata")
            wrong = sorted(k for k, v in fetched.items() if not isinstance(v, str))
            if wrong:
                raise TaskFailed(
                    f"{origin}: the value of {wrong[0]!r} is not a string; "
                    "metadata maps names to strings"
                )
            merged.update(fetched)
        return {**merged, **call.metadata}

    def _content(self, field: str, value: str, where: str) -> bytes:
        """The bytes a file field names, or that a URL field's URL answers."""
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

    def _tls(self, call: CallInputs, where: str) -> Tls | None:
        if call.insecure:
            return None
        roots = None
        if call.cacert:
            roots = self._read(call.cacert, "cacert", where)
            if b"-----BEGIN CERTIFICATE-----" not in roots:
                raise TaskFailed(
                    f"{where}: cacert {call.cacert!r} is not a PEM file of CA certificates"
                )
        return Tls(roots, call.cname)


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


def _load_model(spec: LoadInputs) -> dict[str, Any]:
    """`rps`, `total`, `duration_s` of a stream, with ghz's defaults (duration wins over total;
    the grpc task's parse refuses a duration of 0)."""
    if spec.duration_s is not None:
        return {"rps": spec.rps, "total": None, "duration_s": spec.duration_s}
    return {"rps": spec.rps, "total": spec.total, "duration_s": None}


def _channel_options(call: CallInputs) -> tuple[tuple[str, int], ...]:
    """gRPC channel arguments for ghz's `keepalive` and message size limits."""
    options: list[tuple[str, int]] = []
    keepalive_s = call.load.keepalive_s
    if keepalive_s:
        options.append(("grpc.keepalive_time_ms", max(1, round(keepalive_s * 1000))))
    return (*options, *call.channel_options)
