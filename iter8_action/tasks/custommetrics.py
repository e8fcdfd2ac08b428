"""The `custommetrics` task: metrics for each version from the team's own monitoring backend.

For each provider under `templates`, the template is loaded once and rendered
once per version (`values` merged with that version's `versionValues`); each
metric of the rendered spec is one request, whose JSON answer a jq expression
turns into a number stored as `<provider>/<metric>` for that version. A metric
without a number is "no data" with the reason (logged and kept in the task's
record), as in Iter8, unless it is required. Credentials come from `auth`
(environment variables or files), are masked everywhere, and a 401/403 stops
the task with a message that says which credentials were refused.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from iter8_action.core.errors import TaskFailed
from iter8_action.core.secrets import SECRETS, env_secrets, url_secrets
from iter8_action.load.progress import ProgressLine
from iter8_action.metrics.names import canonical_metric_name
from iter8_action.metrics.store import MetricMeta, MetricType
from iter8_action.tasks import suggest
from iter8_action.tasks._fields import HttpLimits, text_or_none
from iter8_action.tasks.base import TaskContext, TaskType

if TYPE_CHECKING:
    from iter8_action.metrics.backends import query, sources
    from iter8_action.metrics.backends.extract import Extracted
    from iter8_action.metrics.backends.spec import AuthSpec, MetricSpec, ProviderSpec


DEFAULT_RETRIES = 3
DEFAULT_TIMEOUT_S = 10.0
"""Each query's deadline (its answer read in full) unless `timeout` says."""


@dataclass(frozen=True)
class CustomMetricsInputs:
    """`custommetrics`' `with:`, parsed at load; the templates are loaded and rendered
    when the task runs."""

    templates: Mapping[str, str]
    """Provider name to its template's location (a file, a URL, or a built-in name)."""
    auth: Mapping[str, AuthSpec]
    """Credentials given in the task, by provider (they win over a template's)."""
    required: frozenset[str]
    """Canonical names of the metrics whose lack of data fails the task."""
    values: Mapping[str, Any]
    version_values: tuple[Mapping[str, Any], ...]
    """One map per version (at least one: without `versionValues`, one version)."""
    limits: HttpLimits
    insecure_skip_verify: bool
    ca_file: str | None
    retries: int

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> CustomMetricsInputs:
        from iter8_action.metrics.backends.spec import AuthSpec

        auth = inputs.get("auth") or {}
        return cls(
            templates={str(k): str(v) for k, v in inputs["templates"].items()},
            auth={str(k): AuthSpec.from_dict(v) for k, v in auth.items()},
            required=frozenset(canonical_metric_name(str(n)) for n in inputs.get("required") or []),
            values=dict(inputs.get("values") or {}),
            version_values=tuple(dict(v or {}) for v in inputs.get("versionValues") or []) or ({},),
            limits=HttpLimits.parse(inputs, default_timeout_s=DEFAULT_TIMEOUT_S),
            insecure_skip_verify=bool(inputs.get("insecureSkipVerify", False)),
            ca_file=text_or_none(inputs.get("caFile")),
            retries=int(inputs.get("retries", DEFAULT_RETRIES)),
        )


@dataclass(frozen=True)
class NoData:
    metric: str
    version: str
    reason: str

    def __str__(self) -> str:
        return f"{self.metric} ({self.version}): {self.reason}"


@dataclass
class _Run:
    """State of one run of the task: where results go and which backends went silent."""

    ctx: TaskContext
    transport: query.Transport
    required: frozenset[str]
    auth_overrides: Mapping[str, AuthSpec]
    no_data: list[NoData] = field(default_factory=list)
    recorded: int = 0
    silent: dict[str, str] = field(default_factory=dict)
    """Providers that did not answer, with the reason: their other queries are not sent."""
    warned: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)
    """Every metric the providers' specs defined."""
    queries: int = 0


def run(inputs: CustomMetricsInputs, ctx: TaskContext) -> None:
    state = _Run(
        ctx=ctx,
        transport=_transport(inputs, ctx),
        required=inputs.required,
        auth_overrides=inputs.auth,
    )
    per_version = inputs.version_values
    ctx.store.ensure_versions(len(per_version))
    names = ctx.store.version_names[: len(per_version)]
    unknown = sorted(set(state.auth_overrides) - set(inputs.templates))
    if unknown:
        raise TaskFailed(
            f"auth is given for {', '.join(unknown)}, which is not under templates "
            f"(providers: {', '.join(inputs.templates)})"
        )
    start = _experiment_start(ctx)
    progress = ctx.progress()
    try:
        for provider, location in inputs.templates.items():
            source = _load(provider, location, state)
            for index, name in enumerate(names):
                ctx.check_stop()
                merged = _values(inputs, per_version[index], index=index, name=name, start=start)
                spec = _spec(source, merged, provider=provider, version=name)
                _check_remote_auth(source, spec, state)
                _collect(spec, index=index, version=name, state=state, progress=progress)
    finally:
        progress.close()
    _finish(state)


