"""Validating a document against a JSON Schema, reporting every error at its line.

Errors follow check-jsonschema's lead: all of them, each at `FILE:LINE: PATH`,
the best match for `oneOf`/`anyOf` with a count of the rest, and messages
rewritten where jsonschema's own would puzzle a user (unknown fields get a
"did you mean", unknown tasks the list of known ones).

Beyond the schema: NaN and the infinities (which JSON Schema's bounds let
through) are rejected wherever they appear, and the custom formats below parse
URLs and durations as the tasks will, so that a value that validates also runs.

Iter8 read YAML through Go's JSON decoding, which matched field names
case-insensitively. `normalize_case` accepts such case variants of known
fields, renaming them to the canonical spelling with a warning, before the
schema (which is strict) sees them.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from iter8_action.core import durations
from iter8_action.core.errors import Problem
from iter8_action.core.sizes import message_size
from iter8_action.documents import finite
from iter8_action.documents.source import JSONPath, SourceDocument, format_path

MAX_DURATION_S = 24 * 3600.0
"""The longest duration accepted anywhere (longer than any CI job may run)."""

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
        legacy_tasks: Collection[str] = (),
        validator_class: type[Any] = jsonschema.Draft202012Validator,
    ) -> None:
        self.schema = schema
        self.validator = validator_class(schema, format_checker=FORMATS)
        self.known_tasks = known_tasks or []
        self.legacy_tasks = frozenset(legacy_tasks)
        """Old names among `known_tasks`, left out of the list an unknown task's message offers."""

    # -- case variants ----------------------------------------------------------------

    def normalize_case(self, document: SourceDocument) -> list[str]:
        """Rename case variants of known fields in place; return the warnings.

        Fields the schema marks `deprecated` (accepted so that Iter8's files
        validate, without effect here) get a warning too, with the reason.
        """
        warnings: list[str] = []
        self._normalize(document, document.data, self.schema, (), warnings)
        return list(dict.fromkeys(warnings))

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
            for key in value:
                prop = known.get(key)
                if isinstance(prop, Mapping) and prop.get("deprecated"):
                    reason = str(prop.get("description") or "it has no effect here")
                    warnings.append(str(document.problem((*path, key), reason)))
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
        # NaN passes every bound (each comparison with it is false), and the
        # schema's complaint about an infinity would only repeat this one.
        odd = dict(finite.non_finite(document.data))
        for path, value in odd.items():
            out.append(
                document.problem(path, f"found {finite.spelled(value)}; write a finite number")
            )
        # A lone surrogate (YAML's "\ud800" escape) is not a character: no result file,
        # log line or report could be written with it.
        for path, escape in finite.lone_surrogates(document.data):
            out.append(
                document.problem(
                    path,
                    f"the text holds a lone surrogate ({escape}), which is not a character; "
                    "remove the escape or write the character it was meant to be",
                )
            )
        errors = (
            e
            for e in self.validator.iter_errors(document.data)
            if tuple(e.absolute_path) not in odd
        )
        for error in itertools.islice(errors, limit):
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
            return [
                document.problem(
                    path, _unknown_task(error.instance, self.known_tasks, self.legacy_tasks)
                )
            ]
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
            text = str(custom[error.validator]).replace("{value}", repr(error.instance))
            return [document.problem(path, text)]
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
    close = nearest(key, allowed)
    if close:
        return f"{message}; did you mean {close!r}?"
    return f"{message}; known fields: {', '.join(allowed)}"


