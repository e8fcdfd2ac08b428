"""`iter8 launch`: find the chart, build its values, check them, render the experiment."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iter8_action.charts.chart import Chart, ChartError, load_chart, render_experiment
from iter8_action.charts.chart import validate_values as _validate
from iter8_action.charts.values import build_values, is_url
from iter8_action.core.child import run_bounded, value_or_raise

BUILTIN_DIR = Path(__file__).parent / "builtin"
DEFAULT_CHART = "iter8"
CHART_TIMEOUT_S = 20.0
"""Past the templates' own clock (`gotemplate.Limits.max_seconds`), which names the
template and line: this bound is for what that clock cannot interrupt."""
CHART_MEMORY_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class ChartRequest:
    """Where the chart comes from and the values given for it (CLI flags or action inputs)."""

    chart: str = DEFAULT_CHART
    repo_url: str | None = None
    version: str | None = None
    local: bool = False
    no_download: bool = False
    values_files: Sequence[str] = ()
    """Paths (relative to `base`) or http(s) URLs."""
    sets: Sequence[str] = ()
    set_strings: Sequence[str] = ()
    set_files: Sequence[str] = ()
    base: Path = field(default_factory=Path)
    cache_dir: Path | None = None


@dataclass(frozen=True)
class Rendered:
    chart: Chart
    values: dict[str, Any]
    text: str
    notices: list[str]


def builtin_charts() -> list[str]:
    return sorted(p.name for p in BUILTIN_DIR.iterdir() if (p / "Chart.yaml").is_file())


def resolve_chart(request: ChartRequest) -> Chart:
    """A local directory, a chart from a Helm repository, or a built-in chart."""
    if request.repo_url:
        from iter8_action.charts.repo import fetch_chart

        path = fetch_chart(
            request.chart,
            repo_url=request.repo_url,
            version=request.version,
            cache_dir=request.cache_dir,
            offline=request.no_download,
        )
        return load_chart(path)
    local = request.base / request.chart
    if request.local or "/" in request.chart or local.is_dir():
        if not local.is_dir():
            raise ChartError(f"{local}: no chart directory there")
        return load_chart(local)
    if request.chart in builtin_charts():
        return load_chart(BUILTIN_DIR / request.chart, schema_checked=True)
    known = ", ".join(builtin_charts())
    raise ChartError(
        f"unknown chart {request.chart!r}: give a chart directory (a path), a chart of a Helm "
        f"repository (-c NAME --repoURL URL), or a built-in chart ({known})"
    )


def coerce_numbers(schema: Mapping[str, Any], value: Any) -> Any:
    """Strings where the schema asks for a number become numbers.

    Helm types `--set x=1.5` as the string "1.5" (only integers are inferred); a chart
    that declares `x` a number gets the number, instead of an error later.
    """
    if isinstance(value, str):
        if _wants(schema, "number", "integer") and not _wants(schema, "string"):
            try:
                number = float(value)
            except ValueError:
                return value
            return int(number) if number.is_integer() and "." not in value else number
        return value
    if isinstance(value, dict):
        for branch in schema.get("anyOf") or ():
            if isinstance(branch, Mapping) and branch.get("type") == "object":
                return coerce_numbers(branch, value)
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = props.get(key, extra if isinstance(extra, Mapping) else None)
            if isinstance(sub, Mapping):
                value[key] = coerce_numbers(sub, item)
        return value
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [coerce_numbers(schema["items"], v) for v in value]
    return value


def _wants(schema: Mapping[str, Any], *types: str) -> bool:
    declared = schema.get("type")
    names = [declared] if isinstance(declared, str) else list(declared or [])
    for branch in schema.get("anyOf") or ():
        if isinstance(branch, Mapping) and isinstance(branch.get("type"), str):
            names.append(branch["type"])
    return any(t in names for t in types)


def render(request: ChartRequest) -> Rendered:
    """The experiment text of the requested chart with the given values."""
    chart = resolve_chart(request)
    values = build_values(
        chart.values,
        files=[f if is_url(f) else request.base / f for f in request.values_files],
        sets=request.sets,
        set_strings=request.set_strings,
        set_files=request.set_files,
        base=request.base,
    )
    if chart.schema is not None:
        values = coerce_numbers(chart.schema, values)
    notices, text = _checked_and_rendered(chart, values)
    return Rendered(chart, values, text, notices)


def _checked_and_rendered(chart: Chart, values: dict[str, Any]) -> tuple[list[str], str]:
    """The values checked against the chart's schema, and the experiment rendered, in a
    child process bounded in time and memory: a chart is data, and neither a `pattern` in
    its schema nor a `regexMatch` in its templates may hang the run (Python's regular
    expressions backtrack, Go's do not)."""

    def work() -> dict[str, Any]:
        try:
            notices = _validate(chart, values)
            text = render_experiment(chart, values).strip("\n") + "\n"
        except MemoryError as exc:
            raise ChartError(
                f"chart {chart.name!r}: rendering needs more than "
                f"{CHART_MEMORY_BYTES // 2**20} MiB of memory"
            ) from exc
        return {"notices": notices, "text": text}

    outcome = run_bounded(
        work, timeout_s=CHART_TIMEOUT_S, memory_bytes=CHART_MEMORY_BYTES, refusals=(ChartError,)
    )
    value = value_or_raise(
        outcome,
        ChartError,
        too_slow=f"chart {chart.name!r}: checking the values and rendering took longer than "
        f"{CHART_TIMEOUT_S:g}s, the most a chart may take (a regular expression that "
        "backtracks without end, in values.schema.json or a template?)",
        died=lambda how: f"chart {chart.name!r}: rendering ended with {how} (out of memory?)",
    )
    return [str(n) for n in value["notices"]], str(value["text"])


def write_experiment(request: ChartRequest, path: Path, *, log: logging.Logger) -> Path:
    """Render the chart and write the experiment to `path`; notices go to `log`."""
    rendered = render(request)
    for notice in rendered.notices:
        log.warning("%s", notice)
    try:
        path.write_text(rendered.text, encoding="utf-8")
    except OSError as exc:
        raise ChartError(f"{path}: cannot write the experiment: {exc.strerror or exc}") from exc
    log.info("chart %s %s rendered into %s", rendered.chart.name, rendered.chart.version, path)
    return path
