"""Loading an experiment: read, validate what the user wrote, translate to the canonical model.

Stages, each in its own module: `documents.source` (bytes to data with lines),
`documents.validation` (schema, every error at its line), `engine.aliases` (old
Iter8 forms to the current one), `experiment.conditions` (the `if:` expressions), then each task's
`TaskType.parse` (its `with:` into its frozen inputs). Every problem found is
reported together in one `ExperimentInvalid`.

A valid experiment's secrets are registered as it is loaded, before any task
can run or print: each task module names those of its inputs
(`TaskType.secrets`), including the values of environment variables they name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from iter8_action.core.errors import ExperimentInvalid, InputsInvalid, Problem
from iter8_action.core.secrets import SECRETS
from iter8_action.documents.schemas import load_schema
from iter8_action.documents.source import SourceDocument, format_path, parse, read_file
from iter8_action.documents.validation import SchemaValidator, describe_value
from iter8_action.engine.aliases import LEGACY_TASK_NAMES, canonical_task
from iter8_action.experiment.conditions import ConditionError, Expression, parse_condition
from iter8_action.experiment.model import Experiment, TaskSpec
from iter8_action.tasks import known_names, task

EXPERIMENT_SCHEMA = "experiment.schema.json"


def validator() -> SchemaValidator:
    schema = load_schema(EXPERIMENT_SCHEMA)
    names = schema["$defs"]["task"]["properties"]["task"]["enum"]
    return SchemaValidator(
        schema, known_tasks=sorted(set(names) | set(known_names())), legacy_tasks=LEGACY_TASK_NAMES
    )


def load_experiment(
    path: str | Path, *, env: Mapping[str, str], label: str | None = None
) -> Experiment:
    """Load and validate an experiment file; raise `ExperimentInvalid` listing every problem.

    `env` is the environment the tasks will read their secrets from; the values of the
    variables the experiment names are registered.
    """
    document = read_file(path, label=label)
    return from_document(document, base_dir=Path(path).resolve().parent, env=env)


def load_text(
    text: str | bytes, *, name: str, base_dir: Path, env: Mapping[str, str]
) -> Experiment:
    """Load an experiment from text (the embedded demo, tests)."""
    return from_document(parse(text, name=name), base_dir=base_dir, env=env)


def from_document(
    document: SourceDocument, *, base_dir: Path, env: Mapping[str, str]
) -> Experiment:
    data = document.data
    if data is None:
        raise ExperimentInvalid(
            [
                Problem(
                    document.name,
                    None,
                    "",
                    "the file is empty; an experiment is a map with 'spec:' (a list of tasks), "
                    "or, in Iter8's older form, a list of tasks",
                )
            ]
        )
    if not isinstance(data, dict | list):
        raise ExperimentInvalid(
            [
                document.problem(
                    (),
                    "expected an experiment (a map with 'spec:', or a list of tasks), "
                    f"found {describe_value(data)}",
                )
            ]
        )
    checker = validator()
    warnings = checker.normalize_case(document)
    problems = checker.problems(document)
    legacy = isinstance(data, list)
    prefix: tuple[str | int, ...] = () if isinstance(data, list) else ("spec",)
    raw_tasks = data if isinstance(data, list) else data.get("spec")
    raw_tasks = raw_tasks if isinstance(raw_tasks, list) else []
    conditions: dict[int, Expression] = {}
    flagged = {p.path for p in problems}
    for index, raw in enumerate(raw_tasks):
        if isinstance(raw, dict) and isinstance(raw.get("if"), str) and raw["if"].strip():
            path = (*prefix, index, "if")
            if format_path(path) in flagged:
                continue  # too long for the schema: not worth parsing
            try:
                conditions[index] = parse_condition(raw["if"])
            except ConditionError as exc:
                where = f" at column {exc.column}" if exc.column else ""
                message = f"bad condition {_excerpt(raw['if'])}{where}: {exc.message}"
                problems.append(document.problem(path, message))
    if problems:
        raise ExperimentInvalid(problems)
    tasks = [
        _task(document, raw, index, (*prefix, index), conditions.get(index))
        for index, raw in enumerate(raw_tasks)
    ]
    # registered first: a parser's message may echo a value (a load task's URL) that holds one
    register_secrets(tasks, env)
    parsed = [_parse_inputs(document, spec, prefix) for spec in tasks]
    problems = [p for p in parsed if isinstance(p, Problem)]
    if problems:
        raise ExperimentInvalid(problems)
    tasks = [spec for spec in parsed if isinstance(spec, TaskSpec)]
    metadata = dict(data.get("metadata") or {}) if isinstance(data, dict) else {}
    return Experiment(
        tasks=tuple(tasks),
        source=document.name,
        base_dir=base_dir,
        metadata=metadata,
        legacy_form=legacy,
        warnings=tuple(warnings),
    )


def register_secrets(tasks: list[TaskSpec], env: Mapping[str, str]) -> None:
    """Every secret of every task, registered before the first task runs (so a task that
    never runs has its secrets redacted from the result too)."""
    for spec in tasks:
        found = task(spec.name)
        if found is not None:
            SECRETS.add_all(found.secrets(spec.inputs, env))


def _parse_inputs(
    document: SourceDocument, spec: TaskSpec, prefix: tuple[str | int, ...]
) -> TaskSpec | Problem:
    """`spec` with its `with:` parsed into the task's inputs (`TaskType.parse`), right after
    validation; a value the schema admits but the task cannot take is a problem at its field."""
    found = task(spec.name)
    if found is None:
        return spec  # the schema knows a task no module registers: the engine says so
    try:
        return replace(spec, parsed=found.parse(spec.inputs))
    except InputsInvalid as exc:
        where = ("run",) if spec.name == "run" else ("with", *exc.field)
        return document.problem((*prefix, spec.index, *where), SECRETS.redact(exc.message))


def _excerpt(text: str, limit: int = 80) -> str:
    """`text` quoted, its middle cut when long (a message echoes it, never pages of it)."""
    if len(text) <= limit:
        return repr(text)
    half = limit // 2
    return f"{text[:half]!r}...{text[-half:]!r} ({len(text)} characters)"


def _task(
    document: SourceDocument,
    raw: dict[str, Any],
    index: int,
    path: tuple[str | int, ...],
    condition: Expression | None,
) -> TaskSpec:
    soft_failure = bool(raw.get("softFailure", False))
    if "run" in raw:
        name, inputs = "run", {"script": raw["run"]}
    else:
        name, inputs = canonical_task(raw["task"], raw.get("with") or {})
        # Iter8's notify tasks carried softFailure in `with:`; it is the task's business here.
        soft_failure = bool(inputs.pop("softFailure", False)) or soft_failure
    return TaskSpec(
        index=index,
        name=name,
        inputs=inputs,
        condition=condition,
        soft_failure=soft_failure,
        line=document.line_of(path),
    )