def nearest(key: str, known: list[str]) -> str | None:
    """The known name fewest edits away from `key` (ties: the most similar), if close.

    Edit distance over every known name, so that `connect-timeeout` finds
    `connect-timeout` (one edit) rather than a name that merely shares a prefix.
    """
    lowered = key.lower()
    most = max(2, len(key) // 3)
    # a length difference is a lower bound of the distance: skip the hopeless
    # (and so never spend quadratic time on a hostile, very long key)
    near = [name for name in known if abs(len(name) - len(key)) <= most]

    def rank(name: str) -> tuple[int, float]:
        similarity = difflib.SequenceMatcher(None, lowered, name.lower()).ratio()
        return edit_distance(lowered, name.lower()), -similarity

    best = min(near, key=rank) if near else None
    if best is not None and edit_distance(lowered, best.lower()) <= most:
        return best
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return close[0] if close else None


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance with transpositions (optimal string alignment)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (ca != cb),
            )
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def suggest(name: str, candidates: list[str]) -> str | None:
    """The nearest candidate to a mistyped name, if one is close."""
    matches = difflib.get_close_matches(name.lower(), candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None


def _unknown_task(name: Any, known: list[str], legacy: frozenset[str]) -> str:
    message = f"unknown task {name!r}"
    close = suggest(str(name), known) if isinstance(name, str) else None
    if close:
        message += f"; did you mean {close!r}?"
    current = [n for n in known if n not in legacy and n != "run"]
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
    if validator == "pattern" and "size" in str(schema.get("description", "")).lower():
        return f"{error.instance!r} is not a size above 0; write it like 10MiB, 512KiB or 1048576"
    if validator == "enum":
        allowed = ", ".join(repr(v) for v in schema.get("enum", []))
        return f"{error.instance!r} is not one of {allowed}"
    if validator == "minItems" and error.instance == []:
        return "the list is empty; it needs at least one entry"
    if validator == "minLength" and error.instance == "":
        return "the value is empty"
    if validator == "maxLength" and isinstance(error.instance, str):
        return (
            f"the text is {len(error.instance)} characters long, more than the "
            f"{schema.get('maxLength')} allowed"
        )
    if validator == "format" and error.cause is not None:
        return str(error.cause)
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


# -- custom formats: values parsed at validation as the tasks will parse them ---------------

FORMATS = jsonschema.FormatChecker(formats=())


class _Invalid(ValueError):
    """A value that a custom format rejects; its text is the whole message."""


@FORMATS.checks("http-url", raises=_Invalid)
def _http_url(value: object) -> bool:
    if isinstance(value, str):
        _check_url(value)
    return True


@FORMATS.checks("http-url-or-path", raises=_Invalid)
def _http_url_or_path(value: object) -> bool:
    if isinstance(value, str) and not value.startswith("/"):
        _check_url(value, path_allowed=True)
    return True


def _check_url(value: str, *, path_allowed: bool = False) -> None:
    # The value itself stays out of the message: URLs carry credentials and
    # webhook secrets, and the message already names the file, line and field.
    example = "http://host:port/path" + (", or a path like /login" if path_allowed else "")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        raise _Invalid(f"the URL has spaces or control characters; write it like {example}")
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        why = "its [IPv6 address] is malformed" if "IPv6" in str(exc) else "it does not parse"
        raise _Invalid(f"not a valid URL: {why}; write it like {example}") from exc
    try:
        port = parts.port
    except ValueError as exc:
        raise _Invalid("the URL's port is not a number from 1 to 65535") from exc
    if parts.scheme not in ("http", "https"):
        scheme = f"'{parts.scheme[:20]}://'" if parts.scheme else "no scheme"
        raise _Invalid(f"the URL has {scheme}; write an http:// or https:// URL like {example}")
    if not parts.hostname:
        raise _Invalid(f"the URL has no host; write it like {example}")
    if port == 0:
        raise _Invalid("the URL's port is 0; give a port from 1 to 65535")


@FORMATS.checks("go-duration", raises=_Invalid)
def _go_duration(value: object) -> bool:
    if isinstance(value, str):
        try:
            seconds = durations.parse_duration(value)
        except durations.DurationError:
            return True  # the schema's pattern explains what a duration looks like
        if seconds > MAX_DURATION_S:
            limit = durations.format_duration(MAX_DURATION_S)
            raise _Invalid(f"{value!r} is longer than {limit}, the longest duration accepted")
    return True


@FORMATS.checks("message-size", raises=_Invalid)
def _message_size(value: object) -> bool:
    if isinstance(value, str):
        try:
            message_size(value)
        except ValueError as exc:
            raise _Invalid(str(exc)) from exc
    return True
