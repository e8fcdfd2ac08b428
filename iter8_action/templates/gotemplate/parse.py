"""Lexer and parser of Go's `text/template` language (Go 1.22 semantics).

Follows `text/template/parse` (lex.go, parse.go): the same tokens, the same
`{{- `/` -}}` trimming (the marker is `-` plus one of space, tab, CR, LF, and it
trims every such character beside the action), comments `{{/* */}}`, `else if`
/ `else with` chains, `break`/`continue` only inside `range`, variables checked
at parse time. Positions are offsets into the source; `Source.where` turns one
into `file:line:col` (1-based column).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from iter8_action.core.errors import InvalidValue

SPACE_CHARS = " \t\r\n"
_KEYWORDS = {
    "block",
    "break",
    "continue",
    "define",
    "else",
    "end",
    "if",
    "range",
    "template",
    "with",
}


class TemplateError(InvalidValue):
    """A template that cannot be parsed or executed; `str()` names file, line and column."""

    def __init__(self, message: str, *, where: str = "") -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class Source:
    """One template file: its name (shown in errors) and text."""

    name: str
    text: str
    _lines: list[int] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._lines.extend(i for i, c in enumerate(self.text) if c == "\n")

    def where(self, pos: int) -> str:
        line = bisect.bisect_left(self._lines, pos)
        start = self._lines[line - 1] + 1 if line else 0
        return f"{self.name}:{line + 1}:{pos - start + 1}"


# ---------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Token:
    kind: str
    """text, ldelim, rdelim, space, ident, keyword, field, var, string, number, char, bool,
    nil, dot, pipe, lparen, rparen, declare, assign, comma, eof"""
    val: str
    pos: int


_PUNCTUATION = {
    "=": ("assign", "="),
    ":": ("declare", ":="),
    "|": ("pipe", "|"),
    ",": ("comma", ","),
    "(": ("lparen", "("),
    ")": ("rparen", ")"),
}
_WORD_KINDS = {
    **dict.fromkeys(_KEYWORDS, "keyword"),
    "true": "bool",
    "false": "bool",
    "nil": "nil",
}


def _is_alnum(c: str) -> bool:
    return c == "_" or c.isalnum()


class _Lexer:
    def __init__(self, src: Source) -> None:
        self.src = src
        self.text = src.text
        self.tokens: list[Token] = []
        self.paren = 0

    def error(self, message: str, pos: int) -> TemplateError:
        return TemplateError(message, where=self.src.where(pos))

    def run(self) -> list[Token]:
        text, pos, n = self.text, 0, len(self.text)
        while pos < n:
            start = text.find("{{", pos)
            if start < 0:
                self.tokens.append(Token("text", text[pos:], pos))
                break
            after = start + 2
            trim_left = after + 1 < n and text[after] == "-" and text[after + 1] in SPACE_CHARS
            chunk = text[pos:start]
            if trim_left:
                chunk = chunk.rstrip(SPACE_CHARS)
                after += 2
            if chunk:
                self.tokens.append(Token("text", chunk, pos))
            if text.startswith("/*", after):
                pos = self._comment(start, after)
                continue
            self.tokens.append(Token("ldelim", "{{", start))
            pos = self._action(after)
        self.tokens.append(Token("eof", "", n))
        return self.tokens

    def _right_delim(self, pos: int) -> tuple[int, bool] | None:
        """At a right delimiter: (its length, whether it trims)."""
        text = self.text
        if text.startswith("}}", pos):
            return 2, False
        if pos < len(text) and text[pos] in SPACE_CHARS and text.startswith("-}}", pos + 1):
            return 4, True
        return None

    def _after_delim(self, pos: int, trim: bool) -> int:
        if trim:
            while pos < len(self.text) and self.text[pos] in SPACE_CHARS:
                pos += 1
        return pos

    def _comment(self, start: int, after: int) -> int:
        end = self.text.find("*/", after + 2)
        if end < 0:
            raise self.error("unclosed comment", start)
        delim = self._right_delim(end + 2)
        if delim is None:
            raise self.error("comment ends before closing delimiter", start)
        return self._after_delim(end + 2 + delim[0], delim[1])

    def _action(self, pos: int) -> int:
        """Tokens of one action, up to and past its right delimiter; returns the position after."""
        text, n = self.text, len(self.text)
        while True:
            delim = self._right_delim(pos)
            if delim is not None and self.paren == 0:
                self.tokens.append(Token("rdelim", "}}", pos))
                return self._after_delim(pos + delim[0], delim[1])
            if pos >= n:
                raise self.error("unclosed action", pos)
            if text[pos] in SPACE_CHARS:
                pos = self._space(pos)
            elif delim is not None:  # `}}` inside parentheses
                raise self.error("unclosed left paren", pos)
            else:
                pos = self._token(pos)

    def _space(self, pos: int) -> int:
        start, text = pos, self.text
        while pos < len(text) and text[pos] in SPACE_CHARS:
            trim = self._right_delim(pos)
            if trim is not None and trim[1]:  # the space of ` -}}` belongs to the delimiter
                break
            pos += 1
        if pos > start:
            self.tokens.append(Token("space", text[start:pos], start))
        return pos

    def _token(self, pos: int) -> int:
        text, c = self.text, self.text[pos]
        if c in _PUNCTUATION:
            kind, value = _PUNCTUATION[c]
            if not text.startswith(value, pos):
                raise self.error(f"expected {value}", pos)
            self.paren += {"lparen": 1, "rparen": -1}.get(kind, 0)
            if self.paren < 0:
                raise self.error("unexpected right paren", pos)
            self.tokens.append(Token(kind, value, pos))
            return pos + len(value)
        if c == '"':
            return self._quoted(pos)
        if c == "`":
            end = text.find("`", pos + 1)
            if end < 0:
                raise self.error("unterminated raw quoted string", pos)
            self.tokens.append(Token("string", text[pos + 1 : end], pos))
            return end + 1
        if c == "'":
            return self._char(pos)
        if c == "$" or (c == "." and not text[pos + 1 : pos + 2].isdigit()):
            end = self._word_end(pos + 1)
            kind = "var" if c == "$" else ("dot" if end == pos + 1 else "field")
            self.tokens.append(Token(kind, text[pos:end], pos))
            return self._terminated(end)
        if c in "+-." or c.isdigit():
            return self._number(pos)
        if c == "_" or c.isalpha():
            end = self._word_end(pos)
            word = text[pos:end]
            self.tokens.append(Token(_WORD_KINDS.get(word, "ident"), word, pos))
            return self._terminated(end)
        raise self.error(f"unrecognized character in action: {c!r}", pos)

    def _word_end(self, pos: int) -> int:
        while pos < len(self.text) and _is_alnum(self.text[pos]):
            pos += 1
        return pos

    def _terminated(self, pos: int) -> int:
        text = self.text
        if pos >= len(text) or text[pos] in SPACE_CHARS + ".,|:()=" or self._right_delim(pos):
            return pos
        raise self.error(f"bad character {text[pos]!r}", pos)

    def _quoted(self, pos: int) -> int:
        text, end = self.text, pos + 1
        while True:
            if end >= len(text) or text[end] == "\n":
                raise self.error("unterminated quoted string", pos)
            if text[end] == "\\":
                end += 2
                continue
            if text[end] == '"':
                break
            end += 1
        self.tokens.append(Token("string", unquote(text[pos + 1 : end], self, pos), pos))
        return end + 1

    def _char(self, pos: int) -> int:
        text, end = self.text, pos + 1
        while end < len(text) and text[end] != "'":
            if text[end] == "\\":
                end += 1
            if end < len(text) and text[end] == "\n":
                raise self.error("unterminated character constant", pos)
            end += 1
        if end >= len(text):
            raise self.error("unterminated character constant", pos)
        value = unquote(text[pos + 1 : end], self, pos)
        if len(value) != 1:
            raise self.error(f"malformed character constant: {text[pos : end + 1]}", pos)
        self.tokens.append(Token("char", value, pos))
        return end + 1

    def _number(self, pos: int) -> int:
        text, n, end = self.text, len(self.text), pos
        if end < n and text[end] in "+-":
            end += 1
        digits = "0123456789_"
        if text.startswith(("0x", "0X"), end):
            end += 2
            digits = "0123456789abcdefABCDEF_"
        elif text.startswith(("0o", "0O"), end):
            end += 2
            digits = "01234567_"
        elif text.startswith(("0b", "0B"), end):
            end += 2
            digits = "01_"
        while end < n and text[end] in digits:
            end += 1
        if end < n and text[end] == ".":
            end += 1
            while end < n and text[end] in digits:
                end += 1
        exp = "pP" if "a" in digits else "eE"
        if len(digits) >= 10 and end < n and text[end] in exp:
            end += 1
            if end < n and text[end] in "+-":
                end += 1
            while end < n and text[end] in "0123456789_":
                end += 1
        if end < n and _is_alnum(text[end]):
            raise self.error(f"bad number syntax: {text[pos : end + 1]!r}", pos)
        self.tokens.append(Token("number", text[pos:end], pos))
        return end


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def unquote(body: str, lexer: _Lexer, pos: int) -> str:
    """Go's escape sequences in an interpreted string or character literal."""
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = body[i + 1 : i + 2]
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            i += 2
        elif e in ("\\", '"', "'"):
            out.append(e)
            i += 2
        elif e in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i + 2 : i + 2 + width]
            try:
                out.append(chr(int(digits, 16)) if len(digits) == width else "")
            except ValueError as exc:
                raise lexer.error(f"invalid escape \\{e}{digits}", pos) from exc
            if len(digits) != width:
                raise lexer.error(f"invalid escape \\{e}{digits}", pos)
            i += 2 + width
        elif e and e in "01234567":
            digits = body[i + 1 : i + 4]
            try:
                out.append(chr(int(digits, 8)))
            except ValueError as exc:
                raise lexer.error(f"invalid escape \\{digits}", pos) from exc
            i += 4
        else:
            raise lexer.error(f"invalid escape \\{e}", pos)
    return "".join(out)


