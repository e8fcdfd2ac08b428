"""The assessment's tests without SciPy: published values, then SciPy itself on many inputs.

SciPy is a test dependency only; the image does not carry it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.stats.contingency import relative_risk

from iter8_action.assessment.hypothesis import (
    chi2_2x2,
    fisher_exact,
    mann_whitney_u,
    norm_ppf,
    norm_sf,
    relative_risk_interval,
    wilson_interval,
)

# Floating-point agreement with SciPy: the same formulas, evaluated by other
# special-function code (libm's erfc, AS241) or exactly (integer sums).
REL = 1e-12


def test_published_values() -> None:
    # Fisher's lady tasting tea (3 of 4 cups right): p = 34/70 (R: fisher.test 0.4857).
    odds, p = fisher_exact([[3, 1], [1, 3]])
    assert odds == 9.0 and p == pytest.approx(34 / 70, rel=1e-15)
    # SciPy's documented example (R: fisher.test p-value = 0.03497).
    odds, p = fisher_exact([[8, 2], [1, 5]])
    assert odds == 20.0 and p == pytest.approx(0.034965034965034975, rel=1e-15)
    # An empty row: no information, p = 1.
    odds, p = fisher_exact([[0, 0], [3, 4]])
    assert math.isnan(odds) and p == 1.0
    # Two disjoint samples of 5: U = 0, exact p = 2 / C(10, 5).
    u, p = mann_whitney_u(np.arange(1.0, 6.0), np.arange(6.0, 11.0))
    assert u == 0.0 and p == pytest.approx(2 / 252, rel=1e-15)
    # Katz interval of SciPy's documented example: 10/75 vs 12/225.
    low, high = relative_risk_interval(10, 75, 12, 225, 0.95)
    assert (low, high) == pytest.approx((1.1261564003469628, 5.549850800541033), rel=1e-14)
    # Newcombe (1998), Statistics in Medicine 17:857, table I, method 3 (Wilson score).
    assert wilson_interval(81, 263, 0.95) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    assert wilson_interval(15, 148, 0.95) == pytest.approx((0.0624, 0.1605), abs=5e-5)
    assert wilson_interval(0, 20, 0.95) == pytest.approx((0.0, 0.1611), abs=5e-5)
    assert wilson_interval(1, 29, 0.95) == pytest.approx((0.0061, 0.1718), abs=5e-5)
    # 2x2 chi-square of 20/1000 vs 0/1000 errors: z = 0.02 / sqrt(2 * 0.01 * 0.99 / 1000).
    statistic, p = chi2_2x2(np.array([[20.0, 980.0], [0.0, 1000.0]]))
    assert statistic == pytest.approx((0.02 / math.sqrt(2 * 0.01 * 0.99 / 1000)) ** 2, rel=1e-12)
    assert p == pytest.approx(2 * norm_sf(math.sqrt(statistic)), rel=1e-12)
    assert norm_ppf(0.975) == pytest.approx(1.959963984540054, rel=1e-15)
    assert norm_sf(1.959963984540054) == pytest.approx(0.025, rel=1e-14)
    assert norm_sf(30.0) == pytest.approx(4.906713927148187e-198, rel=1e-10)  # far tail


def test_all_ties_give_p_one_as_scipy_does() -> None:
    x = np.full(100, 5.0)
    assert mann_whitney_u(x, x) == (5000.0, 1.0)
    small = np.array([1.0, 2.0, 3.0])
    assert mann_whitney_u(small, small) == (4.5, 1.0)


samples = st.lists(st.integers(min_value=0, max_value=30).map(float), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(x=samples, y=samples)
def test_mann_whitney_u_matches_scipy(x: list[float], y: list[float]) -> None:
    expected = stats.mannwhitneyu(x, y, alternative="two-sided", method="auto")
    u, p = mann_whitney_u(np.array(x), np.array(y))
    assert u == float(expected.statistic)
    if math.isnan(float(expected.pvalue)):
        assert math.isnan(p)
    else:
        assert p == pytest.approx(float(expected.pvalue), rel=REL, abs=1e-300)


@settings(max_examples=200, deadline=None)
@given(
    x=st.lists(st.floats(0, 1e3, allow_nan=False), min_size=1, max_size=12, unique=True),
    y=st.lists(st.floats(0, 1e3, allow_nan=False), min_size=1, max_size=12, unique=True),
)
def test_mann_whitney_u_exact_branch_matches_scipy(x: list[float], y: list[float]) -> None:
    expected = stats.mannwhitneyu(x, y, alternative="two-sided", method="auto")
    u, p = mann_whitney_u(np.array(x), np.array(y))
    assert u == float(expected.statistic)
    assert p == pytest.approx(float(expected.pvalue), rel=REL)


def test_mann_whitney_u_on_large_latency_samples_matches_scipy() -> None:
    rng = np.random.default_rng(7)
    for shift in (0.0, 0.02, 0.5):
        x = np.round(rng.lognormal(3.0 + shift, 0.4, 20_000), 1)
        y = np.round(rng.lognormal(3.0, 0.4, 15_000), 1)
        expected = stats.mannwhitneyu(x, y, alternative="two-sided", method="auto")
        u, p = mann_whitney_u(x, y)
        assert u == float(expected.statistic)
        assert p == pytest.approx(float(expected.pvalue), rel=1e-9, abs=1e-300)


counts = st.integers(min_value=0, max_value=400)


@settings(max_examples=300, deadline=None)
@given(a=counts, b=counts, c=counts, d=counts)
def test_fisher_exact_matches_scipy(a: int, b: int, c: int, d: int) -> None:
    expected = stats.fisher_exact([[a, b], [c, d]])
    odds, p = fisher_exact([[a, b], [c, d]])
    if math.isnan(float(expected.statistic)):
        assert math.isnan(odds)
    else:
        assert odds == float(expected.statistic)
    assert p == pytest.approx(float(expected.pvalue), rel=1e-9)


def test_fisher_exact_on_many_requests_and_few_errors() -> None:
    table = [[3, 199_997], [0, 200_000]]
    # Both tails hold one table each, equally likely: p = 2 C(200000, 3) / C(400000, 3).
    exact = (199_999 * 199_998) / (399_999 * 399_998)
    assert fisher_exact(table)[1] == pytest.approx(exact, rel=1e-15)
    # SciPy's floating hypergeometric is 5e-11 (relative) off here: the integer sum is exact.
    assert float(stats.fisher_exact(table).pvalue) == pytest.approx(exact, rel=1e-10)


@settings(max_examples=300, deadline=None)
@given(
    e1=st.integers(1, 5000), f1=st.integers(1, 5000), e0=st.integers(1, 5000),
    f0=st.integers(1, 5000),
)  # fmt: skip
def test_chi2_and_intervals_match_scipy(e1: int, f1: int, e0: int, f0: int) -> None:
    n1, n0 = e1 + f1, e0 + f0
    table = np.array([[e1, f1], [e0, f0]], dtype=np.float64)
    expected = stats.chi2_contingency(table, correction=False)
    statistic, p = chi2_2x2(table)
    assert statistic == pytest.approx(float(expected.statistic), rel=REL, abs=1e-12)
    assert p == pytest.approx(float(expected.pvalue), rel=1e-10, abs=1e-300)
    for confidence in (0.8, 0.95, 0.99, 1 - 0.05 / 3):
        interval = relative_risk(e1, n1, e0, n0).confidence_interval(confidence)
        low, high = relative_risk_interval(e1, n1, e0, n0, confidence)
        assert (low, high) == pytest.approx((interval.low, interval.high), rel=REL)
        ci = stats.binomtest(e1, n1).proportion_ci(confidence, method="wilson")
        assert wilson_interval(e1, n1, confidence) == pytest.approx((ci.low, ci.high), rel=REL)
        assert norm_ppf(confidence) == pytest.approx(float(stats.norm.ppf(confidence)), rel=REL)


@pytest.mark.parametrize("k,n", [(0, 10), (10, 10), (0, 1), (1, 1)])
def test_wilson_at_the_edges_matches_scipy(k: int, n: int) -> None:
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    assert wilson_interval(k, n, 0.95) == pytest.approx((ci.low, ci.high), rel=REL)
