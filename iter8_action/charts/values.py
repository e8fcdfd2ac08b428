"""Chart values as Helm builds them: values files, then `--set`, `--set-string`, `--set-file`.

`parse_set` follows Helm's `strvals` parser (helm.sh/docs/intro/using_helm, "The
Format and Limitations of --set"): `a.b=c` nests, `a={x,y}` is a list, `a[0]=x`
and `a[0].b=x` index lists, `\\,` and `\\.` escape, several pairs are separated by
commas, and values are typed as Helm types them (`true`/`false`, `null`, integers
without a leading zero; everything else, floats included, stays a string).
`--set-string` keeps every value a string. Merging is deep; a later source wins,
and `null` deletes a key (as `helm --set key=null` does).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from iter8_action.core.errors import InputError

MAX_LIST_INDEX = 65536
"""Helm's own bound on `name[N]=x` indexes."""
MAX_VALUES_FILE_BYTES = 4 * 2**20


class SetError(InputError):
    """A `--set` expression that Helm's rules cannot read."""


def typed(text: str) -> Any:
    """Helm's typedVal: bools, null and integers (not `0123`); anything else stays a string."""
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    if lowered == "null":
        return None
    if text == "0":
        return 0
    if text and text[0] != "0":
        body = text[1:] if text[0] in "+-" else text
        if body.isdigit() and body.isascii():
            value = int(text)
            if -(2**63) <= value < 2**63:
                return value
    return text


_NO_VALUE: Any = object()


class _Scanner:
    def __init__(self, text: str, flag: str, as_string: bool, fixed: Any = _NO_VALUE) -> None:
        self.text = text
        self.pos = 0
        self.flag = flag
        self.as_string = as_string
        self.fixed = fixed
        """The value of every key (`--set-file`: the file's text), instead of parsing one."""

    def error(self, message: str) -> SetError:
        return SetError(f"{self.flag} {self.text!r}: {message}")

    def until(self, stops: str) -> tuple[str, str]:
        """Characters up to one of `stops` (backslash escapes any), and that stop ('' at end)."""
        out: list[str] = []
        while self.pos < len(self.text):
            c = self.text[self.pos]
            self.pos += 1
            if c == "\\" and self.pos < len(self.text):
                out.append(self.text[self.pos])
                self.pos += 1
                continue
            if c in stops:
                return "".join(out), c
            out.append(c)
        return "".join(out), ""

    def value(self) -> Any:
        if self.fixed is not _NO_VALUE:
            self.pos = len(self.text)
            return self.fixed, ""
        if self.text.startswith("{", self.pos):
            self.pos += 1
            items: list[Any] = []
            while True:
                text, stop = self.until(",}")
                if stop == "":
                    raise self.error("a list value {a,b} is missing its closing }")
                items.append(self.typed(text))
                if stop == "}":
                    break
            if items == [""]:
                items = []
            rest, stop = self.until(",")
            if rest:
                raise self.error(f"unexpected {rest!r} after a list value")
            return items, stop
        text, stop = self.until(",")
        return self.typed(text), stop

    def typed(self, text: str) -> Any:
        return text if self.as_string else typed(text)

    def pairs(self, target: dict[str, Any]) -> None:
        while self.pos < len(self.text):
            self.key(target)

    def key(self, data: dict[str, Any]) -> None:
        name, stop = self.until("=[,.")
        if stop == "":
            if name:
                raise self.error(f"key {name!r} has no value")
            return
        if stop == ",":
            raise self.error(f"key {name!r} has no value (a comma ends it)")
        if not name:
            raise self.error("a key is empty")
        if stop == "=":
            value, _ = self.value()
            data[name] = value
        elif stop == ".":
            inner = data.get(name)
            if not isinstance(inner, dict):
                inner = {}
                data[name] = inner
            self.key(inner)
        else:
            current = data.get(name)
            data[name] = self.index(current if isinstance(current, list) else [])

    def index(self, items: list[Any]) -> list[Any]:
        text, stop = self.until("]")
        if stop != "]" or not text.isdigit():
            raise self.error(f"bad list index [{text}")
        i = int(text)
        if i > MAX_LIST_INDEX:
            raise self.error(f"list index {i} is larger than {MAX_LIST_INDEX}")
        while len(items) <= i:
            items.append(None)
        nxt = self.text[self.pos : self.pos + 1]
        self.pos += 1
        if nxt == "=":
            items[i], _ = self.value()
        elif nxt == ".":
            inner = items[i] if isinstance(items[i], dict) else {}
            items[i] = inner
            self.key(inner)
        elif nxt == "[":
            items[i] = self.index(items[i] if isinstance(items[i], list) else [])
        else:
            raise self.error(f"expected =, . or [ after [{i}]")
        return items


