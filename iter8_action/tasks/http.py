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
from typing import Any
from urllib.parse import unquote, urlsplit

from iter8_action import durations
from iter8_action.errors import TaskFailed
from iter8_action.loadgen import export
from iter8_action.loadgen.client import ssl_context
from iter8_action.loadgen.plan import CommonStart, Stream, TlsOptions, build_request
from iter8_action.loadgen.runner import StreamResult, WorkerFailed, run_streams
from iter8_action.loadgen.stats import ERROR_KINDS
from iter8_action.secrets import SECRETS, load_secrets
from iter8_action.tasks import _load
from iter8_action.tasks.base import TaskContext, TaskType

DEFAULT_NUM_REQUESTS = 100
DEFAULT_QPS = 8.0
DEFAULT_CONNECTIONS = 4
DEFAULT_MAX_CONNECTIONS = 256
"""The open-loop pool's default cap: enough for 1000 qps at 250 ms per request, with
room for several streams within a CI runner's open-file limit."""
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_CONTENT_TYPE = "application/octet-stream"
_SECRET_HEADER_WORDS = ("authorization", "cookie", "token", "secret", "key", "password")
_VERSION_ONLY = ("name",)


@dataclass(frozen=True)
class Target:
    """One stream as the user described it: where its metrics go, and what it sends."""

    version: int
    prefix: str
    url: str
    percentiles: list[float]
    stream: Stream

    @property
    def rate(self) -> float | None:
        return self.stream.qps


def run(inputs: Mapping[str, Any], ctx: TaskContext) -> None:
    versions = _load.versions(inputs)
    targets = _targets(inputs, versions, ctx)
    start = None
    if ctx.shard is not None:  # this machine sends its share (`iter8 run --shard`)
        targets = [replace(t, stream=ctx.shard.http(t.stream)) for t in targets]
        start = ctx.shard.start()
    warmup = bool(inputs.get("warmup", False))
    _load.announce(ctx, versions, [_describe(t.stream) for t in targets], warmup=warmup)
    results = _run(targets, ctx, start)
    ctx.check_stop()
    for target, result in zip(targets, results, strict=True):
        _log_outcome(ctx, target, result, versions[target.version][0], warmup=warmup)
    if warmup:
        ctx.log.info("warmup done: its results are discarded")
        return
    stats = [r.stats for r in results]
    _load.record(ctx, versions, targets, stats, naming=export.HTTP, start=start)


