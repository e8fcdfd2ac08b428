"""Statistical comparison of two versions: tests, effect sizes, intervals, sample sizes.

Pure functions over plain data (no store, no I/O). The tests are SciPy's
definitions, computed by `hypothesis` on NumPy and the standard library (the
image does not carry SciPy):

- latency and other per-request distributions: Mann-Whitney U
  (as `scipy.stats.mannwhitneyu`, two-sided), the test Kayenta's judge uses. A
  histogram is expanded to its bucket mid-points, each repeated `count` times;
  every observation of a bucket is then tied with the others of that bucket,
  and the test ranks tied groups by their mid-rank and corrects the variance for
  ties, which is exactly the test on grouped data (no invented precision).
  Buckets must share their boundaries across versions (the http task writes
  them so); partially overlapping buckets are compared by their mid-points.
- error rates (errors out of requests): the two-proportion z-test, computed as
  the equivalent chi-square test on the 2x2 table without continuity
  correction (as `scipy.stats.chi2_contingency`, chi2 = z^2); when an expected
  cell count is below 5 the normal approximation is poor and Fisher's exact
  test (as `scipy.stats.fisher_exact`) is used instead.

Effects are relative differences `(candidate - baseline) / baseline` of the
metric itself (a mean, a percentile, a rate), with a confidence interval: for
distributions a bootstrap (Poisson resampling of the buckets, re-centred on the
exact point estimate); for rates the Katz interval of the rate ratio
(as `scipy.stats.contingency.relative_risk`) and Newcombe's hybrid score interval
of the difference (from Wilson intervals, as `scipy.stats.binomtest`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from iter8_action.assessment.hypothesis import (
    chi2_2x2,
    fisher_exact,
    mann_whitney_u,
    norm_ppf,
    relative_risk_interval,
    wilson_interval,
)
from iter8_action.metrics.store import HistBucket

FloatArray = npt.NDArray[np.float64]

BOOTSTRAP_REPLICATES = 1000
BOOTSTRAP_SEED = 20260401
MAX_BOOTSTRAP_ATOMS = 1000
"""Samples with more distinct values are binned into this many equal-count buckets to bootstrap."""
POWER = 0.8
"""The power the `moreRequestsNeeded` estimate aims at."""


@dataclass(frozen=True)
class Distribution:
    """Per-request observations of one version: buckets (a sample is a zero-width bucket)."""

    lower: FloatArray
    upper: FloatArray
    counts: FloatArray
    raw: FloatArray | None = None
    """The raw samples, when the data came as samples (the test uses them as they are)."""

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @property
    def midpoints(self) -> FloatArray:
        return (self.lower + self.upper) / 2.0

    def observations(self) -> FloatArray:
        """One value per observation: the raw samples, or bucket mid-points repeated."""
        if self.raw is not None:
            return self.raw
        return np.repeat(self.midpoints, self.counts.astype(np.int64))

    @classmethod
    def from_histogram(cls, buckets: Sequence[HistBucket]) -> Distribution:
        ordered = sorted((b for b in buckets if b.count > 0), key=lambda b: (b.lower, b.upper))
        return cls(
            lower=np.array([b.lower for b in ordered], dtype=np.float64),
            upper=np.array([b.upper for b in ordered], dtype=np.float64),
            counts=np.array([b.count for b in ordered], dtype=np.float64),
        )

    @classmethod
    def from_weighted(cls, values: Sequence[float], counts: Sequence[int]) -> Distribution:
        """Values each observed `counts` times (a full-resolution latency summary)."""
        return cls.from_samples(np.repeat(np.asarray(values, dtype=np.float64), counts))

    @classmethod
    def from_samples(cls, samples: Sequence[float] | FloatArray) -> Distribution:
        raw = np.asarray(samples, dtype=np.float64)
        values, counts = np.unique(raw, return_counts=True)
        if len(values) <= MAX_BOOTSTRAP_ATOMS:
            return cls(values, values.copy(), counts.astype(np.float64), raw)
        edges = np.unique(np.quantile(raw, np.linspace(0.0, 1.0, MAX_BOOTSTRAP_ATOMS + 1)))
        binned, _ = np.histogram(raw, bins=edges)
        return cls(edges[:-1], edges[1:], binned.astype(np.float64), raw)


def distribution_statistic(dist: Distribution, statistic: str, counts: FloatArray) -> FloatArray:
    """`statistic` ("mean" or "pXX") of the distribution re-weighted by `counts` (shape (B, k)).

    Percentiles interpolate linearly inside their bucket, as `histogram_quantile` does.
    """
    totals = counts.sum(axis=1)
    if statistic == "mean":
        result: FloatArray = (counts * dist.midpoints).sum(axis=1) / totals
        return result
    rank = float(statistic[1:]) / 100.0 * totals
    cumulative = np.cumsum(counts, axis=1)
    index = ((cumulative >= rank[:, None]) & (counts > 0)).argmax(axis=1)
    rows = np.arange(counts.shape[0])
    in_bucket = counts[rows, index]
    seen = cumulative[rows, index] - in_bucket
    fraction = np.divide(rank - seen, in_bucket, out=np.zeros_like(rank), where=in_bucket > 0)
    width = dist.upper[index] - dist.lower[index]
    values: FloatArray = dist.lower[index] + fraction * width
    return values


@dataclass(frozen=True)
class PairTest:
    """One version tested against another on one metric (its record in a result is
    `iter8_action.results.insights.Comparison`)."""

    version: int
    baseline: int
    test: str
    """mann-whitney-u | two-proportion-z | fisher-exact | plain"""
    value: float | None
    baseline_value: float | None
    statistic: float | None = None
    p_value: float | None = None
    adjusted_p_value: float | None = None
    effect: float | None = None
    """Relative difference (candidate - baseline) / baseline."""
    ci_low: float | None = None
    ci_high: float | None = None
    difference: float | None = None
    """Absolute difference candidate - baseline, in the metric's units."""
    difference_ci_low: float | None = None
    difference_ci_high: float | None = None
    direction: int = 0
    """The sign of the difference the test sees: +1 candidate higher, -1 lower, 0 none."""
    sizes: tuple[int, int] = (0, 0)
    """Observations (requests) of the candidate and of the baseline."""
    significant: bool | None = None
    more_requests_needed: int | None = None
    note: str | None = None
    """Why the comparison is not significant, when it is not."""

    @property
    def statistical(self) -> bool:
        return self.test != "plain"


