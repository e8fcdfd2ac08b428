"""The result file: the canonical experiment plus its `result`, replaced atomically.

It is rewritten after every task, so a run that is interrupted, or crashes in a
later task, leaves a valid file describing what finished. Every registered
secret is redacted in the data before it is serialised (never in the YAML or
JSON text, where a placeholder could change what the file means). The file
gets the mode the umask gives, as any file the user writes, so that later
steps of a job (which may run as another user than a Docker action) can read it.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from iter8_action.core.errors import ExperimentInvalid, InputError, Problem
from iter8_action.core.secrets import SECRETS
from iter8_action.documents import finite
from iter8_action.documents.schemas import load_schema
from iter8_action.documents.source import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    JSONPath,
    SourceDocument,
    line_map,
)
from iter8_action.documents.validation import SchemaValidator
from iter8_action.experiment.model import Experiment
from iter8_action.metrics.store import MetricStore
from iter8_action.results.model import Result

RESULT_SCHEMA = "result.schema.json"

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Multi-line strings (script output) as literal blocks, readable in the file."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def result_document(experiment: Experiment, result: Result) -> dict[str, Any]:
    return {**experiment.to_document(), "result": result.to_dict()}


def dumps(document: dict[str, Any], path: Path) -> str:
    """The document as JSON for a `.json` path, YAML otherwise."""
    if path.suffix.lower() == ".json":
        return finite.dumps(document, what=str(path), indent=2, sort_keys=False) + "\n"
    text: str = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    return text


def write_result(path: Path, experiment: Experiment, result: Result) -> None:
    """Write the result, secrets redacted, replacing `path` atomically."""
    document = SECRETS.redact_data(result_document(experiment, result))
    write_atomic(path, dumps(document, path))


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` atomically (write a sibling temp file, fsync, rename).

    The temp file is created with mode 0666 and the process's umask applied, as
    `open()` would create `path` itself; `tempfile.mkstemp` would make it 0600.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_output_path(path: Path, what: str, *, fix: str) -> None:
    """`InputError` naming `path` when `what` (a result, a report) cannot be written there.

    Checked before a run, so that a long load test is not lost to a path that was
    never writable: a directory where the file should be, or a file where a parent
    directory should be.
    """
    problem = None
    if path.is_dir():
        problem = "it is a directory"
    else:
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            problem = f"{parent} is a file, not a directory"
        elif parent is not None and not os.access(parent, os.W_OK | os.X_OK):
            problem = f"{parent} is not writable"
    if problem is not None:
        raise InputError(f"{path}: cannot write {what} there: {problem}. Fix: {fix}.")


MAX_RESULT_NODES = 2_000_000
"""Values a result file may hold, counting each use of a YAML alias (`*name`) anew."""
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
MAX_RESULT_PROBLEMS = 20
"""Problems reported of one result file; a hostile one can have millions."""


class _ResultLoader(_Loader):  # type: ignore[misc,valid-type]
    """Timestamps stay text, as in Iter8's Go decoding (and as `documents.source` keeps them)."""


_ResultLoader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda loader, node: loader.construct_scalar(node),
)


def read_result_document(path: str | Path) -> dict[str, Any]:
    """Read a result file written by `iter8 run` (or by Iter8), checked against
    `schemas/result.schema.json` before anything reads it.

    `InputError` (exit 2) if it is not one; `ExperimentInvalid` with each problem
    at its file, line and path if it breaks the schema or its bounds.
    """
    p = Path(path)
    text = _read_text(p)
    document = _parse(p, text)
    if not isinstance(document, dict) or not isinstance(document.get("result"), dict):
        raise InputError(
            f"{p}: not a result file (no 'result:' section); is this the experiment itself?"
        )
    source = SourceDocument(document, str(p))
    problems = _problems(source)
    if problems:
        # Lines are looked up only for a file with problems: composing costs more than loading.
        # YAML refuses the escape of a lone surrogate that JSON allows; for lines, any will do.
        mappable = _SURROGATE_ESCAPE.sub(r"\\ufffd", text)
        source.lines = line_map(mappable, max_nodes=MAX_RESULT_NODES)
        raise ExperimentInvalid(_problems(source))
    return document


