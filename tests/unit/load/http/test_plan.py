from __future__ import annotations

import pytest

from iter8_action import __version__
from iter8_action.load.http.plan import Stream, build_request, process_count, split, with_phases


def _stream(**kwargs: object) -> Stream:
    fields: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 80,
        "request": b"",
        "connections": 4,
        "timeout_s": 1.0,
    }
    fields.update(kwargs)
    return Stream(**fields)  # type: ignore[arg-type]


def test_a_get_request_has_host_agent_and_no_body() -> None:
    request = build_request(
        method="GET",
        host_header="app:8080",
        target="/x?y=1",
        headers={"X-Trace": "abc"},
        body=None,
        content_type=None,
    )
    assert request == (
        b"GET /x?y=1 HTTP/1.1\r\nHost: app:8080\r\n"
        + f"User-Agent: iter8-py/{__version__}\r\n".encode()
        + b"Accept: */*\r\nX-Trace: abc\r\n\r\n"
    )


def test_a_post_carries_its_body_and_user_headers_override_ours() -> None:
    request = build_request(
        method="POST",
        host_header="app",
        target="/",
        headers={"accept": "application/json"},
        body=b'{"a":1}',
        content_type="application/json",
    )
    assert request == (
        b"POST / HTTP/1.1\r\nHost: app\r\n"
        + f"User-Agent: iter8-py/{__version__}\r\n".encode()
        + b"accept: application/json\r\nContent-Type: application/json\r\n"
        + b'Content-Length: 7\r\n\r\n{"a":1}'
    )


def test_a_put_without_body_says_so() -> None:
    request = build_request(
        method="PUT", host_header="a", target="/", headers={}, body=None, content_type=None
    )
    assert request.endswith(b"Content-Length: 0\r\n\r\n")


@pytest.mark.parametrize(
    ("ranges", "status", "expected"),
    [
        (((400, None),), 399, False),
        (((400, None),), 400, True),
        (((500, 599),), 404, False),
        (((None, 199), (500, 502)), 101, True),
        (((None, 199), (500, 502)), 503, False),
    ],
)
def test_error_ranges_are_inclusive(
    ranges: tuple[tuple[int | None, int | None], ...], status: int, expected: bool
) -> None:
    assert _stream(error_ranges=ranges).is_error_status(status) is expected


def test_the_schedule_holds_the_count_or_the_duration_times_the_rate() -> None:
    assert _stream(qps=10.0, num_requests=7).scheduled_count() == 7
    assert _stream(qps=50.0, duration_s=0.3).scheduled_count() == 15
    assert _stream(qps=3.0, duration_s=1.1).scheduled_count() == 4


def test_one_process_at_low_rates_one_per_core_when_fast() -> None:
    assert process_count([_stream(qps=100.0)], cores=8) == 1
    assert process_count([_stream(qps=1000.0), _stream(qps=1000.0)], cores=8) == 4
    assert process_count([_stream(qps=None)], cores=2) == 2
    assert process_count([_stream(qps=None, connections=1)], cores=8) == 1
    assert process_count([_stream(qps=None, num_requests=1999)], cores=8) == 1
    assert process_count([_stream(qps=None, num_requests=2000)], cores=8) == 4


def test_split_divides_connections_and_requests_exactly() -> None:
    closed = _stream(qps=None, connections=5, num_requests=11)
    opened = _stream(qps=100.0, connections=3, num_requests=10)
    shares = split([closed, opened], 2)
    assert [(s.connections, s.num_requests) for s in (shares[0][0], shares[1][0])] == [
        (3, 6),
        (2, 5),
    ]
    assert [(s.connections, s.first, s.step) for s in (shares[0][1], shares[1][1])] == [
        (2, 0, 2),
        (1, 1, 2),
    ]
    assert split([_stream(qps=None, duration_s=1.0)], 1)[0][0].num_requests is None


def test_versions_are_offset_by_a_fraction_of_a_period() -> None:
    streams = with_phases([_stream(qps=10.0), _stream(qps=10.0), _stream(qps=None)])
    assert [s.phase_s for s in streams] == [0.0, pytest.approx(1 / 30), 0.0]


def test_an_open_loop_pool_may_grow_to_its_cap_shared_among_processes() -> None:
    opened = _stream(qps=3000.0, connections=3, max_connections=10)
    assert opened.pool_cap() == 10
    assert _stream(qps=None, connections=3, max_connections=10).pool_cap() == 3
    assert _stream(qps=10.0, connections=3).pool_cap() == 3
    # the cap, not the starting pool, bounds the processes of a fast open loop
    assert process_count([opened], cores=8) == 8
    shares = split([opened], 4)
    assert [(s[0].connections, s[0].max_connections) for s in shares] == [
        (1, 3),
        (1, 3),
        (1, 2),
        (0, 2),
    ]
