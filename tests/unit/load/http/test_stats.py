from __future__ import annotations

from iter8_action.load.http.stats import PoolStats, StreamOutcome, StreamStats, combine


def _stats(requests: int, errors: int, *, first: int | None, last: int | None) -> StreamStats:
    stats = StreamStats(requests=requests, errors=errors, first_send_ns=first, last_send_ns=last)
    stats.statuses = {200: requests - errors, 500: errors}
    if errors:
        stats.error_kinds = {"status": errors}
    for _ in range(requests):
        stats.histogram.record(1000)
    return stats


def test_merge_adds_counts_and_widens_the_time_span() -> None:
    total = _stats(10, 2, first=100, last=1_000)
    total.merge(_stats(5, 1, first=50, last=900))
    total.merge(StreamStats())
    assert (total.requests, total.errors) == (15, 3)
    assert total.statuses == {200: 12, 500: 3}
    assert total.error_kinds == {"status": 3}
    assert (total.first_send_ns, total.last_send_ns) == (50, 1_000)
    assert total.histogram.total == 15
    empty = StreamStats()
    empty.merge(total)
    assert (empty.first_send_ns, empty.last_send_ns) == (50, 1_000)


def test_achieved_qps_and_error_rate() -> None:
    stats = _stats(101, 5, first=0, last=2_000_000_000)
    assert stats.achieved_qps() == 50.0
    assert stats.error_rate() == 5 / 101
    assert StreamStats().achieved_qps() is None
    assert StreamStats().error_rate() is None
    assert _stats(1, 0, first=5, last=5).achieved_qps() is None


def test_initial_errors_are_left_out_when_a_success_followed() -> None:
    first = StreamOutcome(counted=_stats(7, 0, first=10, last=20), succeeded=True)
    first.initial = _stats(3, 3, first=1, last=5)
    second = StreamOutcome(counted=_stats(5, 0, first=10, last=30), succeeded=False)
    stats, ignored = combine([first, second])
    assert (stats.requests, stats.errors, ignored) == (12, 0, 3)


def test_initial_errors_count_when_no_success_ever_came() -> None:
    outcome = StreamOutcome(initial=_stats(4, 4, first=1, last=5))
    stats, ignored = combine([outcome])
    assert (stats.requests, stats.errors, ignored) == (4, 4, 0)


def test_per_second_counts_grow_to_the_last_second_counted() -> None:
    stats = StreamStats()
    stats.count_sent_at(0)
    stats.count_sent_at(0)
    stats.count_sent_at(3)
    stats.count_sent_at(1, 5)
    assert stats.per_second.tolist() == [2, 5, 0, 1]
    # an hour at 1000 requests per second is 3600 counters, not 3.6 million entries
    stats.count_sent_at(3599, 1000)
    assert len(stats.per_second) == 3600
    assert stats.per_second[3599] == 1000


def test_merge_adds_per_second_counts_exactly_whatever_their_lengths() -> None:
    total = StreamStats()
    for second in (0, 0, 1, 4):
        total.count_sent_at(second)
    longer = StreamStats()
    for second in (1, 2, 2, 6):
        longer.count_sent_at(second)
    total.merge(longer)
    assert total.per_second.tolist() == [2, 2, 2, 0, 1, 0, 1]
    assert longer.per_second.tolist() == [0, 1, 2, 0, 0, 0, 1]  # the other is left alone
    total.merge(StreamStats())
    assert total.per_second.tolist() == [2, 2, 2, 0, 1, 0, 1]


def test_per_second_counts_of_left_out_initial_errors_are_left_out_too() -> None:
    first = StreamOutcome(initial=StreamStats(requests=3), succeeded=True)
    first.initial.count_sent_at(0, 3)
    first.counted.count_sent_at(0, 2)
    first.counted.count_sent_at(1, 4)
    second = StreamOutcome()
    second.counted.count_sent_at(1, 1)
    stats, ignored = combine([first, second])
    assert (stats.per_second.tolist(), ignored) == ([2, 5], 3)
    kept, _ = combine([StreamOutcome(initial=first.initial)])
    assert kept.per_second.tolist() == [3]


def test_pool_figures_merge_exactly() -> None:
    one, two = StreamStats(), StreamStats()
    one.pool = PoolStats(waited=3, busy_ns=4_000, busy_count=2, peak=2, cap=2)
    two.pool = PoolStats(waited=1, busy_ns=2_000, busy_count=1, peak=3, cap=4)
    one.merge(two)
    assert one.pool == PoolStats(waited=4, busy_ns=6_000, busy_count=3, peak=5, cap=6)
    assert one.pool.busy_s() == 2e-6
    assert PoolStats().busy_s() is None
