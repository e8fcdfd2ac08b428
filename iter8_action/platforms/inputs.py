"""The inputs of the action and the component, read from `INPUT_*` variables.

GitHub's runner passes input `comment-key` as `INPUT_COMMENT-KEY` (upper case,
spaces to underscores, hyphens kept); GitLab variable names cannot hold a
hyphen, so the component template sets `INPUT_COMMENT_KEY`. Both are read.
Values are trimmed as @actions/core's `getInput` does, and booleans accept
only the YAML 1.2 core-schema spellings, as `getBooleanInput` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from iter8_action.core.errors import InputError
from iter8_action.core.logs import LEVELS
from iter8_action.report import FORMATS
from iter8_action.shards import spec as shards

COMMENT_MODES = ("always", "on-failure", "never")
GATES = ("slos", "task-failure")
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")

DEFAULTS: dict[str, str] = {
    "experiment": "experiment.yaml",
    "working-directory": ".",
    "token": "",
    "comment": "always",
    "comment-key": "",
    "fail-on": "slos,task-failure",
    "report-formats": "markdown,html,junit",
    "report-dir": "iter8-reports",
    "summary": "true",
    "log-level": "info",
    "from-result": "",
    "baseline-from": "",
    "baseline-count": "5",
    "chart": "",
    "values": "",
    "set": "",
    "chart-repo": "",
    "chart-version": "",
    "shard": "",
    "start-at": "",
    "merge-from": "",
}
"""Defaults when a variable is absent (the action and template pass every input anyway)."""
ALIASES: dict[str, str] = {
    "valuesFile": "values",
    "chartRepo": "chart-repo",
    "chartVersion": "chart-version",
    "logLevel": "log-level",
}
"""Input names of Iter8's own action (iter8-tools/iter8-action@v1), read as deprecated aliases."""


@dataclass(frozen=True)
class ChartInputs:
    """An experiment chart to render into the experiment file before the run."""

    chart: str
    values: tuple[str, ...]
    """Values files (relative to the working directory) or URLs; later ones win."""
    sets: tuple[str, ...]
    """One `K=V` per line of the `set` input, with Helm's --set rules."""
    repo: str
    version: str
    cache_dir: Path


@dataclass(frozen=True)
class Inputs:
    experiment: Path
    working_directory: Path
    token: str
    comment: str
    comment_key: str
    fail_on: frozenset[str]
    report_formats: tuple[str, ...]
    report_dir: Path
    summary: bool
    log_level: str
    from_result: Path | None = None
    """Report on this result file instead of running the experiment (fork pattern)."""
    baseline_from: str = ""
    """Where the base branch's results come from (see `iter8_action.baselines.sources`)."""
    baseline_count: int = 5
    chart: ChartInputs | None = None
    """Render this chart into `experiment` first (`iter8 launch` in the pipeline)."""
    notices: tuple[str, ...] = ()
    """Deprecated inputs that were used, each with what to write instead."""
    shard: shards.ShardSpec | None = None
    """Run this shard of the load only (`shard: 2/3`, or `auto` from GitLab's `parallel:`)."""
    start_at: datetime | None = None
    """The shards' common start (`start-at`, or the pipeline's default)."""
    merge_from: Path | None = None
    """Merge the shard results under this directory, then finish the experiment."""

    @property
    def experiment_path(self) -> Path:
        return self.working_directory / self.experiment

    @property
    def report_path(self) -> Path:
        return self.working_directory / self.report_dir


def raw_input(environ: Mapping[str, str], name: str) -> str:
    """One input as the runner passed it (hyphenated or underscored name), trimmed."""
    upper = name.replace(" ", "_").upper()
    for key in (f"INPUT_{upper}", f"INPUT_{upper.replace('-', '_')}"):
        if key in environ:
            return environ[key].strip()
    return DEFAULTS.get(name, "")


