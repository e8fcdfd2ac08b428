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

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from iter8_action.assessment.spec import LOWER, RELATIVE_KEYS, UPPER
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
    inputs: Mapping[str, Any], store: MetricStore, baselines: Baselines
) -> tuple[dict[str, Any], Joined]:
    """The assess task's inputs for a run joined with its baselines, and what was joined."""
    own = [n for n in store.version_names if not _is_joined(n, baselines)]
    out = copy.deepcopy(dict(inputs))
    newest = baselines.newest
    ref = out.get("baseline")
    names_baseline = isinstance(ref, str) and ref not in own
    if newest is None:
        if not names_baseline:
            return out, Joined(len(own), (), None)
        return _without_baseline(out, len(own))
    indices = join(store, newest)
    reference = indices[min(newest.baseline_version, len(indices) - 1)]
    if names_baseline:
        named = _named(str(ref), newest, indices, store)
        out["baseline"] = store.version_names[named if named is not None else reference]
    _own_versions_only(out, own)
    return out, Joined(len(own), tuple(newest.joined_names()), reference)


def _is_joined(name: str, baselines: Baselines) -> bool:
    return any(name in run.joined_names() for run in baselines.runs[:1])


def _named(ref: str, run: BaselineRun, indices: tuple[int, ...], store: MetricStore) -> int | None:
    """The joined version `ref` names: exactly, or by branch or label (its own baseline)."""
    if ref in store.version_names:
        return store.version_names.index(ref)
    if ref in (run.branch, run.label):
        return indices[min(run.baseline_version, len(indices) - 1)]
    return None


def _own_versions_only(inputs: dict[str, Any], own: list[str]) -> None:
    slos = inputs.get("SLOs")
    if not isinstance(slos, dict):
        return
    for kind in (UPPER, LOWER):
        for entry in slos.get(kind) or []:
            if isinstance(entry, dict) and entry.get("versions") is None:
                entry["versions"] = list(own)


def _without_baseline(inputs: dict[str, Any], own: int) -> tuple[dict[str, Any], Joined]:
    """No baseline to compare with: relative limits go, absolute limits stay."""
    dropped: list[str] = []
    inputs.pop("baseline", None)
    slos = inputs.get("SLOs")
    if isinstance(slos, dict):
        for kind in (UPPER, LOWER):
            kept = []
            for entry in slos.get(kind) or []:
                relative = [k for k in RELATIVE_KEYS[kind] if k in entry]
                if relative:
                    dropped.append(f"{entry['metric']} ({', '.join(relative)})")
                    entry = {k: v for k, v in entry.items() if k not in relative}
                if "limit" in entry:
                    kept.append(entry)
            slos[kind] = kept
    return inputs, Joined(own, (), None, tuple(dropped))
