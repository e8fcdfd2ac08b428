"""Evidence that the assessment's statistics are right: false winners and power, by simulation.

Each simulated experiment fills a `MetricStore` the way the http task does
(a latency histogram, request and error counts, the latency mean) from known
distributions, runs the real assessment (`iter8_action.assessment.assess`)
with two rewards (min `http/latency-mean`, min `http/error-rate`) and records
whether a winner was declared on each, and which.

- A/A and A/A/A (identical versions): the rate of declared winners must stay at
  or below 1 - confidence (5%), within simulation error;
- A/B (B 10% faster, and with half the error rate): the detection rate (power);
- A/B/C (B better, C identical to A): power with Holm's correction, and the
  false-winner rate of A/A/A without it, to show why the correction is there.

Latency is log-normal (median 50 ms, sigma 0.5); a 10% shift multiplies every
latency by 1.1. Errors are Bernoulli: 2% for A, 1% for the better version.
Histograms use buckets 1/128 of their lower bound wide (like the http task's
HDR histogram) or, with --coarse, 5% wide, to show that heavy ties do not
inflate false winners.

Usage: python bench/assessment_power.py [--runs 1000] [--power-runs 300] [--seed 1]
Figures are simulation estimates; the interval printed is the 95% Wilson interval.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from iter8_action.assessment import assess, parse_spec
from iter8_action.metrics import HistBucket, MetricStore

MEDIAN_MS = 50.0
SIGMA = 0.5
ERROR_RATE = 0.02
BETTER_ERROR_RATE = 0.01
SHIFT = 1.10
SIZES = (100, 300, 1000, 3000)


def bucket_edges(ratio: float) -> np.ndarray:
    return np.geomspace(0.5, 20_000.0, int(np.log(40_000) / np.log(ratio)) + 1)


FINE = bucket_edges(1 + 1 / 128)
COARSE = bucket_edges(1.05)


@dataclass(frozen=True)
class Version:
    scale: float = 1.0
    error_rate: float = ERROR_RATE


def simulate(
    rng: np.random.Generator, versions: list[Version], n: int, edges: np.ndarray
) -> MetricStore:
    store = MetricStore()
    store.ensure_versions(len(versions))
    for v, version in enumerate(versions):
        latencies = rng.lognormal(np.log(MEDIAN_MS * version.scale), SIGMA, n)
        counts, _ = np.histogram(np.clip(latencies, edges[0], edges[-1] * 0.999), edges)
        store.set_histogram(
            "http/latency",
            v,
            [
                HistBucket(float(edges[i]), float(edges[i + 1]), int(c))
                for i, c in enumerate(counts)
                if c
            ],
        )
        store.add_value("http/latency-mean", v, float(latencies.mean()))
        errors = int(rng.binomial(n, version.error_rate))
        store.add_value("http/request-count", v, n)
        store.add_value("http/error-count", v, errors)
        store.add_value("http/error-rate", v, errors / n)
    return store


def winners(
    rng: np.random.Generator,
    versions: list[Version],
    n: int,
    runs: int,
    *,
    correction: str = "holm",
    edges: np.ndarray = FINE,
) -> tuple[list[int | None], list[int | None]]:
    """The winner declared on latency and on error rate, per simulated experiment."""
    names = [f"v{i + 1}" for i in range(len(versions))]
    spec = parse_spec(
        {"rewards": {"min": ["http/latency-mean", "http/error-rate"]}, "correction": correction},
        names,
    )
    latency, errors = [], []
    for _ in range(runs):
        insights = assess(simulate(rng, versions, n, edges), spec)
        won = insights["rewardsWinners"]["min"]
        latency.append(None if won[0] < 0 else won[0])
        errors.append(None if won[1] < 0 else won[1])
    return latency, errors


def rate(hits: int, runs: int) -> str:
    ci = stats.binomtest(hits, runs).proportion_ci(0.95, method="wilson")
    return f"{hits / runs:6.1%} [{ci.low:5.1%}, {ci.high:5.1%}]"


def declared(won: list[int | None]) -> int:
    return sum(w is not None for w in won)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000, help="experiments for A/A and A/A/A")
    parser.add_argument("--power-runs", type=int, default=300, help="experiments per power row")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.monotonic()
    a, b = Version(), Version(scale=1 / SHIFT, error_rate=BETTER_ERROR_RATE)

    print(
        f"False winners with identical versions ({args.runs} experiments each, n=1000 per version)"
    )
    print(
        "| versions | buckets | correction | latency winner declared | error-rate winner declared |"
    )
    print("| --- | --- | --- | --- | --- |")
    for label, versions, edges, correction in (
        ("A/A", [a, a], FINE, "holm"),
        ("A/A", [a, a], COARSE, "holm"),
        ("A/A/A", [a, a, a], FINE, "holm"),
        ("A/A/A", [a, a, a], FINE, "none"),
    ):
        lat, err = winners(rng, versions, 1000, args.runs, correction=correction, edges=edges)
        bucket = "1/128" if edges is FINE else "5%"
        print(
            f"| {label} | {bucket} | {correction} | {rate(declared(lat), args.runs)} "
            f"| {rate(declared(err), args.runs)} |"
        )

    print()
    print(
        f"Power: B 10% faster and half the error rate of A ({args.power_runs} experiments per row)"
    )
    print("| versions | requests per version | correction | B wins on latency | B wins on errors |")
    print("| --- | --- | --- | --- | --- |")
    c = Version()
    for label, versions, correction in (
        ("A/B", [a, b], "holm"),
        ("A/B/C (C = A)", [a, b, c], "holm"),
        ("A/B/C (C = A)", [a, b, c], "none"),
    ):
        for n in SIZES:
            lat, err = winners(rng, versions, n, args.power_runs, correction=correction)
            print(
                f"| {label} | {n} | {correction} | {rate(lat.count(1), args.power_runs)} "
                f"| {rate(err.count(1), args.power_runs)} |"
            )
    print()
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
