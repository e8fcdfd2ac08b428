"""The `grpc` task: load one or many versions of a gRPC service and record built-in metrics.

Inputs are ghz's fields as Iter8 passed them (already validated and translated
from older forms). Every version, and every endpoint of every version, is one
stream of unary calls; all streams run at once, interleaved in time, like the
http task's. `total`, `rps`, `concurrency` and `connections` apply to each stream.
Metrics are named `grpc/...` (`grpc-<endpoint>/...` for endpoints), with Iter8's
gRPC spelling of latency statistics: `grpc/latency/p95`, `grpc/latency/mean`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import grpc
from google.protobuf import descriptor_pool

from iter8_action import durations
from iter8_action.errors import TaskFailed
from iter8_action.grpcload import descriptors, messages
from iter8_action.grpcload.descriptors import DescriptorError, Method
from iter8_action.grpcload.messages import MessageError
from iter8_action.grpcload.plan import GrpcStream, Tls, message_size
from iter8_action.grpcload.runner import NAMING, StreamOutcome, run_streams
from iter8_action.loadgen import export
from iter8_action.loadgen.plan import CommonStart
from iter8_action.secrets import SECRETS, load_secrets
from iter8_action.tasks import _load
from iter8_action.tasks.base import TaskContext, TaskType

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


def run(inputs: Mapping[str, Any], ctx: TaskContext) -> None:
    versions = _load.versions(inputs)
    targets = _Planner(inputs, ctx).targets(versions)
    start = None
    if ctx.shard is not None:  # this machine sends its share (`iter8 run --shard`)
        targets = [replace(t, stream=ctx.shard.grpc(t.stream)) for t in targets]
        start = ctx.shard.start()
    warmup = bool(inputs.get("warmup", False))
    if inputs.get("name"):
        ctx.log.info("load test %r", str(inputs["name"]))
    _load.announce(ctx, versions, [_describe(t.stream) for t in targets], warmup=warmup)
    outcomes = _run(targets, ctx, start)
    ctx.check_stop()
    for target, outcome in zip(targets, outcomes, strict=True):
        _log_outcome(ctx, target, outcome, versions[target.version][0], warmup=warmup)
    if warmup:
        ctx.log.info("warmup done: its results are discarded")
        return
    stats = [o.stats for o in outcomes]
    _load.record(ctx, versions, targets, stats, naming=NAMING, start=start)


def secrets(inputs: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[str]:
    return load_secrets(
        inputs,
        url_fields=("protoURL", "dataURL", "binaryDataURL", "metadataURL"),
        header_fields=("metadata",),
    )


TASK = TaskType(
    name="grpc", summary="gRPC load generation with built-in metrics", run=run, secrets=secrets
)


# -- from inputs to streams -----------------------------------------------------------


class _Planner:
    """Builds the streams; loads each descriptor source and request once."""

    def __init__(self, inputs: Mapping[str, Any], ctx: TaskContext) -> None:
        self.inputs = inputs
        self.ctx = ctx
        self.pools: dict[tuple[str, str], tuple[descriptor_pool.DescriptorPool, list[str]]] = {}
        self.reflections: list[descriptors.Reflection] = []
        self.reflection_hosts: list[tuple[str, Tls | None]] = []
        self.fetched: dict[str, bytes] = {}

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
        load = _load_model(fields, where)
        rps = load["rps"]
        stream = GrpcStream(
            host=str(host),
            path=method.path,
            request=self._request(fields, method, where),
            metadata=_metadata(self._metadata(fields, where)),
            concurrency=int(fields.get("concurrency") or DEFAULT_CONCURRENCY),
            connections=int(fields.get("connections") or DEFAULT_CONNECTIONS),
            timeout_s=_duration(fields.get("timeout"), "timeout", where) or DEFAULT_TIMEOUT_S,
            skip_first=int(fields.get("skipFirst") or 0),
            tls=tls,
            phase_s=phase / rps if rps else 0.0,
            connect_timeout_s=_duration(fields.get("connect-timeout"), "connect-timeout", where),
            channel_options=_channel_options(fields, where),
            max_duration_s=_duration(fields.get("max-duration"), "max-duration", where),
            count_errors=bool(fields.get("count-errors", True)),
            **load,
        )
        percentiles = export.percentile_list(fields.get("percentiles") or [])
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
            raise TaskFailed(f"{where}: {exc}") from None

    def _compiled(
        self, fields: Mapping[str, Any], key: tuple[str, str], where: str, origin: str
    ) -> tuple[descriptor_pool.DescriptorPool, list[str]]:
        if key[0] == "protoURL":
            # protoc needs a file: the fetched text goes to this run's scratch directory
            folder = self.ctx.tempdir / f"proto-{len(self.pools)}"
            folder.mkdir(parents=True, exist_ok=True)
            name = PurePosixPath(urlsplit(key[1]).path).name or "service.proto"
            path = folder / (name if name.endswith(".proto") else f"{name}.proto")
            path.write_bytes(self._fetch(key[1], "protoURL", where))
        else:
            path = self.ctx.path(key[1])
            if not path.is_file():
                raise TaskFailed(f"{where}: proto {key[1]!r} does not exist ({path})")
        imports = [self.ctx.path(str(p)) for p in fields.get("import-paths") or []]
        data = descriptors.compile_proto(path, imports)
        return descriptors.pool_from_set(data, origin), descriptors.set_services(data)

    def _protoset(
        self, fields: Mapping[str, Any], key: tuple[str, str], where: str, origin: str
    ) -> tuple[descriptor_pool.DescriptorPool, list[str]]:
        path = self.ctx.path(key[1])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TaskFailed(
                f"{where}: protoset {key[1]!r} cannot be read ({exc.strerror})"
            ) from None
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
                self.ctx.log.warning(
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
            raise TaskFailed(str(exc)) from None

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
        return _load.fetch(
            self.ctx, self.fetched, url, field=field, where=where, content="the content"
        )

    def _read(self, name: str, field: str, where: str) -> bytes:
        try:
            return self.ctx.path(name).read_bytes()
        except OSError as exc:
            raise TaskFailed(f"{where}: {field} {name!r} cannot be read ({exc.strerror})") from None

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
        raise TaskFailed(f"{origin} is not JSON ({exc})") from None
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


def _load_model(fields: Mapping[str, Any], where: str) -> dict[str, Any]:
    """`rps`, `total`, `duration_s` of a stream, with ghz's defaults (duration wins over total)."""
    raw_rps = fields.get("rps")
    rps = float(raw_rps) if raw_rps else None
    duration_s = _duration(fields.get("duration"), "duration", where)
    if duration_s == 0:
        raise TaskFailed(f"{where} has duration 0: give it a duration like 10s, or total")
    if duration_s is not None:
        return {"rps": rps, "total": None, "duration_s": duration_s}
    return {"rps": rps, "total": int(fields.get("total") or DEFAULT_TOTAL), "duration_s": None}


