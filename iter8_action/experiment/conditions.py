"""`if:` conditions: a small, safe expression language of our own (no `eval`).

Grammar (keywords are case-insensitive; `&&`, `||` and `!` are accepted too)::

    expr       := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := operand (("==" | "!=" | "<" | "<=" | ">" | ">=") operand)?
    operand    := primary ("." NAME | "[" (NUMBER | STRING) "]")*
    primary    := NUMBER | STRING | true | false | null
                | NAME "(" [expr ("," expr)*] ")"      a function from FUNCTIONS
                | "result"                              Iter8's result object
                | "(" expr ")"

Nesting (parentheses, `not`, function calls) is limited to `MAX_DEPTH` levels,
so that a hostile `if:` cannot exhaust Python's stack; `and`/`or` chains and
field accesses are flat and cost no depth.

Field access reads the result as it is written to the result file
(`result.numCompletedTasks`, `result.insights.numVersions`); a missing field is
null. Functions are looked up in `FUNCTIONS`, which other modules extend with
`register_function`.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, assert_never

from iter8_action.core.errors import InvalidValue
from iter8_action.results.model import Result, TaskStatus

Function = Callable[..., Any]

MAX_DEPTH = 50
"""Most levels of parentheses, `not` and function calls inside one another."""


@dataclass(frozen=True)
class _FunctionDef:
    name: str
    func: Function
    min_args: int
    max_args: int
    summary: str


FUNCTIONS: dict[str, _FunctionDef] = {}


def register_function(
    name: str, func: Function, *, summary: str, min_args: int = 0, max_args: int = 0
) -> None:
    """Make `name(...)` available in conditions; `func(result, *args)` computes it."""
    FUNCTIONS[name.lower()] = _FunctionDef(name, func, min_args, max_args, summary)


class ConditionError(InvalidValue):
    """A condition is malformed (`column` is 1-based in the expression) or cannot be evaluated."""

    def __init__(self, message: str, column: int | None = None) -> None:
        self.message = message
        self.column = column
        super().__init__(message if column is None else f"{message} (column {column})")


# -- built-in functions ---------------------------------------------------------------


def _version_index(result: Result, function: str, version: Any) -> int:
    index = result.store.version_index(version)
    if index is None:
        raise ConditionError(
            f"{function}({version!r}): no such version; versions are "
            + (", ".join(result.store.version_names) or "none yet")
        )
    return index


def _slos_satisfied(result: Result, version: Any = None) -> bool:
    """Every SLO (absolute or relative) holds for every version (or for the named one).

    True when there are none; a missing value never satisfies an SLO.
    """
    index = None if version is None else _version_index(result, "SLOs", version)
    return not result.verdicts().slo_failures(index)


def _completed(result: Result) -> bool:
    return all(t.counts_completed for t in result.tasks if t.status is not TaskStatus.PENDING)


def _no_failure(result: Result) -> bool:
    return not result.failure


register_function(
    "SLOs",
    _slos_satisfied,
    summary="every version (or the one named) meets every SLO",
    max_args=1,
)
register_function("Completed", _completed, summary="every task so far completed or was skipped")
register_function("NoFailure", _no_failure, summary="no task has failed")


# -- tokens -------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!().,\[\]])
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    """,
    re.VERBOSE,
)

_KEYWORDS = {"and", "or", "not", "true", "false", "null", "none"}
_SYNONYMS = {"&&": "and", "||": "or", "!": "not"}


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, op, name, keyword, end
    text: str
    column: int


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise ConditionError(f"unexpected character {source[pos]!r}", pos + 1)
        kind = match.lastgroup or ""
        text = match.group()
        if kind != "ws":
            if kind == "op" and text in _SYNONYMS:
                kind, text = "keyword", _SYNONYMS[text]
            elif kind == "name" and text.lower() in _KEYWORDS:
                kind, text = "keyword", text.lower()
            tokens.append(_Token(kind, text, pos + 1))
        pos = match.end()
    tokens.append(_Token("end", "", len(source) + 1))
    return tokens


# -- syntax tree --------------------------------------------------------------------------


@dataclass(frozen=True)
class Const:
    """A number, a string, true, false or null."""

    value: Any


