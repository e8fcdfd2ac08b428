"""Templates rendered for one version: the built-in templates' exact requests, and the errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from iter8_action.metrics.backends.query import Transport
from iter8_action.metrics.backends.render import render_spec
from iter8_action.metrics.backends.sources import TemplateSource, load_template
from iter8_action.metrics.backends.spec import AuthSpec, ProviderSpec, SpecError


def _builtin(name: str, values: dict[str, Any]) -> ProviderSpec:
    source = load_template(name, provider=name, resolve=Path, transport=Transport())
    return render_spec(source, {"elapsedTimeSeconds": 60, **values}, provider=name, version="v2")


def _queries(spec: ProviderSpec) -> dict[str, str]:
    return {m.name: dict(m.params)["query"] for m in spec.metrics}


def test_prometheus() -> None:
    spec = _builtin(
        "prometheus",
        {
            "url": "http://prom.invalid:9090/",
            "labels": {"app": "shop", "version": "v2"},
            "percentiles": [95],
        },
    )
    assert (spec.url, spec.method, spec.auth) == (
        "http://prom.invalid:9090/api/v1/query",
        "GET",
        None,
    )
    sel = 'app="shop",version="v2"'
    assert _queries(spec) == {
        "request-count": f"sum(increase(http_requests_total{{{sel}}}[60s]))",
        "error-count": f'sum(increase(http_requests_total{{{sel},code=~"5.."}}[60s])) '
        "or on() vector(0)",
        "error-rate": f'(sum(increase(http_requests_total{{{sel},code=~"5.."}}[60s])) '
        f"or on() vector(0)) / sum(increase(http_requests_total{{{sel}}}[60s]))",
        "latency-mean": f"1000 * sum(increase(http_request_duration_seconds_sum{{{sel}}}[60s])) "
        f"/ sum(increase(http_request_duration_seconds_count{{{sel}}}[60s]))",
        "latency-p95": "1000 * histogram_quantile(0.95, sum by (le) "
        f"(increase(http_request_duration_seconds_bucket{{{sel}}}[60s])))",
    }
    assert [(m.name, m.type, m.units) for m in spec.metrics] == [
        ("request-count", "counter", "requests"),
        ("error-count", "counter", "requests"),
        ("error-rate", "gauge", None),
        ("latency-mean", "gauge", "msec"),
        ("latency-p95", "gauge", "msec"),
    ]
    assert {m.jq_expression for m in spec.metrics} == {".data.result[0].value[1] | tonumber"}


def test_prometheus_with_other_metric_names_and_a_pinned_time() -> None:
    spec = _builtin(
        "prometheus",
        {
            "requestsMetric": "requests_total",
            "errorMatchers": 'status=~"5..|429"',
            "latencyMetric": "latency_ms",
            "latencyToMs": 1,
            "labels": {"pod": 'we"ird\\'},
            "percentiles": [99.9],
            "time": 1714564800.25,
        },
    )
    assert spec.url == "http://localhost:9090/api/v1/query"
    assert spec.metrics[1].params == (
        (
            "query",
            'sum(increase(requests_total{pod="we\\"ird\\\\",status=~"5..|429"}[60s])) '
            "or on() vector(0)",
        ),
        ("time", "1714564800.25"),
    )
    assert dict(spec.metrics[4].params)["query"] == (
        '1 * histogram_quantile(0.999, sum by (le) (increase(latency_ms_bucket{pod="we\\"ird\\\\"}'
        "[60s])))"
    )
    assert spec.metrics[4].name == "latency-p99.9"


def test_prometheus_labels_must_be_single_values() -> None:
    with pytest.raises(SpecError) as caught:
        _builtin("prometheus", {"labels": {"version": ["v1", "v2"]}})
    assert str(caught.value) == (
        "built-in template prometheus (provider prometheus, version v2): "
        "labels.version must be a single value, not ['v1', 'v2']"
    )


def test_sysdig_is_promql_with_a_bearer_token() -> None:
    spec = _builtin("sysdig", {"labels": {"kube_deployment_name": "shop-v2"}, "percentiles": []})
    assert spec.url == "https://us2.app.sysdig.com/prometheus/api/v1/query"
    assert spec.auth == AuthSpec(type="bearer", token_env="SYSDIG_API_TOKEN")
    assert _queries(spec)["request-count"] == (
        'sum(increase(http_requests_total{kube_deployment_name="shop-v2"}[60s]))'
    )
    spec = _builtin("sysdig", {"url": "https://eu1.app.sysdig.com", "tokenFile": "token"})
    assert spec.url == "https://eu1.app.sysdig.com/prometheus/api/v1/query"
    assert spec.auth == AuthSpec(type="bearer", token_file="token")


def test_istio_prom_keeps_iter8s_queries() -> None:
    spec = _builtin(
        "istio-prom",
        {"labels": {"destination_workload": "httpbin-v2"}, "latencyPercentiles": [50, 99.9]},
    )
    assert spec.url == "http://prometheus.istio-system:9090/api/v1/query"
    requests = (
        'sum(last_over_time(istio_requests_total{destination_workload="httpbin-v2"}[60s])) '
        "or on() vector(0)"
    )
    errors = (
        "sum(last_over_time(istio_requests_total{response_code=~'5..',"
        'destination_workload="httpbin-v2"}[60s])) or on() vector(0)'
    )
    assert _queries(spec) == {
        "request-count": requests,
        "error-count": errors,
        "error-rate": f"({errors})/({requests})",
        "latency-mean": "(sum(last_over_time(istio_request_duration_milliseconds_sum"
        '{destination_workload="httpbin-v2"}[60s])) or on() vector(0))/' + f"({requests})",
        "latency-p50": "histogram_quantile(0.5, sum(rate(istio_request_duration_milliseconds_bucket"
        '{destination_workload="httpbin-v2"}[60s])) by (le))',
        "latency-p99.9": "histogram_quantile(0.999, sum(rate("
        'istio_request_duration_milliseconds_bucket{destination_workload="httpbin-v2"}[60s])) '
        "by (le))",
    }


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"response_code": "200"}, "labels should not contain 'response_code'"),
        ({"a": {"b": 1}}, "labels should be primitive values but received: a: {'b': 1}"),
    ],
)
def test_istio_prom_label_checks(labels: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        _builtin("istio-prom", {"labels": labels})
    assert str(caught.value) == (
        f"built-in template istio-prom (provider istio-prom, version v2): {message}"
    )


def test_newrelic_sends_nrql_through_nerdgraph() -> None:
    spec = _builtin(
        "newrelic", {"accountId": 1234567, "where": "appName = 'shop-v2'", "percentiles": [95]}
    )
    assert (spec.url, spec.method) == ("https://api.newrelic.com/graphql", "POST")
    assert spec.auth == AuthSpec(type="apikey", key_env="NEW_RELIC_API_KEY", header="API-Key")
    since = " FROM Transaction WHERE appName = 'shop-v2' SINCE 60 seconds ago"
    nrql = {
        "request-count": f"SELECT count(*){since}",
        "error-count": "SELECT count(*) FROM Transaction WHERE appName = 'shop-v2' "
        "AND (error IS true) SINCE 60 seconds ago",
        "error-rate": f"SELECT filter(count(*), WHERE error IS true) / count(*) AS 'errorRate'"
        f"{since}",
        "latency-mean": f"SELECT average(duration){since}",
        "latency-p95": f"SELECT percentile(duration, 95){since}",
    }
    for metric in spec.metrics:
        assert json.loads(metric.body or "") == {
            "query": "{ actor { account(id: 1234567) { nrql(query: "
            + json.dumps(nrql[metric.name])
            + ") { results } } } }"
        }
    results = ".data.actor.account.nrql.results[0]"
    assert [m.jq_expression for m in spec.metrics] == [
        f"{results}.count",
        f"{results}.count",
        f"{results}.errorRate",
        f"{results}.average | if . == null then null else . * 1000 end",
        f'{results}["percentile.duration"]["95"] | if . == null then null else . * 1000 end',
    ]


def test_newrelic_needs_an_account_and_a_condition() -> None:
    with pytest.raises(SpecError) as caught:
        _builtin("newrelic", {"accountId": 1})
    assert str(caught.value) == (
        "built-in template newrelic (provider newrelic, version v2): the newrelic template needs "
        "the values accountId (your account id) and where (an NRQL condition selecting the "
        "version, e.g. \"appName = 'shop-v2'\")"
    )


def test_elastic_searches_with_aggregations() -> None:
    spec = _builtin(
        "elastic",
        {
            "url": "https://es.invalid:9200",
            "index": "web-logs",
            "filters": {"service.version": "v2"},
            "percentiles": [95],
        },
    )
    assert (spec.url, spec.method) == ("https://es.invalid:9200/web-logs/_search", "POST")
    assert spec.auth == AuthSpec(type="basic", username="elastic", password_env="ELASTIC_PASSWORD")
    query = {
        "bool": {
            "filter": [
                {"range": {"@timestamp": {"gte": "now-60s"}}},
                {"term": {"service.version": "v2"}},
            ]
        }
    }
    failed = {"range": {"http.response.status_code": {"gte": 500}}}
    base = {"size": 0, "track_total_hits": True, "query": query}
    bodies = {m.name: json.loads(m.body or "") for m in spec.metrics}
    assert bodies == {
        "request-count": base,
        "error-count": {
            **base,
            "query": {"bool": {"filter": [*query["bool"]["filter"], failed]}},
        },
        "error-rate": {**base, "aggs": {"errors": {"filter": failed}}},
        "latency-mean": {**base, "aggs": {"latency": {"avg": {"field": "event.duration"}}}},
        "latency-p95": {
            **base,
            "aggs": {
                "latency": {
                    "percentiles": {"field": "event.duration", "percents": [95], "keyed": False}
                }
            },
        },
    }


@pytest.mark.parametrize(
    ("values", "auth"),
    [
        ({"authType": "apikey"}, AuthSpec(type="apikey", key_env="ELASTIC_API_KEY")),
        ({"authType": "apikey", "apiKeyFile": "k"}, AuthSpec(type="apikey", key_file="k")),
        (
            {"username": "reader", "passwordFile": "pw"},
            AuthSpec(type="basic", username="reader", password_file="pw"),
        ),
        ({"authType": "none"}, None),
    ],
)
def test_elastic_auth_choices(values: dict[str, Any], auth: AuthSpec | None) -> None:
    assert _builtin("elastic", values).auth == auth


def test_elastic_rejects_an_unknown_auth_type() -> None:
    with pytest.raises(SpecError) as caught:
        _builtin("elastic", {"authType": "oauth"})
    assert str(caught.value) == (
        "built-in template elastic (provider elastic, version v2): "
        "authType is oauth; write basic, apikey or none"
    )


def _source(text: str) -> TemplateSource:
    return TemplateSource(text, "my.tpl")


def test_a_rendered_template_that_is_not_yaml_shows_the_lines() -> None:
    text = "url: http://x.invalid\nmetrics:\n- name: {{ name }}\n  jqExpression: .a\n bad: [\n"
    with pytest.raises(SpecError) as caught:
        render_spec(_source(text), {"name": "m"}, provider="p", version="v1")
    assert str(caught.value) == "\n".join(
        [
            "my.tpl (provider p, version v1): the rendered template is not YAML: "
            "expected <block end>, but found '<block mapping start>' at rendered line 5:",
            "     4 |   jqExpression: .a",
            "     5 |  bad: [",
        ]
    )


def test_a_template_error_names_the_template_and_version() -> None:
    with pytest.raises(SpecError) as caught:
        render_spec(_source("url: {{ .url }}\n{{ with .x }}\n"), {}, provider="p", version="v1")
    assert str(caught.value) == (
        "my.tpl (provider p, version v1):3:1: unexpected EOF: the {{with}} at 2:4 has no {{end}}"
    )


def test_an_invalid_spec_names_template_version_provider_and_field() -> None:
    text = "url: http://x.invalid\nmetrics:\n- name: m\n  type: summary\n  jqExpression: .a\n"
    with pytest.raises(SpecError) as caught:
        render_spec(_source(text), {}, provider="p", version="v1")
    assert str(caught.value) == (
        "my.tpl (provider p, version v1): invalid provider spec:\n"
        "provider p, metric 'm' (metrics[0]), field type: "
        "'summary' is not one of ['counter', 'gauge']"
    )


def test_a_yaml_error_without_a_position() -> None:
    with pytest.raises(SpecError) as caught:
        render_spec(_source("a: b\n---\nc: d\n"), {}, provider="p", version="v1")
    assert str(caught.value).startswith(
        "my.tpl (provider p, version v1): the rendered template is not YAML: "
    )
