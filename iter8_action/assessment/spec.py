"""What to assess: the `assess` task's inputs, parsed into frozen dataclasses in two steps.

At load, `AssessRules.parse` reads the whole `with:` (already schema-valid) into
`AssessRules`: SLOs with their metrics and limits, rewards, the statistics'
options, and the versions as written (a name or a 0-based index). It refuses,
with `InputsInvalid` at the field, what the schema admits but no run could use: a
metric name without its source, a lower limit above an upper one on the same
metric and versions, a reward both maximised and minimised. When the task runs,
`AssessRules.resolve` only resolves the version names and indices against the
versions the run measured (`SpecError` for one it did not), giving `AssessSpec`.
Iter8's older SLO list (`[{metric, upperLimit, lowerLimit}]`) is accepted too,
although the loader normally translates it before the task sees it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from iter8_action.core.errors import InputsInvalid, InvalidValue
from iter8_action.metrics.names import canonical_metric_name

DEFAULT_CONFIDENCE = 0.95
DEFAULT_MIN_REQUESTS = 30
DEFAULT_BASELINE = 0
"""The first version."""

UPPER, LOWER = "upper", "lower"
RELATIVE_KEYS = {
    UPPER: ("maxIncreasePercent", "maxIncrease"),
    LOWER: ("maxDecreasePercent", "maxDecrease"),
}

VersionRef = int | str
"""A version as the inputs name it: its name or its 0-based index."""

FieldPath = tuple[str | int, ...]


class Correction(StrEnum):
    """The correction for several versions compared at once (the input `correction`)."""

    HOLM = "holm"
    BONFERRONI = "bonferroni"
    NONE = "none"


DEFAULT_CORRECTION = Correction.HOLM


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
    """The inputs for a run: every version resolved to its index in the run's store."""

    slos: tuple[SloSpec, ...]
    rewards_max: tuple[str, ...]
    rewards_min: tuple[str, ...]
    baseline: int
    confidence: float
    correction: Correction
    min_requests: int


@dataclass(frozen=True)
class SloRule:
    """An SLO as the inputs write it: its metric canonical, its versions as written."""

    metric: str
    kind: str
    """upper (value <= limit) or lower (value >= limit)"""
    limit: float | None
    relative: tuple[Relative, ...] = ()
    versions: tuple[VersionRef, ...] | None = None
    """None: every version."""
    where: str = ""
    """Where it is written (`SLOs.upper[0]`), for the message of a version the run lacks."""

    def resolve(self, names: Sequence[str]) -> SloSpec:
        versions = None
        if self.versions is not None:
            where = f"{self.where}.versions"
            versions = tuple(sorted({_version(v, names, where) for v in self.versions}))
        return SloSpec(self.metric, self.kind, self.limit, self.relative, versions)


@dataclass(frozen=True)
class AssessRules:
    """The `assess` task's `with:`, parsed at load; `resolve` gives the `AssessSpec` of a run."""

    slos: tuple[SloRule, ...] = ()
    """The upper SLOs in their order, then the lower ones."""
    rewards_max: tuple[str, ...] = ()
    rewards_min: tuple[str, ...] = ()
    baseline: VersionRef = DEFAULT_BASELINE
    confidence: float = DEFAULT_CONFIDENCE
    correction: Correction = DEFAULT_CORRECTION
    min_requests: int = DEFAULT_MIN_REQUESTS

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> AssessRules:
        """The task's inputs (already schema-valid); `InputsInvalid` at the field of a value
        no run could use."""
        rewards = inputs.get("rewards") or {}
        rewards_max = _metrics(rewards.get("max") or [], ("rewards", "max"))
        rewards_min = _metrics(rewards.get("min") or [], ("rewards", "min"))
        _refuse_both_directions(rewards_max, rewards_min)
        baseline = inputs.get("baseline", DEFAULT_BASELINE)
        return cls(
            slos=_slos(inputs.get("SLOs")),
            rewards_max=rewards_max,
            rewards_min=rewards_min,
            baseline=baseline if isinstance(baseline, int) else str(baseline),
            confidence=float(inputs.get("confidence", DEFAULT_CONFIDENCE)),
            correction=Correction(inputs.get("correction", DEFAULT_CORRECTION)),
            min_requests=int(inputs.get("minRequests", DEFAULT_MIN_REQUESTS)),
        )

    def resolve(self, version_names: Sequence[str]) -> AssessSpec:
        """These inputs for a run with these versions; `SpecError` for a version it lacks."""
        names = list(version_names)
        baseline = _version(self.baseline, names, "baseline")
        return AssessSpec(
            slos=tuple(slo.resolve(names) for slo in self.slos),
            rewards_max=self.rewards_max,
            rewards_min=self.rewards_min,
            baseline=baseline,
            confidence=self.confidence,
            correction=self.correction,
            min_requests=self.min_requests,
        )


def parse_spec(inputs: Mapping[str, Any], version_names: Sequence[str]) -> AssessSpec:
    """The task's inputs (already schema-valid) for a run with these versions, in one step."""
    return AssessRules.parse(inputs).resolve(version_names)


