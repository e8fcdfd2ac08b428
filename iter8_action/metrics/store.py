"""The metric store: every task writes metrics here; assessment and reports read them.

Values are kept per version under a canonical `provider/metric` name (see
`metrics.names`). The store is plain data with no I/O, so statistics and SLO logic
that read it test in microseconds. It serialises to, and is rebuilt from, Iter8's
`insights` fields (`metricsInfo`, `nonHistMetricValues`, `histMetricValues`),
plus `sampleMetricValues` and `summaryMetricValues` for per-request data.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from iter8_action.metrics.names import canonical_metric_name, split_percentile

FINE_SUFFIX = "-hdr"
"""`<histogram>-hdr`: a summary with the histogram's data at full resolution (values, counts)."""


class MetricType(StrEnum):
    """What a metric is; written lower-case, read in any case.

    Iter8 (every release from v0.8 to v0.14, `base/metrics.go`) wrote the types
    capitalised (`Counter`, `Gauge`, `Histogram`, `Sample`, `Summary`), so
    `MetricType("Counter")` is `MetricType.COUNTER`.
    """

    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"
    SAMPLE = "sample"
    SUMMARY = "summary"

    @classmethod
    def _missing_(cls, value: object) -> MetricType | None:
        if isinstance(value, str):
            for member in cls:
                if member.value == value.lower():
                    return member
        return None

    @classmethod
    def accepted(cls) -> str:
        """The accepted spellings, for messages."""
        return ", ".join(m.value for m in cls) + " (in any case, as Iter8 wrote them)"


@dataclass(frozen=True)
class MetricMeta:
    """What a metric is: Iter8's `metricsInfo` entry."""

    type: MetricType = MetricType.GAUGE
    description: str = ""
    units: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": str(self.type), "description": self.description}
        if self.units:
            out["units"] = self.units
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MetricMeta:
        kind = data.get("type", "gauge")
        try:
            metric_type = MetricType(kind)
        except ValueError as exc:
            raise ValueError(
                f"unknown metric type {kind!r}; accepted types: {MetricType.accepted()}"
            ) from exc
        return cls(
            type=metric_type,
            description=str(data.get("description") or ""),
            units=data.get("units"),
        )


@dataclass(frozen=True)
class HistBucket:
    """One bucket of a histogram metric: `count` observations in [lower, upper)."""

    lower: float
    upper: float
    count: int

    def to_dict(self) -> dict[str, Any]:
        return {"lower": self.lower, "upper": self.upper, "count": self.count}


def histogram_quantile(buckets: Sequence[HistBucket], percentile: float) -> float | None:
    """The `percentile` (0-100) of a bucketed histogram, interpolated linearly in its bucket."""
    total = sum(b.count for b in buckets)
    if total == 0:
        return None
    rank = percentile / 100.0 * total
    seen = 0
    for bucket in sorted(buckets, key=lambda b: b.lower):
        if bucket.count and seen + bucket.count >= rank:
            fraction = (rank - seen) / bucket.count
            return bucket.lower + fraction * (bucket.upper - bucket.lower)
        seen += bucket.count
    return max(b.upper for b in buckets)


def weighted_quantile(
    values: Sequence[float], counts: Sequence[int], percentile: float
) -> float | None:
    """The nearest-rank `percentile` (0-100) of values observed `counts` times each.

    The form of the http task's full-resolution latency summary (`http/latency-hdr`):
    the smallest value with at least `percentile`% of the observations at or below it.
    """
    total = sum(counts)
    if total <= 0:
        return None
    rank = max(1, math.ceil(percentile / 100.0 * total - 1e-9))
    seen = 0
    for value, count in sorted(zip(values, counts, strict=True)):
        seen += count
        if seen >= rank:
            return float(value)
    return float(max(values))


def fine_distribution(summary: Mapping[str, Any] | None) -> tuple[list[float], list[int]] | None:
    """(values, counts) from a full-resolution summary such as `http/latency-hdr`, if it is one."""
    if not summary:
        return None
    values, counts = summary.get("values"), summary.get("counts")
    if not isinstance(values, list) or not isinstance(counts, list) or len(values) != len(counts):
        return None
    return [float(v) for v in values], [int(c) for c in counts]


