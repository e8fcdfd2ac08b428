"""The hypothesis tests and normal quantiles the assessment uses, on NumPy and the standard library.

They compute what SciPy's functions of the same names compute (the same
definitions, branches and edge cases; SciPy 1.11 to 1.17), so that the
image does not carry SciPy (143 MB) for five formulas:

- `mann_whitney_u`: `scipy.stats.mannwhitneyu(x, y, alternative="two-sided",
  method="auto")`: average ranks for ties; the exact null distribution when a
  sample has at most 8 observations and there are no ties, else the normal
  approximation with tie correction and continuity correction.
- `fisher_exact`: `scipy.stats.fisher_exact` on a 2x2 table, two-sided: the
  probability of every table as likely as or less likely than the observed one,
  summed exactly in integers (SciPy sums floats within a relative 1e-14).
- `chi2_2x2`: `scipy.stats.chi2_contingency(table, correction=False)` on a 2x2
  table: Pearson's statistic and its chi-square(1) tail.
- `relative_risk_interval`: `scipy.stats.contingency.relative_risk(...)
  .confidence_interval(...)`, Katz's log interval.
- `wilson_interval`: `scipy.stats.binomtest(k, n).proportion_ci(confidence,
  method="wilson")`.

Normal quantiles come from `statistics.NormalDist` (Wichura's AS241, within
a few units in the last place of SciPy's `ndtri`); tails from `math.erfc`.
tests/unit/assessment/test_hypothesis.py checks them against published
values and against SciPy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

EXACT_MAX_SIZE = 8
"""SciPy's `method="auto"` uses the exact distribution when a sample is at most this large."""

_NORMAL = NormalDist()


def norm_ppf(p: float) -> float:
    """The standard normal quantile (`scipy.stats.norm.ppf`)."""
    return _NORMAL.inv_cdf(p)


def norm_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z, accurate far into the tail (`scipy.special.ndtr(-z)`)."""
    if math.isnan(z):
        return math.nan
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def mann_whitney_u(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> tuple[float, float]:
    """(U of `x`, two-sided p-value) of the Mann-Whitney U test."""
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("`x` and `y` must be of nonzero size.")
    values, inverse, ties = np.unique(
        np.concatenate([x, y]), return_inverse=True, return_counts=True
    )
    # The average rank of each distinct value: the ranks it spans, first + last over 2.
    ends = np.cumsum(ties).astype(np.float64)
    average_rank = ends - (ties - 1) / 2.0
    r1 = float(np.sum(average_rank[inverse[:n1]]))
    u1 = r1 - n1 * (n1 + 1) / 2
    u = max(u1, n1 * n2 - u1)
    if (n1 <= EXACT_MAX_SIZE or n2 <= EXACT_MAX_SIZE) and len(values) == n1 + n2:
        p = 2.0 * _mwu_exact_sf(round(u), n1, n2)
    else:
        tie_term = float(np.sum(ties.astype(np.float64) ** 3 - ties))
        n = n1 + n2
        s = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
        numerator = u - n1 * n2 / 2 - 0.5
        if s > 0:
            z = numerator / s
        else:  # every value tied: SciPy's -0.5 / 0 = -inf, so p = 1 (clipped)
            z = math.copysign(math.inf, numerator) if numerator else math.nan
        p = 2.0 * norm_sf(z)
    return u1, p if math.isnan(p) else min(max(p, 0.0), 1.0)


def _mwu_exact_sf(u: int, n1: int, n2: int) -> float:
    """P(U >= u) under the null: the share of the C(n1+n2, n1) rank orders with U >= u."""
    # frequencies[k]: the number of orders of n1 x's among n2 y's with k (x > y) pairs,
    # built by adding one x at a time (the generating function's product, in integers).
    frequencies = [1]
    for i in range(1, n1 + 1):
        # Multiply by (1 - q^(n2+i)) / (1 - q^i): Gaussian binomial coefficient's recurrence.
        grown = frequencies + [0] * n2
        for k in range(len(grown) - 1, n2 + i - 1, -1):
            grown[k] -= grown[k - (n2 + i)]
        for k in range(i, len(grown)):
            grown[k] += grown[k - i]
        frequencies = grown
    total = math.comb(n1 + n2, n1)
    return float(Fraction(sum(frequencies[u:]), total))


def fisher_exact(table: Sequence[Sequence[int]]) -> tuple[float, float]:
    """(sample odds ratio, two-sided p-value) of Fisher's exact test on a 2x2 table."""
    (a, b), (c, d) = ((int(v) for v in row) for row in table)
    if min(a, b, c, d) < 0:
        raise ValueError("All values in `table` must be nonnegative.")
    if 0 in (a + c, b + d, a + b, c + d):
        return math.nan, 1.0
    odds_ratio = float(a * d) / float(c * b) if c > 0 and b > 0 else math.inf
    n1, n2, n = a + b, c + d, a + c  # row totals, first column total
    low, high = max(0, n - n2), min(n, n1)
    # weights[x - low] = C(n1, x) C(n2, n - x): P(first cell = x) times C(n1 + n2, n).
    weights = [math.comb(n1, low) * math.comb(n2, n - low)]
    for x in range(low, high):
        weights.append(weights[-1] * (n1 - x) * (n - x) // ((x + 1) * (n2 - n + x + 1)))
    observed = weights[a - low]
    extreme = sum(w for w in weights if w <= observed)
    return odds_ratio, min(float(Fraction(extreme, math.comb(n1 + n2, n))), 1.0)


def chi2_2x2(table: npt.NDArray[np.float64]) -> tuple[float, float]:
    """(Pearson's chi-square, p-value) of a 2x2 table, without continuity correction."""
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    return statistic, math.erfc(math.sqrt(statistic / 2.0))


def relative_risk_interval(
    e1: int, n1: int, e0: int, n0: int, confidence: float
) -> tuple[float, float]:
    """Katz's interval of the risk ratio (e1/n1) / (e0/n0); both event counts above 0."""
    rr = (e1 / n1) / (e0 / n0)
    delta = norm_ppf(1 - (1 - confidence) / 2) * math.sqrt(1 / e1 - 1 / n1 + 1 / e0 - 1 / n0)
    return rr * math.exp(-delta), rr * math.exp(delta)


def wilson_interval(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Wilson's score interval of a proportion k / n (Newcombe 1998, without correction)."""
    p = k / n
    z = norm_ppf(0.5 + 0.5 * confidence)
    denom = 2 * (n + z**2)
    center = (2 * n * p + z**2) / denom
    delta = z / denom * math.sqrt(4 * n * p * (1 - p) + z**2)
    return (0.0 if k == 0 else center - delta), (1.0 if k == n else center + delta)
