"""Text bound for a CI log, made inert: data never becomes a runner command.

The GitHub runner reads every line a step prints (`ActionCommandManager`):

- a line is a workflow command when it starts with `::` once leading
  whitespace is trimmed (`ActionCommand.TryParseV2`, `message.TrimStart()`);
- the legacy form `##[name ...]data` is a command *anywhere* in a line
  (`ActionCommand.TryParse`, `message.IndexOf("##[")`), tried when V2 fails;
- lines end at CR, LF or CRLF (.NET `StreamReader.ReadLine`).

GitLab's log viewer reads ANSI sequences and the collapsible-section markers
`section_start:<time>:<name>\\r\\e[0K`, which need ESC and CR.

So data is escaped once, here, by `inert` (one line, no control character, no
`##[`), and every line a log shows goes through `log_text` (each line inert,
none starting with `::`). The log formatter, the platforms' writers and the
report renderers (which `iter8 report` may print in a CI step) all use them;
the JSON and JUnit reports, which must keep their content exact, write the
same characters as their own escapes instead.
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls but TAB, DEL, C1 controls (NEL U+0085 and CSI U+009B among them), the Unicode
# line and paragraph separators, and lone surrogates (which no UTF-8 stream can carry).
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NAMED = {"\r": "\\r", "\n": "\\n"}
LEGACY_COMMAND = "##["
WORKFLOW_COMMAND = "::"


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def inert(text: str) -> str:
    """`text` as one inert line: controls, separators and lone surrogates written as
    escapes (`\\n`, `\\x1b`, `\\u2028`), and `##[` broken as `##\\[`."""
    return _CONTROL.sub(_escape, text).replace(LEGACY_COMMAND, "##\\[")


def encodable(text: str) -> str:
    """`text` with only its lone surrogates escaped: what a UTF-8 file (an output, a dotenv
    report) can hold of a value that must otherwise stay as it is."""
    return _SURROGATE.sub(_escape, text)


def starts_a_command(line: str) -> bool:
    """Whether the runner would read `line` as a `::` workflow command: `::` first, after
    whitespace (and invisible format characters, which some trims also drop)."""
    head, sep, _ = line.partition(WORKFLOW_COMMAND)
    return bool(sep) and all(c.isspace() or unicodedata.category(c) == "Cf" for c in head)


def no_command(line: str) -> str:
    """`line`, with a backslash in front when the runner would read it as a `::` command."""
    return "\\" + line if starts_a_command(line) else line


def log_line(text: str) -> str:
    """One line of a log built from data: `inert`, and never a `::` command."""
    return no_command(inert(text))


def log_text(text: str) -> str:
    """Text for a log that may span lines (its LFs are kept): each line is a `log_line`."""
    return "\n".join(log_line(line) for line in text.split("\n"))