# ---------------------------------------------------------------- nodes


@dataclass
class Node:
    pos: int


@dataclass
class Text(Node):
    text: str


@dataclass
class ListNode(Node):
    nodes: list[Node]


@dataclass
class Field(Node):
    names: list[str]

    def __str__(self) -> str:
        return "".join("." + n for n in self.names)


@dataclass
class Variable(Node):
    name: str
    names: list[str]

    def __str__(self) -> str:
        return self.name + "".join("." + n for n in self.names)


@dataclass
class Chain(Node):
    node: Node
    names: list[str]

    def __str__(self) -> str:
        return f"{self.node}" + "".join("." + n for n in self.names)


@dataclass
class Identifier(Node):
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass
class Dot(Node):
    def __str__(self) -> str:
        return "."


@dataclass
class Nil(Node):
    def __str__(self) -> str:
        return "nil"


@dataclass
class Literal(Node):
    value: Any
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Command(Node):
    args: list[Node]

    def __str__(self) -> str:
        return " ".join(str(a) for a in self.args)


@dataclass
class Pipe(Node):
    decl: list[str]
    is_assign: bool
    cmds: list[Command]

    def __str__(self) -> str:
        text = " | ".join(str(c) for c in self.cmds)
        if self.decl:
            op = "=" if self.is_assign else ":="
            text = f"{', '.join(self.decl)} {op} {text}"
        return text


