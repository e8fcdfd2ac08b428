"""The `http` task: load one or many versions of an app and record Iter8's built-in metrics.

Inputs are Iter8's `http` fields (already validated and translated from older
forms). Every version, and every endpoint of every version, is one stream of
requests; all streams run at once, interleaved in time, so that drift on the
machine or the network hits every version alike. `numRequests`, `qps` and
`connections` apply to each stream.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import unquote, urlsplit

from iter8_action.core import durations
from iter8_action.core.errors import InputsInvalid, TaskFailed
from iter8_action.core.secrets import SECRETS, load_secrets
from iter8_action.tasks import _load
from iter8_action.tasks._fields import FieldPath, duration_s, text_or_none
from iter8_action.tasks.base import TaskContext, TaskType

if TYPE_CHECKING:
    from collections.abc import Callable

    from iter8_action.load.http.plan import CommonStart, Stream, TlsOptions
    from iter8_action.load.http.runner import StreamResult


DEFAULT_NUM_REQUESTS = 100
DEFAULT_QPS = 8.0
DEFAULT_CONNECTIONS = 4
DEFAULT_MAX_CONNECTIONS = 256
"""The open-loop pool's default cap: enough for 1000 qps at 250 ms per request, with
room for several streams within a CI runner's open-file limit."""
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_CONTENT_TYPE = "application/octet-stream"
DEFAULT_ERROR_RANGES = ((400, None),)
"""Statuses that count as errors without `errorRanges`: 400 and above."""
_SECRET_HEADER_WORDS = ("authorization", "cookie", "token", "secret", "key", "password")

Target: TypeAlias = "_load.Target[Stream]"


@dataclass(frozen=True)
class StreamInputs:
    """One stream's fields (the task's, under its version's, under its endpoint's), parsed
    once with Iter8's defaults; the schema has checked their shape and their durations."""

    url: str | None
    """As written (the innermost layer's); in `HttpInputs`, the stream's checked URL (an
    endpoint's path on its version's URL)."""
    headers: Mapping[str, str]
    method: str | None
    """None: POST when there is a payload, else GET."""
    content_type: str | None
    connections: int
    max_connections: int | None
    timeout_s: float
    qps: float | None
    """None: as fast as the connections allow (`qps: max` or 0)."""
    num_requests: int | None
    duration_s: float | None
    error_ranges: tuple[tuple[int | None, int | None], ...]
    allow_initial_errors: bool
    percentiles: tuple[float, ...]
    payload_str: str | None
    payload_file: str | None
    payload_url: str | None
    ca_file: str | None
    insecure_skip_verify: bool

    @classmethod
    def parse(
        cls, fields: Mapping[str, Any], locate: Callable[[str], FieldPath] | None = None
    ) -> StreamInputs:
        """`fields` as one stream's inputs; `locate` says where a field is written in
        `with:` (for a field the parser refuses), the field's own name by default."""
        at = locate or (lambda name: (name,))
        raw_qps = fields.get("qps", DEFAULT_QPS)
        num_requests = fields.get("numRequests")
        max_connections = fields.get("maxConnections")
        payload_str = fields.get("payloadStr")
        timeout_s = duration_s(fields, "timeout", at=at("timeout"))
        return cls(
            url=text_or_none(fields.get("url")),
            headers={str(k): str(v) for k, v in (fields.get("headers") or {}).items()},
            method=text_or_none(fields.get("method")),
            content_type=text_or_none(fields.get("contentType")),
            connections=int(fields.get("connections") or DEFAULT_CONNECTIONS),
            max_connections=None if max_connections is None else int(max_connections),
            timeout_s=timeout_s or DEFAULT_TIMEOUT_S,
            qps=None if raw_qps in ("max", 0, 0.0) else float(raw_qps),
            num_requests=None if num_requests is None else int(num_requests),
            duration_s=duration_s(fields, "duration", at=at("duration")),
            error_ranges=_error_ranges(fields.get("errorRanges")),
            allow_initial_errors=bool(fields.get("allowInitialErrors", False)),
            percentiles=tuple(float(p) for p in fields.get("percentiles") or []),
            payload_str=None if payload_str is None else str(payload_str),
            payload_file=text_or_none(fields.get("payloadFile")),
            payload_url=text_or_none(fields.get("payloadURL")),
            ca_file=text_or_none(fields.get("caFile")),
            insecure_skip_verify=bool(fields.get("insecureSkipVerify", False)),
        )