def parse_set(
    text: str, target: dict[str, Any], *, flag: str = "--set", strings: bool = False
) -> None:
    """Apply one `--set` (or `--set-string`) argument to `target`."""
    _Scanner(text, flag, strings).pairs(target)


def parse_set_file(text: str, target: dict[str, Any], *, base: Path) -> None:
    """`--set-file key=path`: the key's value is the file's text."""
    key, sep, path_text = text.partition("=")
    if not sep or not key:
        raise SetError(f"--set-file {text!r}: write KEY=PATH")
    path = base / path_text
    try:
        if path.stat().st_size > MAX_VALUES_FILE_BYTES:
            raise SetError(
                f"--set-file {text!r}: {path} is larger than {MAX_VALUES_FILE_BYTES} bytes"
            )
        content = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SetError(f"--set-file {text!r}: cannot read {path}: {exc.strerror or exc}") from exc
    holder: dict[str, Any] = {}
    _Scanner(key + "=", "--set-file", True, fixed=content).pairs(holder)
    _merge_keep_null(target, holder)


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _values_text(path: Path | str) -> str:
    if isinstance(path, str) and is_url(path):
        from iter8_action.charts.repo import download

        return download(path, MAX_VALUES_FILE_BYTES, "values file").decode("utf-8", "replace")
    path = Path(path)
    if path.stat().st_size > MAX_VALUES_FILE_BYTES:
        raise InputError(f"{path}: values file larger than {MAX_VALUES_FILE_BYTES} bytes")
    return path.read_text(encoding="utf-8")


def read_values_file(path: Path | str) -> dict[str, Any]:
    """A `-f` values file (a path, or an http(s) URL as Iter8 allowed): a YAML map."""
    try:
        data = yaml.safe_load(_values_text(path))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the values file: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or exc
        raise InputError(f"{where}: the values file is not YAML: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"{path}: a values file holds a map of keys, not a {type(data).__name__}")
    return data


def merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge `override` into `base` (in place): maps merge, anything else replaces;
    a null in `override` deletes the key."""
    for key, value in override.items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def build_values(
    defaults: Mapping[str, Any],
    *,
    files: Sequence[Path | str] = (),
    sets: Sequence[str] = (),
    set_strings: Sequence[str] = (),
    set_files: Sequence[str] = (),
    base: Path = Path(),
) -> dict[str, Any]:
    """The chart's values with the user's over them, in Helm's order."""
    user: dict[str, Any] = {}
    for path in files:
        _merge_keep_null(user, read_values_file(path))
    for text in sets:
        parsed: dict[str, Any] = {}
        parse_set(text, parsed)
        _merge_keep_null(user, parsed)
    for text in set_strings:
        parsed = {}
        parse_set(text, parsed, flag="--set-string", strings=True)
        _merge_keep_null(user, parsed)
    for text in set_files:
        parse_set_file(text, user, base=base)
    return merge(copy.deepcopy(dict(defaults)), user)


def _merge_keep_null(base: dict[str, Any], override: Mapping[str, Any]) -> None:
    """Merge user sources with each other, keeping nulls to delete chart defaults at the end."""
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge_keep_null(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