def relative_effect(value: float | None, baseline: float | None) -> float | None:
    if value is None or baseline is None or baseline == 0:
        return None
    return (value - baseline) / abs(baseline)


def plain_comparison(
    version: int, baseline: int, value: float | None, baseline_value: float | None
) -> PairTest:
    """Single observed values: the difference only, no significance claimed."""
    difference = None if value is None or baseline_value is None else value - baseline_value
    return PairTest(
        version=version,
        baseline=baseline,
        test="plain",
        value=value,
        baseline_value=baseline_value,
        effect=relative_effect(value, baseline_value),
        difference=difference,
        direction=0 if not difference else int(math.copysign(1, difference)),
    )


@dataclass(frozen=True)
class Bootstrap:
    """Bootstrap replicates of a statistic of one version, and its bucketed point estimate.

    Resampling is the Poisson bootstrap (each observation drawn Poisson(1)
    times, so a bucket of c observations Poisson(c) times): asymptotically the
    same as the multinomial bootstrap and vectorised over buckets, which keeps
    it fast at any number of requests. Each version is resampled once per
    metric and its replicates reused in every comparison it takes part in.
    """

    replicates: FloatArray
    point: float


def bootstrap(dist: Distribution, statistic: str, rng: np.random.Generator) -> Bootstrap:
    counts = rng.poisson(dist.counts, size=(BOOTSTRAP_REPLICATES, len(dist.counts)))
    counts[counts.sum(axis=1) == 0, 0] = 1  # an empty replicate (tiny n) has no statistic
    replicates = distribution_statistic(dist, statistic, counts.astype(np.float64))
    point = float(distribution_statistic(dist, statistic, dist.counts[None, :])[0])
    return Bootstrap(replicates, point)


