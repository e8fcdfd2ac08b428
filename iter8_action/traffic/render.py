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


def _annotation_edits(routing: Routing, state: State, document: int = 0) -> list[Edit]:
    return [
        (document, f'metadata.annotations["{key}"]', value)
        for key, value in _annotations(routing, state).items()
    ]


def _cookie_regex(name: str, value: str) -> str:
    return rf"(^|;\s*){re.escape(name)}={re.escape(value)}(;|$)"


# -- Gateway API -------------------------------------------------------------------------


def _backend(version: Version, weight: int) -> dict[str, Any]:
    return {"name": version.service, "port": version.port, "weight": weight}


def _weights(routing: Routing, rule: int, stable: int, candidate: int) -> list[Edit]:
    base = f"spec.rules[{rule}].backendRefs"
    return [
        (0, f"{base}[name={routing.stable.service}].weight", stable),
        (0, f"{base}[name={routing.candidate.service}].weight", candidate),
    ]


def _gateway_matches(routing: Routing) -> list[dict[str, Any]]:
    segment = routing.segment
    assert segment is not None
    matches: list[dict[str, Any]] = [
        {"headers": [{"type": "Exact", "name": k, "value": v}]} for k, v in segment.headers.items()
    ]
    matches += [
        {"headers": [{"type": "RegularExpression", "name": "Cookie", "value": _cookie_regex(k, v)}]}
        for k, v in segment.cookies.items()
    ]
    matches += [
        {"queryParams": [{"type": "Exact", "name": k, "value": v}]}
        for k, v in segment.query.items()
    ]
    return matches


def _gateway_api(routing: Routing, state: State) -> Rendering:
    share = candidate_share(routing, state)
    rule: dict[str, Any] = {
        "backendRefs": [_backend(routing.stable, 100 - share), _backend(routing.candidate, share)]
    }
    rules = [rule]
    edits = _annotation_edits(routing, state)
    if routing.strategy is Strategy.SEGMENT:
        on = segment_on(routing, state)
        segment_rule = {
            "matches": _gateway_matches(routing),
            "backendRefs": [
                _backend(routing.stable, 0 if on else 100),
                _backend(routing.candidate, 100 if on else 0),
            ],
        }
        rules = [segment_rule, rule]
        edits += _weights(routing, 0, 0 if on else 100, 100 if on else 0)
        edits += _weights(routing, 1, 100 - share, share)
    else:
        edits += _weights(routing, 0, 100 - share, share)
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
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": _metadata(routing, state),
        "spec": spec,
    }
    return Rendering([route], edits)


# -- Istio -------------------------------------------------------------------------------


def _destination(version: Version, weight: int) -> dict[str, Any]:
    return {
        "destination": {"host": version.service, "port": {"number": version.port}},
        "weight": weight,
    }


def _route_weights(routing: Routing, rule: str, stable: int, candidate: int) -> list[Edit]:
    base = f"spec.http[name={rule}].route"
    return [
        (0, f"{base}[0].weight", stable),
        (0, f"{base}[1].weight", candidate),
    ]


def _istio_matches(routing: Routing) -> list[dict[str, Any]]:
    segment = routing.segment
    assert segment is not None
    matches: list[dict[str, Any]] = [
        {"headers": {k.lower(): {"exact": v}}} for k, v in segment.headers.items()
    ]
    matches += [
        {"headers": {"cookie": {"regex": _cookie_regex(k, v)}}} for k, v in segment.cookies.items()
    ]
    matches += [{"queryParams": {k: {"exact": v}}} for k, v in segment.query.items()]
    return matches


def _istio(routing: Routing, state: State) -> Rendering:
    share = candidate_share(routing, state)
    primary: dict[str, Any] = {
        "name": "primary",
        "route": [
            _destination(routing.stable, 100 - share),
            _destination(routing.candidate, share),
        ],
    }
    http: list[dict[str, Any]] = []
    edits = _annotation_edits(routing, state)
    if routing.strategy is Strategy.SEGMENT:
        on = segment_on(routing, state)
        http.append(
            {
                "name": "segment",
                "match": _istio_matches(routing),
                "route": [
                    _destination(routing.stable, 0 if on else 100),
                    _destination(routing.candidate, 100 if on else 0),
                ],
            }
        )
        edits += _route_weights(routing, "segment", 0 if on else 100, 100 if on else 0)
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
            e
            for rule in sticky
            for e in _route_weights(
                routing, rule["name"], rule["route"][0]["weight"], rule["route"][1]["weight"]
            )
        ]
        for i, version in enumerate((routing.stable, routing.candidate)):
            primary["route"][i]["headers"] = {
                "response": {"add": {"Set-Cookie": f"{cookie}={version.name}; Path=/"}}
            }
            objects.append(_destination_rule(routing, version, cookie))
    edits += _route_weights(routing, "primary", 100 - share, share)
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
    service = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": _metadata(routing, state),
        "spec": spec,
    }
    return Rendering([service, *objects], edits)


def _istio_sticky(routing: Routing, state: State, cookie: str) -> list[dict[str, Any]]:
    """Rules that keep a user who holds the cookie on the version it names."""
    to_candidate = 0 if state.phase is Phase.ROLLED_BACK else 100
    to_stable = 0 if state.phase is Phase.PROMOTED else 100
    return [
        {
            "name": f"sticky-{name}",
            "match": [{"headers": {"cookie": {"regex": _cookie_regex(cookie, version.name)}}}],
            "route": [
                _destination(routing.stable, 100 - weight),
                _destination(routing.candidate, weight),
            ],
        }
        for name, version, weight in (
            ("candidate", routing.candidate, to_candidate),
            ("stable", routing.stable, 100 - to_stable),
        )
    ]


def _destination_rule(routing: Routing, version: Version, cookie: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": _metadata(routing, None, name=version.service),
        "spec": {
            "host": version.service,
            "trafficPolicy": {
                "loadBalancer": {"consistentHash": {"httpCookie": {"name": cookie, "ttl": "0s"}}}
            },
        },
    }


# -- KServe and a plain Service ----------------------------------------------------------


def _kserve(routing: Routing, state: State) -> Rendering:
    share = candidate_share(routing, state)
    service = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": _metadata(routing, state),
        "spec": {"predictor": {"canaryTrafficPercent": share}},
    }
    edits = [*_annotation_edits(routing, state), (0, "spec.predictor.canaryTrafficPercent", share)]
    return Rendering([service], edits)


def _service(routing: Routing, state: State) -> Rendering:
    chosen = routing.candidate if candidate_share(routing, state) == 100 else routing.stable
    port = routing.stable.port or 80
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(routing, state),
        "spec": {
            "selector": dict(chosen.selector),
            "ports": [{"name": "http", "port": port, "targetPort": port}],
        },
    }
    edits = _annotation_edits(routing, state)
    edits += [(0, f'spec.selector["{k}"]', v) for k, v in chosen.selector.items()]
    return Rendering([service], edits)
