"""Metric names: Iter8's aliases and spellings resolved to one canonical name.

Iter8 spelled the same built-in metric several ways over its releases
(`built-in/p95`, `built-in/p95.0`, `built-in/http-latency-p95`,
`http/latency-p95.0`); every one of them resolves here, in one place, so that
the loader and the metric store agree.
"""

from __future__ import annotations

import re

_PERCENTILE = re.compile(r"^p(\d+(?:\.\d+)?)$")

# Iter8 v0.8-v0.10 names under `built-in/` and their current `http/` names.
_BUILTIN_ALIASES = {
    "request-count": "request-count",
    "error-count": "error-count",
    "error-rate": "error-rate",
    "mean-latency": "latency-mean",
    "latency-mean": "latency-mean",
    "stddev-latency": "latency-stddev",
    "min-latency": "latency-min",
    "max-latency": "latency-max",
    "latency": "latency",
}


def percentile_suffix(value: float) -> str:
    """`95.0` -> `95`, `99.90` -> `99.9`: the spelling used in metric names."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def _normal_percentile(word: str) -> str | None:
    match = _PERCENTILE.match(word)
    if match is None:
        return None
    return "p" + percentile_suffix(float(match.group(1)))


def _builtin(rest: str) -> str:
    for prefix in ("http-", "http/"):
        if rest.startswith(prefix):
            rest = rest[len(prefix) :]
    if rest.startswith("latency-"):
        pct = _normal_percentile(rest[len("latency-") :])
        if pct is not None:
            return f"http/latency-{pct}"
    pct = _normal_percentile(rest)
    if pct is not None:
        return f"http/latency-{pct}"
    return "http/" + _BUILTIN_ALIASES.get(rest, rest)


def canonical_metric_name(name: str) -> str:
    """The one name a metric is stored under, whatever Iter8 release spelled it."""
    name = name.strip()
    if name.startswith("built-in/"):
        return _builtin(name[len("built-in/") :])
    provider, sep, metric = name.partition("/")
    if not sep:
        return name
    if provider == "http" or provider.startswith("http-"):
        if metric.startswith("latency-"):
            pct = _normal_percentile(metric[len("latency-") :])
            if pct is not None:
                return f"{provider}/latency-{pct}"
        return name
    # grpc/latency/p95.0 and any `<provider>/<metric>/pX` aggregation of a sample metric
    head, slash, tail = metric.rpartition("/")
    if slash:
        pct = _normal_percentile(tail)
        if pct is not None:
            return f"{provider}/{head}/{pct}"
    return name


def split_percentile(name: str) -> tuple[str, float] | None:
    """`http/latency-p97.5` -> (`http/latency`, 97.5); `grpc/latency/p99` -> (`grpc/latency`, 99).

    None when the name is not a percentile of a latency histogram or sample metric.
    """
    for sep in ("-", "/"):
        base, found, tail = name.rpartition(sep + "p")
        if found and base:
            try:
                return base, float(tail)
            except ValueError:
                continue
    return None
