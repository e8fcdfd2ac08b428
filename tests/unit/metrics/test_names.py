from __future__ import annotations

import pytest

from iter8_action.metrics.names import canonical_metric_name, percentile_suffix, split_percentile


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("built-in/error-rate", "http/error-rate"),
        ("built-in/error-count", "http/error-count"),
        ("built-in/request-count", "http/request-count"),
        ("built-in/mean-latency", "http/latency-mean"),
        ("built-in/max-latency", "http/latency-max"),
        ("built-in/p95", "http/latency-p95"),
        ("built-in/p95.0", "http/latency-p95"),
        ("built-in/p99.90", "http/latency-p99.9"),
        ("built-in/http-latency-p95", "http/latency-p95"),
        ("built-in/http-latency-mean", "http/latency-mean"),
        ("built-in/http-error-rate", "http/error-rate"),
        ("http/latency-p95.0", "http/latency-p95"),
        ("http/latency-p97.5", "http/latency-p97.5"),
        ("http-login/latency-p50.00", "http-login/latency-p50"),
        ("http/error-rate", "http/error-rate"),
        ("grpc/latency/p95.0", "grpc/latency/p95"),
        ("my-prom/request-count", "my-prom/request-count"),
        ("plain", "plain"),
        (" http/latency-p95 ", "http/latency-p95"),
    ],
)
def test_canonical_names(name: str, canonical: str) -> None:
    assert canonical_metric_name(name) == canonical
    assert canonical_metric_name(canonical) == canonical


@pytest.mark.parametrize(
    ("name", "split"),
    [
        ("http/latency-p97.5", ("http/latency", 97.5)),
        ("grpc/latency/p99", ("grpc/latency", 99.0)),
        ("http/error-rate", None),
        ("my-prometheus/x", None),
    ],
)
def test_split_percentile(name: str, split: tuple[str, float] | None) -> None:
    assert split_percentile(name) == split


def test_percentile_suffix() -> None:
    assert [percentile_suffix(v) for v in (95.0, 99.9, 97.25, 0.0)] == ["95", "99.9", "97.25", "0"]
