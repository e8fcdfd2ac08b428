"""The newest baseline's versions join the run, so the statistics compare across runs.

Each joined version is named `<branch>@<short sha>` (`main@1a2b3c4`; with a
multi-version baseline, `main@1a2b3c4/v2`) and carries that run's full data
(scalars, histograms, samples, the `-hdr` full-resolution summaries), so every
comparison of `iter8_action.assessment` works on it as on a version of this run.
`baseline: main` in the assess task resolves to the joined version. The run's
own SLOs apply to its own versions only: a baseline never fails this run's gate.
Without a baseline, relative limits against it are dropped (absolute limits
stay), so the gate follows the other SLOs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from iter8_action.assessment.spec import DEFAULT_BASELINE, AssessRules
from iter8_action.baselines.model import BaselineRun, Baselines
from iter8_action.metrics.store import HistBucket, MetricStore


@dataclass(frozen=True)
class Joined:
    """What joining did to the run."""

    own: int
    """How many versions the run itself has (they come first)."""
    names: tuple[str, ...]
    """The joined versions' names."""
    reference: int | None
    """The joined version that stands for the baseline branch (None without a baseline)."""
    dropped: tuple[str, ...] = ()
    """SLO limits not judged because there is no baseline."""


def join(store: MetricStore, run: BaselineRun) -> tuple[int, ...]:
    """Add `run`'s versions to `store` (once); their indices."""
    names = run.joined_names()
    if names[0] in store.version_names:
        start = store.version_names.index(names[0])
        return tuple(range(start, start + len(names)))
    start = store.num_versions
    store.ensure_versions(start + len(names), [*store.version_names, *names])
    insights = run.store.to_insights()
    for name, meta in run.store.info.items():
        store.info.setdefault(name, meta)
    for offset in range(len(names)):
        v = start + offset
        for name, values in _at(insights, "nonHistMetricValues", offset).items():
            for value in values:
                store.add_value(name, v, value)
        for name, buckets in _at(insights, "histMetricValues", offset).items():
            store.set_histogram(name, v, [HistBucket(**b) for b in buckets])
        for name, samples in _at(insights, "sampleMetricValues", offset).items():
            store.add_samples(name, v, samples)
        for name, summary in _at(insights, "summaryMetricValues", offset).items():
            store.set_summary(name, v, summary)
    return tuple(range(start, start + len(names)))


def _at(insights: Mapping[str, Any], key: str, version: int) -> dict[str, Any]:
    per = insights.get(key) or []
    return dict(per[version] or {}) if version < len(per) else {}


def prepare(
    rules: AssessRules, store: MetricStore, baselines: Baselines
) -> tuple[AssessRules, Joined]:
    """The assess task's inputs for a run joined with its baselines, and what was joined."""
    own = [n for n in store.version_names if not _is_joined(n, baselines)]
    newest = baselines.newest
    ref = rules.baseline
    names_baseline = isinstance(ref, str) and ref not in own
    if newest is None:
        if not names_baseline:
            return rules, Joined(len(own), (), None)
        return _without_baseline(rules, len(own))
    indices = join(store, newest)
    reference = indices[min(newest.baseline_version, len(indices) - 1)]
    if names_baseline:
        named = _named(str(ref), newest, indices, store)
        rules = replace(
            rules, baseline=store.version_names[named if named is not None else reference]
        )
    own_only = tuple(
        slo if slo.versions is not None else replace(slo, versions=tuple(own)) for slo in rules.slos
    )
    return replace(rules, slos=own_only), Joined(len(own), tuple(newest.joined_names()), reference)


def _is_joined(name: str, baselines: Baselines) -> bool:
    return any(name in run.joined_names() for run in baselines.runs[:1])


def _named(ref: str, run: BaselineRun, indices: tuple[int, ...], store: MetricStore) -> int | None:
    """The joined version `ref` names: exactly, or by branch or label (its own baseline)."""
    if ref in store.version_names:
        return store.version_names.index(ref)
    if ref in (run.branch, run.label):
        return indices[min(run.baseline_version, len(indices) - 1)]
    return None


def _without_baseline(rules: AssessRules, own: int) -> tuple[AssessRules, Joined]:
    """No baseline to compare with: relative limits go, absolute limits stay."""
    dropped = [
        f"{slo.metric} ({', '.join(r.key(slo.kind) for r in slo.relative)})"
        for slo in rules.slos
        if slo.relative
    ]
    kept = tuple(replace(slo, relative=()) for slo in rules.slos if slo.limit is not None)
    rules = replace(rules, slos=kept, baseline=DEFAULT_BASELINE)
    return rules, Joined(own, (), None, tuple(dropped))
