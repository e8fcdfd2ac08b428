"""The provider spec: what a rendered template says about one backend.

`parse_spec` validates a rendered template against `schemas/provider.schema.json`
and turns it into frozen dataclasses. Every problem is reported, each naming the
provider, the metric (when there is one) and the field, since a template is
rendered per version and a message without those is hard to trace back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jq
import jsonschema

from iter8_action.core.errors import InvalidValue
from iter8_action.documents.schemas import load_schema
from iter8_action.metrics.backends.extract import jq_error

SCHEMA_FILE = "provider.schema.json"


class SpecError(InvalidValue):
    """A provider spec that cannot be used; the message names provider, metric and field."""


@dataclass(frozen=True)
class AuthSpec:
    """`auth:` of a provider: the kind and where its secrets are read from."""

    type: str
    token_env: str | None = None
    token_file: str | None = None
    username: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    key_env: str | None = None
    key_file: str | None = None
    header: str | None = None
    scheme: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuthSpec:
        return cls(
            type=str(data["type"]),
            token_env=data.get("tokenEnv"),
            token_file=data.get("tokenFile"),
            username=data.get("username"),
            username_env=data.get("usernameEnv"),
            password_env=data.get("passwordEnv"),
            password_file=data.get("passwordFile"),
            key_env=data.get("keyEnv"),
            key_file=data.get("keyFile"),
            header=data.get("header"),
            scheme=data.get("scheme"),
        )


@dataclass(frozen=True)
class MetricSpec:
    name: str
    jq_expression: str
    type: str = "gauge"
    description: str = ""
    units: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    """The request body, already serialised (JSON for an object or array)."""
    required: bool = False


@dataclass(frozen=True)
class ProviderSpec:
    provider: str
    url: str
    metrics: tuple[MetricSpec, ...]
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    auth: AuthSpec | None = None
    warnings: tuple[str, ...] = ()
    """Case variants of field names that were accepted (Iter8's Go decoding ignored case)."""


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = load_schema(SCHEMA_FILE)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def _where(provider: str, data: Any, path: Sequence[Any]) -> str:
    """`provider prometheus, metric 'latency-p95' (metrics[3]), field params[0].value`."""
    parts = [f"provider {provider}"]
    rest = list(path)
    if len(rest) >= 2 and rest[0] == "metrics" and isinstance(rest[1], int):
        metrics = data.get("metrics") if isinstance(data, dict) else None
        item = metrics[rest[1]] if isinstance(metrics, list) and rest[1] < len(metrics) else None
        name = item.get("name") if isinstance(item, dict) else None
        label = f"metric {name!r} (metrics[{rest[1]}])" if name else f"metrics[{rest[1]}]"
        parts.append(label)
        rest = rest[2:]
    if rest:
        text = ""
        for part in rest:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
        parts.append(f"field {text}")
    return ", ".join(parts)


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown field(s)")
    if "propertyNames" in error.schema_path:
        allowed = error.validator_value
        fields = ", ".join(map(str, allowed)) if isinstance(allowed, list) else str(allowed)
        return f"{error.instance!r} is not a field of this auth type (its fields: {fields})"
    if error.validator == "oneOf" and isinstance(error.instance, dict):
        return _auth_choice(error.instance)
    return error.message


def _auth_choice(auth: Mapping[str, Any]) -> str:
    kind = auth.get("type")
    choices = {
        "bearer": "tokenEnv or tokenFile",
        "basic": "username or usernameEnv, and passwordEnv or passwordFile",
        "apikey": "keyEnv or keyFile",
    }.get(str(kind), "the fields of its type")
    return f"auth type {kind} needs exactly one of {choices}"


def normalize_case(provider: str, data: Any, schema: Mapping[str, Any] | None = None) -> list[str]:
    """Rename case variants of known fields (`jqexpression`) in place; say what was renamed.

    Iter8 decoded provider specs with Go's JSON rules, which match field names
    case-insensitively, so Iter8 templates may spell them so.
    """
    root = load_schema(SCHEMA_FILE)
    schema = root if schema is None else schema
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    warnings: list[str] = []
    if isinstance(data, dict):
        known = {name.lower(): name for name in schema.get("properties", {})}
        for key in list(data):
            canonical = known.get(str(key).lower())
            if canonical is not None and canonical != key and canonical not in data:
                data[canonical] = data.pop(key)
                warnings.append(
                    f"provider {provider}: accepted {key!r} as {canonical!r}; write {canonical!r}"
                )
        for key, value in data.items():
            sub = schema.get("properties", {}).get(key)
            if sub is not None:
                warnings += normalize_case(provider, value, sub)
    elif isinstance(data, list) and isinstance(schema.get("items"), dict):
        for item in data:
            warnings += normalize_case(provider, item, schema["items"])
    return warnings


def parse_spec(provider: str, data: Any) -> ProviderSpec:
    """Validate a rendered template and build its ProviderSpec; SpecError lists every problem."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise SpecError(
            f"provider {provider}: the rendered template is {kind}, "
            "not a mapping with url and metrics"
        )
    warnings = normalize_case(provider, data)
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    problems = [f"{_where(provider, data, e.absolute_path)}: {_message(e)}" for e in errors]
    problems += _jq_problems(provider, data) if not problems else []
    names = [m.get("name") for m in data.get("metrics", []) if isinstance(m, dict)]
    dupes = sorted({n for n in names if n is not None and names.count(n) > 1})
    problems += [f"provider {provider}: metric {n!r} is defined more than once" for n in dupes]
    if problems:
        raise SpecError("\n".join(problems))
    return _build(provider, data, warnings=tuple(dict.fromkeys(warnings)))


def _jq_problems(provider: str, data: Mapping[str, Any]) -> list[str]:
    problems = []
    for i, metric in enumerate(data["metrics"]):
        try:
            jq.compile(metric["jqExpression"])
        except ValueError as exc:
            where = _where(provider, data, ["metrics", i, "jqExpression"])
            problems.append(f"{where}: not a valid jq expression: {jq_error(str(exc))}")
    return problems


def _body(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _build(provider: str, data: Mapping[str, Any], *, warnings: tuple[str, ...]) -> ProviderSpec:
    metrics = tuple(
        MetricSpec(
            name=m["name"],
            jq_expression=m["jqExpression"],
            type=m.get("type", "gauge"),
            description=str(m.get("description", "")).strip(),
            units=m.get("units"),
            params=tuple((p["name"], _scalar(p["value"])) for p in m.get("params") or []),
            body=_body(m.get("body")),
            required=bool(m.get("required", False)),
        )
        for m in data["metrics"]
    )
    auth = data.get("auth")
    return ProviderSpec(
        provider=provider,
        url=data["url"],
        metrics=metrics,
        method=data.get("method", "GET"),
        headers={k: _scalar(v) for k, v in (data.get("headers") or {}).items()},
        auth=AuthSpec.from_dict(auth) if auth else None,
        warnings=warnings,
    )
