"""Run-to-run noise, the regression rule, and the "vs <branch>" comparisons of a run.

Runners differ: the same commit measured on two runners differs by more than
the per-request statistics of one run can see, and with thousands of requests
a test finds any such difference significant. So a change against the
baseline is a regression only when both hold:

1. the statistical test finds it (significant at the assess task's confidence,
   after its multiplicity correction), and
2. this run's value lies beyond the one-sided prediction bound of the last K
   baseline runs' values, on the worse side: mean ± t(K-1) · s · sqrt(1 + 1/K),
   at the same confidence (s: the standard deviation between those runs). A new
   run of an unchanged commit stays within it as often as the confidence says.

With one baseline (K = 1) the noise cannot be measured and only the test
decides. A violated relative SLO against the baseline that is not a
regression by this rule is satisfied, with the reason in its note; a violated
absolute limit stays violated.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from iter8_action.assessment.comparisons import compare_family, effect_label
from iter8_action.assessment.data import metric_data
from iter8_action.assessment.slos import SloJudgement, SloVerdict
from iter8_action.assessment.spec import UPPER
from iter8_action.assessment.statistics import PairTest
from iter8_action.assessment.verdict import Assessment
from iter8_action.baselines.join import Joined
from iter8_action.baselines.model import Baselines
from iter8_action.metrics.store import MetricStore
from iter8_action.results.insights import MAX, SloStatus

RULE = (
    "a regression is worse than the baseline, significant, and beyond the one-sided "
    "prediction bound of the last K baseline runs' values (mean ± t·s·sqrt(1 + 1/K))"
)


def run_values(baselines: Baselines, metric: str) -> list[float]:
    """The metric's value in each baseline run (its own baseline version), newest first."""
    out = []
    for run in baselines.runs:
        values = metric_data(run.store, metric).values
        value = values[run.baseline_version] if run.baseline_version < len(values) else None
        if value is not None and math.isfinite(value):
            out.append(value)
    return out


@dataclass(frozen=True)
class Band:
    """The one-sided prediction bound of a metric's value in a new run, from K earlier runs:
    `mean + half_width` (or `mean - half_width` when lower is worse)."""

    mean: float
    half_width: float
    runs: int

    @property
    def relative(self) -> float | None:
        """The half-width as a fraction of the mean ("±4.2%")."""
        return self.half_width / abs(self.mean) if self.mean else None

    def beyond(self, value: float, worse_when: str) -> bool:
        if worse_when == "higher":
            return value > self.mean + self.half_width
        return value < self.mean - self.half_width


def band(values: Sequence[float], confidence: float) -> Band | None:
    """The prediction bound of a new run's value at `confidence`; None below two runs."""
    if len(values) < 2:
        return None
    k = len(values)
    t = t_quantile(confidence, k - 1)  # one-sided: only the worse side is flagged
    half = t * statistics.stdev(values) * math.sqrt(1 + 1 / k)
    return Band(statistics.fmean(values), half, k)


def t_quantile(p: float, df: int) -> float:
    """Student's t quantile for an integer `df` (what `scipy.stats.t.ppf` gives), found by
    bisection on the closed-form CDF of Abramowitz & Stegun 26.7.3-4 (no SciPy in the image)."""
    if not 0.5 <= p < 1 or df < 1:
        raise ValueError(f"t_quantile: p={p} (0.5 to 1) and df={df} (1 or more)")
    low, high = 0.0, 1.0
    while _t_cdf(high, df) < p:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if _t_cdf(mid, df) < p else (low, mid)
    return (low + high) / 2