@dataclass(frozen=True)
class HttpInputs:
    """`http`'s `with:`, parsed at load into one plan per stream, each with its URL checked
    (an endpoint's path taken on its version's URL); the payloads are read, and the CA
    file checked, when the task runs."""

    load: _load.LoadOptions
    streams: tuple[_load.StreamPlan[StreamInputs], ...]

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> HttpInputs:
        load = _load.LoadOptions.parse(inputs)
        num_versions = len(load.version_names)

        def stream(layer: _load.Layers) -> StreamInputs:
            merged = {**layer.task_fields, **layer.version_fields, **layer.endpoint_fields}
            spec = StreamInputs.parse(merged, layer.locate)
            _refuse_a_load_that_cannot_run(spec, layer)
            return replace(spec, url=_stream_url(layer, num_versions))

        return cls(load=load, streams=_load.plans(inputs, kind="http", parse=stream))


def run(inputs: HttpInputs, ctx: TaskContext) -> None:
    from iter8_action.load.http import export

    versions = inputs.load.versions
    targets = _targets(inputs, ctx)

    _load.drive(
        ctx,
        inputs.load,
        versions,
        targets,
        share=lambda shard, stream: shard.http(stream),
        describe=_describe,
        send=_run,
        report=_log_outcome,
        naming=export.HTTP,
    )


