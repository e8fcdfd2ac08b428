"""The routing model's decisions and the manifests it writes, without any server."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from iter8_action.traffic.manifests import current_state, next_text
from iter8_action.traffic.model import (
    Decision,
    Phase,
    RoutingError,
    State,
    decide,
    routing_from,
)
from tests.support import k8s

STABLE = {"name": "v1", "service": "checkout-v1", "port": 8080}
CANDIDATE = {"name": "v2", "service": "checkout-v2", "port": 8080}


def routing(**extra: Any) -> Any:
    inputs = {
        "app": "checkout",
        "environment": "gateway-api",
        "strategy": "canary",
        "stable": STABLE,
        "candidate": CANDIDATE,
        "steps": [5, 20, 50, 100],
        "file": "deploy/route.yaml",
        **extra,
    }
    return routing_from(inputs)


def summary(*statuses: str, failure: bool = False) -> dict[str, Any]:
    return {
        "experiment": {
            "failure": failure,
            "failureReason": "task 0 (http) failed" if failure else None,
        },
        "versions": [{"name": "v1"}, {"name": "v2"}],
        "slos": [
            {
                "metric": f"m{i}",
                "versions": [{"name": "v1", "status": "satisfied"}, {"name": "v2", "status": s}],
            }
            for i, s in enumerate(statuses)
        ],
    }


@pytest.mark.parametrize(
    ("statuses", "failure", "decision", "why"),
    [
        (("satisfied", "not-applicable"), False, Decision.ADVANCE, "v2 met all 2 of its SLOs"),
        (("satisfied", "violated"), False, Decision.ROLL_BACK, "v2 violated its SLOs on m1"),
        (("satisfied", "no-data"), False, Decision.STAY, "no data for v2 on m1"),
        ((), False, Decision.STAY, "the assessment judged no SLO for v2"),
        (
            ("satisfied",),
            True,
            Decision.STAY,
            "the experiment did not finish: task 0 (http) failed",
        ),
    ],
)
def test_the_decision_follows_the_candidates_slos(
    statuses: tuple[str, ...], failure: bool, decision: Decision, why: str
) -> None:
    r = routing()
    got, _, reason = decide(
        summary(*statuses, failure=failure), "v2", State("v2", Phase.PROGRESSING, 1), r
    )
    assert (got, reason.split(" (its versions")[0]) == (decision, why)


def test_the_last_step_passed_is_a_promotion_and_a_promoted_release_stays() -> None:
    r = routing()
    decision, following, _ = decide(
        summary("satisfied"), "v2", State("v2", Phase.PROGRESSING, 3), r
    )
    assert (decision, following) == (Decision.PROMOTE, State("v2", Phase.PROMOTED, 3))
    decision, _, why = decide(summary("satisfied"), "v2", following, r)
    assert (decision, why) == (Decision.STAY, "v2 is already promoted")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"environment": "kserve", "strategy": "mirror"},
            "the kserve environment cannot do mirror; it can do blue-green, canary",
        ),
        (
            {"environment": "service", "strategy": "canary"},
            "the service environment cannot do canary; it can do blue-green",
        ),
        ({"steps": [20, 5]}, "steps [20, 5] must rise strictly"),
        ({"strategy": "segment"}, "the segment strategy needs `segment`"),
        ({"candidate": STABLE}, "stable and candidate must be different versions"),
        ({"environment": "service", "strategy": "blue-green"}, "give stable.selector"),
    ],
)
def test_inputs_that_cannot_work_say_what_to_change(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(RoutingError, match=message.replace("[", r"\[").replace("]", r"\]")):
        routing(**extra)


USER_ROUTE = """\
# Checkout's route. Owned by the platform team; iter8-py moves the weights.
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: checkout
  labels: {team: payments}       # kept
spec:
  parentRefs:
  - name: public-gateway         # not the task's business
    sectionName: https
  rules:
  - backendRefs:
    - name: checkout-v1
      port: 8080
      weight: 100   # stable
    - name: checkout-v2
      port: 8080
      weight: 0     # candidate
    timeouts: {request: 5s}
"""


@pytest.mark.requires("k8s-models")
def test_a_users_route_is_edited_in_place_and_every_other_byte_kept() -> None:
    r = routing()
    state = current_state(USER_ROUTE, r)
    assert state == State("v2", Phase.PROGRESSING, -1)
    text = next_text(USER_ROUTE, r, State("v2", Phase.PROGRESSING, 0))
    changed = [line for line in text.splitlines() if line not in USER_ROUTE.splitlines()]
    assert changed == [
        "  annotations:",
        "    iter8-py/strategy: canary",
        "    iter8-py/candidate: v2",
        "    iter8-py/phase: progressing",
        '    iter8-py/step: "0"',
        "      weight: 95   # stable",
        "      weight: 5     # candidate",
    ]
    assert [line for line in USER_ROUTE.splitlines() if line not in text.splitlines()] == [
        "      weight: 100   # stable",
        "      weight: 0     # candidate",
    ]
    assert current_state(text, r) == State("v2", Phase.PROGRESSING, 0)
    assert k8s.problems(list(yaml.safe_load_all(text))) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            USER_ROUTE.replace("kind: HTTPRoute", "kind: Gateway"),
            "deploy/route.yaml: kind is 'Gateway'; the gateway-api environment needs 'HTTPRoute'",
        ),
        (
            USER_ROUTE.replace("name: checkout\n", "name: shop\n"),
            "deploy/route.yaml: metadata.name is 'shop', but the traffic task's app is 'checkout'",
        ),
        (
            USER_ROUTE.replace("checkout-v2", "checkout-canary"),
            "deploy/route.yaml: spec.rules[0].backendRefs[name=checkout-v2].weight: "
            "spec.rules[0].backendRefs has no item with name=checkout-v2 "
            "(it has name: checkout-canary, checkout-v1)",
        ),
        ("a: [", "deploy/route.yaml: not valid YAML"),
    ],
)
def test_a_manifest_it_does_not_understand_is_an_error_naming_the_file_and_field(
    text: str, message: str
) -> None:
    r = routing()
    with pytest.raises(RoutingError) as caught:
        next_text(text, r, State("v2", Phase.PROGRESSING, 0))
    assert str(caught.value).startswith(message)


def test_an_inference_service_must_exist() -> None:
    r = routing(environment="kserve")
    with pytest.raises(RoutingError, match=r"deploy/route\.yaml does not exist on the target"):
        next_text(None, r, State("v2", Phase.PROGRESSING, 0))