@dataclass(frozen=True)
class _Written:
    """A parsed SLO and the path of its absolute limit, for the contradiction check."""

    rule: SloRule
    limit_at: FieldPath


def _slos(raw: Any) -> tuple[SloRule, ...]:
    if not raw:
        return ()
    written = list(_legacy(raw) if isinstance(raw, list) else _current(raw))
    _refuse_contradictions(written)
    return tuple(w.rule for w in written)


def _current(raw: Mapping[str, Any]) -> Iterator[_Written]:
    for kind in (UPPER, LOWER):
        for i, entry in enumerate(raw.get(kind) or []):
            at: FieldPath = ("SLOs", kind, i)
            yield _Written(_slo(entry, kind, at, f"SLOs.{kind}[{i}]"), (*at, "limit"))


def _legacy(raw: Sequence[Mapping[str, Any]]) -> Iterator[_Written]:
    """Iter8 v0.8-v0.10: [{metric, upperLimit, lowerLimit}]."""
    for kind, key in ((UPPER, "upperLimit"), (LOWER, "lowerLimit")):
        entries = [(i, entry) for i, entry in enumerate(raw) if key in entry]
        for n, (i, entry) in enumerate(entries):
            rule = _slo({**entry, "limit": entry[key]}, kind, ("SLOs", i), f"SLOs.{kind}[{n}]")
            yield _Written(rule, ("SLOs", i, key))


def _slo(entry: Mapping[str, Any], kind: str, at: FieldPath, where: str) -> SloRule:
    percent_key, amount_key = RELATIVE_KEYS[kind]
    relative = tuple(
        Relative(float(entry[key]), percent=key == percent_key)
        for key in (percent_key, amount_key)
        if key in entry
    )
    versions = entry.get("versions")
    limit = entry.get("limit")
    return SloRule(
        metric=_metric(entry["metric"], (*at, "metric")),
        kind=kind,
        limit=None if limit is None else float(limit),
        relative=relative,
        versions=None if versions is None else tuple(_ref(v) for v in versions),
        where=where,
    )


def _ref(value: Any) -> VersionRef:
    return value if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _metrics(names: Sequence[Any], at: FieldPath) -> tuple[str, ...]:
    return tuple(_metric(name, (*at, i)) for i, name in enumerate(names))


def _metric(name: Any, at: FieldPath) -> str:
    """The canonical name; every metric a run stores is named `<source>/<name>`."""
    metric = canonical_metric_name(str(name))
    source, slash, rest = metric.partition("/")
    if not (slash and source and rest):
        raise InputsInvalid(
            f"{metric!r} is not a metric name: a metric is named after its source, "
            "<source>/<name>, e.g. http/latency-p95, grpc/error-rate or my-prom/error-rate",
            field=at,
        )
    return metric


def _refuse_both_directions(rewards_max: tuple[str, ...], rewards_min: tuple[str, ...]) -> None:
    for i, metric in enumerate(rewards_min):
        if metric in rewards_max:
            raise InputsInvalid(
                f"{metric} is a max reward too (rewards.max[{rewards_max.index(metric)}]): "
                "higher cannot be better and worse at once; keep it in max or in min",
                field=("rewards", "min", i),
            )


def _refuse_contradictions(written: Sequence[_Written]) -> None:
    """A lower limit above an upper limit of the same metric, where both apply to a version
    the file names alike (or to every version): no value can meet both."""
    limits = [(w, w.rule.limit) for w in written if w.rule.limit is not None]
    uppers = [(w, limit) for w, limit in limits if w.rule.kind == UPPER]
    for low, least in ((w, limit) for w, limit in limits if w.rule.kind == LOWER):
        for up, most in uppers:
            if (
                least > most
                and up.rule.metric == low.rule.metric
                and _overlap(up.rule.versions, low.rule.versions)
            ):
                raise InputsInvalid(
                    f"{low.rule.metric} must be at least {least:g} here and at most "
                    f"{most:g} at {_dotted(up.limit_at)}: no value can meet both; "
                    "is one of the limits a typo?",
                    field=low.limit_at,
                )


def _overlap(a: tuple[VersionRef, ...] | None, b: tuple[VersionRef, ...] | None) -> bool:
    """Whether two SLOs surely share a version: a name and an index may be the same
    version too, but only the run can tell."""
    return a is None or b is None or bool(set(a) & set(b))


def _dotted(path: FieldPath) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _version(ref: Any, names: Sequence[str], where: str) -> int:
    """A version given by name or 0-based index."""
    known = ", ".join(f"{i}: {n}" for i, n in enumerate(names)) or "none"
    if isinstance(ref, int) and not isinstance(ref, bool):
        if 0 <= ref < len(names):
            return ref
        raise SpecError(
            f"{where}: there is no version {ref} (versions are numbered from 0: {known})"
        )
    if str(ref) in names:
        return list(names).index(str(ref))
    raise SpecError(f"{where}: there is no version named {ref!r} (versions are {known})")