def secrets(inputs: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[str]:
    return load_secrets(inputs, url_fields=("url", "payloadURL"), header_fields=("headers",))


TASK = TaskType(
    name="http",
    summary="HTTP load generation with built-in metrics",
    run=run,
    parse=HttpInputs.parse,
    secrets=secrets,
)


# -- checked at load: what the experiment's values alone rule out ------------------------


def _stream_url(layer: _load.Layers, num_versions: int) -> str:
    """A stream's URL, checked; an endpoint's path (`/login`) is taken on its version's URL
    (the version's own, or the task's)."""
    version_url = {**layer.task_fields, **layer.version_fields}.get("url")
    version_at = ("versions", layer.version, "url") if "url" in layer.version_fields else ("url",)
    if layer.endpoint is None:
        if not version_url:
            raise InputsInvalid(
                f"{layer.where} has no url; set url: (or a url for each version)",
                field=layer.section,
            )
        return _checked_url(str(version_url), layer.where, version_at)
    endpoint_id, own = layer.endpoint, layer.endpoint_fields.get("url")
    own_at = (*layer.section, "url")
    if own is None:
        if not version_url:
            raise InputsInvalid(
                f"endpoint {endpoint_id} has no url, and the task has none to inherit",
                field=layer.section,
            )
        return _checked_url(str(version_url), layer.where, version_at)
    url = str(own)
    if url.startswith("/"):
        if not version_url:
            raise InputsInvalid(
                f"endpoint {endpoint_id} has the path {url!r} as its url, but there is no "
                "task or version url to take it from; write a full URL (http://host:port/path)",
                field=own_at,
            )
        base = _checked_url(str(version_url), layer.where, version_at)
        parts = urlsplit(base)
        return _checked_url(f"{parts.scheme}://{parts.netloc}{url}", layer.where, own_at)
    if num_versions > 1:
        raise InputsInvalid(
            f"endpoint {endpoint_id} has a full URL ({url}) but there are {num_versions} versions; "
            "give endpoints a path (url: /login) so that each version's URL supplies the host",
            field=own_at,
        )
    return _checked_url(url, layer.where, own_at)


def _checked_url(url: str, where: str, at: FieldPath) -> str:
    """`url`, if it is an http:// or https:// URL with a host and a port that is a number
    (the schema checks each written URL so; this checks the URL a stream ends up with)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputsInvalid(
            f"{where} has the url {url!r}, which is not an http:// or https:// URL with a host",
            field=at,
        )
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError as exc:
        raise InputsInvalid(
            f"{where} has the url {url!r} with a bad port: {exc}", field=at
        ) from exc
    return url


def _refuse_a_load_that_cannot_run(spec: StreamInputs, layer: _load.Layers) -> None:
    """A stream that would send nothing, or whose pool's cap is below the pool it starts
    with."""
    if spec.num_requests is None and spec.duration_s == 0:
        raise InputsInvalid(
            f"{layer.where} has duration 0: give it a duration like 10s, or numRequests",
            field=layer.locate("duration"),
        )
    value, connections = spec.max_connections, spec.connections
    if value is not None and value < connections:
        raise InputsInvalid(
            f"{layer.where} has maxConnections {value}, below connections {connections}: "
            "connections is the pool the load starts with and maxConnections its cap; "
            f"raise maxConnections to at least {connections}",
            field=layer.locate("maxConnections"),
        )


# -- when the task runs: from inputs to streams (requests, payloads, TLS) ------------------


def _targets(inputs: HttpInputs, ctx: TaskContext) -> list[Target]:
    payloads: dict[str, bytes] = {}
    return [_target(plan, inputs.load, ctx, payloads) for plan in inputs.streams]


def _target(
    plan: _load.StreamPlan[StreamInputs],
    load: _load.LoadOptions,
    ctx: TaskContext,
    payloads: dict[str, bytes],
) -> Target:
    from iter8_action.load.http import export
    from iter8_action.load.http.plan import Stream, build_request

    spec, where, url = plan.inputs, plan.where, plan.inputs.url
    assert url is not None  # HttpInputs.parse resolved it, and checked it as below
    parts = urlsplit(url)
    assert parts.hostname is not None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    headers = dict(spec.headers)
    if parts.username is not None and not any(k.lower() == "authorization" for k in headers):
        # Credentials in the URL mean HTTP Basic authentication (RFC 7617), as curl and Go do.
        SECRETS.add(parts.password)
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
    for name, value in headers.items():
        if any(word in name.lower() for word in _SECRET_HEADER_WORDS):
            SECRETS.add(value)
    body = _payload(spec, where, ctx, load, payloads)
    method = spec.method or ("POST" if body is not None else "GET")
    content_type = spec.content_type or (DEFAULT_CONTENT_TYPE if body is not None else None)
    request = build_request(
        method=method,
        host_header=parts.netloc.rpartition("@")[2],
        target=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        headers=headers,
        body=body,
        content_type=content_type,
    )
    stream = Stream(
        host=parts.hostname,
        port=port,
        request=request,
        connections=spec.connections,
        max_connections=_max_connections(spec),
        timeout_s=spec.timeout_s,
        tls=_tls(spec, where, ctx) if parts.scheme == "https" else None,
        head=method == "HEAD",
        error_ranges=spec.error_ranges,
        allow_initial_errors=spec.allow_initial_errors,
        **_load_model(spec),
    )
    percentiles = export.percentile_list(list(spec.percentiles))
    return _load.Target(plan.version, plan.prefix, url, percentiles, stream)


def _load_model(spec: StreamInputs) -> dict[str, Any]:
    """`qps`, `num_requests`, `duration_s` of a stream, with Iter8's defaults."""
    num_requests, duration_s = spec.num_requests, spec.duration_s
    if num_requests is None and duration_s is None:
        num_requests = DEFAULT_NUM_REQUESTS
    return {
        "qps": spec.qps,
        "num_requests": num_requests,
        "duration_s": None if num_requests is not None else duration_s,
    }


def _max_connections(spec: StreamInputs) -> int:
    """How far the open-loop pool may grow: `maxConnections` (at least `connections`, as
    `HttpInputs.parse` checked), by default 256 or `connections` if more."""
    value, connections = spec.max_connections, spec.connections
    if value is None:
        return max(connections, DEFAULT_MAX_CONNECTIONS)
    return value


def _error_ranges(value: Any) -> tuple[tuple[int | None, int | None], ...]:
    if not value:
        return DEFAULT_ERROR_RANGES
    return tuple(
        (
            None if r.get("lower") is None else int(r["lower"]),
            None if r.get("upper") is None else int(r["upper"]),
        )
        for r in value
    )


def _tls(spec: StreamInputs, where: str, ctx: TaskContext) -> TlsOptions:
    from iter8_action.load.http.client import ssl_context
    from iter8_action.load.http.plan import TlsOptions

    ca_file = spec.ca_file
    ca_path: Path | None = None
    if ca_file:
        ca_path = ctx.path(ca_file)
        if not ca_path.is_file():
            raise TaskFailed(f"{where}: caFile {ca_file!r} does not exist ({ca_path})")
    options = TlsOptions(spec.insecure_skip_verify, str(ca_path) if ca_path else None)
    try:
        ssl_context(options)
    except (ssl.SSLError, OSError) as exc:
        raise TaskFailed(
            f"{where}: caFile {ca_file!r} is not a PEM file of CA certificates ({exc})"
        ) from exc
    return options


def _payload(
    spec: StreamInputs,
    where: str,
    ctx: TaskContext,
    load: _load.LoadOptions,
    cache: dict[str, bytes],
) -> bytes | None:
    if spec.payload_str is not None:
        return spec.payload_str.encode()
    if spec.payload_file:
        path = ctx.path(spec.payload_file)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise TaskFailed(
                f"{where}: payloadFile {spec.payload_file!r} cannot be read ({exc.strerror})"
            ) from exc
    url = spec.payload_url
    if not url:
        return None
    return _load.fetch(
        ctx, load.fetch, cache, url, field="payloadURL", where=where, content="the request body"
    )


# -- running and reporting ----------------------------------------------------------------


def _run(targets: list[Target], ctx: TaskContext, start: CommonStart | None) -> list[StreamResult]:
    from iter8_action.load.http.runner import WorkerFailed, run_streams

    with _load.progress_line(ctx, "requests") as show:
        try:
            streams = [t.stream for t in targets]
            return run_streams(streams, stop=ctx.stop, on_progress=show, start=start, env=ctx.env)
        except WorkerFailed as exc:
            raise TaskFailed(str(exc)) from exc


def _describe(stream: Stream) -> str:
    model = "closed loop" if stream.qps is None else f"{stream.qps:g} qps"
    amount = (
        f"{stream.num_requests} requests"
        if stream.num_requests is not None
        else f"{durations.format_duration(stream.duration_s or 0)}"
    )
    if stream.qps is None or stream.pool_cap() == stream.connections:
        return f"{amount}, {model}, {stream.connections} connections"
    return f"{amount}, {model}, {stream.connections} to {stream.pool_cap()} connections"


def _log_outcome(
    ctx: TaskContext, target: Target, result: StreamResult, name: str, *, warmup: bool
) -> None:
    from iter8_action.load.http import export

    stats = result.stats
    label = f"{target.prefix} {name} ({SECRETS.redact(target.label)})"
    ctx.log.info(
        "%s: %d requests, %d errors%s, %.1f qps",
        label,
        stats.requests,
        stats.errors,
        _load.latency_text(stats),
        stats.achieved_qps() or 0.0,
    )
    _load.warn_if_client_limited(ctx, label, stats, target.rate, export.HTTP)
    if result.ignored_initial_errors:
        ctx.log.info(
            "%s: %d errors before the first success were left out (allowInitialErrors)",
            label,
            result.ignored_initial_errors,
        )
    if stats.requests and stats.errors == stats.requests and not warmup:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(stats.error_kinds.items()))
        hint = _hint(stats.error_kinds)
        ctx.log.warning("%s: every request failed (%s)%s", label, kinds, hint)


def _hint(kinds: Mapping[str, int]) -> str:
    from iter8_action.load.http.stats import ERROR_KINDS

    top = max(kinds.items(), key=lambda kv: kv[1])[0] if kinds else ""
    return {
        "refused": ": is the app running and listening on that host and port?",
        "dns": ": the host name does not resolve; check the url",
        "tls": ": check the certificate, or set caFile (or insecureSkipVerify for a test app)",
        "timeout": ": the app did not answer in time; raise timeout or check the app",
        "status": ": the app answered with error status codes (see errorRanges)",
    }.get(top, f": {ERROR_KINDS.get(top, '')}" if top else "")
