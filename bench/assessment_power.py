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

Across runs (baselines, `iter8_action.baselines`): the same commit measured on
different runners differs by a per-run factor (runner-to-runner drift,
log-normal with sigma DRIFT = 5% by default). Each simulated pull request is
measured in one run and compared with K earlier runs of the base branch
through the real code path (`join.prepare`, the assessment, `noise.finish`),
with an SLO `http/latency-mean` maxIncreasePercent 10 against `main`:

- across-run A/A (the pull request changes nothing): how often the test alone
  calls it significantly slower, how often the rule (significant and outside
  the K runs' prediction interval) calls it a regression, and how often the
  gate fails, for K = 1, 3, 5;
- across-run power: the pull request 20% slower.

Usage (from the repository root, with the project's Python):

    python -m bench.assessment_power [--runs 1000] [--power-runs 300] [--seed 1]
    python -m bench.assessment_power --across-runs-only [--across-runs 500] [--drift 0.05]
    python -m bench.assessment_power --quick

Figures are simulation estimates; the interval printed is the 95% Wilson interval.
`--quick` runs every table on a handful of experiments (a smoke run of seconds).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from dataclasses import dataclass

import numpy as np

from iter8_action.assessment import AssessRules, assess, parse_spec
from iter8_action.metrics.store import HistBucket, MetricStore

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


@dataclass(frozen=True)
class AcrossRuns:
    """What one simulated pull request got against K baseline runs."""

    significant_slower: bool
    regression: bool
    gate_fails: bool


def across_runs(
    rng: np.random.Generator, *, k: int, n: int, drift: float, slowdown: float
) -> AcrossRuns:
    """One pull request (latencies x `slowdown`) against `k` runs of the base branch, each
    run on a runner whose speed differs by a log-normal factor of sigma `drift`."""
    from iter8_action.assessment.verdict import judge
    from iter8_action.baselines.join import prepare
    from iter8_action.baselines.model import BaselineRun, Baselines
    from iter8_action.baselines.noise import finish

    def one_run(scale: float) -> MetricStore:
        offset = float(np.exp(rng.normal(0.0, drift)))
        return simulate(rng, [Version(scale=scale * offset)], n, FINE)

    runs = tuple(BaselineRun("main", f"{i:07x}", "sim", one_run(1.0)) for i in range(k))
    baselines = Baselines("sim", runs, branch="main")
    store = one_run(slowdown)
    rules = AssessRules.parse(
        {
            "baseline": "main",
            "SLOs": {"upper": [{"metric": "http/latency-mean", "maxIncreasePercent": 10}]},
        }
    )
    rules, joined = prepare(rules, store, baselines)
    judged = judge(store, rules.resolve(store.version_names))
    ruled, insight = finish(judged, store, joined, baselines)
    [row] = insight["comparisons"]
    return AcrossRuns(
        significant_slower=bool(row["significant"]) and (row["change"] or 0) > 0,
        regression=bool(row["regression"]),
        gate_fails=not ruled.slos_hold(0),
    )


def across_runs_table(
    rng: np.random.Generator, *, runs: int, drift: float, slowdown: float, n: int = 1000
) -> None:
    print(
        "| K baseline runs | significant (test alone) | regression (test and noise) "
        "| gate fails (maxIncreasePercent 10) |"
    )
    print("| --- | --- | --- | --- |")
    for k in (1, 3, 5):
        got = [across_runs(rng, k=k, n=n, drift=drift, slowdown=slowdown) for _ in range(runs)]
        cells = [
            rate(sum(g.significant_slower for g in got), runs),
            rate(sum(g.regression for g in got), runs),
            rate(sum(g.gate_fails for g in got), runs),
        ]
        print(f"| {k} | {' | '.join(cells)} |")


def rate(hits: int, runs: int) -> str:
    low, high = wilson(hits, runs)
    return f"{hits / runs:5.1%} [{low:.1%}, {high:.1%}]"


def wilson(hits: int, runs: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion, without continuity correction (as
    SciPy's `binomtest(...).proportion_ci(method="wilson")`; Wilson, JASA 22, 1927)."""
    z = statistics.NormalDist().inv_cdf((1 + confidence) / 2)
    p = hits / runs
    center = (2 * runs * p + z * z) / (2 * (runs + z * z))
    half = z * math.sqrt(z * z + 4 * runs * p * (1 - p)) / (2 * (runs + z * z))
    return max(0.0, center - half), min(1.0, center + half)


@dataclass(frozen=True)
class Counts:
    """How many simulated experiments each row of a table runs."""

    runs: int
    """Per A/A row."""
    power_runs: int
    """Per power row."""
    across_runs: int
    """Pull requests per across-run row."""


QUICK = Counts(runs=10, power_runs=5, across_runs=2)
"""A smoke run: every table and row, on too few experiments for the figures to mean much."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000, help="experiments per A/A row")
    parser.add_argument("--power-runs", type=int, default=300, help="experiments per power row")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--across-runs", type=int, default=500, help="pull requests per across-run row"
    )
    parser.add_argument(
        "--drift", type=float, default=0.05, help="runner-to-runner sigma (log scale)"
    )
    parser.add_argument(
        "--across-runs-only", action="store_true", help="only the across-run tables"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK.runs}, {QUICK.power_runs} and {QUICK.across_runs} runs per row (a smoke run)",
    )
    args = parser.parse_args()
    counts = QUICK if args.quick else Counts(args.runs, args.power_runs, args.across_runs)
    rng = np.random.default_rng(args.seed)
    started = time.monotonic()
    if not args.across_runs_only:
        within_runs(rng, runs=counts.runs, power_runs=counts.power_runs)
    print(
        f"Across runs, A/A: the pull request changes nothing; runner drift sigma "
        f"{args.drift:.0%}, 1000 requests per run ({counts.across_runs} pull requests per row)"
    )
    across_runs_table(rng, runs=counts.across_runs, drift=args.drift, slowdown=1.0)
    print()
    print(f"Across runs, power: the pull request 20% slower ({counts.across_runs} per row)")
    across_runs_table(rng, runs=counts.across_runs, drift=args.drift, slowdown=1.2)
    print()
    print(f"({time.monotonic() - started:.0f} s)")


def within_runs(rng: np.random.Generator, *, runs: int, power_runs: int) -> None:
    a, b = Version(), Version(scale=1 / SHIFT, error_rate=BETTER_ERROR_RATE)

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
    print(f"B wins: A 10% slower than B, 2% errors against 1% ({power_runs} experiments per row)")
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
            lat, err, overall = experiments(rng, versions, n, power_runs, correction=correction)
            wins = [
                rate(sum(o.winner == 1 for o in outcomes), power_runs) for outcomes in (lat, err)
            ]
            won = rate(overall.count(1), power_runs)
            print(f"| {label} | {n} | {correction} | {wins[0]} | {wins[1]} | {won} |")
    print()


if __name__ == "__main__":
    main()
