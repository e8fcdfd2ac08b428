"""The result file: the canonical experiment plus its `result`, replaced atomically.

It is rewritten after every task, so a run that is interrupted, or crashes in a
later task, leaves a valid file describing what finished. Secrets that reached
it by mistake are redacted on the way out.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from iter8_action.errors import InputError
from iter8_action.model import Experiment
from iter8_action.result import Result
from iter8_action.secrets import SECRETS

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
        return json.dumps(document, indent=2, sort_keys=False) + "\n"
    text: str = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    return text


def write_result(path: Path, experiment: Experiment, result: Result) -> None:
    """Replace `path` atomically (write a sibling temp file, fsync, rename)."""
    text = SECRETS.redact(dumps(result_document(experiment, result), path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
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


def read_result_document(path: str | Path) -> dict[str, Any]:
    """Read a result file written by `iter8 run`; `InputError` if it is not one."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            f"{p}: no such result file; run an experiment first (iter8 run -f experiment.yaml) "
            "or name the file with -f"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read the result file: {exc}") from None
    try:
        document = json.loads(text) if p.suffix.lower() == ".json" else yaml.load(text, _Loader)
    except (ValueError, yaml.YAMLError) as exc:
        raise InputError(f"{p}: not a result file (it does not parse: {exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("result"), dict):
        raise InputError(
            f"{p}: not a result file (no 'result:' section); is this the experiment itself?"
        )
    return document


def read_result(path: str | Path) -> Result:
    document = read_result_document(path)
    spec = document.get("spec")
    return Result.from_dict(document["result"], spec=spec if isinstance(spec, list) else ())
