"""Iter8 v0.9-v0.10's `collect-metrics-database` inputs, in today's `custommetrics` terms.

That task read `providers: [name, ...]`, each one a template file
`<name>.metrics.yaml` beside the experiment, and `versionInfo: [map, ...]`,
one map of template values per version (with `StartingTime` in Unix seconds,
later `startingTime` in RFC 3339; both are understood by the task). Current
fields given with the old task name pass through unchanged, and win.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LEGACY_TEMPLATE_SUFFIX = ".metrics.yaml"


def translate_legacy(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The `custommetrics` inputs equivalent to a `collect-metrics-database` task's `with:`."""
    out = {k: v for k, v in inputs.items() if k not in ("providers", "versionInfo")}
    providers = inputs.get("providers") or []
    if providers:
        from_files = {str(name): f"{name}{LEGACY_TEMPLATE_SUFFIX}" for name in providers}
        out["templates"] = {**from_files, **(inputs.get("templates") or {})}
    if "versionInfo" in inputs and "versionValues" not in inputs:
        out["versionValues"] = [dict(v or {}) for v in inputs["versionInfo"] or []]
    return out
