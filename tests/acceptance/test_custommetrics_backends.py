"""The custommetrics task against fake New Relic, Sysdig and Elastic servers (real HTTP).

Each fake accepts exactly the documented request (path, method, auth header,
query or body) and answers in the documented shape; the tests assert what the
task sent and what it recorded, and its behaviour on 401, 500, timeouts and
malformed JSON.
"""

from __future__ import annotations

import json
import logging
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from iter8_action.core.errors import InputsInvalid, Interrupted, TaskFailed
from iter8_action.core.secrets import SECRETS
from iter8_action.metrics.backends.legacy import translate_legacy
from iter8_action.metrics.store import MetricMeta, MetricType
from iter8_action.tasks import registry
from iter8_action.tasks.base import TaskContext
from tests.support.contexts import custommetrics_context
from tests.support.paths import SCHEMAS
from tests.support.servers.backends import Elastic, NewRelic, Sysdig, TLSSysdig
from tests.support.servers.base import RecordingServer, Reply

NR_KEY = "NRAK-7F3A9C2B1D0E4F5A6B7C8D9E0F1"
SYSDIG_TOKEN = "f0e1d2c3-b4a5-9687-7869-5a4b3c2d1e0f"
ES_PASSWORD = "es-pass-2718281828"
ES_API_KEY = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="
NR_SINCE = "SINCE 300 seconds ago"


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    SECRETS.clear()
    yield
    SECRETS.clear()


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / "experiment.schema.json").read_text())
    task_schema = {**schema, "$ref": "#/$defs/custommetrics"}
    for key in ("if", "then", "else"):
        task_schema.pop(key)
    return jsonschema.Draft202012Validator(task_schema)


def _context(tmp_path: Path) -> TaskContext:
    return custommetrics_context(tmp_path, index=2)


def _run(inputs: Mapping[str, Any], ctx: TaskContext) -> None:
    """Validate `inputs` as the loader does, then run the registered task."""
    errors = [e.message for e in _validator().iter_errors(dict(inputs))]
    assert errors == []
    registry()["custommetrics"].execute(inputs, ctx)


def _values(ctx: TaskContext, provider: str) -> list[dict[str, float | None]]:
    store = ctx.store
    names = [n for n in store.names() if n.startswith(provider + "/")]
    return [{n: store.value(n, v) for n in names} for v in range(store.num_versions)]


# -- New Relic -------------------------------------------------------------------------------


def _nr_results() -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for app, (count, errors, rate, mean_s, p95_s) in {
        "shop-v1": (1200, 12, 0.01, 0.125, 0.5),
        "shop-v2": (1180, 0, 0.0, 0.0625, 0.25),
    }.items():
        where = f"FROM Transaction WHERE appName = '{app}'"
        out[f"SELECT count(*) {where} {NR_SINCE}"] = [{"count": count}]
        out[f"SELECT count(*) {where} AND (error IS true) {NR_SINCE}"] = [{"count": errors}]
        out[
            "SELECT filter(count(*), WHERE error IS true) / count(*) AS 'errorRate' "
            f"{where} {NR_SINCE}"
        ] = [{"errorRate": rate}]
        out[f"SELECT average(duration) {where} {NR_SINCE}"] = [{"average": mean_s}]
        out[f"SELECT percentile(duration, 95) {where} {NR_SINCE}"] = [
            {"percentile.duration": {"95": p95_s}}
        ]
    return out


@pytest.fixture
def newrelic() -> Iterator[NewRelic]:
    with NewRelic(api_key=NR_KEY, account_id=3141592, results=_nr_results()) as server:
        yield server


def _nr_inputs(server: RecordingServer, **extra: Any) -> dict[str, Any]:
    return {
        "templates": {"newrelic": "newrelic"},
        "values": {
            "url": server.url + "/graphql",
            "accountId": 3141592,
            "percentiles": [95],
            "elapsedTimeSeconds": 300,
        },
        "versionValues": [{"where": "appName = 'shop-v1'"}, {"where": "appName = 'shop-v2'"}],
        **extra,
    }


