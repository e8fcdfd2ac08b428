"""The functions a template may call: Go's built-ins, Sprig's and Helm's.

Each follows its documentation (pkg.go.dev/text/template "Functions",
masterminds.github.io/sprig, helm.sh "Template Function List"), with Sprig's
argument order (`default DEFAULT GIVEN`, `trimSuffix SUFFIX STRING`, pipelines
pass the last argument). `include` and `tpl` need the executor and live there.

Numbers keep YAML's int/float distinction (Helm turns every number into float64,
which prints 1000000 as `1e+06`); comparisons and arithmetic accept both.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

import yaml

from iter8_action.templates.gotemplate import gofmt
from iter8_action.templates.gotemplate.execute import FuncError, Struct, truth

MAX_COLLECTION = 100_000
"""Largest list `until`/`repeat`-style functions may build (values are user data)."""
MAX_PARSE_CHARS = 4 * 2**20
"""Largest text `fromYaml`/`fromJson` read."""


# ------------------------------------------------------------ helpers


def _is_num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _str(value: Any, fn: str) -> str:
    if isinstance(value, str):
        return value
    raise FuncError(f"{fn}: expected string; got {gofmt.type_name(value)}")


def _int(value: Any, fn: str) -> int:
    if _is_num(value):
        return int(value)
    raise FuncError(f"{fn}: expected int; got {gofmt.type_name(value)}")


def _list(value: Any, fn: str) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    raise FuncError(f"{fn}: cannot use {gofmt.type_name(value)} as a list")


def _dict(value: Any, fn: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise FuncError(f"{fn}: cannot use {gofmt.type_name(value)} as a dict")


def strval(value: Any) -> str:
    """Sprig's strval: strings as they are, anything else as Go's `%v`."""
    return value if isinstance(value, str) else gofmt.value_string(value)


def empty(value: Any) -> bool:
    """Sprig's `empty`: nil, false, 0, "" and empty collections."""
    return not truth(value)