@dataclass(frozen=True)
class ResultRef:
    """`result`: the result as written to the result file."""


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Field:
    """`base.name[0]["key"]`: a path of field names and indices into `base`."""

    base: Node
    keys: tuple[str | int | float, ...]


@dataclass(frozen=True)
class Call:
    """A function of `FUNCTIONS` (its key: the name in lower case)."""

    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node
    column: int
    """Where the operator is, for a comparison that cannot be evaluated."""


Node = Const | ResultRef | Not | And | Or | Field | Call | Compare

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.pos = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, text: str) -> _Token:
        token = self.peek()
        if token.text != text or token.kind not in ("op", "keyword"):
            raise ConditionError(f"expected {text!r} but found {_describe(token)}", token.column)
        return self.take()

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ConditionError("the condition is empty", 1)
        node = self.or_expr()
        token = self.peek()
        if token.kind != "end":
            raise ConditionError(f"unexpected {_describe(token)}", token.column)
        return node

    def deeper(self, token: _Token) -> None:
        """Enter one more level of nesting; the parser recurses once per level."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError(
                f"the condition nests more than {MAX_DEPTH} levels deep (parentheses, 'not', "
                "function calls); write it more simply",
                token.column,
            )

    def or_expr(self) -> Node:
        return self.joined("or", self.and_expr, Or)

    def and_expr(self) -> Node:
        return self.joined("and", self.not_expr, And)

    def joined(
        self, keyword: str, operand: Callable[[], Node], node: Callable[[tuple[Node, ...]], Node]
    ) -> Node:
        """`a KEYWORD b KEYWORD c` as one `node` of its operands; a lone operand as itself."""
        nodes = [operand()]
        while self.peek().kind == "keyword" and self.peek().text == keyword:
            self.take()
            nodes.append(operand())
        return nodes[0] if len(nodes) == 1 else node(tuple(nodes))

    def not_expr(self) -> Node:
        if self.peek().kind == "keyword" and self.peek().text == "not":
            self.deeper(self.take())
            node = Not(self.not_expr())
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Node:
        left = self.operand()
        token = self.peek()
        if token.kind == "op" and token.text in _COMPARE:
            self.take()
            return Compare(token.text, left, self.operand(), token.column)
        return left

    def operand(self) -> Node:
        node = self.primary()
        keys: list[str | int | float] = []
        while True:
            token = self.peek()
            if token.kind == "op" and token.text == ".":
                self.take()
                name = self.take()
                if name.kind not in ("name", "keyword"):
                    raise ConditionError(
                        f"expected a field name after '.' but found {_describe(name)}", name.column
                    )
                keys.append(name.text)
            elif token.kind == "op" and token.text == "[":
                self.take()
                key = self.take()
                if key.kind not in ("number", "string"):
                    raise ConditionError(
                        f"expected a number or a string in [] but found {_describe(key)}",
                        key.column,
                    )
                self.expect("]")
                keys.append(_literal(key))
            else:
                return Field(node, tuple(keys)) if keys else node

    def primary(self) -> Node:
        token = self.take()
        if token.kind in ("number", "string"):
            return Const(_literal(token))
        if token.kind == "keyword" and token.text in ("true", "false", "null", "none"):
            return Const({"true": True, "false": False}.get(token.text))
        if token.kind == "op" and token.text == "(":
            self.deeper(token)
            node = self.or_expr()
            self.expect(")")
            self.depth -= 1
            return node
        if token.kind == "name":
            if self.peek().text == "(" and self.peek().kind == "op":
                return self.call(token)
            if token.text.lower() == "result":
                return ResultRef()
            raise ConditionError(
                f"unknown name {token.text!r}: use 'result.<field>' or a function "
                f"({_function_list()})",
                token.column,
            )
        if token.kind == "end":
            raise ConditionError("the condition ends where a value was expected", token.column)
        raise ConditionError(f"unexpected {_describe(token)}", token.column)

    def call(self, name: _Token) -> Node:
        definition = FUNCTIONS.get(name.text.lower())
        if definition is None:
            raise ConditionError(
                f"unknown function {name.text}(); known: {_function_list()}", name.column
            )
        self.deeper(self.expect("("))
        args: list[Node] = []
        if not (self.peek().kind == "op" and self.peek().text == ")"):
            args.append(self.or_expr())
            while self.peek().kind == "op" and self.peek().text == ",":
                self.take()
                args.append(self.or_expr())
        self.expect(")")
        self.depth -= 1
        if not definition.min_args <= len(args) <= definition.max_args:
            wanted = (
                str(definition.min_args)
                if definition.min_args == definition.max_args
                else f"{definition.min_args} to {definition.max_args}"
            )
            raise ConditionError(
                f"{name.text}() takes {wanted} argument(s), not {len(args)}", name.column
            )
        return Call(name.text.lower(), tuple(args))


def _describe(token: _Token) -> str:
    return "the end" if token.kind == "end" else repr(token.text)


def _literal(token: _Token) -> str | int | float:
    if token.kind == "number":
        value = float(token.text)
        return int(value) if value.is_integer() and re.fullmatch(r"\d+", token.text) else value
    body = token.text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _function_list() -> str:
    return ", ".join(f"{d.name}()" for _, d in sorted(FUNCTIONS.items()))


# -- evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Expression:
    """A parsed condition; `source` is what the user wrote."""

    source: str
    tree: Node

    def evaluate(self, result: Result) -> bool:
        return bool(_Evaluator(result).eval(self.tree))


def parse_condition(source: str) -> Expression:
    """Parse a condition, raising `ConditionError` with the column of the problem."""
    return Expression(source, _Parser(source).parse())


class _Evaluator:
    def __init__(self, result: Result) -> None:
        self.result = result
        self._document: dict[str, Any] | None = None

    def document(self) -> dict[str, Any]:
        if self._document is None:
            self._document = self.result.to_dict()
        return self._document

    def eval(self, node: Node) -> Any:
        match node:
            case Const(value):
                return value
            case ResultRef():
                return self.document()
            case Not(operand):
                return not self.eval(operand)
            case And(operands):
                return all(bool(self.eval(n)) for n in operands)
            case Or(operands):
                return any(bool(self.eval(n)) for n in operands)
            case Field(base, keys):
                value = self.eval(base)
                for key in keys:
                    value = _get_field(value, key)
                return value
            case Call(function, args):
                values = [self.eval(arg) for arg in args]
                return FUNCTIONS[function].func(self.result, *values)
            case Compare(op, left, right, column):
                return _compare(op, self.eval(left), self.eval(right), column)
            case _:
                assert_never(node)


def _get_field(value: Any, key: Any) -> Any:
    if isinstance(value, Mapping):
        if key in value:
            return value[key]
        # Go's JSON decoding matched names case-insensitively; so do we.
        if isinstance(key, str):
            for k, v in value.items():
                if isinstance(k, str) and k.lower() == key.lower():
                    return v
        return None
    if isinstance(value, Sequence) and not isinstance(value, str) and isinstance(key, int):
        return value[key] if -len(value) <= key < len(value) else None
    return None


def _compare(op: str, left: Any, right: Any, column: int) -> bool:
    if op in ("==", "!="):
        return bool(_COMPARE[op](left, right))
    if left is None or right is None:
        return False  # a missing value satisfies no ordering, as a missing metric no SLO
    numbers = (int, float)
    comparable = (isinstance(left, numbers) and isinstance(right, numbers)) or (
        isinstance(left, str) and isinstance(right, str)
    )
    if isinstance(left, bool) or isinstance(right, bool) or not comparable:
        raise ConditionError(
            f"cannot compare {type(left).__name__} {left!r} {op} {type(right).__name__} {right!r}",
            column,
        )
    return bool(_COMPARE[op](left, right))


# -- assessment functions (the assess task) ------------------------------------------------


def _winner(result: Result, version: Any = None) -> bool:
    """An overall winner was found (or: the named version is the overall winner)."""
    winner, _ = result.verdicts().overall_winner()
    if version is None:
        return winner is not None
    return winner is not None and winner == _version_index(result, "Winner", version)


register_function(
    "Winner",
    _winner,
    summary="the assessment found an overall winner (or the one named is the winner)",
    max_args=1,
)
