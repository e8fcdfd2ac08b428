"""Assessment of versions: SLOs, rewards and statistically sound A/B/n decisions.

Pure functions over a `MetricStore`, no I/O: `AssessRules.parse` reads the `assess`
task's inputs at load, `AssessRules.resolve` names their versions in a run's store
(`parse_spec` does both), `assess` returns the insight fields of the result.

    spec.py         the inputs (SLOs with absolute, per-version and relative limits; rewards)
    data.py         a metric's values and per-request data, per version
    statistics.py   the tests, effects, intervals and sample sizes (SciPy)
    comparisons.py  families of comparisons, corrected for multiplicity; their text
    slos.py         the SLO verdicts
    rewards.py      the reward verdicts
    verdict.py      the verdict per version, the winner and the insight fields

Reading the inputs (`AssessRules`, `parse_spec`) does not load SciPy: the verdict's names are
imported on first use, so checking an experiment stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from iter8_action.assessment.spec import AssessRules, AssessSpec, SpecError, parse_spec

if TYPE_CHECKING:
    from iter8_action.assessment.verdict import Assessment, assess, judge

_FROM_VERDICT = frozenset({"Assessment", "assess", "judge"})


def __getattr__(name: str) -> Any:
    if name in _FROM_VERDICT:
        from iter8_action.assessment import verdict

        return getattr(verdict, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AssessRules",
    "AssessSpec",
    "Assessment",
    "SpecError",
    "assess",
    "judge",
    "parse_spec",
]
