"""Baselines across runs: each pull request compared with its base branch's last results.

Data flows one way::

    sources.py   `baseline-from` (base-branch | artifact:NAME | path | URL) -> result files
                 (github.py: Actions artifacts; gitlab.py: job artifacts; lookup.py walks
                 either's runs; download.py and archive.py bound every byte; reading.py
                 validates every file as a result)
    join.py      the newest baseline's versions join the run as `<branch>@<short sha>`
    noise.py     run-to-run variability over the last K baselines, the regression rule,
                 and the "vs <branch>" comparisons written to the result

Nothing here runs a load test or renders a report: the `assess` task calls
`join.prepare` and `noise.finish`; the CI job and `iter8 run --baseline` call
`sources.resolve`.
"""

from iter8_action.baselines.model import BaselineRun, Baselines

__all__ = ["BaselineRun", "Baselines"]