def _plain(value: Any) -> Any:
    """A value as JSON/YAML data (times as RFC 3339 strings, structs as maps)."""
    if isinstance(value, datetime):
        return gofmt.rfc3339(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# ------------------------------------------------------------ Go built-ins


def _index(item: Any, *keys: Any) -> Any:
    for key in keys:
        if item is None:
            raise FuncError("index of untyped nil")
        if isinstance(item, Mapping):
            item = item.get(key)
        elif isinstance(item, (list, tuple, str)):
            if not _is_num(key):
                raise FuncError(f"cannot index slice/array with type {gofmt.type_name(key)}")
            if not 0 <= int(key) < len(item):
                raise FuncError(f"index out of range: {key}")
            item = item[int(key)]
        else:
            raise FuncError(f"can't index item of type {gofmt.type_name(item)}")
    return item


def _slice(item: Any, *idx: Any) -> Any:
    if not isinstance(item, (list, tuple, str)):
        raise FuncError(f"can't slice item of type {gofmt.type_name(item)}")
    bounds = [_int(i, "slice") for i in idx]
    if len(bounds) > 2:
        bounds = bounds[:2]
    start = bounds[0] if bounds else 0
    end = bounds[1] if len(bounds) > 1 else len(item)
    if not 0 <= start <= end <= len(item):
        raise FuncError(f"slice index out of range: {start}:{end}")
    return item[start:end]


def _len(item: Any) -> int:
    if isinstance(item, (str, list, tuple, dict)):
        return len(item)
    raise FuncError(f"len of type {gofmt.type_name(item)}")


def _not(value: Any) -> bool:
    return not truth(value)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if _is_num(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "nil"
    return "other"


def _eq(first: Any, *others: Any) -> bool:
    if not others:
        raise FuncError("missing argument for comparison")
    for other in others:
        k1, k2 = _kind(first), _kind(other)
        if k1 != k2:
            if k1 != "nil" and k2 != "nil":
                raise FuncError(
                    f"incompatible types for comparison: {gofmt.type_name(first)} "
                    f"and {gofmt.type_name(other)}"
                )
            continue
        if k1 == "other" and not isinstance(first, datetime):
            raise FuncError(f"non-comparable type {gofmt.type_name(first)}")
        if first == other:
            return True
    return False


def _ne(a: Any, b: Any) -> bool:
    return not _eq(a, b)


def _lt(a: Any, b: Any) -> bool:
    k1, k2 = _kind(a), _kind(b)
    if k1 != k2:
        raise FuncError(
            f"incompatible types for comparison: {gofmt.type_name(a)} and {gofmt.type_name(b)}"
        )
    if k1 not in ("number", "string"):
        raise FuncError(f"invalid type for comparison: {gofmt.type_name(a)}")
    return bool(a < b)


def _le(a: Any, b: Any) -> bool:
    return _lt(a, b) or _eq(a, b)


def _gt(a: Any, b: Any) -> bool:
    return not _le(a, b)


def _ge(a: Any, b: Any) -> bool:
    return not _lt(a, b)


def _html(*args: Any) -> str:
    text = gofmt.sprint(*args)
    for old, new in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&#34;"), ("'", "&#39;")):
        text = text.replace(old, new)
    return text


def _js(*args: Any) -> str:
    text = gofmt.sprint(*args)
    out = []
    for ch in text:
        if ch in "\\'\"<>&=":
            out.append(f"\\u{ord(ch):04X}" if ch in "<>&=" else "\\" + ch)
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


# ------------------------------------------------------------ Sprig: defaults and flow


def _default(default: Any, *given: Any) -> Any:
    if not given or empty(given[0]):
        return default
    return given[0]


def _coalesce(*values: Any) -> Any:
    for value in values:
        if not empty(value):
            return value
    return None


def _ternary(true_value: Any, false_value: Any, condition: Any) -> Any:
    return true_value if truth(condition) else false_value


def _fail(message: Any) -> Any:
    raise FuncError(strval(message))


def _required(message: Any, value: Any) -> Any:
    if value is None or value == "":
        raise FuncError(strval(message))
    return value


# ------------------------------------------------------------ Sprig: strings


def _quote(*values: Any) -> str:
    return " ".join(gofmt.quote(strval(v)) for v in values if v is not None)


def _squote(*values: Any) -> str:
    return " ".join(f"'{strval(v)}'" for v in values if v is not None)


def _indent(spaces: Any, text: Any) -> str:
    pad = " " * _int(spaces, "indent")
    return pad + _str(text, "indent").replace("\n", "\n" + pad)


def _nindent(spaces: Any, text: Any) -> str:
    return "\n" + _indent(spaces, text)


def _replace(old: Any, new: Any, text: Any) -> str:
    return _str(text, "replace").replace(_str(old, "replace"), _str(new, "replace"))


def _repeat(count: Any, text: Any) -> str:
    n, s = _int(count, "repeat"), _str(text, "repeat")
    if n * len(s) > MAX_COLLECTION * 10:
        raise FuncError(f"repeat would build {n * len(s)} characters")
    return s * max(n, 0)


def _substr(start: Any, end: Any, text: Any) -> str:
    s, a, b = _str(text, "substr"), _int(start, "substr"), _int(end, "substr")
    if a < 0:
        return s[:b] if 0 <= b <= len(s) else s
    if b < 0 or b > len(s):
        return s[a:]
    return s[a:b]


def _trunc(length: Any, text: Any) -> str:
    n, s = _int(length, "trunc"), _str(text, "trunc")
    return s[n:] if n < 0 else s[:n]


def _title(text: Any) -> str:
    return re.sub(r"(^|\s)(\S)", lambda m: m.group(1) + m.group(2).upper(), _str(text, "title"))


def _split(sep: Any, text: Any) -> dict[str, str]:
    return {f"_{i}": p for i, p in enumerate(_str(text, "split").split(_str(sep, "split")))}


def _split_list(sep: Any, text: Any) -> list[str]:
    return _str(text, "splitList").split(_str(sep, "splitList"))


def _join(sep: Any, values: Any) -> str:
    if isinstance(values, str):
        return values
    return _str(sep, "join").join(strval(v) for v in _list(values, "join") if v is not None)


def _cat(*values: Any) -> str:
    return " ".join(strval(v) for v in values if v is not None)


def _b64dec(text: Any) -> str:
    try:
        return base64.b64decode(_str(text, "b64dec"), validate=True).decode("utf-8", "replace")
    except ValueError as exc:
        return str(exc)


# ------------------------------------------------------------ Sprig: regular expressions
# Go's RE2 syntax and Python's `re` agree on what charts use; `$1`/`${name}` in a
# replacement are Go's expansion syntax, turned into Python's.


def _regex(pattern: Any, fn: str) -> re.Pattern[str]:
    try:
        return re.compile(_str(pattern, fn))
    except re.error as exc:
        raise FuncError(f"{fn}: bad regular expression {pattern!r}: {exc}") from exc


def _go_expand(repl: str) -> str:
    out = repl.replace("\\", "\\\\")
    out = re.sub(r"\$\{(\w+)\}", r"\\g<\1>", out)
    return re.sub(r"\$(\w+)", r"\\g<\1>", out).replace("$$", "$")


def _regex_replace_all(pattern: Any, text: Any, repl: Any) -> str:
    regex = _regex(pattern, "regexReplaceAll")
    try:
        return regex.sub(_go_expand(_str(repl, "regexReplaceAll")), _str(text, "regexReplaceAll"))
    except (re.error, IndexError) as exc:
        raise FuncError(f"regexReplaceAll: {exc}") from exc


def _regex_replace_all_literal(pattern: Any, text: Any, repl: Any) -> str:
    literal = _str(repl, "regexReplaceAllLiteral")
    regex = _regex(pattern, "regexReplaceAllLiteral")
    return regex.sub(lambda _m: literal, _str(text, "regexReplaceAllLiteral"))


def _regex_match(pattern: Any, text: Any) -> bool:
    return _regex(pattern, "regexMatch").search(_str(text, "regexMatch")) is not None


def _regex_find(pattern: Any, text: Any) -> str:
    match = _regex(pattern, "regexFind").search(_str(text, "regexFind"))
    return match.group(0) if match else ""


def _regex_find_all(pattern: Any, text: Any, n: Any) -> list[str]:
    found = [m.group(0) for m in _regex(pattern, "regexFindAll").finditer(_str(text, "x"))]
    limit = _int(n, "regexFindAll")
    return found if limit < 0 else found[:limit]


def _regex_split(pattern: Any, text: Any, n: Any) -> list[str]:
    limit = _int(n, "regexSplit")
    parts = _regex(pattern, "regexSplit").split(_str(text, "regexSplit"), max(limit - 1, 0))
    return parts if limit != 0 else []


# ------------------------------------------------------------ Sprig: lists and dicts


def _list_fn(*values: Any) -> list[Any]:
    return list(values)


def _append(values: Any, value: Any) -> list[Any]:
    return [*_list(values, "append"), value]


def _prepend(values: Any, value: Any) -> list[Any]:
    return [value, *_list(values, "prepend")]


def _concat(*lists: Any) -> list[Any]:
    return [v for lst in lists for v in _list(lst, "concat")]


def _first(values: Any) -> Any:
    items = _list(values, "first")
    return items[0] if items else None


def _last(values: Any) -> Any:
    items = _list(values, "last")
    return items[-1] if items else None


def _has(needle: Any, values: Any) -> bool:
    return values is not None and needle in _list(values, "has")


def _uniq(values: Any) -> list[Any]:
    out: list[Any] = []
    for v in _list(values, "uniq"):
        if v not in out:
            out.append(v)
    return out


def _until(count: Any) -> list[int]:
    n = _int(count, "until")
    if n > MAX_COLLECTION:
        raise FuncError(f"until {n}: more than {MAX_COLLECTION} items")
    return list(range(n)) if n >= 0 else list(range(0, n, -1))


def _dict_fn(*pairs: Any) -> dict[str, Any]:
    items = list(pairs)
    if len(items) % 2:
        items.append("")
    return {strval(items[i]): items[i + 1] for i in range(0, len(items), 2)}


def _get(mapping: Any, key: Any) -> Any:
    value = _dict(mapping, "get").get(_str(key, "get"), _MISSING_GET)
    return "" if value is _MISSING_GET else value


_MISSING_GET = object()


def _set(mapping: Any, key: Any, value: Any) -> dict[str, Any]:
    target = _dict(mapping, "set")
    target[_str(key, "set")] = value
    return target


def _unset(mapping: Any, key: Any) -> dict[str, Any]:
    target = _dict(mapping, "unset")
    target.pop(_str(key, "unset"), None)
    return target


def _has_key(mapping: Any, key: Any) -> bool:
    return _str(key, "hasKey") in _dict(mapping, "hasKey")


def _keys(*mappings: Any) -> list[str]:
    return [k for m in mappings for k in _dict(m, "keys")]


def _values(mapping: Any) -> list[Any]:
    return list(_dict(mapping, "values").values())


def _pluck(key: Any, *mappings: Any) -> list[Any]:
    return [m[key] for m in mappings if isinstance(m, dict) and key in m]


def _pick(mapping: Any, *keys: Any) -> dict[str, Any]:
    source = _dict(mapping, "pick")
    return {k: source[k] for k in keys if k in source}


def _omit(mapping: Any, *keys: Any) -> dict[str, Any]:
    return {k: v for k, v in _dict(mapping, "omit").items() if k not in keys}


def _merge_into(dst: dict[str, Any], src: Mapping[str, Any], overwrite: bool) -> None:
    for key, value in src.items():
        if isinstance(dst.get(key), dict) and isinstance(value, Mapping):
            _merge_into(dst[key], value, overwrite)
        elif key not in dst or (overwrite and value is not None) or dst[key] is None:
            dst[key] = copy.deepcopy(value)


def _merge(dst: Any, *sources: Any) -> dict[str, Any]:
    target = _dict(dst, "merge")
    for src in sources:
        _merge_into(target, _dict(src, "merge"), overwrite=False)
    return target


def _merge_overwrite(dst: Any, *sources: Any) -> dict[str, Any]:
    target = _dict(dst, "mergeOverwrite")
    for src in sources:
        _merge_into(target, _dict(src, "mergeOverwrite"), overwrite=True)
    return target


def _dig(*args: Any) -> Any:
    if len(args) < 3:
        raise FuncError("dig needs keys, a default and a dict")
    *keys, default, mapping = args
    current: Any = _dict(mapping, "dig")
    for key in keys:
        if not isinstance(current, Mapping) or key not in current:
            return default
        current = current[key]
    return current


def _deep_copy(value: Any) -> Any:
    return copy.deepcopy(_plain(value) if isinstance(value, Struct) else value)


# ------------------------------------------------------------ Sprig: types and numbers


def _to_int(value: Any) -> int:
    if _is_num(value) or isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value)) if value.strip() else 0
        except ValueError:
            return 0
    return 0


