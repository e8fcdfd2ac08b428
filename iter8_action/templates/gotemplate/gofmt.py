"""Go's `fmt` for template values: `%v` printing, `Sprint`, `Sprintf` verbs, `strconv.Quote`.

Values are what YAML and JSON give in Python (None, bool, int, float, str, list,
dict) plus `datetime` from `now`. Go type names in messages are those of Helm's
values (`map[string]interface {}`, `[]interface {}`, `float64`, ...).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

_VERB = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?(.)", re.DOTALL)


_GO_TYPES: tuple[tuple[type, str], ...] = (
    (type(None), "<nil>"),
    (bool, "bool"),  # before int: a bool is an int to isinstance
    (int, "int"),
    (float, "float64"),
    (str, "string"),
    (dict, "map[string]interface {}"),
    (list, "[]interface {}"),
    (datetime, "time.Time"),
)
"""Go's type names of the Python values a template sees."""


def name_by_type(value: Any, names: Sequence[tuple[type, str]]) -> str | None:
    """The name beside the first type in `names` that `value` is an instance of, if any."""
    return next((name for kind, name in names if isinstance(value, kind)), None)


def type_name(value: Any) -> str:
    """Go's `%T` of a value."""
    name = name_by_type(value, _GO_TYPES)
    return name or str(getattr(value, "type_name", type(value).__name__))


def format_float(value: float, verb: str = "g", prec: int = -1) -> str:
    """strconv.FormatFloat for 'g', 'e', 'f'; shortest 'g' switches to an exponent when
    the exponent is < -4 or >= 6, as Go's `%v` does (`1e+06`, `123456`)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if verb == "f":
        return f"{value:.{6 if prec < 0 else prec}f}"
    if verb == "e":
        return _go_exp(f"{value:.{6 if prec < 0 else prec}e}")
    if prec >= 0:
        return _go_exp(f"{value:.{max(prec, 1)}g}")
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign, digits_t, exponent = Decimal(repr(value)).normalize().as_tuple()
    digits = "".join(map(str, digits_t))
    exp = len(digits) + int(exponent) - 1
    minus = "-" if sign else ""
    if exp < -4 or exp >= 6:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{minus}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp < 0:
        return f"{minus}0.{'0' * (-exp - 1)}{digits}"
    if len(digits) <= exp + 1:
        return minus + digits + "0" * (exp + 1 - len(digits))
    return f"{minus}{digits[: exp + 1]}.{digits[exp + 1 :]}"


def _go_exp(text: str) -> str:
    """Python's `1e+06` / `1.5e-07` are Go's too; only the exponent's width differs."""
    mant, _, exp = text.partition("e")
    if not exp:
        return text
    sign, digits = exp[0], exp[1:].lstrip("0")
    return f"{mant}e{sign}{digits.rjust(2, '0')}"


def go_time(value: datetime) -> str:
    """time.Time.String(): `2006-01-02 15:04:05.999999999 -0700 MST`."""
    frac = f".{value.microsecond:06d}".rstrip("0").rstrip(".")
    offset = value.strftime("%z") or "+0000"
    zone = value.tzname() or "UTC"
    return value.strftime("%Y-%m-%d %H:%M:%S") + f"{frac} {offset} {zone}"


def rfc3339(value: datetime) -> str:
    """A time as Go's JSON encoding writes it (RFC 3339 with nanoseconds)."""
    text = value.isoformat()
    return text.replace("+00:00", "Z")


def value_string(value: Any) -> str:
    """Go's `%v` (fmt.Sprint of one value)."""
    if value is None:
        return "<nil>"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: _sort_key(kv[0]))
        return "map[" + " ".join(f"{value_string(k)}:{value_string(v)}" for k, v in items) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(value_string(v) for v in value) + "]"
    if isinstance(value, datetime):
        return go_time(value)
    return str(value)


def _sort_key(key: Any) -> tuple[int, Any]:
    if isinstance(key, (int, float)) and not isinstance(key, bool):
        return (0, key)
    return (1, str(key))


def sort_keys(keys: Any) -> list[Any]:
    """Keys in the order Go's fmt and text/template visit a map: sorted."""
    return sorted(keys, key=_sort_key)


