"""Iter8's older spellings, translated once into the current form.

Iter8 v0.8-v0.10 wrote an experiment as a bare list of tasks, with other task
names (`gen-load-and-collect-metrics`, `assess-app-versions`, ...), other
field names (`versionInfo`, `numQueries`, `errorsAbove`, SLOs as a list with
`upperLimit`/`lowerLimit`) and other metric names (`built-in/p95`). The loader
validates what the user wrote (so errors point at their lines), then calls
`canonical_task` on each task; nothing after it sees an old name.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from iter8_action.metrics.backends.legacy import translate_legacy
from iter8_action.metrics.names import canonical_metric_name

LEGACY_TASK_NAMES = {
    "gen-load-and-collect-metrics": "http",
    "gen-load-and-collect-metrics-http": "http",
    "gen-load-and-collect-metrics-grpc": "grpc",
    "collect-metrics-database": "custommetrics",
    "assess-app-versions": "assess",
}


def canonical_task(name: str, inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The current task name and inputs for a (schema-valid) task as written."""
    canonical = LEGACY_TASK_NAMES.get(name, name)
    out = copy.deepcopy(dict(inputs))
    if canonical == "http":
        out = _http(out)
    elif canonical == "grpc":
        out = _grpc(out)
    elif canonical == "assess":
        out = _assess(out)
    elif canonical == "custommetrics" and name != canonical:
        out = translate_legacy(out)
    return canonical, out


def _http(inputs: dict[str, Any]) -> dict[str, Any]:
    if "numQueries" in inputs:
        inputs.setdefault("numRequests", inputs.pop("numQueries"))
        inputs.pop("numQueries", None)
    if "errorsAbove" in inputs:
        inputs.setdefault("errorRanges", [{"lower": inputs.pop("errorsAbove")}])
        inputs.pop("errorsAbove", None)
    if "versionInfo" in inputs:
        versions = []
        for i, info in enumerate(inputs.pop("versionInfo")):
            version = {"name": info.get("name", f"v{i + 1}"), "url": info["url"]}
            if info.get("headers"):
                version["headers"] = info["headers"]
            versions.append(version)
        inputs.setdefault("versions", versions)
    return inputs


def _grpc(inputs: dict[str, Any]) -> dict[str, Any]:
    """ghz spells it `import-paths`; `importPaths`, in the style of Iter8's other fields,
    is accepted too (the task, each endpoint)."""
    for fields in [inputs, *(inputs.get("endpoints") or {}).values()]:
        if isinstance(fields, dict) and "importPaths" in fields:
            fields.setdefault("import-paths", fields.pop("importPaths"))
            fields.pop("importPaths", None)
    return inputs


def _assess(inputs: dict[str, Any]) -> dict[str, Any]:
    slos = inputs.get("SLOs")
    if isinstance(slos, list):
        upper: list[dict[str, Any]] = []
        lower: list[dict[str, Any]] = []
        for slo in slos:
            rest = {k: v for k, v in slo.items() if k not in ("upperLimit", "lowerLimit")}
            if "upperLimit" in slo:
                upper.append({**rest, "limit": slo["upperLimit"]})
            if "lowerLimit" in slo:
                lower.append({**rest, "limit": slo["lowerLimit"]})
        slos = {key: value for key, value in (("upper", upper), ("lower", lower)) if value}
        inputs["SLOs"] = slos
    if isinstance(slos, dict):
        for side in ("upper", "lower"):
            for slo in slos.get(side) or []:
                if isinstance(slo.get("metric"), str):
                    slo["metric"] = canonical_metric_name(slo["metric"])
    rewards = inputs.get("rewards")
    if isinstance(rewards, dict):
        for side in ("max", "min"):
            if isinstance(rewards.get(side), list):
                rewards[side] = [
                    canonical_metric_name(m) if isinstance(m, str) else m for m in rewards[side]
                ]
    return inputs
