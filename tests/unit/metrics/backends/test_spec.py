"""Provider specs: validated by their schema; errors name the provider, metric and field."""

from __future__ import annotations

from typing import Any

import pytest

from iter8_action.documents.schemas import load_schema
from iter8_action.metrics.backends.spec import (
    AuthSpec,
    MetricSpec,
    ProviderSpec,
    SpecError,
    parse_spec,
)


def _spec(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "url": "http://prom.invalid:9090/api/v1/query",
        "metrics": [
            {"name": "request-count", "type": "counter", "jqExpression": ".data.result[0]"},
        ],
    }
    spec.update(overrides)
    return spec


def _problems(provider: str, data: Any) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(provider, data)
    return str(caught.value)


def test_a_full_spec_is_parsed() -> None:
    spec = parse_spec(
        "es",
        {
            "url": "http://es.invalid:9200/logs/_search",
            "method": "POST",
            "headers": {"X-Trace": 7, "X-Debug": True},
            "auth": {"type": "basic", "username": "elastic", "passwordEnv": "ES_PASSWORD"},
            "provider": "ignored",
            "metrics": [
                {
                    "name": "latency-p95",
                    "description": "  95th percentile\n",
                    "type": "gauge",
                    "units": "msec",
                    "params": [{"name": "q", "value": 5}, {"name": "pretty", "value": False}],
                    "body": {"size": 0, "aggs": {"x": {"avg": {"field": "d"}}}},
                    "jqExpression": ".aggregations.x.value",
                    "required": True,
                },
                {"name": "raw", "body": "text body", "jqExpression": "."},
            ],
        },
    )
    assert spec == ProviderSpec(
        provider="es",
        url="http://es.invalid:9200/logs/_search",
        method="POST",
        headers={"X-Trace": "7", "X-Debug": "true"},
        auth=AuthSpec(type="basic", username="elastic", password_env="ES_PASSWORD"),
        metrics=(
            MetricSpec(
                name="latency-p95",
                jq_expression=".aggregations.x.value",
                type="gauge",
                description="95th percentile",
                units="msec",
                params=(("q", "5"), ("pretty", "false")),
                body='{"size":0,"aggs":{"x":{"avg":{"field":"d"}}}}',
                required=True,
            ),
            MetricSpec(name="raw", jq_expression=".", body="text body"),
        ),
    )


def test_defaults_are_iter8s() -> None:
    spec = parse_spec("prom", _spec())
    assert (spec.method, dict(spec.headers), spec.auth) == ("GET", {}, None)
    assert spec.metrics[0].type == "counter"
    assert parse_spec("prom", _spec(metrics=[{"name": "g", "jqExpression": "."}])).metrics[0] == (
        MetricSpec(name="g", jq_expression=".", type="gauge")
    )


def test_errors_name_provider_metric_and_field() -> None:
    data = _spec(
        method="PUT",
        metrics=[
            {"name": "ok", "jqExpression": "."},
            {"name": "latency-p95", "type": "histogram", "jqExpression": "."},
            {"name": "bad", "params": [{"name": "query"}], "jqExpression": "."},
            {"description": "no name", "jqExpression": "."},
        ],
    )
    assert _problems("prometheus", data) == "\n".join(
        [
            "provider prometheus, field method: 'PUT' is not one of ['GET', 'POST']",
            "provider prometheus, metric 'latency-p95' (metrics[1]), field type: "
            "'histogram' is not one of ['counter', 'gauge']",
            "provider prometheus, metric 'bad' (metrics[2]), field params[0]: "
            "'value' is a required property",
            "provider prometheus, metrics[3]: 'name' is a required property",
        ]
    )


def test_unknown_fields_are_named() -> None:
    data = _spec(metrics=[{"name": "m", "jqExpresion": ".", "jqExpression": "."}])
    assert _problems("p", data) == (
        "provider p, metric 'm' (metrics[0]): unknown field(s) ('jqExpresion' was unexpected)"
    )


def test_missing_url_and_metrics() -> None:
    assert _problems("p", {"method": "GET"}) == "\n".join(
        [
            "provider p: 'url' is a required property",
            "provider p: 'metrics' is a required property",
        ]
    )


def test_a_url_must_be_http() -> None:
    assert _problems("p", _spec(url="prom:9090")) == (
        "provider p, field url: 'prom:9090' does not match '^https?://'"
    )