@dataclass
class Parens(Node):
    pipe: Pipe

    def __str__(self) -> str:
        return f"({self.pipe})"


@dataclass
class Action(Node):
    pipe: Pipe


@dataclass
class Branch(Node):
    kind: str  # if, with, range
    pipe: Pipe
    body: ListNode
    else_body: ListNode | None


@dataclass
class TemplateCall(Node):
    name: str
    pipe: Pipe | None


@dataclass
class Break(Node):
    pass


@dataclass
class Continue(Node):
    pass


@dataclass(frozen=True)
class Tree:
    """A parsed template body and the file it came from."""

    name: str
    root: ListNode
    source: Source


# ---------------------------------------------------------------- parser


@dataclass
class _End:
    pos: int


@dataclass
class _Else:
    pos: int
    chained: str | None  # "if" / "with" when `{{else if ...}}`


class _Parser:
    def __init__(self, src: Source, funcs: frozenset[str]) -> None:
        self.src = src
        self.funcs = funcs
        self.tokens = _Lexer(src).run()
        self.i = 0
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.defines: dict[str, Tree] = {}

    def error(self, message: str, pos: int) -> TemplateError:
        return TemplateError(message, where=self.src.where(pos))

    # token stream
    def next(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def peek(self) -> Token:
        return self.tokens[self.i]

    def next_non_space(self) -> Token:
        tok = self.next()
        while tok.kind == "space":
            tok = self.next()
        return tok

    def peek_non_space(self) -> Token:
        j = self.i
        while self.tokens[j].kind == "space":
            j += 1
        return self.tokens[j]

    def expect(self, kind: str, context: str) -> Token:
        tok = self.next_non_space()
        if tok.kind != kind:
            raise self.error(f"unexpected {_describe(tok)} in {context}", tok.pos)
        return tok

    # structure
    def parse(self) -> ListNode:
        root = ListNode(0, [])
        while self.peek().kind != "eof":
            tok = self.peek()
            if tok.kind == "ldelim":
                j = self.i + 1
                while self.tokens[j].kind == "space":
                    j += 1
                if self.tokens[j].kind == "keyword" and self.tokens[j].val == "define":
                    self.i = j + 1
                    self.definition(tok.pos)
                    continue
            node = self.text_or_action()
            if isinstance(node, (_End, _Else)):
                raise self.error(f"unexpected {{{{{_word(node)}}}}}", node.pos)
            root.nodes.append(node)
        return root

    def definition(self, pos: int) -> None:
        name_tok = self.expect("string", "define clause")
        self.expect("rdelim", "define clause")
        saved_vars, self.vars = self.vars, ["$"]
        body, end = self.item_list("define", pos)
        if not isinstance(end, _End):
            raise self.error("unexpected {{else}} in define", end.pos)
        self.vars = saved_vars
        self.defines[name_tok.val] = Tree(name_tok.val, body, self.src)

    def item_list(self, opened: str, at: int) -> tuple[ListNode, _End | _Else]:
        body = ListNode(self.peek().pos, [])
        while True:
            tok = self.peek()
            if tok.kind == "eof":
                line_col = self.src.where(at).removeprefix(self.src.name + ":")
                raise self.error(
                    f"unexpected EOF: the {{{{{opened}}}}} at {line_col} has no {{{{end}}}}",
                    tok.pos,
                )
            node = self.text_or_action()
            if isinstance(node, (_End, _Else)):
                return body, node
            body.nodes.append(node)

    def text_or_action(self) -> Node | _End | _Else:
        tok = self.next()
        if tok.kind == "text":
            return Text(tok.pos, tok.val)
        if tok.kind == "ldelim":
            return self.action()
        raise self.error(f"unexpected {_describe(tok)}", tok.pos)

    def action(self) -> Node | _End | _Else:
        tok = self.next_non_space()
        if tok.kind == "keyword":
            word = tok.val
            if word == "end":
                self.expect("rdelim", "end")
                return _End(tok.pos)
            if word == "else":
                nxt = self.peek_non_space()
                if nxt.kind == "keyword" and nxt.val in ("if", "with"):
                    return _Else(tok.pos, nxt.val)
                self.expect("rdelim", "else")
                return _Else(tok.pos, None)
            if word in ("if", "with", "range"):
                return self.control(word, tok.pos)
            if word in ("template", "block"):
                return self.template(word, tok.pos)
            if word in ("break", "continue"):
                if self.range_depth == 0:
                    raise self.error(f"{{{{{word}}}}} outside {{{{range}}}}", tok.pos)
                self.expect("rdelim", word)
                return Break(tok.pos) if word == "break" else Continue(tok.pos)
            raise self.error(f"unexpected {word}", tok.pos)
        self.i -= 1
        pipe = self.pipeline("command", "rdelim")
        return Action(tok.pos, pipe)

    def control(self, kind: str, pos: int) -> Branch:
        mark = len(self.vars)
        pipe = self.pipeline(kind, "rdelim")
        if kind == "range":
            self.range_depth += 1
        body, end = self.item_list(kind, pos)
        if kind == "range":
            self.range_depth -= 1
        else_body: ListNode | None = None
        if isinstance(end, _Else):
            if end.chained is not None and end.chained == kind:
                self.next_non_space()  # the `if`/`with` of `else if`
                else_body = ListNode(end.pos, [self.control(kind, end.pos)])
            elif end.chained is not None:
                raise self.error(f"unexpected else {end.chained} in {kind}", end.pos)
            else:
                else_body, end2 = self.item_list(kind, pos)
                if not isinstance(end2, _End):
                    raise self.error("expected end; found {{else}}", end2.pos)
        del self.vars[mark:]
        return Branch(pos, kind, pipe, body, else_body)

    def template(self, word: str, pos: int) -> Node:
        tok = self.next_non_space()
        if tok.kind != "string":
            raise self.error(f"unexpected {_describe(tok)} in {word} clause", tok.pos)
        pipe: Pipe | None = None
        if self.peek_non_space().kind != "rdelim":
            pipe = self.pipeline(word, "rdelim")
        else:
            self.next_non_space()
        if word == "block":
            saved_vars, self.vars = self.vars, ["$"]
            body, end = self.item_list("block", pos)
            self.vars = saved_vars
            if not isinstance(end, _End):
                raise self.error("unexpected {{else}} in block", end.pos)
            self.defines[tok.val] = Tree(tok.val, body, self.src)
        return TemplateCall(pos, tok.val, pipe)

    def pipeline(self, context: str, end: str) -> Pipe:
        pos = self.peek_non_space().pos
        decl: list[str] = []
        is_assign = False
        while True:
            tok = self.peek_non_space()
            if tok.kind != "var":
                break
            start = self.i
            self.next_non_space()
            nxt = self.peek_non_space()
            if nxt.kind in ("declare", "assign"):
                self.next_non_space()
                is_assign = nxt.kind == "assign"
                if is_assign and tok.val not in self.vars:
                    raise self.error(f"undefined variable {tok.val!r}", tok.pos)
                decl.append(tok.val)
                break
            if nxt.kind == "comma":
                self.next_non_space()
                decl.append(tok.val)
                if context != "range" or len(decl) >= 2:
                    raise self.error(f"too many declarations in {context}", nxt.pos)
                if self.peek_non_space().kind != "var":
                    raise self.error("range can only initialize variables", nxt.pos)
                continue
            self.i = start
            break
        cmds: list[Command] = []
        while True:
            tok = self.peek_non_space()
            if tok.kind == end:
                self.next_non_space()
                break
            if tok.kind in ("rdelim", "rparen", "eof"):
                raise self.error(f"unexpected {_describe(tok)} in {context}", tok.pos)
            cmds.append(self.command(end))
        if not cmds:
            raise self.error(f"missing value for {context}", pos)
        for i, cmd in enumerate(cmds[1:], 1):
            first = cmd.args[0]
            if isinstance(first, (Literal, Nil, Dot)) and not isinstance(first, Identifier):
                raise self.error(f"non executable command in pipeline stage {i + 1}", cmd.pos)
        if not is_assign:
            self.vars.extend(decl)
        return Pipe(pos, decl, is_assign, cmds)

    def command(self, end: str) -> Command:
        pos = self.peek_non_space().pos
        args: list[Node] = []
        while True:
            self._skip_space()
            args.append(self.operand())
            tok = self.peek()
            if tok.kind == "space":
                self._skip_space()
                nxt = self.peek()
                if nxt.kind == "pipe":
                    self.next()
                    break
                if nxt.kind in (end, "rdelim", "rparen"):
                    break
                continue
            if tok.kind == "pipe":
                self.next()
                break
            if tok.kind in (end, "rdelim", "rparen"):
                break
            raise self.error(f"unexpected {_describe(tok)} in operand", tok.pos)
        return Command(pos, args)

    def _skip_space(self) -> None:
        while self.peek().kind == "space":
            self.next()

    def operand(self) -> Node:
        node = self.term()
        if self.peek().kind != "field":
            return node
        names: list[str] = []
        while self.peek().kind == "field":
            names.append(self.next().val[1:])
        if isinstance(node, Field):
            return Field(node.pos, node.names + names)
        if isinstance(node, Variable):
            return Variable(node.pos, node.name, node.names + names)
        if isinstance(node, (Literal, Nil, Dot)):
            raise self.error(f"unexpected . after term {node}", node.pos)
        return Chain(node.pos, node, names)

    def term(self) -> Node:
        tok = self.next()
        kind = tok.kind
        if kind == "ident":
            if tok.val not in self.funcs:
                raise self.error(f'function "{tok.val}" not defined', tok.pos)
            return Identifier(tok.pos, tok.val)
        if kind == "dot":
            return Dot(tok.pos)
        if kind == "nil":
            return Nil(tok.pos)
        if kind == "var":
            if tok.val not in self.vars:
                raise self.error(f'undefined variable "{tok.val}"', tok.pos)
            return Variable(tok.pos, tok.val, [])
        if kind == "field":
            return Field(tok.pos, [tok.val[1:]])
        if kind == "bool":
            return Literal(tok.pos, tok.val == "true", tok.val)
        if kind == "string":
            return Literal(tok.pos, tok.val, _go_quote_src(tok.val))
        if kind == "char":
            return Literal(tok.pos, ord(tok.val), repr(tok.val))
        if kind == "number":
            return Literal(tok.pos, self.number(tok), tok.val)
        if kind == "lparen":
            pipe = self.pipeline("parenthesized pipeline", "rparen")
            return Parens(tok.pos, pipe)
        raise self.error(f"unexpected {_describe(tok)} in operand", tok.pos)

    def number(self, tok: Token) -> int | float:
        text = tok.val.replace("_", "")
        try:
            lowered = text.lower().lstrip("+-")
            if lowered.startswith(("0x", "0o", "0b")) and "." not in lowered:
                return int(text, 0)
            if any(c in text for c in ".eE"):
                return float(text)
            return int(text, 10)
        except ValueError as exc:
            raise self.error(f"illegal number syntax: {tok.val!r}", tok.pos) from exc


def _describe(tok: Token) -> str:
    names = {"rdelim": '"}}"', "eof": "EOF", "rparen": '")"', "lparen": '"("', "space": "space"}
    return names.get(tok.kind, f"<{tok.val}>")


def _word(node: _End | _Else) -> str:
    return "end" if isinstance(node, _End) else "else"


def _go_quote_src(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def parse(src: Source, funcs: frozenset[str]) -> tuple[Tree, dict[str, Tree]]:
    """The file's own tree and the templates it defines (`define`, `block`)."""
    parser = _Parser(src, funcs)
    root = parser.parse()
    return Tree(src.name, root, src), parser.defines
