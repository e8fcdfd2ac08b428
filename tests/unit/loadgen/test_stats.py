from __future__ import annotations

from iter8_action.loadgen.stats import StreamOutcome, StreamStats, combine


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
