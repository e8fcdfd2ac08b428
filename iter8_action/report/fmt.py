"""Formatting shared by the renderers: numbers, durations, SLO labels, statistics.

Only formatting lives here: every value comes from the report model as recorded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import yaml

from iter8_action.core.logtext import LEGACY_COMMAND, inert, starts_a_command
from iter8_action.report.model import (
    Comparison,
    Report,
    Reward,
    RewardVerdict,
    Slo,
    Summary,
    TaskStatus,
)

MISSING = "—"
UPPER, LOWER = "≤", "≥"


def number(value: float | None) -> str:
    """A value as people read it: integers stay integers, others get 3-4 significant digits."""
    if value is None or not math.isfinite(value):
        return MISSING
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def quantity(value: float | None, units: str | None) -> str:
    text = number(value)
    return f"{text} {units}" if units and value is not None else text


def duration(seconds: float | None) -> str:
    if seconds is None:
        return MISSING
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {rest:02d} s"
    return f"{minutes} min {rest:02d} s"


def timestamp(text: str | None) -> str:
    """`2026-11-20T10:00:00.000Z` -> `2026-11-20 10:00:00 UTC`."""
    if not text:
        return MISSING
    date, _, clock = text.partition("T")
    clock = clock.split(".")[0].rstrip("Z")
    suffix = " UTC" if text.endswith("Z") else ""
    return f"{date} {clock}{suffix}".strip()


def slo_label(slo: Slo, report: Report) -> str:
    """`http/latency-p95 ≤ 100 ms`, or `http/latency-mean ≤ v1 +50%` for a relative SLO."""
    sign = UPPER if slo.kind == "upper" else LOWER
    parts = []
    if slo.limit is not None:
        parts.append(quantity(slo.limit, slo.units))
    if slo.relative:
        parts.append(relative_label(slo.relative, report, slo.units))
    return f"{slo.metric} {sign} {' and '.join(parts) or MISSING}"


def relative_label(relative: Mapping[str, Any], report: Report, units: str | None) -> str:
    """An SLO's free-form `relative`: `{baseline: 0, maxIncreasePercent: 10}` -> `v1 +10%`."""
    baseline = relative.get("baseline", report.baseline if report.baseline is not None else 0)
    name = (
        report.version_name(baseline) if isinstance(baseline, int) else None
    ) or f"version {baseline}"
    changes = []
    for key, value in relative.items():
        if key == "baseline":
            continue
        sign = "-" if "decrease" in key.lower() else "+"
        if key.lower().endswith("percent"):
            changes.append(f"{sign}{number(_as_float(value))}%")
        elif isinstance(value, int | float):
            changes.append(f"{sign}{quantity(float(value), units)}")
        else:
            changes.append(f"{key}={value}")
    return " ".join([name, *changes])


def _as_float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def p_value(value: float | None) -> str:
    if value is None:
        return MISSING
    if value < 0.0001:
        return "<0.0001"
    return f"{value:.2g}"


def percent(value: float | None) -> str:
    return MISSING if value is None else f"{value * 100:+.1f}%"


def effect(comparison: Comparison) -> str:
    return comparison.effect_label or percent(comparison.effect)


def interval(comparison: Comparison) -> str:
    """The effect's confidence interval; for proportions, the difference's, in points."""
    if comparison.ci_low is not None and comparison.ci_high is not None:
        return f"[{percent(comparison.ci_low)}, {percent(comparison.ci_high)}]"
    low, high = comparison.difference_ci_low, comparison.difference_ci_high
    if low is not None and high is not None:
        return f"[{low * 100:+.2f}, {high * 100:+.2f}] points"
    return MISSING


def confidence(report: Report) -> str:
    level = report.confidence if report.confidence is not None else 0.95
    return f"{level * 100:g}%"


def test_name(test: str | None) -> str:
    return {
        "mann-whitney-u": "Mann-Whitney U",
        "two-proportion-z": "two-proportion z",
        "fisher-exact": "Fisher's exact",
        "plain": "single values",
    }.get(test or "", test or MISSING)


def reward_label(reward: Reward) -> str:
    return f"{reward.metric} ({'higher' if reward.direction == 'max' else 'lower'} is better)"


def reward_best(reward: Reward, report: Report) -> str:
    if reward.winner is not None:
        return report.version_name(reward.winner) or str(reward.winner)
    if reward.tied:
        return "tie: " + ", ".join(report.version_name(t) or str(t) for t in reward.tied)
    return {RewardVerdict.NO_DATA: "no data", RewardVerdict.NO_WINNER_YET: "no winner yet"}.get(
        reward.verdict, reward.verdict
    )


def significance(comparison: Comparison) -> str:
    if comparison.significant is None:
        return MISSING
    if comparison.significant:
        return "yes"
    if comparison.more_requests_needed is not None:
        return f"no (~{number(comparison.more_requests_needed)} more requests)"
    return "no"


def metric_label(name: str, units: str | None) -> str:
    return f"{name} ({units})" if units else name


def task_status(status: TaskStatus) -> str:
    return "not run" if status is TaskStatus.NOT_RUN else str(status)


def sentence(text: str) -> str:
    """`text` ending with a full stop (reasons are written with or without one)."""
    text = text.rstrip()
    return text if not text or text.endswith((".", "!", "?")) else text + "."


def summary_title(summary: Summary) -> str:
    """The summary's description (or its metric's name) with a capital first letter."""
    title = summary.description or summary.metric
    return title[:1].upper() + title[1:]


def summary_rows(summary: Summary) -> list[tuple[str, list[str]]]:
    """A row per key that any version's summary has, sorted: the key and its value per version."""
    keys = sorted({str(k) for s in summary.versions if s for k in s})
    return [(k, [_summary_value(s, k) for s in summary.versions]) for k in keys]


def _summary_value(summary: object, key: str) -> str:
    if not isinstance(summary, dict) or key not in summary:
        return MISSING
    value = summary[key]
    return number(float(value)) if isinstance(value, int | float) else str(value)


def experiment_yaml(report: Report) -> str | None:
    """The experiment as YAML, or None for a result that did not record its experiment.

    The reports show it in a code block, and the CLI may print them where a CI
    runner reads commands: a string that `core.logtext.inert` would change (a line
    break, a control character, `##[`) or that would start a `::` command is
    written double-quoted, where YAML escapes what it must, and `##[` as
    `#\\x23[`. No line is folded, so each line starts with YAML's own syntax.
    """
    if not report.experiment.get("spec"):
        return None
    text = yaml.dump(
        dict(report.experiment),
        Dumper=_InertDumper,
        sort_keys=False,
        allow_unicode=True,
        width=math.inf,
    )
    # Every `##[` is inside a double-quoted scalar, where `\x23` is YAML for `#`.
    return text.replace(LEGACY_COMMAND, "#\\x23[")


class _InertDumper(yaml.SafeDumper):
    """A safe dumper that double-quotes the strings a log could misread (see above)."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    quoted = inert(value) != value or starts_a_command(value)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"' if quoted else None)


_InertDumper.add_representer(str, _represent_str)
