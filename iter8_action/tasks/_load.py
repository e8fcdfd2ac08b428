"""What the load tasks (`http`, `grpc`) share: their versions and endpoints, parsed at
load into one plan per stream, their targets, how a run goes (shards, warmup, outcomes),
their progress line, their log lines, and how their statistics become metrics.

Not a task itself (the registry skips modules whose name starts with `_`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from iter8_action.core.errors import InputsInvalid, TaskFailed
from iter8_action.load.http.plan import CommonStart
from iter8_action.load.http.stats import StreamStats
from iter8_action.tasks._fields import HttpLimits
from iter8_action.tasks.base import TaskContext

if TYPE_CHECKING:
    from iter8_action.load.http import export
    from iter8_action.load.http.stats import StreamStats
    from iter8_action.load.progress import LoadProgress
    from iter8_action.shards.partial import ShardRun


Versions = list[tuple[str, dict[str, Any]]]
"""Each version's name and fields, as `record` takes them (`shards.merge` too)."""

FETCH_TIMEOUT_S = 30.0
FETCH_MAX_BODY_BYTES = 64 * 1024 * 1024
FETCH_ATTEMPTS = 2
FETCH_BACKOFF_S = 0.5
NOT_MERGED = ("versions", "endpoints", "warmup")
"""Task fields that are not a stream's (every other task field is each stream's default)."""
VERSION_ONLY = ("name",)
"""Version fields that are not a stream's."""

FieldPath = tuple[str | int, ...]


class Recorded(Protocol):
    """A stream as the metrics see it: whose it is, and under which prefix."""

    @property
    def version(self) -> int: ...

    @property
    def prefix(self) -> str: ...

    @property
    def percentiles(self) -> list[float]: ...

    @property
    def rate(self) -> float | None:
        """The rate asked for (open loop), or None (closed loop)."""


class Sent(Protocol):
    """What a load generator sends for one stream: its rate asked for, None in a closed loop."""

    @property
    def rate(self) -> float | None: ...


StreamT = TypeVar("StreamT", bound=Sent)


@dataclass(frozen=True)
class Target(Generic[StreamT]):
    """One stream as the user described it: where its metrics go, what it sends, and how
    its log lines name it (`label`: the http task's URL, the grpc task's place)."""

    version: int
    prefix: str
    label: str
    percentiles: list[float]
    stream: StreamT

    @property
    def rate(self) -> float | None:
        return self.stream.rate


@dataclass(frozen=True)
class Layers:
    """One stream's fields as layers: the task's, over them its version's, over those its
    endpoint's (each a map of the fields written there)."""

    version: int
    version_name: str
    endpoint: str | None
    task_fields: Mapping[str, Any]
    version_fields: Mapping[str, Any]
    endpoint_fields: Mapping[str, Any]
    where: str
    """How a message names the stream: `the task`, `version blue`, `endpoint login of version
    blue`."""
    section: FieldPath
    """Where in `with:` the stream's innermost section is: its endpoint's map, its version's,
    or `with:` itself (`()`); a message about a field missing there points at it."""

    def locate(self, field: str) -> FieldPath:
        """Where in `with:` the stream's `field` is written (the innermost layer holding it)."""
        if self.endpoint is not None and field in self.endpoint_fields:
            return ("endpoints", self.endpoint, field)
        if field in self.version_fields:
            return ("versions", self.version, field)
        return (field,)


@dataclass(frozen=True)
class LoadOptions:
    """What a load task's `with:` says besides its streams."""

    version_names: tuple[str, ...]
    warmup: bool
    fetch: HttpLimits
    """`fetchTimeout` and `fetchMaxBodySize`: each URL fetch's deadline and cap."""

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> LoadOptions:
        names = version_names(inputs)
        _refuse_a_name_twice(inputs, names)
        return cls(
            version_names=tuple(names),
            warmup=bool(inputs.get("warmup", False)),
            fetch=HttpLimits.parse(
                inputs,
                timeout_field="fetchTimeout",
                size_field="fetchMaxBodySize",
                default_timeout_s=FETCH_TIMEOUT_S,
                default_max_body_bytes=FETCH_MAX_BODY_BYTES,
            ),
        )

    @property
    def versions(self) -> Versions:
        """The versions by name (each name once: `parse` refused a name given twice)."""
        return [(name, {}) for name in self.version_names]


def version_names(inputs: Mapping[str, Any]) -> list[str]:
    """Each version's name (`v1`, `v2`, ... when unnamed; one version without `versions`)."""
    listed = inputs.get("versions")
    if not listed:
        return ["v1"]
    return [str(v.get("name") or f"v{i + 1}") for i, v in enumerate(listed)]