def _t_cdf(t: float, df: int) -> float:
    """P(T <= t) for t >= 0: 1/2 + A(t|df)/2, A being P(|T| <= t)."""
    theta = math.atan(t / math.sqrt(df))
    c2, s = math.cos(theta) ** 2, math.sin(theta)
    if df % 2:  # odd: A = 2/pi (theta + sin cos (1 + 2/3 cos^2 + 2.4/3.5 cos^4 + ...))
        term, total = 1.0, 1.0 if df > 1 else 0.0
        for j in range(1, (df - 1) // 2):
            term *= c2 * (2 * j) / (2 * j + 1)
            total += term
        a = 2 / math.pi * (theta + s * math.cos(theta) * total)
    else:  # even: A = sin (1 + 1/2 cos^2 + 1.3/2.4 cos^4 + ...)
        term, total = 1.0, 1.0
        for j in range(1, df // 2):
            term *= c2 * (2 * j - 1) / (2 * j)
            total += term
        a = s * total
    return 0.5 + a / 2


def is_regression(
    value: float | None,
    baseline_value: float | None,
    *,
    significant: bool | None,
    noise: Band | None,
    worse_when: str,
) -> bool:
    """The rule: worse than the baseline, significant (when there is a test), and outside
    the run-to-run prediction interval (when K >= 2)."""
    if value is None or baseline_value is None or significant is False:
        return False
    worse = value > baseline_value if worse_when == "higher" else value < baseline_value
    return worse and (noise is None or noise.beyond(value, worse_when))


@dataclass(frozen=True)
class Versus:
    """One version of this run against the baseline on one metric."""

    metric: str
    version: str
    comparison: PairTest
    noise: Band | None
    worse_when: str
    """"higher" or "lower": the direction that is a regression."""

    @property
    def change(self) -> float | None:
        return self.comparison.effect

    @property
    def regression(self) -> bool:
        c = self.comparison
        return is_regression(
            c.value,
            c.baseline_value,
            significant=c.significant,
            noise=self.noise,
            worse_when=self.worse_when,
        )

    def to_dict(self) -> dict[str, Any]:
        c = self.comparison
        return {
            "metric": self.metric,
            "version": self.version,
            "value": _num(c.value),
            "baselineValue": _num(c.baseline_value),
            "change": _num(self.change),
            "changeLabel": effect_label(c),
            "test": c.test,
            "pValue": _num(c.adjusted_p_value if c.adjusted_p_value is not None else c.p_value),
            "significant": c.significant,
            "noise": None if self.noise is None else _num(self.noise.relative),
            "worseWhen": self.worse_when,
            "regression": self.regression,
        }


def finish(
    assessment: Assessment, store: MetricStore, joined: Joined, baselines: Baselines
) -> tuple[Assessment, dict[str, Any]]:
    """The assessment with the regression rule applied, and the `baselines` insight."""
    if joined.reference is None:
        return assessment, _insight(baselines, joined, [], None)
    confidence = assessment.spec.confidence
    noise: dict[str, Band | None] = {}
    for metric in _metrics(assessment):
        noise[metric] = band(run_values(baselines, metric), confidence)
    slos = tuple(_ruled(s, joined, noise[s.slo.metric]) for s in assessment.slos)
    rows = _versus(assessment, store, joined, noise)
    ruled = JoinedAssessment(**_fields(replace(assessment, slos=slos)), own=joined.own)
    return ruled, _insight(baselines, joined, rows, noise)


@dataclass(frozen=True)
class JoinedAssessment(Assessment):
    """An assessment whose winner is one of the run's own versions, never a baseline:
    the baseline is there to compare with, not to be promoted."""

    own: int = 0

    def winner(self) -> tuple[int | None, str]:
        return Assessment.winner(_OwnVersions(**_fields(self), own=self.own))


@dataclass(frozen=True)
class _OwnVersions(Assessment):
    own: int = 0

    def slos_hold(self, version: int) -> bool:
        return version < self.own and super().slos_hold(version)


def _fields(a: Assessment) -> dict[str, Any]:
    return {f.name: getattr(a, f.name) for f in fields(Assessment)}


def _metrics(a: Assessment) -> list[str]:
    names = [s.slo.metric for s in a.slos] + [*a.spec.rewards_max, *a.spec.rewards_min]
    return list(dict.fromkeys(names))


def _ruled(verdict: SloVerdict, joined: Joined, noise: Band | None) -> SloVerdict:
    if verdict.baseline < joined.own or not verdict.slo.relative:
        return verdict
    worse = "higher" if verdict.slo.kind == UPPER else "lower"
    statuses = tuple(_ruled_status(s, noise, worse) for s in verdict.versions)
    return replace(verdict, versions=statuses)


def _ruled_status(status: SloJudgement, noise: Band | None, worse: str) -> SloJudgement:
    if status.status != SloStatus.VIOLATED or status.relative is None:
        return status  # satisfied, no data, or the absolute limit is the binding one
    c = status.test
    significant = c.significant if c is not None else None
    baseline_value = c.baseline_value if c is not None else None
    if baseline_value is None or is_regression(
        status.value, baseline_value, significant=significant, noise=noise, worse_when=worse
    ):
        return status
    if significant is False:
        why = "not a regression: the change is not significant"
    else:
        why = f"not a regression: within the run-to-run noise ({_band_text(noise)})"
    return replace(status, status=SloStatus.SATISFIED, note=f"{status.note}; {why}")


def _band_text(noise: Band | None) -> str:
    if noise is None or noise.relative is None:
        return "not measured"
    return f"bound {noise.relative:.1%} from the mean of {noise.runs} runs"


def _versus(
    a: Assessment, store: MetricStore, joined: Joined, noise: dict[str, Band | None]
) -> list[Versus]:
    worse: dict[str, str] = {}
    for s in a.slos:
        worse.setdefault(s.slo.metric, "higher" if s.slo.kind == UPPER else "lower")
    for r in a.rewards:
        worse.setdefault(r.metric, "lower" if r.direction == MAX else "higher")
    b = joined.reference
    assert b is not None
    rows: list[Versus] = []
    store_names = a.names
    for metric, direction in worse.items():
        data = metric_data(store, metric)
        versions = [v for v in range(joined.own) if data.values[v] is not None]
        if data.values[b] is None or not versions:
            continue
        comparisons = compare_family(data, [(v, b) for v in versions], a.spec)
        for v, c in zip(versions, comparisons, strict=True):
            rows.append(Versus(metric, store_names[v], c, noise.get(metric), direction))
    return rows


def headline(rows: Sequence[Versus], branch: str) -> str | None:
    """ "http/latency-p95 +12.4% vs main (significant, p<0.001)": the largest regression, or
    the largest change when there is none."""
    candidates = [r for r in rows if r.change is not None]
    if not candidates:
        return None
    regressions = [r for r in candidates if r.regression]
    pool = regressions or candidates
    # the largest change; among changes equal to 0.01%, the first metric of the assess task
    pick = max(pool, key=lambda r: (round(abs(r.change or 0.0), 4), -pool.index(r)))
    c = pick.comparison
    words = []
    if c.significant is not None:
        words.append("significant" if c.significant else "not significant")
    p = c.adjusted_p_value if c.adjusted_p_value is not None else c.p_value
    if p is not None:
        words.append("p<0.001" if p < 0.001 else f"p={p:.3f}")
    if pick.noise is not None and not pick.regression and c.significant:
        words.append(f"within the run-to-run noise, {_band_text(pick.noise)}")
    detail = f" ({', '.join(words)})" if words else ""
    who = f"{pick.version}: " if len({r.version for r in rows}) > 1 else ""
    return f"{who}{pick.metric} {pick.change or 0.0:+.1%} vs {branch}{detail}"


def _insight(
    baselines: Baselines,
    joined: Joined,
    rows: Sequence[Versus],
    noise: dict[str, Band | None] | None,
) -> dict[str, Any]:
    return {
        "source": baselines.source,
        "branch": baselines.name,
        "runs": [{"name": r.label, "sha": r.sha, "origin": r.origin} for r in baselines.runs],
        "notes": list(baselines.notes),
        "joined": list(joined.names),
        "dropped": list(joined.dropped),
        "noise": {k: _band_dict(v) for k, v in (noise or {}).items()},
        "rule": RULE,
        "comparisons": [r.to_dict() for r in rows],
        "regressions": sum(1 for r in rows if r.regression),
        "headline": headline(rows, baselines.name),
    }


def _band_dict(b: Band | None) -> dict[str, Any] | None:
    if b is None:
        return None
    return {
        "mean": _num(b.mean),
        "halfWidth": _num(b.half_width),
        "relative": _num(b.relative),
        "runs": b.runs,
    }


def _num(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.6g}")