def secrets(inputs: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[str]:
    return load_secrets(inputs, url_fields=("url", "payloadURL"), header_fields=("headers",))


TASK = TaskType(
    name="http", summary="HTTP load generation with built-in metrics", run=run, secrets=secrets
)


# -- from inputs to streams -----------------------------------------------------------


def _targets(
    inputs: Mapping[str, Any], versions: list[tuple[str, dict[str, Any]]], ctx: TaskContext
) -> list[Target]:
    base = {k: v for k, v in inputs.items() if k not in ("versions", "endpoints", "warmup")}
    endpoints: Mapping[str, Mapping[str, Any]] = inputs.get("endpoints") or {}
    payloads: dict[str, bytes] = {}
    targets: list[Target] = []
    for index, (name, fields) in enumerate(versions):
        merged_version = {**base, **{k: v for k, v in fields.items() if k not in _VERSION_ONLY}}
        if not endpoints:
            where = f"version {name}" if inputs.get("versions") else "the task"
            targets.append(_target(merged_version, index, "http", where, ctx, payloads))
            continue
        for endpoint_id, endpoint in sorted(endpoints.items()):
            merged = {**merged_version, **endpoint}
            merged["url"] = _endpoint_url(
                merged_version.get("url"), endpoint, endpoint_id, len(versions)
            )
            where = f"endpoint {endpoint_id}" + (f" of version {name}" if len(versions) > 1 else "")
            targets.append(_target(merged, index, f"http-{endpoint_id}", where, ctx, payloads))
    return targets


def _endpoint_url(
    base_url: str | None, endpoint: Mapping[str, Any], endpoint_id: str, num_versions: int
) -> str:
    """An endpoint's URL; a path (`/login`) is taken relative to its version's URL."""
    url = endpoint.get("url")
    if url is None:
        if base_url is None:
            raise TaskFailed(f"endpoint {endpoint_id} has no url, and the task has none to inherit")
        return str(base_url)
    url = str(url)
    if url.startswith("/"):
        if base_url is None:
            raise TaskFailed(
                f"endpoint {endpoint_id} has the path {url!r} as its url, but there is no "
                "task or version url to take it from; write a full URL (http://host:port/path)"
            )
        parts = urlsplit(str(base_url))
        return f"{parts.scheme}://{parts.netloc}{url}"
    if num_versions > 1:
        raise TaskFailed(
            f"endpoint {endpoint_id} has a full URL ({url}) but there are {num_versions} versions; "
            "give endpoints a path (url: /login) so that each version's URL supplies the host"
        )
    return url


def _target(
    fields: Mapping[str, Any],
    version: int,
    prefix: str,
    where: str,
    ctx: TaskContext,
    payloads: dict[str, bytes],
) -> Target:
    url = fields.get("url")
    if not url:
        raise TaskFailed(f"{where} has no url; set url: (or a url for each version)")
    url = str(url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TaskFailed(
            f"{where} has the url {url!r}, which is not an http:// or https:// URL with a host"
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise TaskFailed(f"{where} has the url {url!r} with a bad port: {exc}") from None
    headers = {str(k): str(v) for k, v in (fields.get("headers") or {}).items()}
    if parts.username is not None and not any(k.lower() == "authorization" for k in headers):
        # Credentials in the URL mean HTTP Basic authentication (RFC 7617), as curl and Go do.
        SECRETS.add(parts.password)
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
    for name, value in headers.items():
        if any(word in name.lower() for word in _SECRET_HEADER_WORDS):
            SECRETS.add(value)
    body = _payload(fields, where, ctx, payloads)
    method = str(fields.get("method") or ("POST" if body is not None else "GET"))
    content_type = fields.get("contentType") or (DEFAULT_CONTENT_TYPE if body is not None else None)
    request = build_request(
        method=method,
        host_header=parts.netloc.rpartition("@")[2],
        target=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        headers=headers,
        body=body,
        content_type=content_type,
    )
    connections = int(fields.get("connections") or DEFAULT_CONNECTIONS)
    stream = Stream(
        host=parts.hostname,
        port=port,
        request=request,
        connections=connections,
        max_connections=_max_connections(fields, connections, where),
        timeout_s=_duration(fields.get("timeout"), "timeout", where) or DEFAULT_TIMEOUT_S,
        tls=_tls(fields, where, ctx) if parts.scheme == "https" else None,
        head=method == "HEAD",
        error_ranges=_error_ranges(fields.get("errorRanges")),
        allow_initial_errors=bool(fields.get("allowInitialErrors", False)),
        **_load_model(fields, where),
    )
    percentiles = export.percentile_list(fields.get("percentiles") or [])
    return Target(version, prefix, url, percentiles, stream)


def _load_model(fields: Mapping[str, Any], where: str) -> dict[str, Any]:
    """`qps`, `num_requests`, `duration_s` of a stream, with Iter8's defaults."""
    raw_qps = fields.get("qps", DEFAULT_QPS)
    qps = None if raw_qps in ("max", 0, 0.0) else float(raw_qps)
    num_requests = fields.get("numRequests")
    duration_s = _duration(fields.get("duration"), "duration", where)
    if num_requests is None and duration_s is None:
        num_requests = DEFAULT_NUM_REQUESTS
    if num_requests is None and duration_s == 0:
        raise TaskFailed(f"{where} has duration 0: give it a duration like 10s, or numRequests")
    return {
        "qps": qps,
        "num_requests": None if num_requests is None else int(num_requests),
        "duration_s": None if num_requests is not None else duration_s,
    }


def _max_connections(fields: Mapping[str, Any], connections: int, where: str) -> int:
    """How far the open-loop pool may grow: `maxConnections`, at least `connections`."""
    value = fields.get("maxConnections")
    if value is None:
        return max(connections, DEFAULT_MAX_CONNECTIONS)
    if int(value) < connections:
        raise TaskFailed(
            f"{where} has maxConnections {value}, below connections {connections}: "
            "connections is the pool the load starts with and maxConnections its cap; "
            f"raise maxConnections to at least {connections}"
        )
    return int(value)


def _duration(value: Any, field: str, where: str) -> float | None:
    if value is None:
        return None
    try:
        return durations.parse_duration(value)
    except durations.DurationError as exc:
        raise TaskFailed(f"{where}: {field}: {exc}") from None


def _error_ranges(value: Any) -> tuple[tuple[int | None, int | None], ...]:
    if not value:
        return ((400, None),)
    return tuple(
        (
            None if r.get("lower") is None else int(r["lower"]),
            None if r.get("upper") is None else int(r["upper"]),
        )
        for r in value
    )


def _tls(fields: Mapping[str, Any], where: str, ctx: TaskContext) -> TlsOptions:
    ca_file = fields.get("caFile")
    ca_path: Path | None = None
    if ca_file:
        ca_path = ctx.path(str(ca_file))
        if not ca_path.is_file():
            raise TaskFailed(f"{where}: caFile {ca_file!r} does not exist ({ca_path})")
    options = TlsOptions(
        bool(fields.get("insecureSkipVerify", False)), str(ca_path) if ca_path else None
    )
    try:
        ssl_context(options)
    except (ssl.SSLError, OSError) as exc:
        raise TaskFailed(
            f"{where}: caFile {ca_file!r} is not a PEM file of CA certificates ({exc})"
        ) from None
    return options


def _payload(
    fields: Mapping[str, Any], where: str, ctx: TaskContext, cache: dict[str, bytes]
) -> bytes | None:
    if fields.get("payloadStr") is not None:
        return str(fields["payloadStr"]).encode()
    if fields.get("payloadFile"):
        path = ctx.path(str(fields["payloadFile"]))
        try:
            return path.read_bytes()
        except OSError as exc:
            raise TaskFailed(
                f"{where}: payloadFile {fields['payloadFile']!r} cannot be read ({exc.strerror})"
            ) from None
    url = fields.get("payloadURL")
    if not url:
        return None
    return _load.fetch(
        ctx, cache, str(url), field="payloadURL", where=where, content="the request body"
    )


# -- running and reporting ----------------------------------------------------------------


def _run(targets: list[Target], ctx: TaskContext, start: CommonStart | None) -> list[StreamResult]:
    with _load.progress_line(ctx, "requests") as show:
        try:
            streams = [t.stream for t in targets]
            return run_streams(streams, stop=ctx.stop, on_progress=show, start=start)
        except WorkerFailed as exc:
            raise TaskFailed(str(exc)) from None


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
    stats = result.stats
    label = f"{target.prefix} {name} ({SECRETS.redact(target.url)})"
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
    top = max(kinds.items(), key=lambda kv: kv[1])[0] if kinds else ""
    return {
        "refused": ": is the app running and listening on that host and port?",
        "dns": ": the host name does not resolve; check the url",
        "tls": ": check the certificate, or set caFile (or insecureSkipVerify for a test app)",
        "timeout": ": the app did not answer in time; raise timeout or check the app",
        "status": ": the app answered with error status codes (see errorRanges)",
    }.get(top, f": {ERROR_KINDS.get(top, '')}" if top else "")
