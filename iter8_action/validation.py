"""Validating a document against a JSON Schema, reporting every error at its line.

Errors follow check-jsonschema's lead: all of them, each at `FILE:LINE: PATH`,
the best match for `oneOf`/`anyOf` with a count of the rest, and messages
rewritten where jsonschema's own would puzzle a user (unknown fields get a
"did you mean", unknown tasks the list of known ones).

Iter8 read YAML through Go's JSON decoding, which matched field names
case-insensitively. `normalize_case` accepts such case variants of known
fields, renaming them to the canonical spelling with a warning, before the
schema (which is strict) sees them.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from iter8_action.errors import Problem
from iter8_action.yamlsource import JSONPath, SourceDocument, format_path

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a map (key: value)",
    "array": "a list",
    "null": "null",
}


class SchemaValidator:
    """Validates documents against one schema (`root_ref` picks a definition)."""

    def __init__(
        self,
        schema: Mapping[str, Any],
        *,
        known_tasks: list[str] | None = None,
        validator_class: type[Any] = jsonschema.Draft202012Validator,
    ) -> None:
        self.schema = schema
        self.validator = validator_class(schema)
        self.known_tasks = known_tasks or []

    # -- case variants ----------------------------------------------------------------

    def normalize_case(self, document: SourceDocument) -> list[str]:
        """Rename case variants of known fields in place; return the warnings."""
        warnings: list[str] = []
        self._normalize(document, document.data, self.schema, (), warnings)
        return warnings

    def _normalize(
        self,
        document: SourceDocument,
        value: Any,
        schema: Mapping[str, Any],
        path: JSONPath,
        warnings: list[str],
    ) -> None:
        schemas = list(self._applicable(schema, value))
        if isinstance(value, dict):
            known: dict[str, Mapping[str, Any]] = {}
            for sub in schemas:
                known.update(sub.get("properties", {}))
            for key in list(value):
                if key in known:
                    continue
                matches = [k for k in known if k.lower() == key.lower()]
                if len(matches) == 1 and matches[0] not in value:
                    canonical = matches[0]
                    value[canonical] = value.pop(key)
                    line = document.lines.pop((*path, key), None)
                    if line is not None:
                        document.lines[(*path, canonical)] = line
                        _move_lines(document, (*path, key), (*path, canonical))
                    warnings.append(
                        str(
                            Problem(
                                document.name,
                                line,
                                format_path((*path, key)),
                                f"accepted {key!r} as {canonical!r}; "
                                f"write {canonical!r}, its canonical spelling",
                            )
                        )
                    )
            for key, item in value.items():
                for sub in schemas:
                    prop = sub.get("properties", {}).get(key)
                    if prop is None and isinstance(sub.get("additionalProperties"), dict):
                        prop = sub["additionalProperties"]
                    if prop is not None:
                        self._normalize(document, item, prop, (*path, key), warnings)
        elif isinstance(value, list):
            for sub in schemas:
                items = sub.get("items")
                if isinstance(items, dict):
                    for i, item in enumerate(value):
                        self._normalize(document, item, items, (*path, i), warnings)

    def _applicable(self, schema: Mapping[str, Any], value: Any) -> Iterator[Mapping[str, Any]]:
        """The subschemas that apply to `value`: $refs resolved, if/then/else and allOf followed."""
        schema = self._resolve(schema)
        yield schema
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in schema.get(key, []):
                yield from self._applicable(sub, value)
        if "if" in schema:
            holds = self.validator.evolve(schema=schema["if"]).is_valid(value)
            branch = "then" if holds else "else"
            if branch in schema:
                yield from self._applicable(schema[branch], value)

    def _resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = 0
        while "$ref" in schema and seen < 20:
            ref = str(schema["$ref"])
            resolved: Any = self.schema
            for part in ref.removeprefix("#/").split("/"):
                resolved = resolved[part]
            schema = resolved
            seen += 1
        return schema

    # -- errors ---------------------------------------------------------------------------

    def problems(self, document: SourceDocument, *, limit: int | None = None) -> list[Problem]:
        """Every problem, or the first `limit` errors' (a hostile document can have millions)."""
        out: list[Problem] = []
        for error in itertools.islice(self.validator.iter_errors(document.data), limit):
            out.extend(self._explain(document, error))
        return out

    def _explain(
        self, document: SourceDocument, error: ValidationError, *, nested: bool = False
    ) -> list[Problem]:
        path: JSONPath = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = sorted(_schema(error).get("properties", {}))
            extra = [k for k in error.instance if k not in allowed]
            return [
                document.problem((*path, key), _unknown_field(key, allowed, path))
                for key in extra
                if not _matches_pattern(key, _schema(error))
            ]
        if error.validator == "enum" and path and path[-1] == "task" and self.known_tasks:
            return [document.problem(path, _unknown_task(error.instance, self.known_tasks))]
        if error.validator in ("oneOf", "anyOf") and _is_task(path, error):
            return [
                document.problem(
                    path,
                    "a task has either 'task:' (inputs under 'with:') or 'run:' (a script), "
                    "not both and not neither",
                )
            ]
        custom = _schema(error).get("errorMessage", {})
        if isinstance(custom, dict) and error.validator in custom:
            return [document.problem(path, str(custom[error.validator]))]
        if error.validator in ("oneOf", "anyOf") and error.context:
            # A branch that fails only on its type (or constant) is the wrong branch,
            # not the user's mistake: explain the closest branch of the right kind.
            same_level = ("type", "const", "enum")
            relevant = [
                e for e in error.context if not (e.validator in same_level and not e.relative_path)
            ] or list(error.context)
            best = best_match(relevant)
            others = len(error.context) - 1
            problem = self._explain(document, best, nested=True)
            if others and problem and not nested:
                first = problem[0]
                more = f" ({others} other alternative{'s' if others > 1 else ''} also failed)"
                problem[0] = Problem(first.file, first.line, first.path, first.message + more)
            return problem
        return [document.problem(path, _message(error))]


