"""The objects of each environment for a release's state, and the fields a step changes.

Every renderer returns a `Rendering`: the whole objects (written when the manifest file
does not exist yet) and the `edits`, the fields that depend on the state (weights, the
mirror's percentage, a segment's backends, a Service's selector, annotations), as
(document, path, value). An existing manifest is changed through those edits only, so
everything else in it stays the user's.

Objects follow the APIs' own specifications:
- Gateway API `HTTPRoute`, `gateway.networking.k8s.io/v1`: weighted `backendRefs`, the
  `RequestMirror` filter with `percent`, `matches` on headers and query parameters, and
  `sessionPersistence` (cookie or header) for affinity;
- Istio `VirtualService` and `DestinationRule`, `networking.istio.io/v1`: weighted
  routes, `mirror` with `mirrorPercentage`, `match`, and for affinity a cookie set on the
  first answer, matched afterwards, with `consistentHash` on it within each version;
- KServe `InferenceService`, `serving.kserve.io/v1beta1`: `canaryTrafficPercent`;
- a Kubernetes `Service` whose `selector` switches (blue-green without a mesh).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from iter8_action.traffic.model import (
    CANDIDATE_ANNOTATION,
    PHASE_ANNOTATION,
    STEP_ANNOTATION,
    STRATEGY_ANNOTATION,
    Environment,
    Phase,
    Routing,
    RoutingError,
    State,
    Strategy,
    Version,
    candidate_share,
    mirror_share,
    segment_on,
)

Edit = tuple[int, str, Any]
"""(document index, path in rollout.edits' syntax, value)."""
Match = Callable[[str, str, str, str], dict[str, Any]]
"""One match of a segment in an API's form, from (`headers` or `queryParams`, name,
`exact` or `regex`, value)."""


@dataclass(frozen=True)
class Rendering:
    objects: list[dict[str, Any]]
    edits: list[Edit]


def render(routing: Routing, state: State) -> Rendering:
    renderer = {
        Environment.GATEWAY_API: _gateway_api,
        Environment.ISTIO: _istio,
        Environment.KSERVE: _kserve,
        Environment.SERVICE: _service,
    }[routing.environment]
    return renderer(routing, state)


def _annotations(routing: Routing, state: State) -> dict[str, str]:
    return {
        STRATEGY_ANNOTATION: routing.strategy.value,
        CANDIDATE_ANNOTATION: state.candidate,
        PHASE_ANNOTATION: state.phase.value,
        STEP_ANNOTATION: str(state.step),
    }


def _metadata(routing: Routing, state: State | None, name: str | None = None) -> dict[str, Any]:
    """The metadata of an object; the routing object (with a state) carries the annotations."""
    metadata: dict[str, Any] = {"name": name or routing.app}
    if routing.namespace:
        metadata["namespace"] = routing.namespace
    if state is not None:
        metadata["annotations"] = _annotations(routing, state)
    return metadata


def _object(
    api_version: str, kind: str, metadata: dict[str, Any], spec: dict[str, Any]
) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}


def _annotation_edits(routing: Routing, state: State, document: int = 0) -> list[Edit]:
    return [
        (document, f'metadata.annotations["{key}"]', value)
        for key, value in _annotations(routing, state).items()
    ]


def _cookie_regex(name: str, value: str) -> str:
    return rf"(^|;\s*){re.escape(name)}={re.escape(value)}(;|$)"


def _split(
    routing: Routing, candidate: int, backend: Callable[[Version, int], dict[str, Any]]
) -> list[dict[str, Any]]:
    """The stable and the candidate backend, `candidate`% to the candidate, the rest to stable."""
    return [backend(routing.stable, 100 - candidate), backend(routing.candidate, candidate)]


def _segment_matches(routing: Routing, match: Match) -> list[dict[str, Any]]:
    """One match per header, cookie and query parameter of the segment (any one sends a
    request to the candidate); a cookie is a regular expression on the Cookie header."""
    segment = routing.segment
    assert segment is not None
    return [
        *(match("headers", k, "exact", v) for k, v in segment.headers.items()),
        *(
            match("headers", "Cookie", "regex", _cookie_regex(k, v))
            for k, v in segment.cookies.items()
        ),
        *(match("queryParams", k, "exact", v) for k, v in segment.query.items()),
    ]


