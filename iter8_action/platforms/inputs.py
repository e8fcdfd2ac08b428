"""The inputs of the action and the component, read from `INPUT_*` variables.

GitHub's runner passes input `comment-key` as `INPUT_COMMENT-KEY` (upper case,
spaces to underscores, hyphens kept); GitLab variable names cannot hold a
hyphen, so the component template sets `INPUT_COMMENT_KEY`. Both are read.
Values are trimmed as @actions/core's `getInput` does, and booleans accept
only the YAML 1.2 core-schema spellings, as `getBooleanInput` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from iter8_action.errors import InputError
from iter8_action.logs import LEVELS
from iter8_action.report import FORMATS

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
}
"""Defaults when a variable is absent (the action and template pass every input anyway)."""


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

    comment = choice("comment", COMMENT_MODES)
    fail_on = frozenset(listed("fail-on", GATES, allow_none=True))
    formats = listed("report-formats", FORMATS, allow_none=True)
    log_level = choice("log-level", LEVELS)
    summary = _boolean(raw_input(environ, "summary"), "summary", problems)
    experiment = raw_input(environ, "experiment")
    baseline_count = _baseline_count(raw_input(environ, "baseline-count"), problems)
    baseline_from = _baseline_from(raw_input(environ, "baseline-from"), problems)
    if not experiment:
        problems.append("experiment: empty; name the experiment file, e.g. `experiment.yaml`")
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
    )


def _baseline_count(value: str, problems: list[str]) -> int:
    from iter8_action.baselines.sources import parse_count

    try:
        return parse_count(value)
    except InputError as e:
        problems.append(str(e))
        return 0


def _baseline_from(value: str, problems: list[str]) -> str:
    from iter8_action.baselines.sources import parse_source

    try:
        parse_source(value)
    except InputError as e:
        problems.append(str(e))
    return value


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
