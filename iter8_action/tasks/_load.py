"""What the load tasks (`http`, `grpc`) share: their versions, their progress line,
their log lines, and how their statistics become metrics.

Not a task itself (the registry skips modules whose name starts with `_`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from iter8_action import httpclient
from iter8_action.errors import TaskFailed
from iter8_action.loadgen import export
from iter8_action.loadgen.plan import CommonStart
from iter8_action.loadgen.stats import StreamStats
from iter8_action.tasks.base import TaskContext

Versions = list[tuple[str, dict[str, Any]]]

FETCH_TIMEOUT_S = 30.0
FETCH_MAX_BODY_BYTES = 64 * 1024 * 1024
FETCH_RETRY = httpclient.RetryPolicy(attempts=2, backoff_s=0.5)


class Sent(Protocol):
    """Totals so far, as each load generator reports them."""

    @property
    def sent(self) -> int: ...

    @property
    def errors(self) -> int: ...


class Target(Protocol):
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


def versions(inputs: Mapping[str, Any]) -> Versions:
    """Each version's name and the fields it sets (one unnamed version without `versions`)."""
    listed = inputs.get("versions")
    if not listed:
        return [("v1", {})]
    names = [str(v.get("name") or f"v{i + 1}") for i, v in enumerate(listed)]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise TaskFailed(
            f"two versions are named {duplicates[0]!r}; give each version its own name"
        )
    return [(name, dict(v)) for name, v in zip(names, listed, strict=True)]


def fetch(
    ctx: TaskContext, cache: dict[str, bytes], url: str, *, field: str, where: str, content: str
) -> bytes:
    """What `url` answers, fetched once per run: an input given by URL (`payloadURL`, ...).

    `content` says in an error what the URL must answer with (`the request body`).
    """
    if url not in cache:
        try:
            response = httpclient.request("GET", url, limits=fetch_limits(ctx), retry=FETCH_RETRY)
        except httpclient.HTTPFailure as exc:
            raise TaskFailed(f"{where}: {field} could not be fetched: {exc}") from None
        if response.status_code >= 400:
            raise TaskFailed(
                f"{where}: {field} {url} answered {response.status_code}; "
                f"it must answer 200 with {content}"
            )
        cache[url] = response.content
        ctx.log.info("%s: %d bytes from %s", field, len(response.content), url)
    return cache[url]


def fetch_limits(ctx: TaskContext) -> httpclient.Limits:
    """The task's `fetchTimeout` and `fetchMaxBodySize` (each URL fetch's deadline and cap)."""
    experiment = ctx.experiment
    inputs = experiment.tasks[ctx.index].inputs if experiment is not None else {}
    try:
        return httpclient.Limits.from_inputs(
            inputs,
            timeout_field="fetchTimeout",
            size_field="fetchMaxBodySize",
            default_timeout_s=FETCH_TIMEOUT_S,
            default_max_body_bytes=FETCH_MAX_BODY_BYTES,
        )
    except ValueError as exc:  # the schema checked their form; a value may still be out
        raise TaskFailed(str(exc)) from exc


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
def progress_line(ctx: TaskContext, unit: str) -> Iterator[Callable[[Sent], None]]:
    """A callback for the generator's progress: `N <unit> sent, R/s, E errors`."""
    progress = ctx.progress()
    last = [time.monotonic(), 0]

    def show(now: Sent) -> None:
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
    limit = export.client_limit(stats, rate)
    if limit is not None:
        ctx.log.warning("%s: %s", label, limit.message(naming))


def record(
    ctx: TaskContext,
    versions: Versions,
    targets: Sequence[Target],
    stats: Sequence[StreamStats],
    *,
    naming: export.Naming,
    start: CommonStart | None = None,
) -> None:
    """Write every stream's statistics as metrics of its version (and, on a shard,
    in full for the merge)."""
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