def _transport(inputs: CustomMetricsInputs, ctx: TaskContext) -> query.Transport:
    from iter8_action.metrics.backends import query
    from iter8_action.net import httpclient

    verify: bool | str = not inputs.insecure_skip_verify
    if inputs.ca_file:
        ca = ctx.path(inputs.ca_file)
        if not ca.is_file():
            raise TaskFailed(
                f"caFile {inputs.ca_file!r} does not exist (looked for {ca}); give the path "
                "of a PEM file with the CA certificates that signed the backend's certificate"
            )
        verify = str(ca)
    attempts = inputs.retries + 1
    return query.Transport(
        inputs.limits.limits(), verify, httpclient.RetryPolicy(attempts=attempts)
    )


def _load(provider: str, location: str, state: _Run) -> sources.TemplateSource:
    from iter8_action.metrics.backends import sources

    try:
        return sources.load_template(
            location, provider=provider, resolve=state.ctx.path, transport=state.transport
        )
    except sources.SourceError as exc:
        raise TaskFailed(str(exc)) from exc


def _experiment_start(ctx: TaskContext) -> datetime:
    """When the experiment started: `elapsedTimeSeconds` counts from here by default."""
    from iter8_action.metrics.backends import values

    try:
        return values.parse_time(ctx.result.start_time, field="the experiment's startTime")
    except values.ValuesError:
        elapsed_s = time.monotonic() - ctx.started_monotonic
        return datetime.now(UTC) - timedelta(seconds=elapsed_s)


def _values(
    inputs: CustomMetricsInputs,
    per_version: Mapping[str, Any],
    *,
    index: int,
    name: str,
    start: datetime,
) -> dict[str, Any]:
    from iter8_action.metrics.backends import values

    try:
        return values.version_values(
            inputs.values,
            per_version,
            index=index,
            name=name,
            experiment_start=start,
            now=datetime.now(UTC),
        )
    except values.ValuesError as exc:
        raise TaskFailed(str(exc)) from exc


def _spec(
    source: sources.TemplateSource, merged: Mapping[str, Any], *, provider: str, version: str
) -> ProviderSpec:
    from iter8_action.metrics.backends import render
    from iter8_action.metrics.backends.spec import SpecError

    try:
        return render.render_spec(source, merged, provider=provider, version=version)
    except SpecError as exc:
        raise TaskFailed(str(exc)) from exc


def _check_remote_auth(source: sources.TemplateSource, spec: ProviderSpec, state: _Run) -> None:
    """A template fetched from a URL must not pick which environment variable or file to send."""
    if source.remote and spec.auth is not None and spec.provider not in state.auth_overrides:
        raise TaskFailed(
            f"provider {spec.provider}: the template from {source.origin} names credentials "
            "(auth), but a template fetched from a URL cannot choose which secrets are sent; "
            f"give them in the task: `auth: {{{spec.provider}: {{type: ..., ...}}}}`"
        )


def _collect(
    spec: ProviderSpec, *, index: int, version: str, state: _Run, progress: ProgressLine
) -> None:
    from iter8_action.metrics.backends import auth

    ctx = state.ctx
    spec_auth = state.auth_overrides.get(spec.provider, spec.auth)
    try:
        credentials = auth.auth_headers(
            spec_auth, provider=spec.provider, resolve=ctx.path, env=ctx.env
        )
    except auth.AuthError as exc:
        raise TaskFailed(str(exc)) from exc
    _warn_literal_credentials(spec, state)
    for warning in spec.warnings:
        if warning not in state.warned:
            state.warned.add(warning)
            ctx.log.warning("%s", warning)
    for metric in spec.metrics:
        ctx.check_stop()
        name = f"{spec.provider}/{metric.name}"
        meta = MetricMeta(MetricType(metric.type), metric.description, metric.units)
        name = ctx.store.declare(name, meta)
        state.seen.add(name)
        outcome = _measure(spec, metric, credentials, spec_auth, state)
        _record(name, outcome, index=index, version=version, required=metric.required, state=state)
        progress.update(
            f"{spec.provider} ({version}): {state.queries} queries, {state.recorded} values"
        )


def _record(
    name: str, outcome: Extracted, *, index: int, version: str, required: bool, state: _Run
) -> None:
    """Store a value, or note that there is none and why."""
    state.queries += 1
    if outcome.value is None:
        gap = NoData(name, version, outcome.reason or "no value")
        state.no_data.append(gap)
        state.ctx.log.warning("%s (%s): no data: %s", name, version, gap.reason)
        if required:
            state.required = state.required | {name}
        return
    state.ctx.store.add_value(name, index, outcome.value)
    state.recorded += 1
    state.ctx.log.debug("%s (%s) = %g", name, version, outcome.value)