def _to_float(value: Any) -> float:
    try:
        return float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


def _arith(fn: Callable[[Any, Any], Any], name: str) -> Callable[..., Any]:
    def apply(*values: Any) -> Any:
        nums = [v if _is_num(v) else _to_int(v) for v in values]
        if not nums:
            raise FuncError(f"{name} needs arguments")
        result = nums[0]
        for v in nums[1:]:
            result = fn(result, v)
        return result

    return apply


def _div(a: Any, b: Any) -> Any:
    x, y = _to_int(a), _to_int(b)
    if y == 0:
        raise FuncError("integer divide by zero")
    return int(x / y)


def _mod(a: Any, b: Any) -> Any:
    x, y = _to_int(a), _to_int(b)
    if y == 0:
        raise FuncError("integer divide by zero")
    return int(math.fmod(x, y))


_GO_KINDS: tuple[tuple[type, str], ...] = (
    (type(None), "invalid"),
    (dict, "map"),
    (list, "slice"),
    (datetime, "struct"),
)
"""Go's `reflect.Kind` names where they differ from the type's name."""


def _kind_of(value: Any) -> str:
    return gofmt.name_by_type(value, _GO_KINDS) or gofmt.type_name(value)


# ------------------------------------------------------------ Helm: data formats


class _GoYamlDumper(yaml.SafeDumper):
    """Writes multi-line strings as literal blocks (`|`), as Go's yaml package does."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_GoYamlDumper.add_representer(str, _represent_str)


def _to_yaml(value: Any) -> str:
    try:
        text = yaml.dump(
            _plain(value),
            Dumper=_GoYamlDumper,
            default_flow_style=False,
            sort_keys=True,
            allow_unicode=True,
            width=2**31,
        )
    except yaml.YAMLError:
        return ""
    return text.removesuffix("\n...\n").removesuffix("\n")


def _go_json(value: Any, indent: int | None) -> str:
    text = json.dumps(
        _json_numbers(_plain(value)),
        sort_keys=True,
        ensure_ascii=False,
        indent=indent,
        separators=(",", ": ") if indent else (",", ":"),
    )
    # Go's encoder escapes HTML characters (encoding/json.Marshal)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _json_numbers(value: Any) -> Any:
    """Go writes a float64 with an integral value below 1e21 as an integer."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return {k: _json_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_numbers(v) for v in value]
    return value


