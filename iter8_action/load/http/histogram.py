"""A high-dynamic-range latency histogram in integer nanoseconds.

The layout is HdrHistogram's (Gil Tene, https://hdrhistogram.github.io/): values
below 256 ns have one bucket each; above, every power-of-two range is cut into
128 equal buckets, so a bucket is never wider than 1/128 of its lower bound and
the middle of a bucket is within 1/256 (0.4%) of any value in it. Memory is a
fixed array whatever the number of recorded values, and two histograms merge
exactly by adding counts.

We keep our own rather than the `hdrhistogram` package because recording is the
hot path of the load generator: an index from `int.bit_length` and two shifts
is several times cheaper per value than that package's Python `record_value`
(`bench/loadgen.py` measures both). Count, sum and sum of squares are exact
integers, so the mean and standard deviation are exact too.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

SUB_BUCKET_BITS = 8
SUB_BUCKET_COUNT = 1 << SUB_BUCKET_BITS  # 256: exact buckets below this value
HALF_COUNT = SUB_BUCKET_COUNT >> 1  # 128 buckets per power of two above it
MAX_EXPONENT = 40  # top range ends at 2**48 ns, about 78 hours
BUCKET_COUNT = SUB_BUCKET_COUNT + MAX_EXPONENT * HALF_COUNT
MAX_TRACKABLE_NS = (1 << (SUB_BUCKET_BITS + MAX_EXPONENT)) - 1
RELATIVE_ERROR = 1.0 / SUB_BUCKET_COUNT
"""Largest relative error of a reported percentile (half a bucket's width)."""


def bucket_index(value_ns: int) -> int:
    """The bucket of a non-negative value (values past the range go to the last bucket)."""
    if value_ns < SUB_BUCKET_COUNT:
        return value_ns if value_ns > 0 else 0
    if value_ns > MAX_TRACKABLE_NS:
        return BUCKET_COUNT - 1
    exponent = value_ns.bit_length() - SUB_BUCKET_BITS
    return SUB_BUCKET_COUNT + (exponent - 1) * HALF_COUNT + (value_ns >> exponent) - HALF_COUNT


def bucket_bounds(index: int) -> tuple[int, int]:
    """The integer values `[lower, upper]` (both inclusive) that fall in a bucket."""
    if index < SUB_BUCKET_COUNT:
        return index, index
    exponent, offset = divmod(index - SUB_BUCKET_COUNT, HALF_COUNT)
    exponent += 1
    lower = (offset + HALF_COUNT) << exponent
    return lower, lower + (1 << exponent) - 1


@dataclass(frozen=True)
class BucketCount:
    """One non-empty bucket: `count` values in `[lower_ns, upper_ns]`."""

    lower_ns: int
    upper_ns: int
    count: int

    @property
    def middle_ns(self) -> float:
        return (self.lower_ns + self.upper_ns) / 2


class LatencyHistogram:
    """Latencies in nanoseconds: constant memory, at most 0.4% error on percentiles."""

    __slots__ = ("_sum", "_sum_sq", "counts", "max_ns", "min_ns", "total")

    def __init__(self) -> None:
        self.counts = array("q", bytes(8 * BUCKET_COUNT))
        self.total = 0
        self._sum = 0
        self._sum_sq = 0
        self.min_ns = 0
        self.max_ns = 0

    def record(self, value_ns: int) -> None:
        """Add one value (negative values count as 0)."""
        if value_ns < 0:
            value_ns = 0
        if value_ns < SUB_BUCKET_COUNT:
            self.counts[value_ns] += 1
        else:
            self.counts[bucket_index(value_ns)] += 1
        if self.total == 0 or value_ns < self.min_ns:
            self.min_ns = value_ns
        if value_ns > self.max_ns:
            self.max_ns = value_ns
        self.total += 1
        self._sum += value_ns
        self._sum_sq += value_ns * value_ns

    def merge(self, other: LatencyHistogram) -> None:
        """Add every value of `other` to this histogram, exactly."""
        if other.total == 0:
            return
        counts = self.counts
        for index, count in enumerate(other.counts):
            if count:
                counts[index] += count
        self.min_ns = other.min_ns if self.total == 0 else min(self.min_ns, other.min_ns)
        self.max_ns = max(self.max_ns, other.max_ns)
        self.total += other.total
        self._sum += other._sum
        self._sum_sq += other._sum_sq

    @property
    def sum_ns(self) -> int:
        return self._sum

    @property
    def sum_squares_ns(self) -> int:
        return self._sum_sq

    def restore(
        self, *, total: int, sum_ns: int, sum_squares_ns: int, min_ns: int, max_ns: int
    ) -> None:
        """Set the exact totals of a histogram whose counts were read back (a shard's)."""
        self.total, self._sum, self._sum_sq = total, sum_ns, sum_squares_ns
        self.min_ns, self.max_ns = min_ns, max_ns

    # -- statistics ------------------------------------------------------------------

    def mean_ns(self) -> float | None:
        return self._sum / self.total if self.total else None

    def stddev_ns(self) -> float | None:
        """The population standard deviation (as Iter8 and fortio report it)."""
        if not self.total:
            return None
        # Exact integer arithmetic: n*sum(x^2) - sum(x)^2 >= 0 with no rounding.
        spread = self.total * self._sum_sq - self._sum * self._sum
        return math.sqrt(spread) / self.total

    def percentile_ns(self, percentile: float) -> float | None:
        """The nearest-rank percentile: the smallest recorded value with at least
        `percentile`% of all values at or below it, to within half a bucket."""
        if not self.total:
            return None
        rank = max(1, math.ceil(percentile / 100.0 * self.total - 1e-9))
        seen = 0
        for bucket in self.buckets():
            seen += bucket.count
            if seen >= rank:
                return min(max(bucket.middle_ns, self.min_ns), self.max_ns)
        return float(self.max_ns)

    def buckets(self) -> Iterator[BucketCount]:
        """The non-empty buckets, in increasing order."""
        for index, count in enumerate(self.counts):
            if count:
                lower, upper = bucket_bounds(index)
                yield BucketCount(lower, upper, count)
