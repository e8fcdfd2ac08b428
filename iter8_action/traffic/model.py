"""The routing model: an application, its stable and candidate versions, a strategy, and state.

A release moves through steps, one reviewed change at a time. The state lives in the
routing object itself, as annotations (`iter8-py/candidate`, `iter8-py/phase`,
`iter8-py/step`), so a later run reads where the last merged change left it::

    candidate new (or no manifest yet) -> step -1 (no traffic yet)
    assessment passes                  -> next step ... -> promoted
    an SLO is violated                 -> rolled-back (candidate weight 0, mirror off,
                                          segment sent to stable)
    no data, no SLOs, a failed task    -> stay

Pure data and decisions: no I/O, so every rule tests in microseconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from iter8_action.core.errors import InvalidValue

ANNOTATION_PREFIX = "iter8-py/"
CANDIDATE_ANNOTATION = f"{ANNOTATION_PREFIX}candidate"
PHASE_ANNOTATION = f"{ANNOTATION_PREFIX}phase"
STEP_ANNOTATION = f"{ANNOTATION_PREFIX}step"
STRATEGY_ANNOTATION = f"{ANNOTATION_PREFIX}strategy"
DEFAULT_AFFINITY_COOKIE = "iter8-version"
DEFAULT_STEPS = {"canary": (5, 20, 50, 100), "affinity": (5, 20, 50, 100), "mirror": (10, 50, 100)}


class Strategy(StrEnum):
    CANARY = "canary"
    """A weighted split; each step gives the candidate a larger weight."""
    BLUE_GREEN = "blue-green"
    """All or nothing: one switch, the previous version kept for an instant switch back."""
    MIRROR = "mirror"
    """The candidate receives a copy of a percentage of the requests; its answers are discarded."""
    SEGMENT = "segment"
    """Requests matching headers, cookies or query parameters go to the candidate."""
    AFFINITY = "affinity"
    """Canary weights, and a user stays on the version first given to them."""


class Environment(StrEnum):
    GATEWAY_API = "gateway-api"
    ISTIO = "istio"
    KSERVE = "kserve"
    SERVICE = "service"


class Phase(StrEnum):
    PROGRESSING = "progressing"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled-back"


class Decision(StrEnum):
    ADVANCE = "advance"
    PROMOTE = "promote"
    ROLL_BACK = "roll-back"
    STAY = "stay"


SUPPORTED: dict[Environment, frozenset[Strategy]] = {
    Environment.GATEWAY_API: frozenset(Strategy),
    Environment.ISTIO: frozenset(Strategy),
    Environment.KSERVE: frozenset({Strategy.CANARY, Strategy.BLUE_GREEN}),
    Environment.SERVICE: frozenset({Strategy.BLUE_GREEN}),
}
"""What each environment can do; the docs' table of strategy x environment mirrors this."""


class RoutingError(InvalidValue):
    """Routing inputs or a manifest that cannot be used; the message says what to change."""


@dataclass(frozen=True)
class Version:
    name: str
    service: str
    port: int | None = None
    selector: Mapping[str, str] = field(default_factory=dict)
    """Pod labels of this version (the `service` environment switches a Service to them)."""


@dataclass(frozen=True)
class Segment:
    headers: Mapping[str, str] = field(default_factory=dict)
    cookies: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Affinity:
    cookie: str | None = None
    header: str | None = None


@dataclass(frozen=True)
class Routing:
    """One application's routing: what the traffic task's `with:` says."""

    app: str
    environment: Environment
    strategy: Strategy
    stable: Version
    candidate: Version
    steps: tuple[int, ...]
    file: str
    namespace: str | None = None
    gateway: str | None = None
    gateway_namespace: str | None = None
    hosts: tuple[str, ...] = ()
    segment: Segment | None = None
    affinity: Affinity | None = None

    @property
    def last_step(self) -> int:
        return len(self.steps) - 1