def compare_distributions(
    *,
    version: int,
    baseline: int,
    candidate: Distribution,
    reference: Distribution,
    statistic: str,
    value: float | None,
    baseline_value: float | None,
    confidence: float,
    resampled: tuple[Bootstrap, Bootstrap] | None = None,
) -> PairTest:
    """Mann-Whitney U on the whole distributions; effect and bootstrap CI of `statistic`.

    `resampled` are the versions' bootstraps when the caller shares them
    across comparisons; else they are drawn here.
    """
    x, y = candidate.observations(), reference.observations()
    u, p_value = mann_whitney_u(x, y)
    superiority = u / float(len(x) * len(y))  # P(candidate > baseline) + P(tie) / 2
    direction = 0 if superiority == 0.5 else (1 if superiority > 0.5 else -1)
    if resampled is None:
        rng = np.random.default_rng(BOOTSTRAP_SEED)
        resampled = (bootstrap(candidate, statistic, rng), bootstrap(reference, statistic, rng))
    value = resampled[0].point if value is None else value
    baseline_value = resampled[1].point if baseline_value is None else baseline_value
    ci = _bootstrap_intervals(
        *resampled, value=value, baseline_value=baseline_value, confidence=confidence
    )
    return PairTest(
        version=version,
        baseline=baseline,
        test="mann-whitney-u",
        value=value,
        baseline_value=baseline_value,
        statistic=u,
        p_value=p_value if not math.isnan(p_value) else 1.0,
        effect=relative_effect(value, baseline_value),
        ci_low=ci[0],
        ci_high=ci[1],
        difference=value - baseline_value,
        difference_ci_low=ci[2],
        difference_ci_high=ci[3],
        direction=direction,
        sizes=(candidate.n, reference.n),
    )


def _bootstrap_intervals(
    candidate: Bootstrap,
    reference: Bootstrap,
    *,
    value: float,
    baseline_value: float,
    confidence: float,
) -> tuple[float | None, float | None, float | None, float | None]:
    """Percentile intervals of the ratio and the difference, re-centred on the exact estimates.

    The bucketed statistic can differ a little from the exact one the store
    holds, so the bootstrap spread is measured around the bucketed estimate and
    applied to the exact one.
    """
    tail = (1.0 - confidence) / 2.0
    cand, ref = candidate.replicates, reference.replicates
    diff = (cand - ref) - (candidate.point - reference.point) + (value - baseline_value)
    d_low, d_high = (float(q) for q in np.quantile(diff, [tail, 1.0 - tail]))
    if baseline_value == 0 or reference.point <= 0 or candidate.point <= 0 or np.any(ref <= 0):
        return None, None, d_low, d_high
    log_ratio = np.log(np.maximum(cand, 1e-300) / ref) - math.log(candidate.point / reference.point)
    exact = value / baseline_value
    low, high = (float(q) for q in np.quantile(log_ratio, [tail, 1.0 - tail]))
    return exact * math.exp(low) - 1.0, exact * math.exp(high) - 1.0, d_low, d_high


def _mann_whitney_sample_size(superiority: float, confidence: float) -> int | None:
    """Requests per version for the Mann-Whitney test to detect the observed effect.

    Noether's (1987) formula with equal allocation: N = (z_a + z_b)^2 / (3 (P - 1/2)^2) in all.
    """
    if superiority == 0.5:
        return None
    z = norm_ppf(1.0 - (1.0 - confidence) / 2.0) + norm_ppf(POWER)
    return math.ceil(float(z**2 / (3.0 * (superiority - 0.5) ** 2) / 2.0))


def compare_proportions(
    *,
    version: int,
    baseline: int,
    events: tuple[int, int],
    totals: tuple[int, int],
    confidence: float,
) -> PairTest:
    """Compare two rates `events / totals` (candidate first, then baseline)."""
    (e1, e0), (n1, n0) = events, totals
    p1, p0 = e1 / n1, e0 / n0
    table = np.array([[e1, n1 - e1], [e0, n0 - e0]], dtype=np.float64)
    margins = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    if e1 + e0 == 0 or e1 + e0 == n1 + n0:
        name, statistic, p_value = "two-proportion-z", 0.0, 1.0
    elif margins.min() < 5:
        odds_ratio, p_value = fisher_exact([[e1, n1 - e1], [e0, n0 - e0]])
        name, statistic = "fisher-exact", odds_ratio
    else:
        chi2, p_value = chi2_2x2(table)
        name, statistic = "two-proportion-z", math.sqrt(chi2) * (1 if p1 >= p0 else -1)
    d_low, d_high = _newcombe_interval(e1, n1, e0, n0, confidence)
    ci_low = ci_high = None
    if e1 > 0 and e0 > 0:
        low, high = relative_risk_interval(e1, n1, e0, n0, confidence)
        ci_low, ci_high = low - 1.0, high - 1.0
    return PairTest(
        version=version,
        baseline=baseline,
        test=name,
        value=p1,
        baseline_value=p0,
        statistic=statistic,
        p_value=min(p_value, 1.0),
        effect=relative_effect(p1, p0),
        ci_low=ci_low,
        ci_high=ci_high,
        difference=p1 - p0,
        difference_ci_low=d_low,
        difference_ci_high=d_high,
        direction=0 if p1 == p0 else (1 if p1 > p0 else -1),
        sizes=(n1, n0),
    )