# -- Gateway API -------------------------------------------------------------------------


def _backend(version: Version, weight: int) -> dict[str, Any]:
    return {"name": version.service, "port": version.port, "weight": weight}


def _weights(routing: Routing, rule: int, candidate: int) -> list[Edit]:
    base = f"spec.rules[{rule}].backendRefs"
    return [
        (0, f"{base}[name={routing.stable.service}].weight", 100 - candidate),
        (0, f"{base}[name={routing.candidate.service}].weight", candidate),
    ]


_GATEWAY_MATCH_TYPES = {"exact": "Exact", "regex": "RegularExpression"}


def _gateway_match(kind: str, name: str, how: str, value: str) -> dict[str, Any]:
    return {kind: [{"type": _GATEWAY_MATCH_TYPES[how], "name": name, "value": value}]}


def _gateway_api(routing: Routing, state: State) -> Rendering:
    share = candidate_share(routing, state)
    rule: dict[str, Any] = {"backendRefs": _split(routing, share, _backend)}
    rules = [rule]
    edits = _annotation_edits(routing, state)
    if routing.strategy is Strategy.SEGMENT:
        segment = 100 if segment_on(routing, state) else 0
        segment_rule = {
            "matches": _segment_matches(routing, _gateway_match),
            "backendRefs": _split(routing, segment, _backend),
        }
        rules = [segment_rule, rule]
        edits += _weights(routing, 0, segment)
        edits += _weights(routing, 1, share)
    else:
        edits += _weights(routing, 0, share)
    if routing.strategy is Strategy.MIRROR:
        percent = mirror_share(routing, state)
        rule["filters"] = [
            {
                "type": "RequestMirror",
                "requestMirror": {
                    "backendRef": {
                        "name": routing.candidate.service,
                        "port": routing.candidate.port,
                    },
                    "percent": percent,
                },
            }
        ]
        edits.append(
            (0, "spec.rules[0].filters[type=RequestMirror].requestMirror.percent", percent)
        )
    if routing.affinity is not None:
        affinity = routing.affinity
        rule["sessionPersistence"] = (
            {"sessionName": affinity.header, "type": "Header"}
            if affinity.header
            else {"sessionName": affinity.cookie, "type": "Cookie"}
        )
    spec: dict[str, Any] = {}
    if routing.gateway:
        parent = {"name": routing.gateway}
        if routing.gateway_namespace:
            parent["namespace"] = routing.gateway_namespace
        spec["parentRefs"] = [parent]
    if routing.hosts:
        spec["hostnames"] = list(routing.hosts)
    spec["rules"] = rules
    route = _object("gateway.networking.k8s.io/v1", "HTTPRoute", _metadata(routing, state), spec)
    return Rendering([route], edits)


# -- Istio -------------------------------------------------------------------------------


def _destination(version: Version, weight: int) -> dict[str, Any]:
    return {
        "destination": {"host": version.service, "port": {"number": version.port}},
        "weight": weight,
    }


def _route_weights(rule: str, candidate: int) -> list[Edit]:
    base = f"spec.http[name={rule}].route"
    return [(0, f"{base}[0].weight", 100 - candidate), (0, f"{base}[1].weight", candidate)]


def _istio_match(kind: str, name: str, how: str, value: str) -> dict[str, Any]:
    # Istio names headers in lower case (its HTTPMatchRequest docs); query keys are as given
    return {kind: {name.lower() if kind == "headers" else name: {how: value}}}