def _to_json(value: Any) -> str:
    try:
        return _go_json(value, None)
    except (TypeError, ValueError):
        return ""


def _to_pretty_json(value: Any) -> str:
    try:
        return _go_json(value, 2)
    except (TypeError, ValueError):
        return ""


def _to_raw_json(value: Any) -> str:
    return json.dumps(_plain(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _from_yaml(text: Any) -> Any:
    source = _str(text, "fromYaml")
    if len(source) > MAX_PARSE_CHARS:
        return {"Error": f"more than {MAX_PARSE_CHARS} characters"}
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        return {"Error": str(exc)}
    if data is None:
        return {}
    return data if isinstance(data, dict) else {"Error": "the YAML is not a map"}


def _from_yaml_array(text: Any) -> Any:
    try:
        data = yaml.safe_load(_str(text, "fromYamlArray")[:MAX_PARSE_CHARS])
    except yaml.YAMLError as exc:
        return [str(exc)]
    return data if isinstance(data, list) else ["the YAML is not a list"]


def _from_json(text: Any) -> Any:
    try:
        data = json.loads(_str(text, "fromJson")[:MAX_PARSE_CHARS])
    except ValueError as exc:
        return {"Error": str(exc)}
    return data if isinstance(data, dict) else {"Error": "the JSON is not an object"}


# ------------------------------------------------------------ dates

_GO_LAYOUT = [
    ("2006", "%Y"),
    ("January", "%B"),
    ("Jan", "%b"),
    ("Monday", "%A"),
    ("Mon", "%a"),
    ("MST", "%Z"),
    ("-07:00", "%:z"),
    ("-0700", "%z"),
    ("01", "%m"),
    ("02", "%d"),
    ("15", "%H"),
    ("03", "%I"),
    ("04", "%M"),
    ("05", "%S"),
    ("PM", "%p"),
    ("06", "%y"),
]


def _date(layout: Any, when: Any) -> str:
    """Sprig's `date LAYOUT TIME` with Go's reference-time layout (`2006-01-02`)."""
    moment = when if isinstance(when, datetime) else datetime.now(UTC)
    text = _str(layout, "date")
    out = []
    i = 0
    while i < len(text):
        for go, py in _GO_LAYOUT:
            if text.startswith(go, i):
                out.append(moment.strftime(py))
                i += len(go)
                break
        else:
            if text.startswith((".000", ".999"), i):
                out.append(f".{moment.microsecond // 1000:03d}")
                i += 4
            else:
                out.append(text[i])
                i += 1
    return "".join(out)


def _now() -> datetime:
    return datetime.now(UTC)


def _sha256(text: Any) -> str:
    return hashlib.sha256(_str(text, "sha256sum").encode()).hexdigest()


FUNCS: dict[str, Callable[..., Any]] = {
    # Go's text/template built-ins
    "index": _index,
    "slice": _slice,
    "len": _len,
    "not": _not,
    "eq": _eq,
    "ne": _ne,
    "lt": _lt,
    "le": _le,
    "gt": _gt,
    "ge": _ge,
    "print": gofmt.sprint,
    "printf": lambda fmt, *args: gofmt.sprintf(_str(fmt, "printf"), *args),
    "println": gofmt.sprintln,
    "html": _html,
    "js": _js,
    "urlquery": lambda *args: quote_plus(gofmt.sprint(*args)),
    # Sprig: flow and defaults
    "default": _default,
    "empty": empty,
    "coalesce": _coalesce,
    "ternary": _ternary,
    "fail": _fail,
    "required": _required,
    # strings
    "quote": _quote,
    "squote": _squote,
    "trim": lambda s: _str(s, "trim").strip(),
    "trimAll": lambda cut, s: _str(s, "trimAll").strip(_str(cut, "trimAll")),
    "trimSuffix": lambda suf, s: _str(s, "trimSuffix").removesuffix(_str(suf, "trimSuffix")),
    "trimPrefix": lambda pre, s: _str(s, "trimPrefix").removeprefix(_str(pre, "trimPrefix")),
    "lower": lambda s: _str(s, "lower").lower(),
    "upper": lambda s: _str(s, "upper").upper(),
    "title": _title,
    "replace": _replace,
    "repeat": _repeat,
    "substr": _substr,
    "trunc": _trunc,
    "nospace": lambda s: re.sub(r"\s", "", _str(s, "nospace")),
    "contains": lambda sub, s: _str(sub, "contains") in _str(s, "contains"),
    "hasPrefix": lambda pre, s: _str(s, "hasPrefix").startswith(_str(pre, "hasPrefix")),
    "hasSuffix": lambda suf, s: _str(s, "hasSuffix").endswith(_str(suf, "hasSuffix")),
    "indent": _indent,
    "nindent": _nindent,
    "split": _split,
    "splitList": _split_list,
    "join": _join,
    "cat": _cat,
    "toString": strval,
    "toStrings": lambda values: [strval(v) for v in _list(values, "toStrings")],
    "b64enc": lambda s: base64.b64encode(_str(s, "b64enc").encode()).decode(),
    "b64dec": _b64dec,
    "sha256sum": _sha256,
    "regexMatch": _regex_match,
    "regexFind": _regex_find,
    "regexFindAll": _regex_find_all,
    "regexReplaceAll": _regex_replace_all,
    "regexReplaceAllLiteral": _regex_replace_all_literal,
    "regexSplit": _regex_split,
    # lists
    "list": _list_fn,
    "tuple": _list_fn,
    "append": _append,
    "push": _append,
    "mustAppend": _append,
    "prepend": _prepend,
    "concat": _concat,
    "first": _first,
    "last": _last,
    "rest": lambda values: _list(values, "rest")[1:],
    "initial": lambda values: _list(values, "initial")[:-1],
    "reverse": lambda values: _list(values, "reverse")[::-1],
    "has": _has,
    "without": lambda values, *drop: [v for v in _list(values, "without") if v not in drop],
    "uniq": _uniq,
    "compact": lambda values: [v for v in _list(values, "compact") if not empty(v)],
    "sortAlpha": lambda values: sorted(strval(v) for v in _list(values, "sortAlpha")),
    "until": _until,
    # dicts
    "dict": _dict_fn,
    "get": _get,
    "set": _set,
    "unset": _unset,
    "hasKey": _has_key,
    "keys": _keys,
    "values": _values,
    "pluck": _pluck,
    "pick": _pick,
    "omit": _omit,
    "merge": _merge,
    "mustMerge": _merge,
    "mergeOverwrite": _merge_overwrite,
    "mustMergeOverwrite": _merge_overwrite,
    "dig": _dig,
    "deepCopy": _deep_copy,
    "mustDeepCopy": _deep_copy,
    # types and numbers
    "typeOf": gofmt.type_name,
    "kindOf": _kind_of,
    "kindIs": lambda kind, value: _kind_of(value) == kind,
    "typeIs": lambda name, value: gofmt.type_name(value) == name,
    "int": _to_int,
    "int64": _to_int,
    "atoi": _to_int,
    "float64": _to_float,
    "add": _arith(lambda a, b: a + b, "add"),
    "add1": lambda v: _to_int(v) + 1 if not _is_num(v) else v + 1,
    "sub": _arith(lambda a, b: a - b, "sub"),
    "mul": _arith(lambda a, b: a * b, "mul"),
    "div": _div,
    "mod": _mod,
    "max": _arith(max, "max"),
    "min": _arith(min, "min"),
    "floor": lambda v: float(math.floor(_to_float(v))),
    "ceil": lambda v: float(math.ceil(_to_float(v))),
    # Helm: data formats
    "toYaml": _to_yaml,
    "mustToYaml": _to_yaml,
    "fromYaml": _from_yaml,
    "fromYamlArray": _from_yaml_array,
    "toJson": _to_json,
    "mustToJson": _to_json,
    "toPrettyJson": _to_pretty_json,
    "mustToPrettyJson": _to_pretty_json,
    "toRawJson": _to_raw_json,
    "fromJson": _from_json,
    # dates
    "now": _now,
    "date": _date,
    "unixEpoch": lambda when: str(int(when.timestamp())) if isinstance(when, datetime) else "",
    # names the executor implements (they need the template set)
    "and": lambda *a: None,
    "or": lambda *a: None,
    "include": lambda *a: None,
    "tpl": lambda *a: None,
}
