"""Evidence that the assessment's statistics are right: false winners and power, by simulation.

Each simulated experiment fills a `MetricStore` the way the http task does
(a latency histogram, request and error counts, the latency mean) from known
distributions, runs the real assessment (`iter8_action.assessment.assess`)
with two rewards (min `http/latency-mean`, min `http/error-rate`) and records
whether a winner was declared on each, and which.

- A/A and A/A/A (identical versions): the rate of declared winners must stay at
  or below 1 - confidence (5%), within simulation error;
- A/B (A 10% slower than B, and with twice its error rate): the detection rate (power);
- A/B/C (B better, C identical to A): power with Holm's correction and without.

Besides declared winners, the A/A rows count experiments where any pair of
versions was called significantly different: that family-wise error is what
the correction bounds, and what grows without it.

Latency is log-normal (median 50 ms, sigma 0.5); A's latencies are B's times
1.1. Errors are Bernoulli: 2% for A, 1% for B.
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


@dataclass(frozen=True)
class Outcome:
    """What one simulated experiment concluded on one reward."""

    winner: int | None
    any_difference: bool
    """Some pair of versions was called significantly different (what the correction guards)."""


def experiments(
    rng: np.random.Generator,
    versions: list[Version],
    n: int,
    runs: int,
    *,
    correction: str = "holm",
    edges: np.ndarray = FINE,
) -> tuple[list[Outcome], list[Outcome], list[int | None]]:
    """Per simulated experiment: the outcome on latency, on error rate, and the overall winner."""
    names = [f"v{i + 1}" for i in range(len(versions))]
    spec = parse_spec(
        {"rewards": {"min": ["http/latency-mean", "http/error-rate"]}, "correction": correction},
        names,
    )
    latency, errors, overall = [], [], []
    for _ in range(runs):
        ours = assess(simulate(rng, versions, n, edges), spec)["assessment"]
        outcomes = [
            Outcome(r["winner"], any(c["significant"] for c in r["comparisons"]))
            for r in ours["rewards"]
        ]
        latency.append(outcomes[0])
        errors.append(outcomes[1])
        overall.append(ours["winner"]["version"])
    return latency, errors, overall


def rate(hits: int, runs: int) -> str:
    ci = stats.binomtest(hits, runs).proportion_ci(0.95, method="wilson")
    return f"{hits / runs:5.1%} [{ci.low:.1%}, {ci.high:.1%}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000, help="experiments per A/A row")
    parser.add_argument("--power-runs", type=int, default=300, help="experiments per power row")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.monotonic()
    a, b = Version(), Version(scale=1 / SHIFT, error_rate=BETTER_ERROR_RATE)
    runs = args.runs

    print(f"Identical versions, 1000 requests each ({runs} experiments per row)")
    print(
        "| versions | buckets | correction | latency: winner | latency: any pair differs "
        "| errors: winner | errors: any pair differs | overall winner |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, versions, edges, correction in (
        ("A/A", [a, a], FINE, "holm"),
        ("A/A", [a, a], COARSE, "holm"),
        ("A/A/A", [a, a, a], FINE, "holm"),
        ("A/A/A", [a, a, a], FINE, "none"),
    ):
        lat, err, overall = experiments(
            rng, versions, 1000, runs, correction=correction, edges=edges
        )
        cells = [
            rate(sum(o.winner is not None for o in outcomes), runs)
            + " | "
            + rate(sum(o.any_difference for o in outcomes), runs)
            for outcomes in (lat, err)
        ]
        won = rate(sum(w is not None for w in overall), runs)
        bucket = "1/128" if edges is FINE else "5%"
        print(f"| {label} | {bucket} | {correction} | {cells[0]} | {cells[1]} | {won} |")

    print()
    print(
        f"B wins: A 10% slower than B, 2% errors against 1% ({args.power_runs} experiments per row)"
    )
    print(
        "| versions | requests per version | correction | B wins on latency | B wins on errors "
        "| B is the overall winner |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for label, versions, correction in (
        ("A/B", [a, b], "holm"),
        ("A/B/C (C = A)", [a, b, Version()], "holm"),
        ("A/B/C (C = A)", [a, b, Version()], "none"),
    ):
        for n in SIZES:
            lat, err, overall = experiments(
                rng, versions, n, args.power_runs, correction=correction
            )
            wins = [
                rate(sum(o.winner == 1 for o in outcomes), args.power_runs)
                for outcomes in (lat, err)
            ]
            won = rate(overall.count(1), args.power_runs)
            print(f"| {label} | {n} | {correction} | {wins[0]} | {wins[1]} | {won} |")
    print()
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