def sample_quantile(values: Sequence[float], percentile: float) -> float | None:
    """The `percentile` (0-100) of raw samples, by linear interpolation between order statistics."""
    if not values:
        return None
    ordered = sorted(values)
    position = percentile / 100.0 * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class MetricStore:
    """Metric metadata and per-version values."""

    version_names: list[str] = field(default_factory=list)
    info: dict[str, MetricMeta] = field(default_factory=dict)
    _scalars: dict[str, dict[int, list[float]]] = field(default_factory=dict)
    _histograms: dict[str, dict[int, list[HistBucket]]] = field(default_factory=dict)
    _samples: dict[str, dict[int, list[float]]] = field(default_factory=dict)
    _summaries: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)

    @property
    def num_versions(self) -> int:
        return len(self.version_names)

    def ensure_versions(self, count: int, names: Sequence[str] | None = None) -> None:
        """Grow to `count` versions; `names` (when given) name them, else `v1`, `v2`, ..."""
        if names is not None:
            for i, name in enumerate(names):
                if i < len(self.version_names):
                    self.version_names[i] = name
                else:
                    self.version_names.append(name)
        while len(self.version_names) < count:
            self.version_names.append(f"v{len(self.version_names) + 1}")

    def version_index(self, name_or_index: str | int) -> int | None:
        """The index of a version given by name (or by index, checked)."""
        if isinstance(name_or_index, int):
            return name_or_index if 0 <= name_or_index < self.num_versions else None
        try:
            return self.version_names.index(name_or_index)
        except ValueError:
            return None

    # -- writing ---------------------------------------------------------------

    def declare(self, name: str, meta: MetricMeta) -> str:
        """Record what a metric is; returns its canonical name."""
        name = canonical_metric_name(name)
        self.info[name] = meta
        return name

    def add_value(self, name: str, version: int, value: float) -> None:
        """Append a counter or gauge observation (the latest one is the metric's value)."""
        self._check_version(version)
        self._scalars.setdefault(canonical_metric_name(name), {}).setdefault(version, []).append(
            float(value)
        )

    def set_histogram(self, name: str, version: int, buckets: Iterable[HistBucket]) -> None:
        self._check_version(version)
        self._histograms.setdefault(canonical_metric_name(name), {})[version] = list(buckets)

    def add_samples(self, name: str, version: int, values: Iterable[float]) -> None:
        self._check_version(version)
        self._samples.setdefault(canonical_metric_name(name), {}).setdefault(version, []).extend(
            float(v) for v in values
        )

    def set_summary(self, name: str, version: int, summary: Mapping[str, Any]) -> None:
        self._check_version(version)
        self._summaries.setdefault(canonical_metric_name(name), {})[version] = dict(summary)

    def _check_version(self, version: int) -> None:
        if version < 0:
            raise ValueError(f"version index {version} is negative")
        if version >= self.num_versions:
            self.ensure_versions(version + 1)

    # -- reading ---------------------------------------------------------------

    def value(self, name: str, version: int) -> float | None:
        """The value of a scalar metric for a version, or None when there is no data.

        A percentile of a histogram or sample metric (`http/latency-p97.5`,
        `grpc/latency/p99`) is computed from it when not stored as a scalar.
        """
        name = canonical_metric_name(name)
        values = self._scalars.get(name, {}).get(version)
        if values:
            return values[-1]
        split = split_percentile(name)
        if split is None:
            return None
        base, percentile = split
        samples = self._samples.get(base, {}).get(version)
        if samples:
            return sample_quantile(samples, percentile)
        # a percentile nobody asked the load task for: the full-resolution summary
        # (within 1%) before the coarse display histogram
        fine = fine_distribution(self.summary(f"{base}{FINE_SUFFIX}", version))
        if fine is not None:
            return weighted_quantile(*fine, percentile)
        buckets = self._histograms.get(base, {}).get(version)
        if buckets:
            return histogram_quantile(buckets, percentile)
        return None

    def values(self, name: str) -> tuple[float | None, ...]:
        """The value of a scalar metric for every version (None where there is no data)."""
        return tuple(self.value(name, v) for v in range(self.num_versions))

    def units(self, name: str) -> str | None:
        meta = self.meta(name)
        return meta.units if meta is not None else None

    def histogram(self, name: str, version: int) -> list[HistBucket] | None:
        return self._histograms.get(canonical_metric_name(name), {}).get(version)

    def samples(self, name: str, version: int) -> list[float] | None:
        return self._samples.get(canonical_metric_name(name), {}).get(version)

    def summary(self, name: str, version: int) -> dict[str, Any] | None:
        return self._summaries.get(canonical_metric_name(name), {}).get(version)

    def meta(self, name: str) -> MetricMeta | None:
        name = canonical_metric_name(name)
        meta = self.info.get(name)
        if meta is None:
            split = split_percentile(name)
            if split is not None and split[0] in self.info:
                base = self.info[split[0]]
                return MetricMeta(MetricType.GAUGE, f"{base.description} ({name})", base.units)
        return meta

    def names(self) -> list[str]:
        """Every metric with metadata or values, sorted."""
        keys = set(self.info) | set(self._scalars) | set(self._histograms)
        keys |= set(self._samples) | set(self._summaries)
        return sorted(keys)

    # -- Iter8 insights ------------------------------------------------------------

    def to_insights(self) -> dict[str, Any]:
        """Iter8's insight fields for the metrics, one map per version."""
        n = self.num_versions
        out: dict[str, Any] = {
            "numVersions": n,
            "versionNames": list(self.version_names),
            "metricsInfo": {k: v.to_dict() for k, v in sorted(self.info.items())},
            "nonHistMetricValues": _per_version(self._scalars, n, list),
            "histMetricValues": _per_version(
                self._histograms, n, lambda bs: [b.to_dict() for b in bs]
            ),
        }
        if self._samples:
            out["sampleMetricValues"] = _per_version(self._samples, n, list)
        if self._summaries:
            out["summaryMetricValues"] = _per_version(self._summaries, n, dict)
        return out

    @classmethod
    def from_insights(cls, insights: Mapping[str, Any]) -> MetricStore:
        """The store of a result's insights, as iter8-py or Iter8 (v0.8-v0.14) wrote them."""
        store = cls()
        names = [version_name(n, i) for i, n in enumerate(insights.get("versionNames") or [])]
        store.ensure_versions(int(insights.get("numVersions") or len(names)), names)
        for name, meta in (insights.get("metricsInfo") or {}).items():
            store.info[name] = MetricMeta.from_dict(meta)
        for v, metrics in enumerate(insights.get("nonHistMetricValues") or []):
            for name, values in (metrics or {}).items():
                if store._is_sample(name):
                    # Iter8 kept a Sample metric's observations with the scalars
                    store.add_samples(name, v, values)
                    continue
                for value in values:
                    store.add_value(name, v, value)
        for v, metrics in enumerate(insights.get("histMetricValues") or []):
            for name, buckets in (metrics or {}).items():
                store.set_histogram(name, v, [HistBucket(**b) for b in buckets])
        for v, metrics in enumerate(insights.get("sampleMetricValues") or []):
            for name, values in (metrics or {}).items():
                store.add_samples(name, v, values)
        for v, metrics in enumerate(insights.get("summaryMetricValues") or []):
            for name, summary in (metrics or {}).items():
                store.set_summary(name, v, summary)
        # Iter8 v0.12-v0.14 wrote this field untagged, hence its Go name, each summary
        # as [count, sum, min, max, sum of squares] (`base/summarymetrics`)
        for v, metrics in enumerate(insights.get(ITER8_SUMMARY_VALUES) or []):
            for name, summary in (metrics or {}).items():
                store.set_summary(name, v, dict(zip(ITER8_SUMMARY_FIELDS, summary, strict=True)))
        return store

    def _is_sample(self, name: str) -> bool:
        meta = self.info.get(canonical_metric_name(name))
        return meta is not None and meta.type is MetricType.SAMPLE


ITER8_SUMMARY_VALUES = "SummaryMetricValues"
ITER8_SUMMARY_FIELDS = ("count", "sum", "min", "max", "sumSquares")


def version_name(entry: Any, index: int) -> str:
    """A version's name: a string (iter8-py), or Iter8's `{version, track}` (v0.12-v0.14),
    shown as Iter8 showed it (`TrackVersionStr`: "track (version)", either alone, or
    "version i" when both are empty)."""
    if not isinstance(entry, Mapping):
        return str(entry)
    version, track = str(entry.get("version") or ""), str(entry.get("track") or "")
    if version and track:
        return f"{track} ({version})"
    return track or version or f"version {index}"


def _per_version(
    table: Mapping[str, Mapping[int, Any]], n: int, convert: Any
) -> list[dict[str, Any]]:
    return [
        {name: convert(per[v]) for name, per in sorted(table.items()) if v in per} for v in range(n)
    ]
