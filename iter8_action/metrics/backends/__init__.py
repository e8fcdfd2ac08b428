"""Metrics from any backend: the machinery behind the `custommetrics` task.

Data flows one way through these modules::

    sources   a template's text: a built-in, a file or a URL
    values    the values one version's template renders with
    render    template + values -> YAML -> ProviderSpec (validated by schemas/provider.schema.json)
    spec      ProviderSpec, MetricSpec, AuthSpec: the parsed, frozen provider spec
    auth      AuthSpec -> request headers, secrets read from env vars or files (and masked)
    query     MetricSpec -> Query (method, url, headers, params, body) -> JSON answer
    extract   JSON answer + jq expression -> a number, or "no data" with the reason
    legacy    Iter8 v0.9-v0.10 `collect-metrics-database` inputs -> current inputs

The task module (`iter8_action.tasks.custommetrics`) drives them and writes the store.
"""

from __future__ import annotations

from iter8_action.metrics.backends.spec import (
    AuthSpec,
    MetricSpec,
    ProviderSpec,
    SpecError,
)

__all__ = ["AuthSpec", "MetricSpec", "ProviderSpec", "SpecError"]
