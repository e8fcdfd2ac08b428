"""What a metric's request looks like, and how each kind of answer is classified."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from iter8_action.core.secrets import SECRETS
from iter8_action.metrics.backends.query import (
    BadAnswer,
    NoAnswer,
    Query,
    Refused,
    Transport,
    build_query,
    send,
)
from iter8_action.metrics.backends.spec import MetricSpec, ProviderSpec
from iter8_action.net import httpclient
from tests.support.servers.base import RecordingServer, Reply

FAST = Transport(httpclient.Limits(0.5), retry=httpclient.RetryPolicy(attempts=2, backoff_s=0.01))


@pytest.fixture(scope="module")
def _running() -> Iterator[RecordingServer]:
    with RecordingServer() as running:
        yield running


@pytest.fixture
def server(_running: RecordingServer, request: pytest.FixtureRequest) -> RecordingServer:
    """The module's server, its log emptied; each test routes its own path (see `_path`)."""
    _running.requests.clear()
    return _running


def _path(request: pytest.FixtureRequest) -> str:
    return "/" + re.sub(r"\W", "-", request.node.name)


def _spec(url: str, **kwargs: object) -> ProviderSpec:
    metric = MetricSpec(name="m", jq_expression=".")
    return ProviderSpec(provider="p", url=url, metrics=(metric,), **kwargs)  # type: ignore[arg-type]


def test_get_with_params_and_headers() -> None:
    spec = _spec(
        "http://prom.invalid:9090/api/v1/query?dedup=true", headers={"X-Scope-OrgID": "team"}
    )
    metric = MetricSpec(
        name="m", jq_expression=".", params=(("query", 'sum(x{a="b c"}[5s])'), ("time", "1.5"))
    )
    query = build_query(spec, metric, {"Authorization": "Bearer t"})
    assert query == Query(
        "GET",
        "http://prom.invalid:9090/api/v1/query?dedup=true",
        {"X-Scope-OrgID": "team", "Authorization": "Bearer t"},
        (("query", 'sum(x{a="b c"}[5s])'), ("time", "1.5")),
        None,
        frozenset({"Authorization"}),
    )
    assert query.full_url == (
        "http://prom.invalid:9090/api/v1/query?dedup=true&query=sum%28x%7Ba%3D%22b+c%22%7D%5B5s%5D%29"
        "&time=1.5"
    )


def test_a_json_body_gets_its_content_type() -> None:
    metric = MetricSpec(name="m", jq_expression=".", body='{"query": "{ actor }"}')
    query = build_query(
        _spec("https://nr.invalid/graphql", method="POST"), metric, {"API-Key": "k"}
    )
    assert query.headers == {"API-Key": "k", "Content-Type": "application/json"}
    assert query.body == b'{"query": "{ actor }"}'
    assert query.full_url == "https://nr.invalid/graphql"


def test_a_text_body_and_a_content_type_of_the_template() -> None:
    metric = MetricSpec(name="m", jq_expression=".", body="SELECT 1")
    assert build_query(_spec("http://x.invalid"), metric, {}).headers == {
        "Content-Type": "text/plain"
    }
    spec = _spec("http://x.invalid", headers={"content-type": "application/sql"})
    assert build_query(spec, metric, {}).headers == {"content-type": "application/sql"}


def test_json_answer(server: RecordingServer, request: pytest.FixtureRequest) -> None:
    q = _path(request)
    server.route("GET", q, lambda r: Reply(200, {"value": r.query["query"][0]}))
    query = Query("GET", server.url + q, {"Accept": "application/json"}, (("query", "up"),))
    assert send(query, FAST) == {"value": "up"}
    assert server.requests[0].header("Accept") == "application/json"


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials(
    server: RecordingServer, request: pytest.FixtureRequest, status: int
) -> None:
    q = _path(request)
    SECRETS.add("sekret-token")
    server.route("GET", q, lambda r: Reply(status, {"message": "bad token sekret-token"}))
    with pytest.raises(Refused) as caught:
        send(Query("GET", server.url + q), FAST)
    reason = "Unauthorized" if status == 401 else "Forbidden"
    assert str(caught.value) == (
        f'{server.url}{q} answered {status} {reason} ({{"message": "bad token ***"}})'
    )


def test_another_client_error_is_a_bad_answer(
    server: RecordingServer, request: pytest.FixtureRequest
) -> None:
    q = _path(request)
    error = {"status": "error", "errorType": "bad_data", "error": "parse error at char 4"}
    server.route("GET", q, lambda r: Reply(400, error))
    with pytest.raises(BadAnswer) as caught:
        send(Query("GET", server.url + q, params=(("query", "sum(("),)), FAST)
    assert str(caught.value) == (
        f"{server.url}{q} answered 400 Bad Request: "
        '{"status": "error", "errorType": "bad_data", "error": "parse error at char 4"}'
    )


def test_a_server_error_is_retried_then_a_bad_answer(
    server: RecordingServer, request: pytest.FixtureRequest
) -> None:
    q = _path(request)
    server.route("GET", q, lambda r: Reply(503, "overloaded"))
    with pytest.raises(BadAnswer) as caught:
        send(Query("GET", server.url + q, params=(("query", "up"),)), FAST)
    assert str(caught.value) == (
        f"{server.url}{q} answered 503 Service Unavailable (2 attempts): overloaded"
    )
    assert len(server.requests) == 2


def test_malformed_json(server: RecordingServer, request: pytest.FixtureRequest) -> None:
    q = _path(request)
    server.route("GET", q, lambda r: Reply(200, b'{"data": [1, 2'))
    with pytest.raises(BadAnswer) as caught:
        send(Query("GET", server.url + q), FAST)
    assert str(caught.value).startswith(
        f"{server.url}{q} answered 200 OK but the body is not JSON ("
    )
    assert str(caught.value).endswith('): {"data": [1, 2')


def test_an_empty_body(server: RecordingServer, request: pytest.FixtureRequest) -> None:
    q = _path(request)
    server.route("GET", q, lambda r: Reply(204))
    with pytest.raises(BadAnswer) as caught:
        send(Query("GET", server.url + q), FAST)
    assert str(caught.value).endswith("): empty body")


def test_a_timeout_is_no_answer(server: RecordingServer, request: pytest.FixtureRequest) -> None:
    q = _path(request)
    server.route("GET", q, lambda r: Reply(200, {}, delay_s=1.0))
    with pytest.raises(NoAnswer) as caught:
        send(Query("GET", server.url + q), FAST)
    assert str(caught.value) == (
        f"no complete answer from {server.url}{q} within 500ms "
        "(the deadline set by timeout) (2 attempts)"
    )


def test_a_closed_port_is_no_answer() -> None:
    with RecordingServer() as closed:
        url = closed.url + "/q"
    with pytest.raises(NoAnswer) as caught:
        send(Query("GET", url), FAST)
    assert str(caught.value).startswith(f"cannot connect to {url}: ")
    assert str(caught.value).endswith("(2 attempts)")
