"""What a baseline is: a result file of an earlier run, with where it came from."""

from __future__ import annotations

import string
from dataclasses import dataclass

from iter8_action.core.errors import InputError
from iter8_action.metrics.store import MetricStore

DEFAULT_COUNT = 5
"""The last K results read by default: enough to measure run-to-run noise."""
MAX_COUNT = 20
LOOKUP_TIMEOUT_S = 300.0
"""No new run or pipeline is looked at after this long: the baselines never hold a job up."""
SHORT_SHA = 7


class BaselineInvalid(InputError):
    """A baseline that is not a usable result file (exit 2)."""


@dataclass(frozen=True)
class BaselineRun:
    """One earlier run's result."""

    branch: str
    sha: str
    origin: str
    """Where it came from, for the comment: a run URL, a pipeline URL, a path."""
    store: MetricStore
    baseline_version: int = 0
    """The version of that run that was its own baseline (its assess task's `baseline`)."""

    @property
    def label(self) -> str:
        """`main@1a2b3c4`: what the joined version is called."""
        # the commit comes from an API answer: only its hex digits make the name
        short = "".join(c for c in self.sha if c in string.hexdigits)[:SHORT_SHA]
        return f"{self.branch}@{short}" if short else self.branch

    def joined_names(self) -> list[str]:
        """The names its versions take in this run: the label, or label/version when several."""
        names = self.store.version_names
        if len(names) == 1:
            return [self.label]
        return [f"{self.label}/{name}" for name in names]


@dataclass(frozen=True)
class Baselines:
    """The baselines of a run, newest first, or why there are none."""

    source: str
    runs: tuple[BaselineRun, ...] = ()
    notes: tuple[str, ...] = ()
    """What was skipped or missing (an expired artifact, a fork without access)."""
    branch: str = ""
    """The branch the baselines are from (the pull request's base branch)."""

    @property
    def newest(self) -> BaselineRun | None:
        return self.runs[0] if self.runs else None

    @property
    def name(self) -> str:
        """How the comment names the baseline: the branch ("main"), or "baseline"."""
        newest = self.newest
        return newest.branch if newest is not None else (self.branch or "baseline")
