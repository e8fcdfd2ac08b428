"""The `grpc` task: load one or many versions of a gRPC service and record built-in metrics.

Inputs are ghz's fields as Iter8 passed them (already validated and translated
from older forms). Every version, and every endpoint of every version, is one
stream of unary calls; all streams run at once, interleaved in time, like the
http task's. `total`, `rps`, `concurrency` and `connections` apply to each stream.
Metrics are named `grpc/...` (`grpc-<endpoint>/...` for endpoints), with Iter8's
gRPC spelling of latency statistics: `grpc/latency/p95`, `grpc/latency/mean`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from iter8_action.core import durations
from iter8_action.core.errors import InputsInvalid
from iter8_action.core.secrets import load_secrets
from iter8_action.load.grpc.inputs import CallInputs, merge
from iter8_action.tasks import _load
from iter8_action.tasks._fields import text_or_none
from iter8_action.tasks.base import TaskContext, TaskType

if TYPE_CHECKING:
    from iter8_action.load.grpc.plan import GrpcStream
    from iter8_action.load.grpc.runner import StreamOutcome
    from iter8_action.load.http.plan import CommonStart

Target: TypeAlias = "_load.Target[GrpcStream]"


@dataclass(frozen=True)
class GrpcInputs:
    """`grpc`'s `with:`, parsed at load into one plan per stream (`load.grpc.inputs`), each
    with its host and call; the descriptors, requests and TLS roots are loaded, and the call
    checked against them, when the task runs."""

    load: _load.LoadOptions
    streams: tuple[_load.StreamPlan[CallInputs], ...]
    name: str | None
    """The load test's name (ghz's `name`), logged."""

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> GrpcInputs:
        load = _load.LoadOptions.parse(inputs)
        num_versions = len(load.version_names)

        def call(layer: _load.Layers) -> CallInputs:
            fields = merge(merge(layer.task_fields, layer.version_fields), layer.endpoint_fields)
            parsed = CallInputs.parse(fields, layer.locate)
            _refuse_an_incomplete_call(parsed, layer, num_versions)
            return parsed

        return cls(
            load=load,
            streams=_load.plans(inputs, kind="grpc", parse=call),
            name=text_or_none(inputs.get("name")),
        )


def _refuse_an_incomplete_call(call: CallInputs, layer: _load.Layers, num_versions: int) -> None:
    """What a stream's fields alone rule out: no server, two servers for an endpoint, no
    method, no load. Whether the method exists, and the request fits it, is checked when the
    task runs, against the descriptors."""
    if layer.endpoint is not None and "host" in layer.endpoint_fields and num_versions > 1:
        raise InputsInvalid(
            f"endpoint {layer.endpoint} sets host but there are {num_versions} "
            "versions; give each version its host and leave host out of endpoints",
            field=(*layer.section, "host"),
        )
    if not call.host:
        raise InputsInvalid(
            f"{layer.where} has no host; set host: (host:port of the gRPC server)",
            field=layer.section,
        )
    if not call.call:
        # a version has no call of its own: the task's (or an endpoint's) is missing
        raise InputsInvalid(
            f"{layer.where} has no call; set call: (package.Service.Method)",
            field=layer.section if layer.endpoint is not None else (),
        )
    if call.load.duration_s == 0:
        raise InputsInvalid(
            f"{layer.where} has duration 0: give it a duration like 10s, or total",
            field=layer.locate("duration"),
        )


def run(inputs: GrpcInputs, ctx: TaskContext) -> None:
    versions = inputs.load.versions
    fetched: dict[str, bytes] = {}

    def fetch(url: str, field: str, where: str) -> bytes:
        return _load.fetch(
            ctx, inputs.load.fetch, fetched, url, field=field, where=where, content="the content"
        )

    # grpc and protobuf load here, when the task runs, not when an experiment is checked
    from iter8_action.load.grpc.planner import Planner
    from iter8_action.load.grpc.runner import NAMING
    from iter8_action.load.http import export

    planner = Planner(fetch=fetch, path=ctx.path, tempdir=ctx.tempdir, log=ctx.log)
    streams = planner.streams([(plan.inputs, plan.where) for plan in inputs.streams])
    targets = [
        _load.Target(
            plan.version,
            plan.prefix,
            plan.where,
            export.percentile_list(list(plan.inputs.load.percentiles)),
            stream,
        )
        for plan, stream in zip(inputs.streams, streams, strict=True)
    ]
    if inputs.name:
        ctx.log.info("load test %r", inputs.name)

    _load.drive(
        ctx,
        inputs.load,
        versions,
        targets,
        share=lambda shard, stream: shard.grpc(stream),
        describe=_describe,
        send=_run,
        report=_log_outcome,
        naming=NAMING,
    )


def secrets(inputs: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[str]:
    return load_secrets(
        inputs,
        url_fields=("protoURL", "dataURL", "binaryDataURL", "metadataURL"),
        header_fields=("metadata",),
    )


TASK = TaskType(
    name="grpc",
    summary="gRPC load generation with built-in metrics",
    run=run,
    parse=GrpcInputs.parse,
    secrets=secrets,
)


# -- running and reporting ----------------------------------------------------------------


def _run(targets: list[Target], ctx: TaskContext, start: CommonStart | None) -> list[StreamOutcome]:
    from iter8_action.load.grpc.runner import run_streams

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
    from iter8_action.load.grpc.runner import NAMING

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