def test_newrelic(
    newrelic: NewRelic,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("NEW_RELIC_API_KEY", NR_KEY)
    ctx = _context(tmp_path)
    with caplog.at_level(logging.DEBUG, logger="iter8"):
        _run(_nr_inputs(newrelic), ctx)
    assert _values(ctx, "newrelic") == [
        {
            "newrelic/error-count": 12.0,
            "newrelic/error-rate": 0.01,
            "newrelic/latency-mean": 125.0,
            "newrelic/latency-p95": 500.0,
            "newrelic/request-count": 1200.0,
        },
        {
            "newrelic/error-count": 0.0,
            "newrelic/error-rate": 0.0,
            "newrelic/latency-mean": 62.5,
            "newrelic/latency-p95": 250.0,
            "newrelic/request-count": 1180.0,
        },
    ]
    assert ctx.store.meta("newrelic/latency-p95") == MetricMeta(
        MetricType.GAUGE, "95th percentile latency", "msec"
    )
    assert ctx.store.meta("newrelic/request-count") == MetricMeta(
        MetricType.COUNTER, "Requests in the window", "requests"
    )
    first = newrelic.requests[0]
    assert (first.method, first.path, first.header("API-Key")) == ("POST", "/graphql", NR_KEY)
    assert first.header("Content-Type") == "application/json"
    assert first.json() == {
        "query": '{ actor { account(id: 3141592) { nrql(query: "SELECT count(*) FROM Transaction '
        f"WHERE appName = 'shop-v1' {NR_SINCE}\") {{ results }} }} }} }}"
    }
    assert len(newrelic.requests) == 10
    # the key was only ever in the request headers
    assert NR_KEY not in caplog.text
    assert NR_KEY not in json.dumps(ctx.result.to_dict())
    assert SECRETS.redact(f"API-Key: {NR_KEY}") == "API-Key: ***"
    assert ctx.result.tasks[0].output is None


def test_newrelic_graphql_errors_are_no_data_with_the_reason(
    newrelic: NewRelic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEW_RELIC_API_KEY", NR_KEY)
    ctx = _context(tmp_path)
    inputs = _nr_inputs(newrelic)
    inputs["versionValues"] = [{"where": "appName = 'shop-v1'"}]
    inputs["values"]["eventType"] = "PageView"
    _run(inputs, ctx)
    assert _values(ctx, "newrelic") == [dict.fromkeys(_values(ctx, "newrelic")[0])]
    lines = (ctx.result.tasks[0].output or "").splitlines()
    assert lines[:2] == [
        "no data for:",
        "  newrelic/request-count (v1): the jq expression gave null; the backend reported: "
        f"NRQL Syntax error: SELECT count(*) FROM PageView WHERE appName = 'shop-v1' {NR_SINCE}",
    ]
    assert len(lines) == 6


def test_a_refused_key_stops_the_task_and_names_its_source(
    newrelic: NewRelic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NR_KEY_OLD", "NRAK-EXPIRED-0000000000")
    ctx = _context(tmp_path)
    inputs = _nr_inputs(
        newrelic, auth={"newrelic": {"type": "apikey", "header": "API-Key", "keyEnv": "NR_KEY_OLD"}}
    )
    with pytest.raises(TaskFailed) as caught:
        _run(inputs, ctx)
    assert str(caught.value) == (
        f"provider newrelic: {newrelic.url}/graphql answered 401 Unauthorized "
        '({"errors": [{"message": "Unauthorized"}]}); the apikey credentials from the '
        "environment variable NR_KEY_OLD were refused: check that they are current and "
        "allowed to query this backend"
    )
    assert newrelic.requests[0].header("API-Key") == "NRAK-EXPIRED-0000000000"
    assert len(newrelic.requests) == 1


def test_a_missing_key_says_which_variable_to_set(newrelic: NewRelic, tmp_path: Path) -> None:
    with pytest.raises(TaskFailed) as caught:
        _run(_nr_inputs(newrelic), _context(tmp_path))
    assert str(caught.value) == (
        "provider newrelic: the API key is read from the environment variable "
        "NEW_RELIC_API_KEY, which is not set; set it (in a GitHub workflow: "
        "`env: {NEW_RELIC_API_KEY: ${{ secrets.NEW_RELIC_API_KEY }}}`)"
    )
    assert newrelic.requests == []


# -- Sysdig ------------------------------------------------------------------------------------


def _sysdig_values() -> dict[str, float]:
    out: dict[str, float] = {}
    for deployment, (count, errors, mean_ms) in {
        "shop-v1": (400, 4, 80.0),
        "shop-v2": (410, 41, 95.5),
    }.items():
        sel = f'kube_deployment_name="{deployment}"'
        err = f'{sel},code=~"5.."'
        out[f"sum(increase(http_requests_total{{{sel}}}[120s]))"] = count
        out[f"sum(increase(http_requests_total{{{err}}}[120s])) or on() vector(0)"] = errors
        out[
            f"(sum(increase(http_requests_total{{{err}}}[120s])) or on() vector(0)) / "
            f"sum(increase(http_requests_total{{{sel}}}[120s]))"
        ] = errors / count
        out[
            f"1000 * sum(increase(http_request_duration_seconds_sum{{{sel}}}[120s])) / "
            f"sum(increase(http_request_duration_seconds_count{{{sel}}}[120s]))"
        ] = mean_ms
    return out


@pytest.fixture
def sysdig() -> Iterator[Sysdig]:
    with Sysdig(token=SYSDIG_TOKEN, values=_sysdig_values()) as server:
        yield server


def _sysdig_inputs(server: RecordingServer, **extra: Any) -> dict[str, Any]:
    return {
        "templates": {"sysdig": "sysdig"},
        "values": {"url": server.url, "percentiles": [], "elapsedTimeSeconds": 120},
        "versionValues": [
            {"labels": {"kube_deployment_name": "shop-v1"}},
            {"labels": {"kube_deployment_name": "shop-v2"}},
        ],
        **extra,
    }


def test_sysdig(sysdig: Sysdig, tmp_path: Path) -> None:
    (tmp_path / "sysdig-token").write_text(SYSDIG_TOKEN + "\n")
    ctx = _context(tmp_path)
    inputs = _sysdig_inputs(sysdig)
    inputs["values"]["tokenFile"] = "sysdig-token"
    _run(inputs, ctx)
    assert _values(ctx, "sysdig") == [
        {
            "sysdig/error-count": 4.0,
            "sysdig/error-rate": 0.01,
            "sysdig/latency-mean": 80.0,
            "sysdig/request-count": 400.0,
        },
        {
            "sysdig/error-count": 41.0,
            "sysdig/error-rate": 0.1,
            "sysdig/latency-mean": 95.5,
            "sysdig/request-count": 410.0,
        },
    ]
    first = sysdig.requests[0]
    assert (first.method, first.path) == ("GET", "/prometheus/api/v1/query")
    assert first.header("Authorization") == f"Bearer {SYSDIG_TOKEN}"
    assert first.query == {
        "query": ['sum(increase(http_requests_total{kube_deployment_name="shop-v1"}[120s]))']
    }
    assert first.body == b""


def test_a_server_error_is_retried_then_no_data(
    sysdig: Sysdig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYSDIG_API_TOKEN", SYSDIG_TOKEN)
    sysdig.script("GET", "/prometheus/api/v1/query", [Reply(500, "boom"), Reply(500, "boom")])
    ctx = _context(tmp_path)
    _run(
        _sysdig_inputs(
            sysdig, retries=1, versionValues=[{"labels": {"kube_deployment_name": "shop-v1"}}]
        ),
        ctx,
    )
    assert _values(ctx, "sysdig") == [
        {
            "sysdig/error-count": 4.0,
            "sysdig/error-rate": 0.01,
            "sysdig/latency-mean": 80.0,
            "sysdig/request-count": None,
        }
    ]
    assert ctx.result.tasks[0].output == (
        f"no data for:\n  sysdig/request-count (v1): {sysdig.url}/prometheus/api/v1/query "
        "answered 500 Internal Server Error (2 attempts): boom"
    )
    assert len(sysdig.requests) == 5


def test_a_timeout_is_no_data_and_the_silent_backend_is_not_asked_again(
    sysdig: Sysdig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYSDIG_API_TOKEN", SYSDIG_TOKEN)
    sysdig.script("GET", "/prometheus/api/v1/query", [Reply(200, {}, delay_s=1.0)])
    ctx = _context(tmp_path)
    _run(_sysdig_inputs(sysdig, retries=0, timeout="300ms"), ctx)
    assert _values(ctx, "sysdig") == [dict.fromkeys(_values(ctx, "sysdig")[0])] * 2
    url = f"{sysdig.url}/prometheus/api/v1/query"
    silent = f"no complete answer from {url} within 300ms (the deadline set by timeout) (1 attempt)"
    output = (ctx.result.tasks[0].output or "").splitlines()
    assert output[:3] == [
        "no data for:",
        f"  sysdig/request-count (v1): {silent}",
        "  sysdig/error-count (v1): not queried: sysdig did not answer an earlier query "
        f"({silent})",
    ]
    assert len(output) == 9
    assert len(sysdig.requests) == 1


def test_malformed_json_is_no_data(
    sysdig: Sysdig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYSDIG_API_TOKEN", SYSDIG_TOKEN)
    sysdig.script("GET", "/prometheus/api/v1/query", [Reply(200, b'{"status": "succ')])
    ctx = _context(tmp_path)
    _run(
        _sysdig_inputs(sysdig, versionValues=[{"labels": {"kube_deployment_name": "shop-v1"}}]), ctx
    )
    assert ctx.store.value("sysdig/request-count", 0) is None
    assert ctx.store.value("sysdig/error-count", 0) == 4.0
    assert ctx.result.tasks[0].output == (
        f"no data for:\n  sysdig/request-count (v1): {sysdig.url}/prometheus/api/v1/query answered "
        "200 OK but the body is not JSON (Unterminated string starting at: line 1 column 12 "
        '(char 11)): {"status": "succ'
    )


def test_required_metrics_without_data_fail_the_task(
    sysdig: Sysdig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYSDIG_API_TOKEN", SYSDIG_TOKEN)
    inputs = _sysdig_inputs(sysdig, required=["sysdig/request-count"])
    inputs["versionValues"].append({"labels": {"kube_deployment_name": "shop-v3"}})
    ctx = _context(tmp_path)
    with pytest.raises(TaskFailed) as caught:
        _run(inputs, ctx)
    assert str(caught.value) == (
        "required metric(s) without data:\n  sysdig/request-count (v3): the jq expression found "
        "null where it expected a value (null (null) cannot be parsed as a number); the query "
        "matched no series (check the labels and the metric names)"
    )
    assert ctx.store.value("sysdig/request-count", 1) == 410.0


def test_a_refused_token_without_auth_suggests_auth(sysdig: Sysdig, tmp_path: Path) -> None:
    template = tmp_path / "sysdig-raw.yaml"
    template.write_text(
        "url: {{ url }}/prometheus/api/v1/query\n"
        "headers: {Authorization: Bearer wrong-token-1234}\n"
        "metrics:\n- name: up\n  params: [{name: query, value: up}]\n"
        "  jqExpression: .data.result[0].value[1]\n"
    )
    ctx = _context(tmp_path)
    with pytest.raises(TaskFailed) as caught:
        _run({"templates": {"raw": "sysdig-raw.yaml"}, "values": {"url": sysdig.url}}, ctx)
    assert str(caught.value) == (
        f"provider raw: {sysdig.url}/prometheus/api/v1/query answered 401 Unauthorized "
        '({"errors": [{"message": "Unauthorized"}]}); the backend wants credentials: give them '
        "under auth, e.g. `auth: {raw: {type: bearer, tokenEnv: MY_TOKEN}}`"
    )
    assert SECRETS.redact("Bearer wrong-token-1234") == "***"


def test_a_template_header_with_credentials_is_masked_and_warned_about(
    sysdig: Sysdig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    template = tmp_path / "sysdig-raw.yaml"
    template.write_text(
        "url: {{ url }}/prometheus/api/v1/query\n"
        "headers: {Authorization: 'Bearer " + SYSDIG_TOKEN + "'}\n"
        "metrics:\n- name: requests\n  params:\n"
        '  - {name: query, value: "sum(increase(http_requests_total{kube_deployment_name=\\"'
        'shop-v2\\"}[120s]))"}\n'
        "  jqExpression: .data.result[0].value[1]\n"
    )
    ctx = _context(tmp_path)
    with caplog.at_level(logging.WARNING, logger="iter8"):
        _run({"templates": {"raw": str(template)}, "values": {"url": sysdig.url}}, ctx)
    assert ctx.store.value("raw/requests", 0) == 410.0
    assert [r.getMessage() for r in caplog.records] == [
        "provider raw: header Authorization is written in the template; credentials belong in "
        "auth: (read from an environment variable or a file), see the custommetrics docs "
        "(Authentication)"
    ]
    assert SECRETS.redact(SYSDIG_TOKEN) == "***"


# -- Elastic -----------------------------------------------------------------------------------


def _documents() -> list[dict[str, Any]]:
    docs = []
    for version, latencies_ms, failed in (("v1", [10, 20, 30, 40, 100], 1), ("v2", [5, 15], 0)):
        for i, latency in enumerate(latencies_ms):
            docs.append(
                {
                    "@timestamp": "2024-05-01T12:00:00Z",
                    "service": {"version": version},
                    "http.response.status_code": 503 if i < failed else 200,
                    "event.duration": latency * 1_000_000,
                }
            )
    return docs


@pytest.mark.parametrize("auth", ["basic", "apikey"])
def test_elastic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, auth: str) -> None:
    monkeypatch.setenv("ES_PW", ES_PASSWORD)
    monkeypatch.setenv("ELASTIC_API_KEY", ES_API_KEY)
    ctx = _context(tmp_path)
    with Elastic(
        index="web-logs",
        documents=_documents(),
        username="reader",
        password=ES_PASSWORD,
        api_key=ES_API_KEY,
    ) as server:
        _run(
            {
                "templates": {"es": "elastic"},
                "values": {
                    "url": server.url,
                    "index": "web-logs",
                    "authType": auth,
                    "username": "reader",
                    "passwordEnv": "ES_PW",
                    "percentiles": [50, 75],
                },
                "versionValues": [
                    {"filters": {"service.version": "v1"}},
                    {"filters": {"service.version": "v2"}},
                ],
            },
            ctx,
        )
        first = server.requests[0]
    assert _values(ctx, "es") == [
        {
            "es/error-count": 1.0,
            "es/error-rate": 0.2,
            "es/latency-mean": 40.0,
            "es/latency-p50": 30.0,
            "es/latency-p75": 40.0,
            "es/request-count": 5.0,
        },
        {
            "es/error-count": 0.0,
            "es/error-rate": 0.0,
            "es/latency-mean": 10.0,
            "es/latency-p50": 10.0,
            "es/latency-p75": 12.5,
            "es/request-count": 2.0,
        },
    ]
    assert (first.method, first.path) == ("POST", "/web-logs/_search")
    expected = (
        "ApiKey " + ES_API_KEY if auth == "apikey" else "Basic cmVhZGVyOmVzLXBhc3MtMjcxODI4MTgyOA=="
    )
    assert first.header("Authorization") == expected
    assert first.json()["query"]["bool"]["filter"][1] == {"term": {"service.version": "v1"}}


def test_elastic_without_documents_has_no_rate(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    with Elastic(index="logs-*", documents=[]) as server:
        _run(
            {
                "templates": {"es": "elastic"},
                "values": {"url": server.url, "authType": "none", "percentiles": [95]},
            },
            ctx,
        )
    assert _values(ctx, "es") == [
        {
            "es/error-count": 0.0,
            "es/error-rate": None,
            "es/latency-mean": None,
            "es/latency-p95": None,
            "es/request-count": 0.0,
        }
    ]
    assert ctx.result.tasks[0].output == (
        "no data for:\n  es/error-rate (v1): the jq expression gave null\n"
        "  es/latency-mean (v1): the jq expression gave null\n"
        "  es/latency-p95 (v1): the jq expression gave null"
    )


# -- templates from elsewhere, legacy inputs, input problems ----------------------------------


def _url_template(auth: str) -> str:
    return (
        "url: {{ .base }}/prometheus/api/v1/query\n"
        f"{auth}"
        "metrics:\n- name: requests\n  type: counter\n  params:\n  - name: query\n"
        '    value: \'sum(increase(http_requests_total{kube_deployment_name="{{ .name }}"}'
        "[{{ .elapsedTimeSeconds }}s]))'\n"
        "  jqExpression: .data.result[0].value[1] | tonumber\n"
    )


def test_a_template_from_a_url_with_go_references(sysdig: Sysdig, tmp_path: Path) -> None:
    (tmp_path / "token").write_text(SYSDIG_TOKEN)
    with RecordingServer() as templates:
        templates.route("GET", "/sysdig.tpl", lambda r: Reply(200, _url_template("")))
        ctx = _context(tmp_path)
        _run(
            {
                "templates": {"team": templates.url + "/sysdig.tpl"},
                "values": {"base": sysdig.url, "elapsedTimeSeconds": 120},
                "versionValues": [{"name": "shop-v1"}, {"name": "shop-v2"}],
                "auth": {"team": {"type": "bearer", "tokenFile": "token"}},
            },
            ctx,
        )
    assert _values(ctx, "team") == [{"team/requests": 400.0}, {"team/requests": 410.0}]


def test_a_template_from_a_url_cannot_pick_the_secrets(
    sysdig: Sysdig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_not-for-a-metrics-backend")
    template = _url_template("auth: {type: bearer, tokenEnv: GITHUB_TOKEN}\n")
    with RecordingServer() as templates:
        templates.route("GET", "/t.tpl", lambda r: Reply(200, template))
        url = templates.url + "/t.tpl"
        with pytest.raises(TaskFailed) as caught:
            _run(
                {"templates": {"team": url}, "values": {"base": sysdig.url, "name": "v1"}},
                _context(tmp_path),
            )
    assert str(caught.value) == (
        f"provider team: the template from {url} names credentials (auth), but a template "
        "fetched from a URL cannot choose which secrets are sent; give them in the task: "
        "`auth: {team: {type: ..., ...}}`"
    )
    assert sysdig.requests == []


def test_collect_metrics_database_inputs_run_after_translation(
    sysdig: Sysdig, tmp_path: Path
) -> None:
    (tmp_path / "token").write_text(SYSDIG_TOKEN)
    (tmp_path / "sysdig.metrics.yaml").write_text(
        "provider: sysdig\n"
        f"url: {sysdig.url}/prometheus/api/v1/query\n"
        "auth: {type: bearer, tokenFile: token}\n"
        "method: GET\n"
        "metrics:\n- name: request-count\n  type: counter\n  description: requests\n"
        "  params:\n  - name: query\n"
        '    value: \'sum(increase(http_requests_total{kube_deployment_name="{{ .deployment }}"}'
        "[{{ .ElapsedTime }}s]))'\n"
        "  jqExpression: .data.result[0].value[1] | tonumber\n"
    )
    legacy = {
        "providers": ["sysdig"],
        "versionInfo": [
            {"deployment": "shop-v1", "StartingTime": int(time.time()) - 120},
            {"deployment": "shop-v2", "StartingTime": int(time.time()) - 120},
        ],
    }
    # The window is the time since StartingTime: 120 s, or a few more on a slow machine.
    for window in range(121, 131):
        for deployment, count in (("shop-v1", 400), ("shop-v2", 410)):
            query = f'sum(increase(http_requests_total{{kube_deployment_name="{deployment}"}}'
            sysdig.values[f"{query}[{window}s]))"] = count
    ctx = _context(tmp_path)
    _run(translate_legacy(legacy), ctx)
    assert _values(ctx, "sysdig") == [
        {"sysdig/request-count": 400.0},
        {"sysdig/request-count": 410.0},
    ]


def test_auth_for_an_unknown_provider(tmp_path: Path) -> None:
    inputs = {
        "templates": {"prometheus": "prometheus"},
        "auth": {"promethues": {"type": "bearer", "tokenEnv": "T"}},
    }
    with pytest.raises(TaskFailed) as caught:
        _run(inputs, _context(tmp_path))
    assert str(caught.value) == (
        "auth is given for promethues, which is not under templates (providers: prometheus)"
    )


def test_a_missing_ca_file(tmp_path: Path) -> None:
    with pytest.raises(TaskFailed) as caught:
        _run({"templates": {"p": "prometheus"}, "caFile": "ca.pem"}, _context(tmp_path))
    assert str(caught.value) == (
        f"caFile 'ca.pem' does not exist (looked for {tmp_path / 'ca.pem'}); give the path of a "
        "PEM file with the CA certificates that signed the backend's certificate"
    )


def test_a_missing_template(tmp_path: Path) -> None:
    with pytest.raises(TaskFailed) as caught:
        _run({"templates": {"p": "my.tpl"}}, _context(tmp_path))
    assert str(caught.value).startswith("provider p: template 'my.tpl' is not a built-in")


def test_a_malformed_starting_time(tmp_path: Path) -> None:
    inputs = {"templates": {"p": "prometheus"}, "values": {"startingTime": "noon"}}
    with pytest.raises(TaskFailed) as caught:
        _run(inputs, _context(tmp_path))
    assert str(caught.value) == (
        "startingTime of version 0 (v1) is 'noon'; write an RFC 3339 time such as "
        "2024-05-01T12:00:00Z (or Unix seconds)"
    )


def test_a_template_error_fails_the_task(tmp_path: Path) -> None:
    inputs = {"templates": {"newrelic": "newrelic"}, "values": {"where": "true"}}
    with pytest.raises(TaskFailed) as caught:
        _run(inputs, _context(tmp_path))
    assert str(caught.value).startswith(
        "built-in template newrelic (provider newrelic, version v1): the newrelic template needs"
    )


def test_a_bad_timeout_is_refused_when_the_inputs_are_parsed() -> None:
    with pytest.raises(InputsInvalid) as caught:
        registry()["custommetrics"].parse({"templates": {"p": "prometheus"}, "timeout": "soon"})
    assert caught.value.field == ("timeout",)
    assert str(caught.value).startswith("'soon' is not a duration")


def test_a_stop_request_interrupts_the_task(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    ctx.stop.set()
    with pytest.raises(Interrupted):
        _run({"templates": {"p": "prometheus"}}, ctx)


# -- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (it is its own CA), made with openssl."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_sysdig(certificate: tuple[Path, Path]) -> Iterator[TLSSysdig]:
    cert, key = certificate
    with TLSSysdig(
        certfile=str(cert), keyfile=str(key), token=SYSDIG_TOKEN, values=_sysdig_values()
    ) as server:
        yield server


@pytest.mark.requires("openssl")
def test_an_untrusted_certificate_stops_the_task_with_the_fix(
    tls_sysdig: TLSSysdig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYSDIG_API_TOKEN", SYSDIG_TOKEN)
    with pytest.raises(TaskFailed) as caught:
        _run(_sysdig_inputs(tls_sysdig), _context(tmp_path))
    message = str(caught.value)
    assert message.startswith(
        f"provider sysdig: TLS failure talking to {tls_sysdig.url}/prometheus/api/v1/query: "
    )
    assert "self-signed certificate" in message
    assert message.endswith(
        "; if the backend's certificate comes from a private CA, give that CA's certificate "
        "(PEM) in caFile, or set insecureSkipVerify: true (not recommended)"
    )


@pytest.mark.requires("openssl")
def test_a_ca_file_makes_the_certificate_trusted(
    tls_sysdig: TLSSysdig,
    certificate: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SYSDIG_API_TOKEN", SYSDIG_TOKEN)
    (tmp_path / "ca.pem").write_bytes(certificate[0].read_bytes())
    ctx = _context(tmp_path)
    _run(_sysdig_inputs(tls_sysdig, caFile="ca.pem"), ctx)
    assert ctx.store.value("sysdig/request-count", 1) == 410.0


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_insecure_skip_verify(
    tls_sysdig: TLSSysdig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYSDIG_API_TOKEN", SYSDIG_TOKEN)
    ctx = _context(tmp_path)
    _run(_sysdig_inputs(tls_sysdig, insecureSkipVerify=True), ctx)
    assert ctx.store.value("sysdig/request-count", 0) == 400.0


def test_the_window_counts_from_the_experiment_start(sysdig: Sysdig, tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(
        "url: {{ url }}/prometheus/api/v1/query\n"
        "auth: {type: bearer, tokenFile: token}\n"
        "metrics:\n- name: requests\n  params:\n"
        "  - name: query\n"
        '    value: \'sum(increase(http_requests_total{kube_deployment_name="shop-v1"}'
        "[{{ elapsedTimeSeconds }}s]))'\n"
        "  jqExpression: .data.result[0].value[1] | tonumber\n"
    )
    (tmp_path / "token").write_text(SYSDIG_TOKEN)
    sysdig.values['sum(increase(http_requests_total{kube_deployment_name="shop-v1"}[90s]))'] = 7
    ctx = _context(tmp_path)
    ctx.result.start_time = (datetime.now(UTC) - timedelta(seconds=90.5)).isoformat()
    _run({"templates": {"t": "t.yaml"}, "values": {"url": sysdig.url}}, ctx)
    assert ctx.store.value("t/requests", 0) == 7.0
    # without a readable start time, the window counts from when the run began
    ctx = _context(tmp_path)
    ctx.result.start_time = ""
    ctx.started_monotonic = time.monotonic() - 90.5
    _run({"templates": {"t2": "t.yaml"}, "values": {"url": sysdig.url}}, ctx)
    assert ctx.store.value("t2/requests", 0) == 7.0


def test_a_required_metric_no_provider_defines(
    sysdig: Sysdig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYSDIG_API_TOKEN", SYSDIG_TOKEN)
    inputs = _sysdig_inputs(sysdig, required=["sysdig/request-cuont"])
    with pytest.raises(TaskFailed) as caught:
        _run(inputs, _context(tmp_path))
    assert str(caught.value) == (
        "required lists sysdig/request-cuont, which no provider defines (did you mean "
        "sysdig/request-count?); the metrics are: sysdig/error-count, sysdig/error-rate, "
        "sysdig/latency-mean, sysdig/request-count"
    )


def test_a_required_metric_in_the_template(sysdig: Sysdig, tmp_path: Path) -> None:
    (tmp_path / "token").write_text(SYSDIG_TOKEN)
    (tmp_path / "t.yaml").write_text(
        "url: {{ url }}/prometheus/api/v1/query\n"
        "auth: {type: bearer, tokenFile: token}\n"
        "metrics:\n- name: latency-p95.0\n  required: true\n"
        "  params: [{name: query, value: 'nothing'}]\n"
        "  jqExpression: .data.result[0].value[1]\n"
    )
    with pytest.raises(TaskFailed) as caught:
        _run({"templates": {"t": "t.yaml"}, "values": {"url": sysdig.url}}, _context(tmp_path))
    assert str(caught.value) == (
        "required metric(s) without data:\n  t/latency-p95.0 (v1): the jq expression gave null; "
        "the query matched no series (check the labels and the metric names)"
    )


# -- every backend: 401, 500, timeout, malformed JSON --------------------------------------------


@dataclass(frozen=True)
class _Backend:
    provider: str
    method: str
    path: str
    server: RecordingServer
    inputs: dict[str, Any]


@pytest.fixture(params=["newrelic", "sysdig", "elastic"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Backend]:
    monkeypatch.setenv("NEW_RELIC_API_KEY", NR_KEY)
    monkeypatch.setenv("SYSDIG_API_TOKEN", SYSDIG_TOKEN)
    monkeypatch.setenv("ELASTIC_PASSWORD", ES_PASSWORD)
    if request.param == "newrelic":
        with NewRelic(api_key=NR_KEY, account_id=3141592, results=_nr_results()) as nr:
            inputs = _nr_inputs(nr, versionValues=[{"where": "appName = 'shop-v1'"}])
            yield _Backend("newrelic", "POST", "/graphql", nr, inputs)
    elif request.param == "sysdig":
        with Sysdig(token=SYSDIG_TOKEN, values=_sysdig_values()) as sd:
            inputs = _sysdig_inputs(sd)
            inputs["versionValues"] = inputs["versionValues"][:1]
            yield _Backend("sysdig", "GET", "/prometheus/api/v1/query", sd, inputs)
    else:
        with Elastic(
            index="logs-*", documents=_documents(), username="elastic", password=ES_PASSWORD
        ) as es:
            inputs = {
                "templates": {"elastic": "elastic"},
                "values": {"url": es.url, "filters": {"service.version": "v1"}, "percentiles": []},
            }
            yield _Backend("elastic", "POST", "/logs-*/_search", es, inputs)


def _first_gap(ctx: TaskContext) -> list[str]:
    return (ctx.result.tasks[0].output or "").splitlines()[1:3]


def test_each_backend_401(backend: _Backend, tmp_path: Path) -> None:
    server = backend.server
    server.script(backend.method, backend.path, [Reply(401, {"error": "invalid credentials"})])
    with pytest.raises(TaskFailed) as caught:
        _run(backend.inputs, _context(tmp_path))
    assert str(caught.value).startswith(
        f"provider {backend.provider}: {server.url}{backend.path} answered 401 Unauthorized "
        '({"error": "invalid credentials"}); the '
    )
    assert str(caught.value).endswith(
        " were refused: check that they are current and allowed to query this backend"
    )


def test_each_backend_500(backend: _Backend, tmp_path: Path) -> None:
    server = backend.server
    server.script(backend.method, backend.path, [Reply(500, "boom")] * 2)
    ctx = _context(tmp_path)
    _run({**backend.inputs, "retries": 1}, ctx)
    assert _first_gap(ctx) == [
        f"  {backend.provider}/request-count (v1): {server.url}{backend.path} answered 500 "
        "Internal Server Error (2 attempts): boom"
    ]
    assert ctx.store.value(f"{backend.provider}/error-count", 0) is not None


def test_each_backend_timeout(backend: _Backend, tmp_path: Path) -> None:
    server = backend.server
    server.script(backend.method, backend.path, [Reply(200, {}, delay_s=1.0)])
    ctx = _context(tmp_path)
    _run({**backend.inputs, "retries": 0, "timeout": "200ms"}, ctx)
    silent = (
        f"no complete answer from {server.url}{backend.path} within 200ms "
        "(the deadline set by timeout) (1 attempt)"
    )
    assert _first_gap(ctx) == [
        f"  {backend.provider}/request-count (v1): {silent}",
        f"  {backend.provider}/error-count (v1): not queried: {backend.provider} did not answer "
        f"an earlier query ({silent})",
    ]


def test_each_backend_malformed_json(backend: _Backend, tmp_path: Path) -> None:
    server = backend.server
    server.script(backend.method, backend.path, [Reply(200, b'{"data": ')])
    ctx = _context(tmp_path)
    _run(backend.inputs, ctx)
    assert _first_gap(ctx) == [
        f"  {backend.provider}/request-count (v1): {server.url}{backend.path} answered 200 OK "
        'but the body is not JSON (Expecting value: line 1 column 10 (char 9)): {"data":'
    ]
    assert ctx.store.value(f"{backend.provider}/error-count", 0) is not None


def test_iter8_case_variants_in_a_template_are_warned_about_once(
    sysdig: Sysdig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "token").write_text(SYSDIG_TOKEN)
    (tmp_path / "t.yaml").write_text(
        "URL: {{ url }}/prometheus/api/v1/query\n"
        "auth: {type: bearer, tokenFile: token}\n"
        "metrics:\n- name: requests\n  params:\n"
        "  - name: query\n"
        '    value: \'sum(increase(http_requests_total{kube_deployment_name="{{ name }}"}'
        "[120s]))'\n"
        "  jqexpression: .data.result[0].value[1]\n"
    )
    ctx = _context(tmp_path)
    with caplog.at_level(logging.WARNING, logger="iter8"):
        _run(
            {
                "templates": {"t": "t.yaml"},
                "values": {"url": sysdig.url},
                "versionValues": [{"name": "shop-v1"}, {"name": "shop-v2"}],
            },
            ctx,
        )
    assert _values(ctx, "t") == [{"t/requests": 400.0}, {"t/requests": 410.0}]
    assert [r.getMessage() for r in caplog.records] == [
        "provider t: accepted 'URL' as 'url'; write 'url'",
        "provider t: accepted 'jqexpression' as 'jqExpression'; write 'jqExpression'",
    ]