def _istio(routing: Routing, state: State) -> Rendering:
    share = candidate_share(routing, state)
    primary: dict[str, Any] = {"name": "primary", "route": _split(routing, share, _destination)}
    http: list[dict[str, Any]] = []
    edits = _annotation_edits(routing, state)
    if routing.strategy is Strategy.SEGMENT:
        segment = 100 if segment_on(routing, state) else 0
        http.append(
            {
                "name": "segment",
                "match": _segment_matches(routing, _istio_match),
                "route": _split(routing, segment, _destination),
            }
        )
        edits += _route_weights("segment", segment)
    objects: list[dict[str, Any]] = []
    if routing.affinity is not None:
        cookie = routing.affinity.cookie
        if not cookie:
            raise RoutingError(
                "Istio cannot hash a header to a version: give affinity.cookie, which is set "
                "on a user's first answer and matched afterwards"
            )
        sticky = _istio_sticky(routing, state, cookie)
        http += sticky
        edits += [
            e for rule in sticky for e in _route_weights(rule["name"], rule["route"][1]["weight"])
        ]
        for i, version in enumerate((routing.stable, routing.candidate)):
            primary["route"][i]["headers"] = {
                "response": {"add": {"Set-Cookie": f"{cookie}={version.name}; Path=/"}}
            }
            objects.append(_destination_rule(routing, version, cookie))
    edits += _route_weights("primary", share)
    if routing.strategy is Strategy.MIRROR:
        percent = mirror_share(routing, state)
        primary["mirror"] = {
            "host": routing.candidate.service,
            "port": {"number": routing.candidate.port},
        }
        primary["mirrorPercentage"] = {"value": percent}
        edits.append((0, "spec.http[name=primary].mirrorPercentage.value", percent))
    http.append(primary)
    spec: dict[str, Any] = {"hosts": list(routing.hosts) or [routing.app]}
    if routing.gateway:
        gateway = routing.gateway
        spec["gateways"] = [
            f"{routing.gateway_namespace}/{gateway}" if routing.gateway_namespace else gateway
        ]
    spec["http"] = http
    service = _object("networking.istio.io/v1", "VirtualService", _metadata(routing, state), spec)
    return Rendering([service, *objects], edits)


def _istio_sticky(routing: Routing, state: State, cookie: str) -> list[dict[str, Any]]:
    """Rules that keep a user who holds the cookie on the version it names."""
    to_candidate = 0 if state.phase is Phase.ROLLED_BACK else 100
    to_stable = 0 if state.phase is Phase.PROMOTED else 100
    return [
        {
            "name": f"sticky-{name}",
            "match": [{"headers": {"cookie": {"regex": _cookie_regex(cookie, version.name)}}}],
            "route": _split(routing, weight, _destination),
        }
        for name, version, weight in (
            ("candidate", routing.candidate, to_candidate),
            ("stable", routing.stable, 100 - to_stable),
        )
    ]


def _destination_rule(routing: Routing, version: Version, cookie: str) -> dict[str, Any]:
    return _object(
        "networking.istio.io/v1",
        "DestinationRule",
        _metadata(routing, None, name=version.service),
        {
            "host": version.service,
            "trafficPolicy": {
                "loadBalancer": {"consistentHash": {"httpCookie": {"name": cookie, "ttl": "0s"}}}
            },
        },
    )


# -- KServe and a plain Service ----------------------------------------------------------


def _kserve(routing: Routing, state: State) -> Rendering:
    share = candidate_share(routing, state)
    service = _object(
        "serving.kserve.io/v1beta1",
        "InferenceService",
        _metadata(routing, state),
        {"predictor": {"canaryTrafficPercent": share}},
    )
    edits = [*_annotation_edits(routing, state), (0, "spec.predictor.canaryTrafficPercent", share)]
    return Rendering([service], edits)


def _service(routing: Routing, state: State) -> Rendering:
    chosen = routing.candidate if candidate_share(routing, state) == 100 else routing.stable
    port = routing.stable.port or 80
    service = _object(
        "v1",
        "Service",
        _metadata(routing, state),
        {
            "selector": dict(chosen.selector),
            "ports": [{"name": "http", "port": port, "targetPort": port}],
        },
    )
    edits = _annotation_edits(routing, state)
    edits += [(0, f'spec.selector["{k}"]', v) for k, v in chosen.selector.items()]
    return Rendering([service], edits)
