"""Templates (provider specs, payloads, rollout edits): Go templates or Jinja2 in its sandbox.

Iter8's templates were Go templates: a template in Go's syntax (and without
Jinja2 statements) renders with the Go `text/template` engine of experiment
charts (`iter8_action.templates.gotemplate`: Sprig's functions, Go's scoping, errors
with line and column; printing a missing value is an error here).

Any other template is Jinja2 in the sandboxed environment, which keeps a template
away from Python internals (`__class__`, `__globals__`, unsafe callables), so an
experiment file cannot run code through a template. Go's plain references in a
Jinja2 template (`{{ .name }}`, `{{ if .x }}`, `{{ range $i, $p := .list }}`) are
translated; other Go constructs there get an error naming the line and the Jinja2
equivalent. A Jinja2 template may call `fail("message")` to stop with a message
of its own (the equivalent of Go's `fail`), and `{% include %}` the partials its
caller provides.

A template is data, so rendering is bounded: `**`, `*` and `+` refuse results
past `MAX_INT_BITS` or `MAX_OUTPUT_CHARS` before computing them (`9**(9**10)`
would take hours in one C call no signal can interrupt); the output stops at
`MAX_OUTPUT_CHARS`; runaway recursion is an error; and the rendering runs in a
forked child process with `MAX_RENDER_MEMORY_BYTES` of address space to grow
into, killed after `RENDER_TIMEOUT_S`, so that neither a long loop nor a filter
that builds a huge string can hang or exhaust the run (and SIGTERM still stops it).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from iter8_action.core.child import run_bounded, value_or_raise
from iter8_action.core.errors import InvalidValue

RENDER_TIMEOUT_S = 5.0
MAX_OUTPUT_CHARS = 4 * 1024 * 1024
MAX_INT_BITS = 65_536
"""About 20,000 decimal digits: far past any number a template needs."""
MAX_RENDER_MEMORY_BYTES = 512 * 1024 * 1024

if TYPE_CHECKING:
    from iter8_action.templates import gotemplate

# `{{ ... }}` actions on one line, with Go's and Jinja2's whitespace trimming
_ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}")
_NAME_PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
# what we translate: `.a.b`, `$.a`, `$p`, `$p.a`; `if [not] REF`, `else if`; `range $p := REF`
_GO_REF = re.compile(r"\$?\.[A-Za-z_][\w.]*|\$[A-Za-z_]\w*(?:\.[A-Za-z_][\w.]*)?")
_GO_IF = re.compile(r"(if|else if)\s+((?:not\s+)?\S+)")
_GO_RANGE = re.compile(r"range\s+\$(\w+)\s*(?:,\s*\$(\w+)\s*)?:=\s*(\S+)")
_GO_KEYWORDS = {
    "range": "{% for item in items %} ... {% endfor %}",
    "if": "{% if value %} ... {% endif %}",
    "else": "{% else %}",
    "end": "{% endfor %} or {% endif %}",
    "with": "{% with x = value %} ... {% endwith %}",
    "define": "{% macro name() %} ... {% endmacro %}",
    "template": "{% macro name() %} ... {% endmacro %} and {{ name() }}",
    "block": "{% macro name() %} ... {% endmacro %}",
}
_GO_FUNCTIONS = {
    "default": '{{ value | default("fallback") }}',
    "toYaml": "{{ value | tojson }} (JSON is valid YAML)",
    "toJson": "{{ value | tojson }}",
    "quote": "{{ value | tojson }}",
    "indent": "{{ value | indent(4) }}",
    "printf": '{{ "%s-%d" | format(name, number) }}',
    "fail": '{{ fail("message") }}',
}
# Go's shapes: `{{ keyword ...` (not Jinja2's `range(3)`), `{{ $x ...`, `{{ .x | fn ...`,
# `{{ fn .x ...` and `{{ fn "a" ...`
_GO_CONDITION = (
    "{% if a == 1 and not b %} ... {% endif %} (Go's eq, ne, lt, and, or, not are Jinja2's "
    "==, !=, <, and, or, not)"
)
_GO_KEYWORD = re.compile(r"^(range|if|else|end|with|define|template|block)(?=\s|$)")
_GO_PIPELINE = re.compile(r"^\.[\w.]*\s*\|\s*(\w+)")
_GO_CALL = re.compile(r"^(\w+)\s+[.$\"(]")


class TemplateError(InvalidValue):
    """A template that cannot be read or rendered; the message names the template and line."""


class _TemplateFailed(Exception):
    """Raised by `fail(...)` inside a template."""


def _fail(message: str) -> NoReturn:
    raise _TemplateFailed(str(message))


class _TooMuch(Exception):
    """A template that went past one of the rendering bounds."""


def _number(value: int) -> str:
    return str(value) if value.bit_length() <= 64 else f"a {value.bit_length()}-bit number"


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse `**`, `*` and `+` whose result would be past the bounds, before computing it."""
    ints = all(isinstance(v, int) for v in (left, right))
    if operator == "**" and ints and right > 0 and abs(left) > 1:
        if right * math.log2(abs(left)) > MAX_INT_BITS:
            raise _TooMuch(
                f"{_number(left)} ** {_number(right)} is too large a number "
                f"(more than {MAX_INT_BITS} bits)"
            )
    elif operator == "*" and ints:
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise _TooMuch(f"a product of more than {MAX_INT_BITS} bits")
    elif operator == "*":
        sequence, times = (left, right) if isinstance(right, int) else (right, left)
        repeated = isinstance(sequence, str | list | tuple) and isinstance(times, int)
        if repeated and len(sequence) * times > MAX_OUTPUT_CHARS:
            raise _TooMuch(
                f"repeating {len(sequence)} items {_number(times)} times would make more "
                f"than {MAX_OUTPUT_CHARS} of them"
            )
    elif (
        operator == "+"
        and isinstance(left, str | list | tuple)
        and isinstance(right, type(left))
        and len(left) + len(right) > MAX_OUTPUT_CHARS
    ):
        raise _TooMuch(f"joining would make more than {MAX_OUTPUT_CHARS} items")


