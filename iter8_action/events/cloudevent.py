"""The CloudEvents 1.0 event for a result, built with the official `cloudevents` SDK.

Attributes (CloudEvents spec v1.0, "Context Attributes"):

- `type`: `dev.iter8-py.experiment.result` unless the task sets one;
- `source`: the CI run's URL when known, else `iter8-py/<experiment name>`;
- `subject`: the experiment's name, when it has one;
- `datacontenttype`: `application/json`, the data being the result summary;
- the extension `iter8verdict` (`pass`, `fail`, `error` or `no-slos`), so a
  broker (a Knative Trigger) can route on the verdict without reading the data.

Binary mode carries the attributes in `ce-*` headers and the summary as the
body; structured mode sends one `application/cloudevents+json` document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cloudevents.core.bindings.http import to_binary_event, to_structured_event
from cloudevents.core.v1.event import CloudEvent

DEFAULT_TYPE = "dev.iter8-py.experiment.result"
VERDICT_EXTENSION = "iter8verdict"


def default_source(summary: Mapping[str, Any]) -> str:
    run = summary.get("run") or {}
    if run.get("url"):
        return str(run["url"])
    name = (summary.get("experiment") or {}).get("name")
    return f"iter8-py/{name or 'experiment'}"


def encode(
    summary: Mapping[str, Any],
    *,
    mode: str = "binary",
    event_type: str | None = None,
    source: str | None = None,
    extensions: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], bytes]:
    """The HTTP headers and body of the event for `summary`, in `binary` or `structured` mode."""
    attributes: dict[str, Any] = {
        "type": event_type or DEFAULT_TYPE,
        "source": source or default_source(summary),
        "datacontenttype": "application/json",
        VERDICT_EXTENSION: str(summary["verdict"]),
        **dict(extensions or {}),
    }
    name = (summary.get("experiment") or {}).get("name")
    if name:
        attributes["subject"] = str(name)
    event = CloudEvent(attributes, dict(summary))
    message = to_structured_event(event) if mode == "structured" else to_binary_event(event)
    return dict(message.headers), bytes(message.body)