@dataclass(frozen=True)
class State:
    """Where a release stands: its candidate, its phase and its step (-1: no traffic yet)."""

    candidate: str
    phase: Phase
    step: int

    def describe(self, routing: Routing) -> str:
        if self.phase is Phase.PROMOTED:
            return f"{self.candidate} promoted (100%)"
        if self.phase is Phase.ROLLED_BACK:
            return f"{self.candidate} rolled back (0%)"
        if self.step < 0:
            return "not started (0%)"
        unit = "mirrored" if routing.strategy is Strategy.MIRROR else ""
        share = f"{routing.steps[self.step]}%{' ' + unit if unit else ''}"
        if routing.strategy is Strategy.SEGMENT:
            share = "segment on"
        return f"step {self.step + 1} of {len(routing.steps)} ({share})"


def _version(raw: Mapping[str, Any], default_name: str) -> Version:
    port = raw.get("port")
    return Version(
        name=str(raw.get("name") or default_name),
        service=str(raw.get("service") or raw.get("name") or default_name),
        port=int(port) if port is not None else None,
        selector={str(k): str(v) for k, v in (raw.get("selector") or {}).items()},
    )


def routing_from(inputs: Mapping[str, Any]) -> Routing:
    """The routing of a traffic task's validated `with:`; `RoutingError` if it cannot work."""
    environment = Environment(str(inputs["environment"]))
    strategy = Strategy(str(inputs["strategy"]))
    if strategy not in SUPPORTED[environment]:
        can = ", ".join(sorted(SUPPORTED[environment]))
        raise RoutingError(
            f"the {environment} environment cannot do {strategy}; it can do {can} "
            "(see the docs' table of strategies and environments)"
        )
    app = str(inputs["app"])
    steps = _steps(strategy, inputs.get("steps"))
    segment = inputs.get("segment")
    if strategy is Strategy.SEGMENT and not segment:
        raise RoutingError("the segment strategy needs `segment` (headers, cookies or query)")
    affinity = inputs.get("affinity")
    if strategy is Strategy.AFFINITY and not affinity:
        affinity = {"cookie": DEFAULT_AFFINITY_COOKIE}
    routing = Routing(
        app=app,
        environment=environment,
        strategy=strategy,
        stable=_version(inputs.get("stable") or {}, "stable"),
        candidate=_version(inputs.get("candidate") or {}, "candidate"),
        steps=steps,
        file=str(inputs.get("file") or f"traffic/{app}.yaml"),
        namespace=str(inputs["namespace"]) if inputs.get("namespace") else None,
        gateway=str(inputs["gateway"]) if inputs.get("gateway") else None,
        gateway_namespace=(
            str(inputs["gatewayNamespace"]) if inputs.get("gatewayNamespace") else None
        ),
        hosts=tuple(str(h) for h in inputs.get("hosts") or ()),
        segment=Segment(
            headers=dict(segment.get("headers") or {}),
            cookies=dict(segment.get("cookies") or {}),
            query=dict(segment.get("query") or {}),
        )
        if segment
        else None,
        affinity=Affinity(cookie=affinity.get("cookie"), header=affinity.get("header"))
        if affinity
        else None,
    )
    _check_versions(routing)
    return routing


def _steps(strategy: Strategy, raw: Sequence[Any] | None) -> tuple[int, ...]:
    if strategy is Strategy.BLUE_GREEN:
        return (100,)
    if strategy is Strategy.SEGMENT:
        return (100,)
    steps = tuple(int(s) for s in raw) if raw else DEFAULT_STEPS[strategy.value]
    if list(steps) != sorted(set(steps)) or not all(0 < s <= 100 for s in steps):
        raise RoutingError(
            f"steps {list(steps)} must rise strictly, each above 0 and at most 100 "
            "(e.g. [5, 20, 50, 100])"
        )
    return steps


def _check_versions(routing: Routing) -> None:
    if routing.stable.name == routing.candidate.name:
        raise RoutingError("stable and candidate must be different versions")
    if routing.environment is Environment.SERVICE:
        for which, version in (("stable", routing.stable), ("candidate", routing.candidate)):
            if not version.selector:
                raise RoutingError(
                    f"the service environment switches pods by label: give {which}.selector "
                    "(e.g. {app: checkout, version: v2})"
                )
    elif routing.environment is not Environment.KSERVE:
        for which, version in (("stable", routing.stable), ("candidate", routing.candidate)):
            if version.port is None:
                raise RoutingError(f"give {which}.port, the port of its Service")