class _BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with `**`, `*` and `+` checked before they run."""

    intercepted_binops = frozenset({"**", "*", "+"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)


def _environment(includes: Mapping[str, str] | None) -> ImmutableSandboxedEnvironment:
    env = _BoundedEnvironment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        loader=jinja2.DictLoader(dict(includes or {})),
    )
    env.globals["fail"] = _fail
    return env


def _go_equivalent(action: str) -> str | None:
    """The Jinja2 spelling to suggest when `action` (inside `{{ }}`) is Go template syntax."""
    keyword = _GO_KEYWORD.match(action)
    if keyword:
        return _GO_KEYWORDS[keyword.group(1)]
    if action.startswith("$"):
        return "{% set name = value %} and {{ name }}"
    pipeline = _GO_PIPELINE.match(action)
    if pipeline:
        return _GO_FUNCTIONS.get(pipeline.group(1), "{{ value | filter }}")
    call = _GO_CALL.match(action)
    if call is None or (call.group(1) == "not" and not action.startswith("not .")):
        return None  # Jinja2's `not (a or b)` looks like a call but is not one
    return _GO_FUNCTIONS.get(call.group(1), "{{ value | filter(arguments) }}")


class _GoTranslator:
    """Iter8's simple Go templates in Jinja2: references, `if`/`else`/`end`, `range $x := .list`.

    A reference `.a.b` (or `$.a.b`) is the value `a.b` everywhere, inside a range too;
    a range's variables (`$i, $p`) are the loop's index and item. `if` tests a reference
    as Go does: a missing value is false.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.blocks: list[tuple[str, int, dict[str, str]]] = []
        """Open `if`/`range` blocks: kind, line, and the variables they declare (Jinja2 names)."""

    def fail(self, line: int, action: str, equivalent: str) -> NoReturn:
        raise TemplateError(
            f"{self.name}:{line}: Go template construct {action!r} is not supported; "
            f"templates are Jinja2: write {equivalent}"
        )

    def variables(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for _kind, _line, names in self.blocks:
            out.update(names)
        return out

    def reference(self, ref: str, line: int, action: str) -> str | None:
        """`.a.b` / `$.a.b` -> `a.b`; `$p.x` -> `p.x` for a range variable; None if not one."""
        if ref.startswith("$."):
            ref = ref[1:]
        if ref.startswith("."):
            return ref[1:] if _NAME_PATH.fullmatch(ref[1:]) else None
        head, _, rest = ref[1:].partition(".")
        known = self.variables()
        if head not in known:
            self.fail(line, action, "{% set name = value %} and {{ name }}")
        return f"{known[head]}.{rest}" if rest else known[head]

    def condition(self, text: str, line: int, action: str) -> str:
        negate = text.startswith("not ")
        ref = text.removeprefix("not ").strip()
        target = self.reference(ref, line, action)
        if target is None:
            self.fail(line, action, _GO_KEYWORDS["if"])
        parts = target.split(".")
        chain = [".".join(parts[: i + 1]) for i in range(len(parts))]
        test = " and ".join([f"{c} is defined" for c in chain] + [target])
        test = f"({test})" if len(chain) > 1 or negate else test
        return f"not {test}" if negate else test

    def translate(self, match: re.Match[str], line: int) -> str:
        left, action, right = match.group(1), match.group(2), match.group(3)
        whole = match.group(0)

        def block(statement: str) -> str:
            return "{%" + left + " " + statement + " " + right + "%}"

        ref = _GO_REF.fullmatch(action)
        if ref:
            target = self.reference(action, line, whole)
            return whole if target is None else f"{{{{{left} {target} {right}}}}}"
        if_match = _GO_IF.fullmatch(action)
        if if_match:
            keyword, condition = if_match.group(1), if_match.group(2)
            if keyword == "if":
                test = self.condition(condition, line, whole)
                self.blocks.append(("if", line, {}))
                return block(f"if {test}")
            self.expect_open("if", line, whole)
            return block(f"elif {self.condition(condition, line, whole)}")
        range_match = _GO_RANGE.fullmatch(action)
        if range_match:
            index, item, source = range_match.groups()
            target = self.reference(source, line, whole)
            if target is None:
                self.fail(line, whole, _GO_KEYWORDS["range"])
            names = {index: "loop.index0", item: item} if item else {index: index}
            self.blocks.append(("range", line, names))
            return block(f"for {item or index} in {target}")
        if action in ("else", "end") and not self.blocks:
            raise TemplateError(
                f"{self.name}:{line}: {whole!r} has no {{{{ if }}}} or {{{{ range }}}} to belong to"
            )
        if action == "else":
            return block("else")
        if action == "end":
            kind, _line, _names = self.blocks.pop()
            return block("endif" if kind == "if" else "endfor")
        if action.startswith(("if ", "else if ")):
            self.fail(line, whole, _GO_CONDITION)
        equivalent = _go_equivalent(action)
        if equivalent is not None:
            self.fail(line, whole, equivalent)
        return whole

    def expect_open(self, kind: str, line: int, action: str) -> None:
        if not self.blocks or self.blocks[-1][0] != kind:
            raise TemplateError(
                f"{self.name}:{line}: {action!r} has no {{{{ {kind} }}}} to belong to"
            )

    def finish(self) -> None:
        if self.blocks:
            kind, line, _names = self.blocks[-1]
            raise TemplateError(
                f"{self.name}:{line}: this {kind} has no {{{{ end }}}}; "
                f"close it ({'{% endif %}' if kind == 'if' else '{% endfor %}'} in Jinja2)"
            )


def from_go(source: str, *, name: str) -> str:
    """Iter8's simple Go templates rewritten to Jinja2; other Go constructs are errors."""
    translator = _GoTranslator(name)
    out: list[str] = []
    last = 0
    for match in _ACTION.finditer(source):
        line = source.count("\n", 0, match.start()) + 1
        out.append(source[last : match.start()])
        out.append(translator.translate(match, line))
        last = match.end()
    out.append(source[last:])
    translator.finish()
    return "".join(out)


def _go_shaped(source: str) -> bool:
    """Go template syntax and no Jinja2 statements: Iter8's templates, for the Go engine."""
    if "{%" in source:
        return False
    for match in _ACTION.finditer(source):
        action = match.group(2)
        if _GO_REF.fullmatch(action) or _GO_KEYWORD.match(action) or action.startswith("$"):
            return True
        if _go_equivalent(action) is not None:
            return True
    return False


def _render_go(templates: gotemplate.TemplateSet, values: Mapping[str, Any], *, name: str) -> str:
    """Render a parsed Go template (Sprig functions, Iter8's semantics).

    The values are copied: Sprig's `set`/`unset` change maps in place.
    """
    from iter8_action.templates import gotemplate

    try:
        return templates.render_file(name, copy.deepcopy(dict(values)))
    except gotemplate.TemplateError as exc:
        message = str(exc)
        if "no value to print" in message:
            known = ", ".join(sorted(values)) or "none"
            message += f" (values available: {known})"
        raise TemplateError(message) from exc


def render(
    source: str,
    values: Mapping[str, Any],
    *,
    name: str = "<template>",
    includes: Mapping[str, str] | None = None,
) -> str:
    """Render `source` with `values`: Go templates (Iter8's) with the Go text/template
    engine, Jinja2 (with Iter8's `{{ .x }}` references translated) otherwise.

    A template whose Go parse fails but which reads as Jinja2 with Go references
    (`{{ a }} and {{ .b }}`) is Jinja2; when neither reads it, Go's error is raised.
    `includes` maps names to partial templates that `{% include "name" %}` may use.
    Rendering is bounded (see the module's docstring); past a bound it is a `TemplateError`.
    """
    if _go_shaped(source):
        # imported here: most runs render no Go template (0.1 s of imports saved)
        from iter8_action.templates import gotemplate

        templates = gotemplate.TemplateSet(limits=gotemplate.Limits(nil_is_error=True))
        try:
            templates.add(name, source)
        except gotemplate.TemplateError as go_error:
            try:
                return _render_jinja(source, values, name=name, includes=includes)
            except TemplateError:
                raise TemplateError(str(go_error)) from go_error
        return _in_child(lambda: _render_go(templates, values, name=name), name=name)
    return _render_jinja(source, values, name=name, includes=includes)


def _render_jinja(
    source: str,
    values: Mapping[str, Any],
    *,
    name: str,
    includes: Mapping[str, str] | None,
) -> str:
    text = from_go(source, name=name)
    return _in_child(lambda: _render(text, values, name=name, includes=includes), name=name)


def _render(
    text: str, values: Mapping[str, Any], *, name: str, includes: Mapping[str, str] | None
) -> str:
    try:
        template = _environment(includes).from_string(text)
        out: list[str] = []
        size = 0
        for chunk in template.generate(dict(values)):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateError(
                    f"{name}: the output is longer than {MAX_OUTPUT_CHARS} characters, "
                    "the most a template may render"
                )
            out.append(chunk)
        return "".join(out)
    except _TooMuch as exc:
        raise TemplateError(f"{name}: {exc}, past what a template may compute") from exc
    except RecursionError as exc:
        raise TemplateError(
            f"{name}: nested too deep (a macro or include that calls itself without end?)"
        ) from exc
    except MemoryError as exc:
        raise TemplateError(
            f"{name}: rendering needs more than {MAX_RENDER_MEMORY_BYTES // 2**20} MiB of memory"
        ) from exc
    except jinja2.TemplateSyntaxError as exc:
        where = name if exc.name is None else f"{name} (include {exc.name!r})"
        raise TemplateError(f"{where}:{exc.lineno}: {exc.message}") from exc
    except SyntaxError as exc:  # Python's own limits on the code Jinja2 generates
        raise TemplateError(f"{name}: blocks nested too deep ({exc.msg})") from exc
    except jinja2.UndefinedError as exc:
        known = ", ".join(sorted(values)) or "none"
        raise TemplateError(f"{name}: {exc.message} (values available: {known})") from exc
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(f"{name}: not allowed in a template: {exc}") from exc
    except jinja2.TemplateNotFound as exc:
        known = ", ".join(sorted(includes or {})) or "none"
        raise TemplateError(
            f"{name}: no template {exc.name!r} to include (known: {known})"
        ) from exc
    except _TemplateFailed as exc:
        raise TemplateError(f"{name}: {exc}") from exc
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateError(f"{name}: {type(exc).__name__}: {exc}") from exc


# -- the child process that renders ----------------------------------------------------------


def _in_child(work: Callable[[], str], *, name: str) -> str:
    """`work()` run in a forked child bounded in time and memory; its text or its TemplateError."""
    outcome = run_bounded(
        work,
        timeout_s=RENDER_TIMEOUT_S,
        memory_bytes=MAX_RENDER_MEMORY_BYTES,
        refusals=(TemplateError,),
    )
    text = value_or_raise(
        outcome,
        TemplateError,
        too_slow=f"{name}: rendering took longer than {RENDER_TIMEOUT_S:g}s, the most a template "
        "may take (a loop that never ends, or one too long?)",
        died=lambda how: f"{name}: rendering ended with {how} (out of memory?)",
    )
    return str(text)