def test_jq_syntax_errors_are_found_before_any_query() -> None:
    data = _spec(metrics=[{"name": "m", "jqExpression": ".data.result[0 | tonumber"}])
    assert _problems("p", data) == (
        "provider p, metric 'm' (metrics[0]), field jqExpression: not a valid jq expression: "
        "syntax error, unexpected end of file, expecting '|' or ',' or ':' or ']' "
        "at <top-level>, line 1, column 18"
    )


def test_duplicate_metric_names() -> None:
    metric = {"name": "m", "jqExpression": "."}
    assert _problems("p", _spec(metrics=[metric, metric])) == (
        "provider p: metric 'm' is defined more than once"
    )


@pytest.mark.parametrize(
    ("rendered", "kind"), [(None, "empty"), ("just text", "a str"), ([1], "a list")]
)
def test_a_rendered_template_must_be_a_mapping(rendered: Any, kind: str) -> None:
    assert _problems("p", rendered) == (
        f"provider p: the rendered template is {kind}, not a mapping with url and metrics"
    )


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (
            {"type": "bearer"},
            "provider p, field auth: auth type bearer needs exactly one of tokenEnv or tokenFile",
        ),
        (
            {"type": "bearer", "tokenEnv": "A", "tokenFile": "b"},
            "provider p, field auth: auth type bearer needs exactly one of tokenEnv or tokenFile",
        ),
        (
            {"type": "basic", "username": "u"},
            "provider p, field auth: auth type basic needs exactly one of username or "
            "usernameEnv, and passwordEnv or passwordFile",
        ),
        (
            {"type": "apikey", "keyEnv": "K", "tokenEnv": "T"},
            "provider p, field auth: 'tokenEnv' is not a field of this auth type "
            "(its fields: type, keyEnv, keyFile, header, scheme)",
        ),
        (
            {"type": "bearer", "token": "s3cr3t-in-the-file"},
            "provider p, field auth: unknown field(s) ('token' was unexpected)",
        ),
        (
            {"type": "oauth"},
            "provider p, field auth.type: 'oauth' is not one of "
            "['bearer', 'basic', 'apikey', 'none']",
        ),
    ],
)
def test_auth_problems(auth: dict[str, Any], message: str) -> None:
    assert message in _problems("p", _spec(auth=auth)).splitlines()


def test_the_schema_documents_every_property() -> None:
    def walk(node: Any, path: str) -> list[str]:
        missing = []
        if isinstance(node, dict):
            for name, sub in (node.get("properties") or {}).items():
                if "description" not in sub and "$ref" not in sub:
                    missing.append(f"{path}.{name}")
            for key, sub in node.items():
                missing += walk(sub, f"{path}.{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                missing += walk(sub, f"{path}[{i}]")
        return missing

    assert walk(load_schema("provider.schema.json"), "$") == []


def test_case_variants_of_field_names_are_accepted_with_a_warning() -> None:
    spec = parse_spec(
        "ce",
        {
            "URL": "http://x.invalid/q",
            "Method": "GET",
            "auth": {"type": "bearer", "TokenEnv": "T"},
            "metrics": [
                {"Name": "a", "jqexpression": ".a", "Params": [{"name": "q", "VALUE": "1"}]},
                {"name": "b", "jqexpression": ".b"},
            ],
        },
    )
    assert (spec.url, spec.method, spec.auth) == (
        "http://x.invalid/q",
        "GET",
        AuthSpec(type="bearer", token_env="T"),
    )
    assert [(m.name, m.jq_expression, m.params) for m in spec.metrics] == [
        ("a", ".a", (("q", "1"),)),
        ("b", ".b", ()),
    ]
    assert spec.warnings == (
        "provider ce: accepted 'URL' as 'url'; write 'url'",
        "provider ce: accepted 'Method' as 'method'; write 'method'",
        "provider ce: accepted 'TokenEnv' as 'tokenEnv'; write 'tokenEnv'",
        "provider ce: accepted 'Name' as 'name'; write 'name'",
        "provider ce: accepted 'jqexpression' as 'jqExpression'; write 'jqExpression'",
        "provider ce: accepted 'Params' as 'params'; write 'params'",
        "provider ce: accepted 'VALUE' as 'value'; write 'value'",
    )


def test_a_case_variant_next_to_the_real_field_is_an_unknown_field() -> None:
    data = _spec(metrics=[{"name": "m", "jqExpression": ".", "JQExpression": ".x"}])
    assert _problems("p", data) == (
        "provider p, metric 'm' (metrics[0]): unknown field(s) ('JQExpression' was unexpected)"
    )
