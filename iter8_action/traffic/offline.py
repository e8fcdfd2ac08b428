"""`iter8 traffic render`: the next manifests of a result, written to a folder, no API call.

For teams whose GitOps flow is their own: it reads the `traffic` tasks of the result's
experiment, the current manifests from a folder (their checkout), decides as the task
would from the result's assessment, and writes the manifests of the next state under
another folder, with the same relative paths.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iter8_action.core.errors import InputError
from iter8_action.events.summary import summarize
from iter8_action.traffic.manifests import current_state, next_text
from iter8_action.traffic.model import Decision, RoutingError, decide, routing_from, step_line


def render_next(
    document: Mapping[str, Any], *, manifests: Path, out: Path, env: Mapping[str, str]
) -> list[str]:
    """Write the next manifest of each traffic task; one line per application, saying what."""
    tasks = [
        t.get("with") or {}
        for t in document.get("spec") or []
        if isinstance(t, dict) and t.get("task") == "traffic"
    ]
    if not tasks:
        raise InputError("the result's experiment has no traffic task: nothing to render")
    name = (document.get("metadata") or {}).get("name")
    summary = summarize(document.get("result") or {}, experiment_name=name, env=env)
    lines = []
    for inputs in tasks:
        try:
            routing = routing_from(inputs)
            source = manifests / routing.file
            text = source.read_text(encoding="utf-8") if source.exists() else None
            state = current_state(text, routing)
            decision, following, why = decide(summary, routing.candidate.name, state, routing)
            line = step_line(routing, state, following, decision, why)
            if decision is not Decision.STAY:
                target = out / routing.file
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(next_text(text, routing, following), encoding="utf-8")
                line += f"; wrote {target}"
        except (RoutingError, OSError) as exc:
            raise InputError(f"traffic render: {exc}") from exc
        lines.append(line)
    return lines
