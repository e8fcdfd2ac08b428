"""What a report shows of a metric store: scalar metrics, histograms, percentile curves,
distributions and time series, per version, as stored (never recomputed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from iter8_action.metrics.names import split_percentile
from iter8_action.metrics.store import MetricStore, MetricType
from iter8_action.report.model import (
    Bucket,
    Histogram,
    Metric,
    PercentileCurve,
    Summary,
    TimeSeries,
)

# The order the load tasks' metrics read best in; other metrics follow by name.
_HTTP_ORDER = (
    "request-count",
    "error-count",
    "error-rate",
    "latency-mean",
    "latency-stddev",
    "latency-min",
    "latency-max",
    # the grpc task: Iter8 spelled its latency statistics with a slash
    "latency/mean",
    "latency/stddev",
    "latency/min",
    "latency/max",
)


def metric_sort_key(name: str) -> tuple[str, int, str, float]:
    """Built-in providers first, then the load task's own order, percentiles ascending."""
    provider, _, metric = name.partition("/")
    builtin = provider.startswith(("http", "grpc"))
    group = f"{0 if builtin else 1}{provider}"
    split = split_percentile(name)
    if split is not None:
        base = split[0].partition("/")[2]
        return (group, len(_HTTP_ORDER), base, split[1])
    if metric in _HTTP_ORDER:
        return (group, _HTTP_ORDER.index(metric), "", 0.0)
    return (group, len(_HTTP_ORDER) + 1, metric, 0.0)


def _scalar_names(store: MetricStore) -> list[str]:
    insights = store.to_insights()
    names: set[str] = set()
    for per_version in insights["nonHistMetricValues"]:
        names.update(per_version)
    return sorted(names, key=metric_sort_key)


def metrics(store: MetricStore) -> tuple[Metric, ...]:
    """Every scalar metric, in reading order."""
    out = []
    for name in _scalar_names(store):
        meta = store.meta(name)
        out.append(
            Metric(
                name=name,
                type=str(meta.type) if meta else str(MetricType.GAUGE),
                units=meta.units if meta else None,
                description=meta.description if meta else "",
                values=store.values(name),
            )
        )
    return tuple(out)


def histograms(store: MetricStore) -> tuple[Histogram, ...]:
    """Every histogram with buckets in some version, buckets in ascending order."""
    out = []
    for name in store.names():
        per_version = [store.histogram(name, v) for v in range(store.num_versions)]
        if not any(per_version):
            continue
        out.append(
            Histogram(
                metric=name,
                units=store.units(name),
                versions=tuple(
                    None
                    if buckets is None
                    else tuple(
                        Bucket(b.lower, b.upper, b.count)
                        for b in sorted(buckets, key=lambda b: b.lower)
                    )
                    for buckets in per_version
                ),
            )
        )
    return tuple(out)


def percentiles(store: MetricStore) -> tuple[PercentileCurve, ...]:
    """The stored percentile gauges of each latency metric, grouped into one curve."""
    groups: dict[str, dict[float, str]] = {}
    for name in _scalar_names(store):
        split = split_percentile(name)
        if split is not None:
            groups.setdefault(split[0], {})[split[1]] = name
    out = []
    for base in sorted(groups, key=metric_sort_key):
        levels = tuple(sorted(groups[base]))
        names = [groups[base][p] for p in levels]
        out.append(
            PercentileCurve(
                metric=base,
                units=store.units(names[0]),
                percentiles=levels,
                versions=tuple(
                    tuple(store.value(n, v) for n in names) for v in range(store.num_versions)
                ),
            )
        )
    return tuple(out)


def summaries(store: MetricStore) -> tuple[Summary, ...]:
    """Summaries that are distributions (`{"200": 95, "503": 5}`), shown as tables.

    Others, such as the full-resolution `http/latency-hdr` kept for the statistics,
    are data for the assessment, not for people.
    """
    out = []
    for name in store.names():
        per_version = [store.summary(name, v) for v in range(store.num_versions)]
        if not any(per_version) or not all(_is_distribution(s) for s in per_version):
            continue
        meta = store.meta(name)
        out.append(Summary(name, meta.description if meta else "", tuple(per_version)))
    return tuple(out)


def _is_distribution(summary: Mapping[str, Any] | None) -> bool:
    if summary is None:
        return True
    return all(
        isinstance(v, int | float | str) and not isinstance(v, bool) for v in summary.values()
    )


def _is_timeseries(summary: Mapping[str, Any] | None) -> bool:
    return (
        summary is not None
        and "intervalSeconds" in summary
        and isinstance(summary.get("values"), Sequence)
    )


def timeseries(store: MetricStore) -> tuple[TimeSeries, ...]:
    """Summaries shaped `{intervalSeconds, values: [...]}` (a rate per interval), per version."""
    out = []
    for name in store.names():
        per_version = [store.summary(name, v) for v in range(store.num_versions)]
        found = [s for s in per_version if s is not None and _is_timeseries(s)]
        if not found:
            continue
        interval = float(found[0]["intervalSeconds"])
        out.append(
            TimeSeries(
                metric=name,
                units=store.units(name),
                interval_s=interval,
                versions=tuple(
                    tuple(float(x) for x in s["values"])
                    if s is not None and _is_timeseries(s)
                    else None
                    for s in per_version
                ),
            )
        )
    return tuple(out)