def _refuse_a_name_twice(inputs: Mapping[str, Any], names: list[str]) -> None:
    """Each version's metrics, reports and SLOs go by its name: two versions may not share
    one. The error points at the later version's `name` (at the earlier one's when the later
    is unnamed and its default, `v2`, is taken)."""
    listed = inputs.get("versions") or []
    first: dict[str, int] = {}
    for index, name in enumerate(names):
        if name not in first:
            first[name] = index
            continue
        named = index if listed[index].get("name") else first[name]
        raise InputsInvalid(
            f"two versions are named {name!r}; give each version its own name",
            field=("versions", named, "name"),
        )


def layers(inputs: Mapping[str, Any]) -> list[Layers]:
    """The task's streams, in order: each version, or each endpoint of each version (by
    the endpoint's name)."""
    base = {k: v for k, v in inputs.items() if k not in NOT_MERGED}
    listed = inputs.get("versions") or []
    endpoints: Mapping[str, Mapping[str, Any]] = inputs.get("endpoints") or {}
    names = version_names(inputs)
    out: list[Layers] = []
    for index, name in enumerate(names):
        own = dict(listed[index]) if listed else {}
        fields = {k: v for k, v in own.items() if k not in VERSION_ONLY}
        if not endpoints:
            where = f"version {name}" if listed else "the task"
            section: FieldPath = ("versions", index) if listed else ()
            out.append(Layers(index, name, None, base, fields, {}, where, section))
            continue
        for endpoint_id, endpoint in sorted(endpoints.items()):
            where = f"endpoint {endpoint_id}" + (f" of version {name}" if len(names) > 1 else "")
            section = ("endpoints", endpoint_id)
            out.append(
                Layers(index, name, endpoint_id, base, fields, dict(endpoint), where, section)
            )
    return out


InputsT = TypeVar("InputsT")


@dataclass(frozen=True)
class StreamPlan(Generic[InputsT]):
    """One stream of a load task, parsed: whose it is, its metrics prefix, how messages
    name it, and its inputs (the task's, under its version's, under its endpoint's)."""

    version: int
    prefix: str
    where: str
    endpoint: str | None
    endpoint_fields: frozenset[str]
    """The fields the endpoint itself sets."""
    inputs: InputsT


def plans(
    inputs: Mapping[str, Any],
    *,
    kind: str,
    parse: Callable[[Layers], InputsT],
) -> tuple[StreamPlan[InputsT], ...]:
    """Each stream of the task (`layers`), its inputs parsed by `parse`; `kind` is the
    metrics prefix (`http`, and `http-<endpoint>` for an endpoint)."""
    return tuple(
        StreamPlan(
            version=layer.version,
            prefix=kind if layer.endpoint is None else f"{kind}-{layer.endpoint}",
            where=layer.where,
            endpoint=layer.endpoint,
            endpoint_fields=frozenset(layer.endpoint_fields),
            inputs=parse(layer),
        )
        for layer in layers(inputs)
    )


def fetch(
    ctx: TaskContext,
    limits: HttpLimits,
    cache: dict[str, bytes],
    url: str,
    *,
    field: str,
    where: str,
    content: str,
) -> bytes:
    """What `url` answers, fetched once per run: an input given by URL (`payloadURL`, ...).

    `content` says in an error what the URL must answer with (`the request body`).
    """
    from iter8_action.net import httpclient

    if url not in cache:
        try:
            response = httpclient.request(
                "GET",
                url,
                limits=limits.limits(),
                retry=httpclient.RetryPolicy(attempts=FETCH_ATTEMPTS, backoff_s=FETCH_BACKOFF_S),
            )
        except httpclient.HTTPFailure as exc:
            raise TaskFailed(f"{where}: {field} could not be fetched: {exc}") from exc
        if response.status_code >= 400:
            raise TaskFailed(
                f"{where}: {field} {url} answered {response.status_code}; "
                f"it must answer 200 with {content}"
            )
        cache[url] = response.content
        ctx.log.info("%s: %d bytes from %s", field, len(response.content), url)
    return cache[url]


class Outcome(Protocol):
    """What a load generator reports for one stream."""

    @property
    def stats(self) -> StreamStats: ...


OutcomeT = TypeVar("OutcomeT", bound=Outcome)
OutcomeT_contra = TypeVar("OutcomeT_contra", bound=Outcome, contravariant=True)


class Reporter(Protocol[StreamT, OutcomeT_contra]):
    """Logs one stream's outcome (`name` is its version's)."""

    def __call__(
        self,
        ctx: TaskContext,
        target: Target[StreamT],
        outcome: OutcomeT_contra,
        name: str,
        /,
        *,
        warmup: bool,
    ) -> None: ...