def _wilson(events: int, total: int, confidence: float) -> tuple[float, float]:
    return wilson_interval(events, total, confidence)


def _newcombe_interval(
    e1: int, n1: int, e0: int, n0: int, confidence: float
) -> tuple[float, float]:
    """Newcombe's (1998) hybrid score interval for p1 - p0 (his method 10)."""
    p1, p0 = e1 / n1, e0 / n0
    l1, u1 = _wilson(e1, n1, confidence)
    l0, u0 = _wilson(e0, n0, confidence)
    d = p1 - p0
    return d - math.hypot(p1 - l1, u0 - p0), d + math.hypot(u1 - p1, p0 - l0)


def _proportion_sample_size(p1: float, p0: float, confidence: float) -> int | None:
    """Requests per version for the two-proportion z-test to detect the observed difference."""
    if p1 == p0:
        return None
    z_a = norm_ppf(1.0 - (1.0 - confidence) / 2.0)
    z_b = norm_ppf(POWER)
    pooled = (p1 + p0) / 2.0
    spread = z_a * math.sqrt(2 * pooled * (1 - pooled)) + z_b * math.sqrt(
        p1 * (1 - p1) + p0 * (1 - p0)
    )
    return math.ceil(float(spread**2 / (p1 - p0) ** 2))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (controls the family-wise error rate)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


CORRECTIONS = ("holm", "bonferroni", "none")


def adjust(
    comparisons: Sequence[PairTest],
    *,
    confidence: float,
    correction: str,
    min_requests: int,
) -> list[PairTest]:
    """Correct a family of comparisons for multiplicity and decide which are significant.

    Plain comparisons pass through untouched. A comparison that is not
    significant gets a rough estimate of the requests still to add per version
    (80% power for the effect observed, at the strictest step of the correction).
    """
    alpha = 1.0 - confidence
    tested = {
        i: c.p_value for i, c in enumerate(comparisons) if c.statistical and c.p_value is not None
    }
    raw = list(tested.values())
    m = len(raw)
    if correction == "holm":
        adjusted = holm(raw)
    elif correction == "bonferroni":
        adjusted = [min(1.0, p * m) for p in raw]
    else:
        adjusted = raw
    out = list(comparisons)
    for i, p in zip(tested, adjusted, strict=True):
        out[i] = _decide(
            comparisons[i],
            p,
            alpha=alpha,
            family=m,
            correction=correction,
            min_requests=min_requests,
        )
    return out


def _decide(
    c: PairTest, adjusted: float, *, alpha: float, family: int, correction: str, min_requests: int
) -> PairTest:
    smallest = min(c.sizes)
    note: str | None = None
    if smallest < min_requests:
        note = (
            f"too few requests ({smallest}; at least {min_requests} are needed per version, "
            "see minRequests)"
        )
    elif adjusted >= alpha:
        note = f"difference within noise ({format_p(adjusted)}, not below {alpha:g})"
    elif c.difference and c.direction and (c.difference > 0) != (c.direction > 0):
        note = "the distributions differ, but this statistic moves the other way"
    significant = note is None
    more = None
    if not significant:
        level = 1.0 - alpha / family if correction != "none" else 1.0 - alpha
        needed = _sample_size(c, level)
        if needed is None and smallest < min_requests:
            needed = min_requests
        more = None if needed is None else max(1, max(needed, min_requests) - smallest)
    return replace(
        c, adjusted_p_value=adjusted, significant=significant, note=note, more_requests_needed=more
    )


def _sample_size(c: PairTest, confidence: float) -> int | None:
    """Requests per version for the test of `c` to detect its observed effect at `confidence`."""
    if c.test == "mann-whitney-u" and c.statistic is not None:
        superiority = c.statistic / (c.sizes[0] * c.sizes[1])
        return _mann_whitney_sample_size(superiority, confidence)
    if c.value is None or c.baseline_value is None:  # pragma: no cover - rates always have both
        return None
    return _proportion_sample_size(c.value, c.baseline_value, confidence)


def format_p(p: float) -> str:
    """A p-value for people: "p=0.032", "p=4.1e-05", "p<1e-12"."""
    if p < 1e-12:
        return "p<1e-12"
    if p < 0.001:
        return f"p={p:.1e}"
    return f"p={p:.2g}" if p < 0.01 else f"p={p:.3g}"