def read_result(path: str | Path) -> Result:
    document = read_result_document(path)
    spec = document.get("spec")
    return Result.from_dict(document["result"], spec=spec if isinstance(spec, list) else ())


def _read_text(p: Path) -> str:
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(
                f"{p}: the result file is {size / 1e6:.1f} MB, more than the "
                f"{MAX_FILE_BYTES // 2**20} MiB a result file may have; is this the right file?"
            )
        raw = p.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(
            f"{p}: no such result file; run an experiment first (iter8 run -f experiment.yaml) "
            "or name the file with -f"
        ) from exc
    except OSError as exc:
        raise InputError(f"{p}: cannot read the result file: {exc.strerror or exc}") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{p}:{line}: the result file is not UTF-8 text (byte 0x{raw[exc.start]:02x})"
        ) from exc


def _parse(p: Path, text: str) -> Any:
    try:
        if p.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.load(text, _ResultLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f":{mark.line + 1}" if mark else ""
        raise InputError(
            f"{p}{where}: not a result file (it does not parse: {exc.problem or exc})"
        ) from exc
    except (ValueError, yaml.YAMLError) as exc:
        raise InputError(f"{p}: not a result file (it does not parse: {exc})") from exc
    except RecursionError as exc:
        raise InputError(f"{p}: not a result file (it is nested too deeply)") from exc


def _problems(source: SourceDocument) -> list[Problem]:
    """What is wrong with a result document: values no JSON Schema can rule out
    (non-finite numbers, lone surrogates, aliases that expand without end), then the
    schema's verdict."""
    problems = _value_problems(source)
    if problems:
        return problems
    validator = SchemaValidator(load_schema(RESULT_SCHEMA), validator_class=_ResultValidator)
    problems = validator.problems(source, limit=MAX_RESULT_PROBLEMS)
    return (problems or _version_problems(source))[:MAX_RESULT_PROBLEMS]


_NUMBER = {"$ref": "#/$defs/number"}
_COUNT = {"$ref": "#/$defs/count"}
_MAX_COUNT = 10**15


def _fast_items(validator: Any, items: Any, instance: Any, schema: Mapping[str, Any]) -> Any:
    """JSON Schema's `items`, with the same verdicts and messages, but a list of a million
    numbers checked in a loop rather than a million subschema evaluations (the walk before
    the schema has ruled out non-finite numbers)."""
    if items == _NUMBER and isinstance(instance, list) and not schema.get("prefixItems"):
        for index, item in enumerate(instance):
            if not isinstance(item, int | float) or isinstance(item, bool):
                yield from validator.descend(instance=item, schema=items, path=index)
        return
    if items == _COUNT and isinstance(instance, list) and not schema.get("prefixItems"):
        for index, item in enumerate(instance):
            whole = isinstance(item, int) or (isinstance(item, float) and item.is_integer())
            if isinstance(item, bool) or not whole or not 0 <= item <= _MAX_COUNT:
                yield from validator.descend(instance=item, schema=items, path=index)
        return
    yield from _DRAFT.VALIDATORS["items"](validator, items, instance, schema)


_DRAFT = jsonschema.Draft202012Validator
_ResultValidator = jsonschema.validators.extend(_DRAFT, {"items": _fast_items})  # type: ignore[no-untyped-call]


def _version_problems(source: SourceDocument) -> list[Problem]:
    """Versions named by index that the result does not have (a schema cannot compare
    one field with another)."""
    insights = source.data["result"].get("insights") or {}
    assessment = insights.get("assessment") or {}
    count = MetricStore.from_insights(insights).num_versions
    base: JSONPath = ("result", "insights", "assessment")
    found: list[tuple[JSONPath, Any]] = [
        ((*base, "baseline"), assessment.get("baseline")),
        ((*base, "winner", "version"), (assessment.get("winner") or {}).get("version")),
    ]
    for i, slo in enumerate(assessment.get("slos") or []):
        found += [((*base, "slos", i, "appliesTo", j), v) for j, v in _items(slo, "appliesTo")]
        for j, status in enumerate(slo.get("versions") or []):
            test = status.get("test") or {}
            path = (*base, "slos", i, "versions", j, "test")
            found += [((*path, key), test.get(key)) for key in ("version", "baseline")]
    for i, reward in enumerate(assessment.get("rewards") or []):
        path = (*base, "rewards", i)
        found.append(((*path, "winner"), reward.get("winner")))
        found += [((*path, "tied", j), v) for j, v in _items(reward, "tied")]
        for j, comparison in enumerate(reward.get("comparisons") or []):
            found += [
                ((*path, "comparisons", j, key), comparison.get(key))
                for key in ("version", "baseline")
            ]
    return [
        source.problem(
            path,
            f"there is no version {index}: the result has {count} "
            f"(numbered from 0; see numVersions and versionNames)",
        )
        for path, index in found
        if isinstance(index, int) and index >= count
    ]


def _items(entry: Any, key: str) -> list[tuple[int, Any]]:
    return list(enumerate(entry.get(key) or []))


def _value_problems(source: SourceDocument) -> list[Problem]:
    """Walked without recursion; a path is built only for containers and problems, so the
    values of a long list cost one check each."""
    problems: list[Problem] = []
    root = source.data
    stack: list[tuple[Any, JSONPath]] = [(root, ())]
    seen: set[int] = {id(root)}
    count = 0
    while stack and len(problems) < MAX_RESULT_PROBLEMS:
        container, path = stack.pop()
        if len(path) > MAX_DEPTH:
            problems.append(source.problem(path, f"nested more than {MAX_DEPTH} levels deep"))
            continue
        is_map = isinstance(container, dict)
        message: str | None
        count += len(container)
        if count > MAX_RESULT_NODES:
            message = (
                f"the file expands to more than {MAX_RESULT_NODES} values (aliases that "
                "repeat anchors many times over?)"
            )
            problems.append(Problem(source.name, source.line_of(()), "", message))
            break
        for key, item in container.items() if is_map else enumerate(container):
            if is_map and (message := _key_problem(key)):
                problems.append(source.problem(path, message))
            elif isinstance(item, dict | list):
                if id(item) in seen and _is_ancestor(root, (*path, key), item):
                    problems.append(
                        source.problem((*path, key), "an alias refers to its own anchor")
                    )
                    continue
                seen.add(id(item))
                stack.append((item, (*path, key)))
            elif message := _value_problem(item):
                problems.append(source.problem((*path, key), message))
    return problems


def _is_ancestor(root: Any, path: JSONPath, value: Any) -> bool:
    node = root
    if node is value and path:
        return True
    for part in path[:-1]:
        node = node[part]
        if node is value:
            return True
    return False


def _value_problem(value: Any) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a finite number"
    if isinstance(value, str):
        return _text_problem(value)
    if not isinstance(value, int | float | bool | type(None)):
        return f"a {type(value).__name__} value is not allowed in a result file"
    return None


def _key_problem(key: Any) -> str | None:
    if not isinstance(key, str):
        return f"the key {key!r} is not text; quote it"
    return _text_problem(key)


def _text_problem(text: str) -> str | None:
    try:
        text.encode("utf-8")  # fails exactly on a lone surrogate, at C speed
    except UnicodeEncodeError as exc:
        code = f"\\u{ord(text[exc.start]):04x}"
        return f"the text holds a lone surrogate ({code}), which is not a character"
    return None
