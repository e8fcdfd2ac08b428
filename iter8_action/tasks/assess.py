"""The `assess` task: judge the versions on SLOs and rewards (see `iter8_action.assessment`).

It reads the metric store that earlier tasks filled and writes Iter8's
`SLOs`, `SLOsSatisfied`, `rewards`, `rewardsWinners` and our `assessment`
into the result's insights. An SLO verdict is a result, never a failure: the
task fails only when there is nothing to assess or an input names a version
the run does not have.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from iter8_action.assessment.spec import AssessRules, AssessSpec, SpecError
from iter8_action.core.errors import TaskFailed
from iter8_action.tasks.base import TaskContext, TaskType

if TYPE_CHECKING:
    from iter8_action.assessment.verdict import Assessment


@dataclass(frozen=True)
class AssessInputs:
    """`assess`'s `with:`, parsed at load into `assessment.spec.AssessRules` (SLOs, rewards,
    the statistics' options; a value no run could use is refused at its field).

    Its SLOs and baseline name versions, which exist only once the run has collected
    metrics: `run` resolves them against the store's versions (`AssessRules.resolve`,
    after `baselines.join.prepare` has adapted them for a run joined with its baselines)."""

    rules: AssessRules

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> AssessInputs:
        return cls(rules=AssessRules.parse(inputs))


def run(inputs: AssessInputs, ctx: TaskContext) -> None:
    rules = inputs.rules
    store = ctx.store
    if store.num_versions == 0:
        raise TaskFailed(
            "there are no versions to assess: no task before assess collected metrics. "
            "Put an http, grpc or custommetrics task before assess in spec."
        )
    baselines = ctx.extras.get("baselines")
    joined = None
    if (
        baselines is not None
    ):  # `baseline-from` / `iter8 run --baseline`: see iter8_action.baselines
        from iter8_action.baselines.join import prepare

        rules, joined = prepare(rules, store, baselines)
    try:
        spec = rules.resolve(store.version_names)
    except SpecError as e:
        hint = ""
        if baselines is None and str(e).startswith("baseline:"):
            hint = (
                "; to compare with another run's result, set the baseline-from input "
                "or pass iter8 run --baseline RESULT"
            )
        raise TaskFailed(f"{e}{hint}") from e
    _warn_unknown_metrics(spec, ctx)
    # SciPy loads here, when a run assesses, not when an experiment is checked
    from iter8_action.assessment.verdict import judge, to_insights

    assessment = judge(store, spec)
    if joined is not None and baselines is not None:
        from iter8_action.baselines.noise import finish

        assessment, insight = finish(assessment, store, joined, baselines)
        ctx.result.assessment["baselines"] = insight
    ctx.result.assessment.update(to_insights(assessment))
    _log_summary(assessment, ctx)


def _warn_unknown_metrics(spec: AssessSpec, ctx: TaskContext) -> None:
    known = ctx.store.names()
    metrics = [s.metric for s in spec.slos] + list(spec.rewards_max) + list(spec.rewards_min)
    for metric in dict.fromkeys(metrics):
        if any(ctx.store.value(metric, v) is not None for v in range(ctx.store.num_versions)):
            continue
        if metric in known:
            continue
        close = difflib.get_close_matches(metric, known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        ctx.log.warning(
            "assess: no version has a value for %s: its SLOs and rewards read no-data%s",
            metric,
            hint,
        )


def _log_summary(a: Assessment, ctx: TaskContext) -> None:
    for s in a.slos:
        for v, status in enumerate(s.versions):
            ctx.log.info(
                "SLO %s %s for %s: %s (%s)",
                s.slo.kind,
                s.slo.metric,
                a.names[v],
                status.status,
                status.note,
            )
    for r in a.rewards:
        ctx.log.info("reward %s %s: %s (%s)", r.direction, r.metric, r.verdict, r.reason)
    winner, reason = a.winner()
    ctx.log.info("winner: %s (%s)", "none" if winner is None else a.names[winner], reason)


TASK = TaskType(
    name="assess",
    summary="assess versions against SLOs and rewards",
    run=run,
    parse=AssessInputs.parse,
)