def state_from(annotations: Mapping[str, Any] | None, routing: Routing) -> State:
    """The state recorded in a manifest's annotations; a new candidate starts at step -1."""
    annotations = annotations or {}
    if str(annotations.get(CANDIDATE_ANNOTATION) or "") != routing.candidate.name:
        return State(routing.candidate.name, Phase.PROGRESSING, -1)
    try:
        phase = Phase(str(annotations.get(PHASE_ANNOTATION)))
        step = int(str(annotations.get(STEP_ANNOTATION)))
    except ValueError as exc:
        raise RoutingError(
            f"the annotations {PHASE_ANNOTATION} and {STEP_ANNOTATION} do not hold a state "
            f"({', '.join(p.value for p in Phase)}; a step number); remove them to start over"
        ) from exc
    return State(routing.candidate.name, phase, max(-1, min(step, routing.last_step)))


def decide(
    summary: Mapping[str, Any], candidate: str, state: State, routing: Routing
) -> tuple[Decision, State, str]:
    """The decision for `candidate` from an event summary, the next state, and why."""
    if state.phase is not Phase.PROGRESSING:
        return Decision.STAY, state, f"{candidate} is already {state.phase}"
    verdict, why = _judge(summary, candidate)
    if verdict == "violated":
        return Decision.ROLL_BACK, State(candidate, Phase.ROLLED_BACK, state.step), why
    if verdict != "met":
        return Decision.STAY, state, why
    if state.step >= routing.last_step:
        return Decision.PROMOTE, State(candidate, Phase.PROMOTED, routing.last_step), why
    return Decision.ADVANCE, State(candidate, Phase.PROGRESSING, state.step + 1), why


def _judge(summary: Mapping[str, Any], candidate: str) -> tuple[str, str]:
    """`met`, `violated` or `unknown` for the candidate's SLOs, and the reason in words."""
    experiment = summary.get("experiment") or {}
    if experiment.get("failure"):
        reason = experiment.get("failureReason") or "a task failed"
        return "unknown", f"the experiment did not finish: {reason}"
    statuses = [
        (slo.get("metric"), v.get("status"))
        for slo in summary.get("slos") or []
        for v in slo.get("versions") or []
        if v.get("name") == candidate
    ]
    if not statuses:
        names = ", ".join(str(v.get("name")) for v in summary.get("versions") or [])
        return "unknown", (
            f"the assessment judged no SLO for {candidate}"
            + (
                f" (its versions are {names}; name the candidate as the experiment does)"
                if names
                else ""
            )
        )
    violated = sorted({str(m) for m, s in statuses if s == "violated"})
    if violated:
        return "violated", f"{candidate} violated its SLOs on {', '.join(violated)}"
    missing = sorted({str(m) for m, s in statuses if s == "no-data"})
    if missing:
        return "unknown", f"no data for {candidate} on {', '.join(missing)}"
    return "met", f"{candidate} met all {len(statuses)} of its SLOs"


def candidate_share(routing: Routing, state: State) -> int:
    """The candidate's weight (percent of requests served) in `state`."""
    if state.phase is Phase.PROMOTED:
        return 100
    if state.phase is Phase.ROLLED_BACK or state.step < 0:
        return 0
    if routing.strategy in (Strategy.MIRROR, Strategy.SEGMENT):
        return 0  # the mirror copies, the segment matches: the default route stays on stable
    return routing.steps[state.step]


def mirror_share(routing: Routing, state: State) -> int:
    if routing.strategy is not Strategy.MIRROR or state.phase is not Phase.PROGRESSING:
        return 0
    return routing.steps[state.step] if state.step >= 0 else 0


def segment_on(routing: Routing, state: State) -> bool:
    if routing.strategy is not Strategy.SEGMENT:
        return False
    return state.phase is Phase.PROMOTED or (state.phase is Phase.PROGRESSING and state.step >= 0)


def step_line(
    routing: Routing, state: State, following: State, decision: Decision, why: str
) -> str:
    """One line for people: "checkout: advance: step 2 of 4 (20%) -> step 3 of 4 (50%), ..."."""
    if decision is Decision.STAY:
        return f"{routing.app} stays at {state.describe(routing)}: {why}"
    return (
        f"{routing.app}: {decision}: {state.describe(routing)} -> "
        f"{following.describe(routing)}, because {why}"
    )