def _move_lines(document: SourceDocument, old: JSONPath, new: JSONPath) -> None:
    for key in [k for k in document.lines if k[: len(old)] == old]:
        document.lines[(*new, *key[len(old) :])] = document.lines.pop(key)


def _matches_pattern(key: str, schema: Mapping[str, Any]) -> bool:
    return any(re.search(p, key) for p in schema.get("patternProperties", {}))


def _is_task(path: JSONPath, error: ValidationError) -> bool:
    return isinstance(error.instance, dict) and (
        "task" in _schema(error).get("properties", {}) or "run" in error.instance
    )


def _unknown_field(key: str, allowed: list[str], path: JSONPath) -> str:
    where = ""
    if len(path) >= 2 and path[-1] == "with":
        where = " of this task"
    message = f"unknown field {key!r}{where}"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6) or [
        a for a in allowed if a.lower() == key.lower()
    ]
    if close:
        return f"{message}; did you mean {close[0]!r}?"
    return f"{message}; known fields: {', '.join(allowed)}"


def _unknown_task(name: Any, known: list[str]) -> str:
    from iter8_action.aliases import LEGACY_TASK_NAMES
    from iter8_action.tasks import suggest

    message = f"unknown task {name!r}"
    close = suggest(str(name), known) if isinstance(name, str) else None
    if close:
        message += f"; did you mean {close!r}?"
    current = [n for n in known if n not in LEGACY_TASK_NAMES and n != "run"]
    return f"{message} (tasks: {', '.join(current)}; or run: for a script)"


def _message(error: ValidationError) -> str:
    validator = error.validator
    schema = _schema(error)
    if validator == "type":
        wanted = schema.get("type")
        names = [wanted] if isinstance(wanted, str) else list(wanted or [])
        expected = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        return f"expected {expected}, found {describe_value(error.instance)}"
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{missing!r} is required"
    if validator == "pattern" and "duration" in str(schema.get("description", "")).lower():
        return f"{error.instance!r} is not a duration; write it like 500ms, 10s or 1m30s"
    if validator == "enum":
        allowed = ", ".join(repr(v) for v in schema.get("enum", []))
        return f"{error.instance!r} is not one of {allowed}"
    if validator == "minItems" and error.instance == []:
        return "the list is empty; it needs at least one entry"
    if validator == "minLength" and error.instance == "":
        return "the value is empty"
    return error.message


def _schema(error: ValidationError) -> Mapping[str, Any]:
    return error.schema if isinstance(error.schema, Mapping) else {}


def describe_value(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    kind = {int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a map"}
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{text} ({kind.get(type(value), type(value).__name__)})"
