"""Events about a result: the documented summary, payloads, and sending them safely.

- `summary`: the summary of a result every event carries (its shape is public);
- `delivery`: timeouts, retries, secrets from the environment,
  the exact request logged at debug level with secrets masked;
- `slack`, `cloudevent`: the payloads of those two receivers;
- `values_for`: what a payload template (or a rollout edit) can use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from iter8_action.core.errors import TaskFailed
from iter8_action.events.summary import summarize

__all__ = ["render_strings", "summarize", "values_for"]


def values_for(summary: Mapping[str, Any], result: Mapping[str, Any]) -> dict[str, Any]:
    """Template values: the summary's fields, `summary` itself and Iter8's `result`.

    `winnerMetrics` holds the winner's metric values (empty without a winner),
    so an edit can write `{{ winnerMetrics['http/latency-p95'] }}`.
    """
    winner = summary.get("winner")
    versions = summary.get("versions") or []
    winner_metrics: dict[str, Any] = {}
    if winner is not None and 0 <= winner["index"] < len(versions):
        winner_metrics = dict(versions[winner["index"]].get("metrics") or {})
    return {
        **summary,
        "summary": dict(summary),
        "result": dict(result),
        "winnerMetrics": winner_metrics,
    }


def render_strings(
    mapping: Mapping[str, Any], values: Mapping[str, Any], *, what: str, task: str
) -> dict[str, str]:
    """Render each value of `mapping` as a template (inputs, variables), naming the bad one."""
    from iter8_action.templates.render import TemplateError, render  # Jinja loads when used

    out: dict[str, str] = {}
    for key, source in mapping.items():
        try:
            out[str(key)] = render(str(source), values, name=f"{what}.{key}")
        except TemplateError as exc:
            raise TaskFailed(f"{task}: template {exc}") from exc
    return out