def sprint(*args: Any) -> str:
    """fmt.Sprint: a space between operands when neither side is a string."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(value_string(arg))
    return "".join(out)


def sprintln(*args: Any) -> str:
    return " ".join(value_string(a) for a in args) + "\n"


def quote(text: str) -> str:
    """strconv.Quote: Go's double-quoted string literal."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in _CONTROL:
            out.append(_CONTROL[ch])
        elif ch.isprintable():
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_CONTROL = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def _bad(verb: str, value: Any) -> str:
    if value is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({type_name(value)}={value_string(value)})"


def _format_one(verb: str, flags: str, prec: int | None, value: Any) -> str:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    is_num = is_int or isinstance(value, float)
    if verb == "v":
        return value_string(value)
    if verb == "T":
        return type_name(value)
    if verb == "t":
        return value_string(value) if isinstance(value, bool) else _bad(verb, value)
    if verb == "s":
        if isinstance(value, str):
            return value if prec is None else value[:prec]
        if isinstance(value, (list, dict)):
            return value_string(value)
        return _bad(verb, value)
    if verb == "q":
        if isinstance(value, str):
            return quote(value)
        if is_int:
            return "'" + quote(chr(value))[1:-1].replace("'", "\\'") + "'"
        return _bad(verb, value)
    if verb == "d":
        if is_int:
            return ("+" if "+" in flags and value >= 0 else "") + str(value)
        return _bad(verb, value)
    if verb in "xXob":
        if is_int or (verb in "xX" and isinstance(value, str)):
            if isinstance(value, str):
                text = value.encode().hex()
            else:
                base = {"x": "x", "X": "X", "o": "o", "b": "b"}[verb]
                text = format(value, base)
                if "#" in flags and verb in "xX":
                    text = ("0x" if verb == "x" else "0X") + text
            return text.upper() if verb == "X" else text
        return _bad(verb, value)
    if verb == "c":
        return chr(value) if is_int else _bad(verb, value)
    if verb in "feEgG" or verb == "F":
        if not is_num:
            return _bad(verb, value)
        number = float(value)
        sign = "+" if "+" in flags and number >= 0 else ""
        if verb in "fF":
            return sign + format_float(number, "f", -1 if prec is None else prec)
        if verb in "eE":
            text = format_float(number, "e", -1 if prec is None else prec)
            return sign + (text.upper() if verb == "E" else text)
        text = format_float(number, "g", -1 if prec is None else prec)
        return sign + (text.upper() if verb == "G" else text)
    return f"%!{verb}({type_name(value)}={value_string(value)})"


def sprintf(fmt: str, *args: Any) -> str:
    """fmt.Sprintf with Go's verbs, flags, width and precision, and its error notation."""
    out: list[str] = []
    pos = 0
    index = 0
    while True:
        at = fmt.find("%", pos)
        if at < 0:
            out.append(fmt[pos:])
            break
        out.append(fmt[pos:at])
        match = _VERB.match(fmt, at)
        if match is None:
            out.append("%!(NOVERB)")
            break
        flags, width_text, prec_text, verb = match.groups()
        pos = match.end()
        if verb == "%":
            out.append("%")
            continue
        width = None
        if width_text == "*":
            width = int(args[index]) if index < len(args) else 0
            index += 1
        elif width_text:
            width = int(width_text)
        prec: int | None = None
        if prec_text == "*":
            prec = int(args[index]) if index < len(args) else 0
            index += 1
        elif prec_text is not None:
            prec = int(prec_text or "0")
        if index >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        text = _format_one(verb, flags, prec, args[index])
        index += 1
        if width is not None and len(text) < width:
            if "-" in flags:
                text = text.ljust(width)
            elif "0" in flags and text[:1] in "+-0123456789" and verb not in "sqvt":
                sign = text[0] if text[0] in "+-" else ""
                text = sign + text[len(sign) :].rjust(width - len(sign), "0")
            else:
                text = text.rjust(width)
        out.append(text)
    if index < len(args):
        extra = ", ".join(f"{type_name(a)}={value_string(a)}" for a in args[index:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)