def drive(
    ctx: TaskContext,
    inputs: LoadOptions,
    versions: Versions,
    targets: list[Target[StreamT]],
    *,
    share: Callable[[ShardRun, StreamT], StreamT],
    describe: Callable[[StreamT], str],
    send: Callable[[list[Target[StreamT]], TaskContext, CommonStart | None], Sequence[OutcomeT]],
    report: Reporter[StreamT, OutcomeT],
    naming: export.Naming,
) -> None:
    """A load task's run once its targets are built: this shard's share of each stream
    (`iter8 run --shard`, through `share`), every stream at once (`send`), each outcome
    logged (`report`), then the statistics recorded as metrics (unless this is a warmup)."""
    start = None
    if ctx.shard is not None:  # this machine sends its share (`iter8 run --shard`)
        shard = ctx.shard
        targets = [replace(t, stream=share(shard, t.stream)) for t in targets]
        start = shard.start()
    warmup = inputs.warmup
    announce(ctx, versions, [describe(t.stream) for t in targets], warmup=warmup)
    outcomes = send(targets, ctx, start)
    ctx.check_stop()
    for target, outcome in zip(targets, outcomes, strict=True):
        report(ctx, target, outcome, versions[target.version][0], warmup=warmup)
    if warmup:
        ctx.log.info("warmup done: its results are discarded")
        return
    stats = [o.stats for o in outcomes]
    record(ctx, versions, targets, stats, naming=naming, start=start)


def announce(
    ctx: TaskContext, versions: Versions, descriptions: Sequence[str], *, warmup: bool
) -> None:
    ctx.log.info(
        "%s %d version(s), %d stream(s): %s",
        "warming up" if warmup else "loading",
        len(versions),
        len(descriptions),
        ", ".join(sorted(set(descriptions))),
    )


@contextlib.contextmanager
def progress_line(ctx: TaskContext, unit: str) -> Iterator[Callable[[LoadProgress], None]]:
    """A callback for the generator's progress: `N <unit> sent, R/s, E errors`."""
    progress = ctx.progress()
    last = [time.monotonic(), 0]

    def show(now: LoadProgress) -> None:
        moment = time.monotonic()
        elapsed = moment - last[0]
        rate = (now.sent - last[1]) / elapsed if elapsed > 0 else 0.0
        last[:] = [moment, now.sent]
        progress.update(f"{now.sent} {unit} sent, {rate:.0f}/s, {now.errors} errors")

    try:
        yield show
    finally:
        progress.close()


def latency_text(stats: StreamStats) -> str:
    """`, p50 1.234 ms, p99 5.678 ms` for a log line, or nothing without latencies."""
    p50 = stats.histogram.percentile_ns(50)
    p99 = stats.histogram.percentile_ns(99)
    if p50 is None or p99 is None:
        return ""
    return f", p50 {p50 / 1e6:.3f} ms, p99 {p99 / 1e6:.3f} ms"


def warn_if_client_limited(
    ctx: TaskContext, label: str, stats: StreamStats, rate: float | None, naming: export.Naming
) -> None:
    """Say so when the load generator, not the app, held requests back."""
    from iter8_action.load.http import export

    limit = export.client_limit(stats, rate)
    if limit is not None:
        ctx.log.warning("%s: %s", label, limit.message(naming))


def record(
    ctx: TaskContext,
    versions: Versions,
    targets: Sequence[Recorded],
    stats: Sequence[StreamStats],
    *,
    naming: export.Naming,
    start: CommonStart | None = None,
) -> None:
    """Write every stream's statistics as metrics of its version (and, on a shard,
    in full for the merge)."""
    from iter8_action.load.http import export

    store = ctx.store
    store.ensure_versions(len(versions), [name for name, _ in versions])
    for prefix in sorted({t.prefix for t in targets}):
        percentiles = sorted({p for t in targets for p in t.percentiles})
        export.declare(store, prefix, percentiles, naming=naming)
    for target, one in zip(targets, stats, strict=True):
        export.write(
            store,
            target.prefix,
            target.version,
            one,
            target.percentiles,
            naming=naming,
            rate=target.rate,
        )
    if ctx.shard is not None and start is not None:
        ctx.shard.keep(
            task_index=ctx.index,
            task=ctx.name,
            versions=[name for name, _ in versions],
            start=start,
            streams=[
                (t.prefix, t.version, t.rate, t.percentiles, one)
                for t, one in zip(targets, stats, strict=True)
            ],
        )
