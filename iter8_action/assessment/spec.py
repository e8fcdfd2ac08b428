"""What to assess: the `assess` task's inputs, parsed into frozen dataclasses.

The schema (`$defs/assess`) has already checked the shapes; what is left to
check here needs the versions of the run (names in `baseline` and `versions`).
Iter8's older SLO list (`[{metric, upperLimit, lowerLimit}]`) is accepted too,
although the loader normally translates it before the task sees it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from iter8_action.core.errors import InvalidValue
from iter8_action.metrics.names import canonical_metric_name

DEFAULT_CONFIDENCE = 0.95
DEFAULT_CORRECTION = "holm"
DEFAULT_MIN_REQUESTS = 30

UPPER, LOWER = "upper", "lower"
RELATIVE_KEYS = {
    UPPER: ("maxIncreasePercent", "maxIncrease"),
    LOWER: ("maxDecreasePercent", "maxDecrease"),
}


class SpecError(InvalidValue, ValueError):
    """The inputs name something that this run does not have (a version)."""


@dataclass(frozen=True)
class Relative:
    """A limit relative to the baseline version's value of the same metric."""

    amount: float
    percent: bool
    """`amount` is a percentage of the baseline's value (else an amount in the metric's units)."""

    def limit(self, kind: str, baseline_value: float) -> float:
        step = abs(baseline_value) * self.amount / 100.0 if self.percent else self.amount
        return baseline_value + step if kind == UPPER else baseline_value - step

    def describe(self, kind: str) -> str:
        sign = "+" if kind == UPPER else "-"
        return f"{sign}{self.amount:g}%" if self.percent else f"{sign}{self.amount:g}"

    def key(self, kind: str) -> str:
        """The input field it was written as (maxIncreasePercent, maxDecrease, ...)."""
        return RELATIVE_KEYS[kind][0 if self.percent else 1]


@dataclass(frozen=True)
class SloSpec:
    metric: str
    kind: str
    """upper (value <= limit) or lower (value >= limit)"""
    limit: float | None
    relative: tuple[Relative, ...]
    """Limits relative to the baseline (percent and/or amount); empty when there are none."""
    versions: tuple[int, ...] | None
    """The versions it applies to; None means every version. A relative limit never
    applies to the baseline itself (its absolute limit, if any, does)."""

    def binding(self, baseline_value: float | None) -> tuple[float | None, Relative | None]:
        """The effective limit given the baseline's value, and the relative limit that sets it.

        The stricter of all the limits applies; the relative one is None when the
        absolute limit is the stricter (or the only one). None for the limit when
        it depends on a baseline value that is missing.
        """
        limits: list[tuple[float, Relative | None]] = []
        if self.limit is not None:
            limits.append((self.limit, None))
        if self.relative:
            if baseline_value is None:
                return None, None
            limits += [(r.limit(self.kind, baseline_value), r) for r in self.relative]
        if not limits:
            return None, None
        pick = min if self.kind == UPPER else max
        return pick(limits, key=lambda pair: pair[0])

    def relative_dict(self, baseline: int) -> dict[str, Any] | None:
        if not self.relative:
            return None
        return {"baseline": baseline, **{r.key(self.kind): r.amount for r in self.relative}}

    def listed(self, version: int) -> bool:
        """Whether the SLO names this version (or names none, and so applies to all)."""
        return self.versions is None or version in self.versions


@dataclass(frozen=True)
class AssessSpec:
    slos: tuple[SloSpec, ...]
    rewards_max: tuple[str, ...]
    rewards_min: tuple[str, ...]
    baseline: int
    confidence: float
    correction: str
    min_requests: int


def parse_spec(inputs: Mapping[str, Any], version_names: Sequence[str]) -> AssessSpec:
    """The task's inputs (already schema-valid) for a run with these versions."""
    names = list(version_names)
    baseline = _version(inputs.get("baseline", 0), names, "baseline")
    rewards = inputs.get("rewards") or {}
    return AssessSpec(
        slos=tuple(_slos(inputs.get("SLOs"), names)),
        rewards_max=tuple(canonical_metric_name(m) for m in rewards.get("max") or []),
        rewards_min=tuple(canonical_metric_name(m) for m in rewards.get("min") or []),
        baseline=baseline,
        confidence=float(inputs.get("confidence", DEFAULT_CONFIDENCE)),
        correction=str(inputs.get("correction", DEFAULT_CORRECTION)),
        min_requests=int(inputs.get("minRequests", DEFAULT_MIN_REQUESTS)),
    )


def _slos(raw: Any, names: list[str]) -> list[SloSpec]:
    if not raw:
        return []
    if isinstance(raw, list):  # Iter8 v0.8-v0.10: [{metric, upperLimit, lowerLimit}]
        upper = [{**s, "limit": s["upperLimit"]} for s in raw if "upperLimit" in s]
        lower = [{**s, "limit": s["lowerLimit"]} for s in raw if "lowerLimit" in s]
        raw = {UPPER: upper, LOWER: lower}
    out = []
    for kind in (UPPER, LOWER):
        for i, entry in enumerate(raw.get(kind) or []):
            out.append(_slo(entry, kind, names, f"SLOs.{kind}[{i}]"))
    return out


def _slo(entry: Mapping[str, Any], kind: str, names: list[str], where: str) -> SloSpec:
    percent_key, amount_key = RELATIVE_KEYS[kind]
    relative = tuple(
        Relative(float(entry[key]), percent=key == percent_key)
        for key in (percent_key, amount_key)
        if key in entry
    )
    versions = None
    if entry.get("versions") is not None:
        versions = tuple(
            sorted({_version(v, names, f"{where}.versions") for v in entry["versions"]})
        )
    limit = entry.get("limit")
    return SloSpec(
        metric=canonical_metric_name(str(entry["metric"])),
        kind=kind,
        limit=None if limit is None else float(limit),
        relative=relative,
        versions=versions,
    )


def _version(ref: Any, names: list[str], where: str) -> int:
    """A version given by name or 0-based index."""
    known = ", ".join(f"{i}: {n}" for i, n in enumerate(names)) or "none"
    if isinstance(ref, int) and not isinstance(ref, bool):
        if 0 <= ref < len(names):
            return ref
        raise SpecError(
            f"{where}: there is no version {ref} (versions are numbered from 0: {known})"
        )
    if str(ref) in names:
        return names.index(str(ref))
    raise SpecError(f"{where}: there is no version named {ref!r} (versions are {known})")
