"""A shard's statistics written and read back exactly, series moved onto a common clock."""

from __future__ import annotations

import pytest

from iter8_action.load.http.stats import StreamStats
from iter8_action.shards.partial import PartialInvalid, stats_from_dict, stats_to_dict


def _stats() -> StreamStats:
    stats = StreamStats()
    for i, latency_ns in enumerate((120, 1_500_000, 2_250_000, 80_000_000, 3_000_000_000)):
        stats.histogram.record(latency_ns)
        stats.requests += 1
        stats.count_sent_at(i // 2)
    stats.errors = 2
    stats.statuses = {200: 3, 503: 2}
    stats.error_kinds = {"status": 2}
    stats.first_send_ns, stats.last_send_ns = 1_000, 2_000_000_000
    stats.pool.waited, stats.pool.cap, stats.pool.peak = 1, 8, 5
    stats.pool.busy_ns, stats.pool.busy_count = 9_000, 5
    return stats


def test_stats_come_back_exactly_with_send_times_on_the_wall_clock() -> None:
    original = _stats()
    back = stats_from_dict(stats_to_dict(original, offset_ns=10**18))
    assert back.histogram.counts == original.histogram.counts
    assert back.histogram.sum_ns == original.histogram.sum_ns
    assert back.histogram.sum_squares_ns == original.histogram.sum_squares_ns
    assert (back.histogram.min_ns, back.histogram.max_ns) == (120, 3_000_000_000)
    assert back.histogram.percentile_ns(99) == original.histogram.percentile_ns(99)
    assert (back.requests, back.errors) == (5, 2)
    assert (back.statuses, back.error_kinds) == ({200: 3, 503: 2}, {"status": 2})
    assert back.first_send_ns == 10**18 + 1_000
    assert back.per_second.tolist() == [2, 2, 1]
    assert back.pool == original.pool


def test_a_later_shards_series_moves_by_whole_seconds() -> None:
    back = stats_from_dict(stats_to_dict(_stats(), offset_ns=0), shift_s=2)
    assert back.per_second.tolist() == [0, 0, 2, 2, 1]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["histogram"].update(total=6), "do not add up to its total"),
        (lambda d: d["histogram"].update(buckets=[10**9], counts=[5]), "histogram bucket"),
        (lambda d: d.pop("pool"), "KeyError"),
    ],
)
def test_damaged_stats_are_refused(edit: object, message: str) -> None:
    data = stats_to_dict(_stats(), offset_ns=0)
    edit(data)  # type: ignore[operator]
    with pytest.raises(PartialInvalid, match=message):
        stats_from_dict(data)