def _channel_options(fields: Mapping[str, Any], where: str) -> tuple[tuple[str, int], ...]:
    """gRPC channel arguments for ghz's `keepalive` and message size limits."""
    options: list[tuple[str, int]] = []
    keepalive_s = _duration(fields.get("keepalive"), "keepalive", where)
    if keepalive_s:
        options.append(("grpc.keepalive_time_ms", max(1, round(keepalive_s * 1000))))
    for field, argument in _SIZE_OPTIONS:
        if fields.get(field) is not None:
            try:
                options.append((argument, message_size(fields[field])))
            except ValueError as exc:
                raise TaskFailed(f"{where}: {field}: {exc}") from None
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
        raise TaskFailed(f"{where}: {field}: {exc}") from None


# -- running and reporting ----------------------------------------------------------------


def _run(targets: list[Target], ctx: TaskContext, start: CommonStart | None) -> list[StreamOutcome]:
    with _load.progress_line(ctx, "calls") as show:
        streams = [t.stream for t in targets]
        return run_streams(streams, stop=ctx.stop, on_progress=show, start=start)


def _describe(stream: GrpcStream) -> str:
    model = "closed loop" if stream.rps is None else f"{stream.rps:g} rps"
    amount = (
        f"{stream.total} calls"
        if stream.total is not None
        else durations.format_duration(stream.duration_s or 0)
    )
    if stream.max_duration_s is not None:
        amount += f" (at most {durations.format_duration(stream.max_duration_s)})"
    return (
        f"{amount}, {model}, concurrency {stream.concurrency}, "
        f"{stream.connections} connection{'s' if stream.connections > 1 else ''}"
    )


def _log_outcome(
    ctx: TaskContext, target: Target, outcome: StreamOutcome, name: str, *, warmup: bool
) -> None:
    stats = outcome.stats
    stream = target.stream
    label = f"{target.prefix} {name} ({stream.host}{stream.path})"
    ctx.log.info(
        "%s: %d calls, %d errors%s, %.1f rps",
        label,
        stats.requests,
        stats.errors,
        _load.latency_text(stats),
        stats.achieved_qps() or 0.0,
    )
    _load.warn_if_client_limited(ctx, label, stats, target.rate, NAMING)
    if outcome.skipped:
        ctx.log.info("%s: the first %d answers were left out (skipFirst)", label, outcome.skipped)
    if stats.requests and stats.errors == stats.requests and not warmup:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(stats.error_kinds.items()))
        top = max(stats.error_kinds.items(), key=lambda kv: kv[1])[0]
        detail = outcome.details.get(top, "")
        ctx.log.warning(
            "%s: every call failed (%s)%s%s",
            label,
            kinds,
            f": {top}: {detail}" if detail else "",
            _HINTS.get(top, ""),
        )


_HINTS = {
    "UNAVAILABLE": "; is the server running and listening on that host and port "
    "(and does insecure match whether it serves TLS)?",
    "DEADLINE_EXCEEDED": "; the server did not answer in time: raise timeout or check the server",
    "UNIMPLEMENTED": "; the server does not serve this method: check call and host",
    "UNAUTHENTICATED": "; check the credentials in metadata",
    "PERMISSION_DENIED": "; check the credentials in metadata",
    "INVALID_ARGUMENT": "; the server rejects the request: check data",
}