def _warn_literal_credentials(spec: ProviderSpec, state: _Run) -> None:
    from iter8_action.metrics.backends import auth

    literal = auth.mask_literal_credentials(spec.headers)
    if literal and spec.provider not in state.warned:
        state.warned.add(spec.provider)
        state.ctx.log.warning(
            "provider %s: header %s is written in the template; credentials belong in auth: "
            "(read from an environment variable or a file), see the custommetrics docs "
            "(Authentication)",
            spec.provider,
            ", ".join(literal),
        )


def _measure(
    spec: ProviderSpec,
    metric: MetricSpec,
    credentials: Mapping[str, str],
    spec_auth: AuthSpec | None,
    state: _Run,
) -> Extracted:
    from iter8_action.metrics.backends import query
    from iter8_action.metrics.backends.extract import Extracted, extract

    if spec.provider in state.silent:
        return Extracted(None, f"not queried: {state.silent[spec.provider]}")
    request = query.build_query(spec, metric, credentials)
    state.ctx.log.debug("%s %s", request.method, request.full_url)
    try:
        document = query.send(request, state.transport)
    except query.Refused as exc:
        raise TaskFailed(_refused(spec.provider, str(exc), spec_auth)) from exc
    except query.TLSFailure as exc:
        raise TaskFailed(
            f"provider {spec.provider}: {exc}; if the backend's certificate comes from a private "
            "CA, give that CA's certificate (PEM) in caFile, or set insecureSkipVerify: true "
            "(not recommended)"
        ) from exc
    except query.Misdirected as exc:
        raise TaskFailed(
            f"provider {spec.provider}: {exc}; give the backend's final URL in the template"
        ) from exc
    except query.NoAnswer as exc:
        state.silent[spec.provider] = f"{spec.provider} did not answer an earlier query ({exc})"
        return Extracted(None, str(exc))
    except query.BadAnswer as exc:
        return Extracted(None, str(exc))
    return extract(document, metric.jq_expression)


def _refused(provider: str, what: str, spec_auth: AuthSpec | None) -> str:
    if spec_auth is None or spec_auth.type == "none":
        fix = (
            f"the backend wants credentials: give them under auth, e.g. "
            f"`auth: {{{provider}: {{type: bearer, tokenEnv: MY_TOKEN}}}}`"
        )
    else:
        source = next(
            (
                f"{label} {value}"
                for label, value in (
                    ("environment variable", spec_auth.token_env),
                    ("file", spec_auth.token_file),
                    ("environment variable", spec_auth.password_env),
                    ("file", spec_auth.password_file),
                    ("environment variable", spec_auth.key_env),
                    ("file", spec_auth.key_file),
                )
                if value
            ),
            "auth",
        )
        fix = (
            f"the {spec_auth.type} credentials from the {source} were refused: check that they "
            "are current and allowed to query this backend"
        )
    return SECRETS.redact(f"provider {provider}: {what}; {fix}")


def _finish(state: _Run) -> None:
    ctx = state.ctx
    gaps = state.no_data
    ctx.log.info(
        "custommetrics: %d value%s recorded, %d without data",
        state.recorded,
        "" if state.recorded == 1 else "s",
        len(gaps),
    )
    if gaps:
        _note(ctx, "no data for:" + "".join(f"\n  {g}" for g in gaps))
    _check_required_names(state)
    missing = [g for g in gaps if g.metric in state.required]
    if missing:
        raise TaskFailed("required metric(s) without data:" + "".join(f"\n  {g}" for g in missing))


def _check_required_names(state: _Run) -> None:
    """A required metric that no provider defines is a typo, not a metric without data."""
    for name in sorted(state.required - state.seen):
        hint = suggest(name, sorted(state.seen))
        did_you_mean = f" (did you mean {hint}?)" if hint else ""
        raise TaskFailed(
            f"required lists {name}, which no provider defines{did_you_mean}; "
            f"the metrics are: {', '.join(sorted(state.seen))}"
        )


def _note(ctx: TaskContext, text: str) -> None:
    """Keep the no-data reasons in this task's record of the result."""
    for record in ctx.result.tasks:
        if record.index == ctx.index:
            record.output = f"{record.output}\n{text}" if record.output else text


def secrets(inputs: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[str]:
    """Credentials in template URLs, and those `auth` reads from the environment (a secret
    in a file is registered when the task reads it, before it is sent)."""
    for location in (inputs.get("templates") or {}).values():
        yield from url_secrets(location)
    for spec in (inputs.get("auth") or {}).values():
        if isinstance(spec, Mapping):
            yield from env_secrets(
                env, [spec.get(k) for k in ("tokenEnv", "passwordEnv", "keyEnv")]
            )


TASK = TaskType(
    name="custommetrics",
    summary="metrics per version from Prometheus, New Relic, Sysdig, Elastic or any backend",
    run=run,
    parse=CustomMetricsInputs.parse,
    secrets=secrets,
)