def read_inputs(environ: Mapping[str, str]) -> Inputs:
    """Every input, validated; `InputError` lists every invalid one at once."""
    problems: list[str] = []

    def choice(name: str, choices: tuple[str, ...]) -> str:
        value = raw_input(environ, name).lower()
        if value not in choices:
            problems.append(_bad(name, raw_input(environ, name), choices))
        return value

    def listed(name: str, choices: tuple[str, ...], *, allow_none: bool) -> tuple[str, ...]:
        items = tuple(dict.fromkeys(_split(raw_input(environ, name).lower())))
        if allow_none and items == ("none",):
            return ()
        wrong = [item for item in items if item not in choices]
        if wrong or not items:
            hint = (*choices, "none") if allow_none else choices
            problems.append(_bad(name, raw_input(environ, name), hint, several=True))
        return tuple(item for item in items if item in choices)

    notices: list[str] = []

    def aliased(name: str) -> str:
        for old, new in ALIASES.items():
            if new == name and (value := raw_input(environ, old)):
                notices.append(f"input `{old}` (Iter8's action) is deprecated; use `{name}`")
                return value
        return raw_input(environ, name)

    comment = choice("comment", COMMENT_MODES)
    fail_on = frozenset(listed("fail-on", GATES, allow_none=True))
    fail_on = _validate_slos(raw_input(environ, "validateSLOs"), fail_on, problems, notices)
    formats = listed("report-formats", FORMATS, allow_none=True)
    log_level = aliased("log-level").lower()
    if log_level not in LEVELS:
        problems.append(_bad("log-level", log_level, LEVELS))
    summary = _boolean(raw_input(environ, "summary"), "summary", problems)
    experiment = raw_input(environ, "experiment")
    baseline_count = _baseline_count(raw_input(environ, "baseline-count"), problems)
    baseline_from = _baseline_from(raw_input(environ, "baseline-from"), problems)
    if not experiment:
        problems.append("experiment: empty; name the experiment file, e.g. `experiment.yaml`")
    chart = _chart_inputs(environ, aliased, problems)
    shard, start_at = _shard(environ, problems)
    merge_from = raw_input(environ, "merge-from")
    if shard is not None and merge_from:
        problems.append("shard and merge-from: a job either runs a shard or merges; set one")
    if problems:
        raise InputError("invalid inputs:\n" + "\n".join(f"  {p}" for p in problems))
    return Inputs(
        experiment=Path(experiment),
        working_directory=Path(raw_input(environ, "working-directory") or "."),
        token=raw_input(environ, "token"),
        comment=comment,
        comment_key=raw_input(environ, "comment-key") or experiment,
        fail_on=fail_on,
        report_formats=formats,
        report_dir=Path(raw_input(environ, "report-dir") or DEFAULTS["report-dir"]),
        summary=summary,
        log_level=log_level,
        from_result=Path(from_result)
        if (from_result := raw_input(environ, "from-result"))
        else None,
        baseline_from=baseline_from,
        baseline_count=baseline_count,
        chart=chart,
        notices=tuple(notices),
        shard=shard,
        start_at=start_at,
        merge_from=Path(merge_from) if merge_from else None,
    )


def _baseline_count(value: str, problems: list[str]) -> int:
    from iter8_action.baselines.spec import parse_count

    try:
        return parse_count(value)
    except InputError as e:
        problems.append(str(e))
        return 0


def _baseline_from(value: str, problems: list[str]) -> str:
    from iter8_action.baselines.spec import parse_source

    try:
        parse_source(value)
    except InputError as e:
        problems.append(str(e))
    return value


def _chart_inputs(
    environ: Mapping[str, str], aliased: Callable[[str], str], problems: list[str]
) -> ChartInputs | None:
    values = tuple(_split(aliased("values")))
    repo, version = aliased("chart-repo"), aliased("chart-version")
    sets = tuple(line.strip() for line in raw_input(environ, "set").splitlines() if line.strip())
    chart = raw_input(environ, "chart")
    if not chart:
        given = [n for n, v in (("values", values), ("set", sets), ("chart-repo", repo)) if v]
        if given or version:
            names = ", ".join(given + (["chart-version"] if version else []))
            problems.append(f"{names}: given without `chart`; name the chart, e.g. `chart: iter8`")
        return None
    cache = environ.get("XDG_CACHE_HOME") or str(
        Path(environ.get("HOME") or "~").expanduser() / ".cache"
    )
    return ChartInputs(chart, values, sets, repo, version, Path(cache) / "iter8-py" / "charts")


def _validate_slos(
    value: str, fail_on: frozenset[str], problems: list[str], notices: list[str]
) -> frozenset[str]:
    """Iter8's `validateSLOs`: true gates on SLOs (as fail-on: slos does), false does not."""
    if not value:
        return fail_on
    if value not in _TRUE + _FALSE:
        problems.append(f"validateSLOs: {value!r} is not a boolean; use true or false")
        return fail_on
    gate = value in _TRUE
    notices.append(
        "input `validateSLOs` (Iter8's action) is deprecated; use "
        f"`fail-on: {'slos,task-failure' if gate else 'task-failure'}`"
    )
    return fail_on | {"slos"} if gate else fail_on - {"slos"}


def _shard(
    environ: Mapping[str, str], problems: list[str]
) -> tuple[shards.ShardSpec | None, datetime | None]:
    """`shard` (`I/N`, or `auto`: GitLab's `parallel:`) and the start every shard shares."""
    text, start_text = raw_input(environ, "shard"), raw_input(environ, "start-at")
    try:
        spec = shards.resolve_shard(text, environ, where="shard") if text else None
        if spec is None:
            if start_text:
                problems.append("start-at: only with shard (it lines the shards' loads up)")
            return None, None
        start = shards.parse_instant(start_text, where="start-at") if start_text else None
        start = start or shards.default_start(environ)
        shards.check_wait(start)
        return spec, start
    except InputError as e:
        problems.append(str(e))
        return None, None


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.replace("\n", ",").split(",") if item.strip()]


def _bad(name: str, value: str, choices: tuple[str, ...], *, several: bool = False) -> str:
    how = "a comma-separated list of" if several else "one of"
    return f"{name}: {value!r} is not valid; use {how}: {', '.join(choices)}"


def _boolean(value: str, name: str, problems: list[str]) -> bool:
    if value in _TRUE:
        return True
    if value not in _FALSE:
        problems.append(
            f"{name}: {value!r} is not a boolean; use true or false "
            "(YAML 1.2 core schema: true | True | TRUE | false | False | FALSE)"
        )
    return False
