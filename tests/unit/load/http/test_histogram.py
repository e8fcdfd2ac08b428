from __future__ import annotations

import math
import random

import pytest

from iter8_action.load.http.histogram import (
    BUCKET_COUNT,
    MAX_TRACKABLE_NS,
    LatencyHistogram,
    bucket_bounds,
    bucket_index,
)


def _histogram(values: list[int]) -> LatencyHistogram:
    hist = LatencyHistogram()
    for value in values:
        hist.record(value)
    return hist


def _nearest_rank(values: list[int], percentile: float) -> int:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percentile / 100 * len(ordered))) - 1]


def test_buckets_tile_the_range_without_gaps() -> None:
    previous_upper = -1
    for index in range(BUCKET_COUNT):
        lower, upper = bucket_bounds(index)
        assert lower == previous_upper + 1
        assert bucket_index(lower) == index
        assert bucket_index(upper) == index
        if index >= 256:
            assert (upper - lower + 1) / lower <= 1 / 128
        previous_upper = upper
    assert previous_upper == MAX_TRACKABLE_NS


def test_values_outside_the_range_are_clamped_but_min_and_max_stay_exact() -> None:
    hist = _histogram([-5, MAX_TRACKABLE_NS + 10])
    assert hist.counts[0] == 1
    assert hist.counts[BUCKET_COUNT - 1] == 1
    assert (hist.min_ns, hist.max_ns) == (0, MAX_TRACKABLE_NS + 10)


def test_small_values_give_exact_percentiles() -> None:
    hist = _histogram(list(range(1, 101)))
    assert hist.percentile_ns(0) == 1
    assert hist.percentile_ns(50) == 50
    assert hist.percentile_ns(99) == 99
    assert hist.percentile_ns(99.9) == 100
    assert hist.percentile_ns(100) == 100


def test_mean_and_population_stddev_are_exact() -> None:
    hist = _histogram([2, 4, 4, 4, 5, 5, 7, 9])
    assert hist.mean_ns() == 5.0
    assert hist.stddev_ns() == 2.0
    assert hist.total == 8


def test_an_empty_histogram_has_no_statistics() -> None:
    hist = LatencyHistogram()
    assert hist.percentile_ns(50) is None
    assert hist.mean_ns() is None
    assert hist.stddev_ns() is None
    assert list(hist.buckets()) == []


@pytest.mark.parametrize("percentile", [50, 90, 99, 99.9, 97.5])
def test_percentiles_are_within_half_a_percent_of_the_exact_value(percentile: float) -> None:
    rng = random.Random(7)
    values = [int(rng.lognormvariate(14, 1.5)) for _ in range(20_000)]  # ~1 ms, wide spread
    exact = _nearest_rank(values, percentile)
    measured = _histogram(values).percentile_ns(percentile)
    assert measured is not None
    assert abs(measured - exact) / exact <= 1 / 256


def test_a_single_large_value_is_reported_exactly() -> None:
    hist = _histogram([123_456_789])
    assert hist.percentile_ns(50) == 123_456_789


def test_merging_equals_recording_everything_in_one() -> None:
    rng = random.Random(3)
    a = [rng.randrange(0, 10**9) for _ in range(500)]
    b = [rng.randrange(0, 10**6) for _ in range(300)]
    merged = _histogram(a)
    merged.merge(_histogram(b))
    merged.merge(LatencyHistogram())
    whole = _histogram(a + b)
    assert list(merged.counts) == list(whole.counts)
    assert (merged.total, merged.min_ns, merged.max_ns) == (800, min(a + b), max(a + b))
    assert merged.mean_ns() == whole.mean_ns()
    assert merged.stddev_ns() == whole.stddev_ns()
    empty = LatencyHistogram()
    empty.merge(_histogram(b))
    assert (empty.min_ns, empty.max_ns, empty.total) == (min(b), max(b), 300)
