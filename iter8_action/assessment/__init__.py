"""Assessment of versions: SLOs, rewards and statistically sound A/B/n decisions.

Pure functions over a `MetricStore`, no I/O: `parse_spec` reads the `assess`
task's inputs, `assess` returns the insight fields of the result.

    spec.py         the inputs (SLOs with absolute, per-version and relative limits; rewards)
    data.py         a metric's values and per-request data, per version
    statistics.py   the tests, effects, intervals and sample sizes (SciPy)
    comparisons.py  families of comparisons, corrected for multiplicity; their text
    slos.py         the SLO verdicts
    rewards.py      the reward verdicts
    verdict.py      the verdict per version, the winner and the insight fields
"""

from iter8_action.assessment.spec import AssessSpec, SpecError, parse_spec
from iter8_action.assessment.verdict import Assessment, assess, judge

__all__ = ["AssessSpec", "Assessment", "SpecError", "assess", "judge", "parse_spec"]
