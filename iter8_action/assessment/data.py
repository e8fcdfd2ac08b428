"""What the store holds about a metric, per version: its value and any per-request data.

Per-request data makes a statistical comparison possible:

- `<provider>/error-rate` with `<provider>/request-count` and
  `<provider>/error-count`: a proportion (errors out of requests);
- `<base>-mean`, `<base>-pXX`, `<base>/mean`, `<base>/pXX` where `<base>` has
  samples or a histogram (`http/latency`, `grpc/latency`): that statistic of a
  distribution;
- a metric that itself has samples or a histogram: the mean of that distribution.

Anything else (a gauge from a backend, a count) has one value per version and
is compared plainly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from iter8_action.assessment.statistics import Distribution, distribution_statistic
from iter8_action.metrics.names import canonical_metric_name
from iter8_action.metrics.store import FINE_SUFFIX, MetricStore, fine_distribution

_STATISTIC = re.compile(r"^(?:mean|p(\d+(?:\.\d+)?))$")
ERROR_RATE = "error-rate"


@dataclass(frozen=True)
class MetricData:
    """One metric across the versions of a run."""

    metric: str
    values: tuple[float | None, ...]
    distributions: tuple[Distribution | None, ...]
    proportions: tuple[tuple[int, int] | None, ...]
    """(errors, requests) per version, for an error rate."""
    statistic: str
    """The statistic of the distribution the metric is ("mean", "p95"), or "" when none."""

    def with_value(self) -> list[int]:
        return [v for v, value in enumerate(self.values) if value is not None]


def metric_data(store: MetricStore, metric: str) -> MetricData:
    metric = canonical_metric_name(metric)
    n = store.num_versions
    base, statistic = _distribution_of(store, metric)
    values: list[float | None] = []
    distributions: list[Distribution | None] = []
    proportions: list[tuple[int, int] | None] = []
    for v in range(n):
        dist = _distribution(store, base, v) if base else None
        proportion = _proportion(store, metric, v)
        value = store.value(metric, v)
        if value is None and dist is not None:
            value = float(distribution_statistic(dist, statistic, dist.counts[None, :])[0])
        if value is None and proportion is not None:
            value = proportion[0] / proportion[1]
        values.append(value)
        distributions.append(dist)
        proportions.append(proportion)
    return MetricData(metric, tuple(values), tuple(distributions), tuple(proportions), statistic)


def _distribution_of(store: MetricStore, metric: str) -> tuple[str, str]:
    """The distribution metric and the statistic of it that `metric` names, if any."""
    if _has_distribution(store, metric):
        return metric, "mean"
    for sep in ("-", "/"):
        base, found, tail = metric.rpartition(sep)
        match = _STATISTIC.match(tail)
        if found and base and match and _has_distribution(store, base):
            statistic = "mean" if match.group(1) is None else "p" + match.group(1)
            return base, statistic
    return "", ""


def _has_distribution(store: MetricStore, name: str) -> bool:
    return any(
        store.samples(name, v) or store.histogram(name, v) for v in range(store.num_versions)
    )


def _distribution(store: MetricStore, base: str, version: int) -> Distribution | None:
    samples = store.samples(base, version)
    if samples:
        return Distribution.from_samples(samples)
    # the http task keeps its latencies at full resolution beside the display histogram
    fine = fine_distribution(store.summary(base + FINE_SUFFIX, version))
    if fine is not None and sum(fine[1]) > 0:
        return Distribution.from_weighted(*fine)
    buckets = store.histogram(base, version)
    if buckets and sum(b.count for b in buckets) > 0:
        return Distribution.from_histogram(buckets)
    return None


def _proportion(store: MetricStore, metric: str, version: int) -> tuple[int, int] | None:
    prefix, sep, name = metric.rpartition("/")
    if not sep or name != ERROR_RATE:
        return None
    requests = store.value(f"{prefix}/request-count", version)
    errors = store.value(f"{prefix}/error-count", version)
    if requests is None or errors is None or requests <= 0 or not 0 <= errors <= requests:
        return None
    return int(errors), int(requests)
