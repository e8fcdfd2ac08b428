"""The manifest file of a routing: its state, and its text for the next state.

A file that exists is the user's: the next state is written into it with the rollout
task's round-trip edits (`rollout.edits.set_yaml`), which change the values at their
exact spans, so comments, order and every other byte stay. A file that is not what the
routing needs (another kind, a missing backend) is an error naming the file and the
field, never a rewrite. A file that does not exist yet is written whole.
"""

from __future__ import annotations

from typing import Any

import yaml

from iter8_action.rollout import edits
from iter8_action.traffic.model import Environment, Routing, RoutingError, State, state_from
from iter8_action.traffic.render import render

HEADER = (
    "# Traffic for {app}: written by iter8-py's traffic task. Each reviewed change moves\n"
    "# the release one step; the iter8-py/* annotations record where it stands.\n"
)


def _documents(text: str, path: str) -> list[Any]:
    try:
        return [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise RoutingError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from exc


def _routing_object(text: str, routing: Routing) -> dict[str, Any]:
    """The routing object of an existing manifest, checked to be the one `routing` needs."""
    documents = _documents(text, routing.file)
    expected = render(routing, State(routing.candidate.name, state_from({}, routing).phase, -1))
    want = expected.objects[0]
    if not documents or not isinstance(documents[0], dict):
        raise RoutingError(f"{routing.file}: the first document should be a {want['kind']}")
    first = documents[0]
    for field in ("apiVersion", "kind"):
        if first.get(field) != want[field]:
            raise RoutingError(
                f"{routing.file}: {field} is {first.get(field)!r}; the {routing.environment} "
                f"environment needs {want[field]!r} (the first document is the routing object)"
            )
    name = (first.get("metadata") or {}).get("name")
    if name != routing.app:
        raise RoutingError(
            f"{routing.file}: metadata.name is {name!r}, but the traffic task's app is "
            f"{routing.app!r}; name the same object in both"
        )
    return first


def current_state(text: str | None, routing: Routing) -> State:
    """The state recorded in the manifest (a new release when there is none)."""
    if text is None:
        return state_from(None, routing)
    first = _routing_object(text, routing)
    return state_from((first.get("metadata") or {}).get("annotations"), routing)


def next_text(text: str | None, routing: Routing, state: State) -> str:
    """The manifest for `state`: `text` edited in place, or a new file when there is none."""
    rendering = render(routing, state)
    if text is None and routing.environment is Environment.KSERVE:
        raise RoutingError(
            f"{routing.file} does not exist on the target branch: an InferenceService names "
            "your model, so write it first (the traffic task then sets canaryTrafficPercent)"
        )
    if text is None:
        body = yaml.safe_dump_all(rendering.objects, sort_keys=False, explicit_start=False)
        return HEADER.format(app=routing.app) + body.replace("\n...\n", "\n")
    _routing_object(text, routing)
    for document, path, value in rendering.edits:
        try:
            text = edits.set_yaml(text, path, value, document=document)
        except edits.EditError as exc:
            raise RoutingError(f"{routing.file}: {path}: {exc}") from exc
    return text
