"""Hostile text and the checks that it stayed data: in a CI log, in markdown, in HTML.

What the GitHub runner reads as a command (actions/runner, `ActionCommand.cs`):
a line that starts with `::` after `TrimStart()`, or `##[name]` anywhere in a
line; lines end at CR, LF or CRLF (`StreamReader.ReadLine`).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt

from tests.support.paths import RESULTS

FIXTURES = RESULTS
"""Result documents to make hostile (`tests/fixtures/results`)."""
HOSTILE = (
    "x\r::warning::forged-by-cr\n::set-output name=verdict::passed"
    "\u2028::error::forged-by-ls\u2029::notice::forged-by-ps\x85::debug::forged-by-nel"
    "\x0b::group::forged-by-vt\x0c::endgroup::forged-by-ff ##[add-mask]forged-legacy"
    " \x1b[31mred\x1b[0m \x9b31m"
)
HOSTILE_MARKUP = (
    '@admin <img src="https://evil.example/x.png"> [click](https://evil.example) '
    "![i](https://evil.example/i.png) **bold** <script>alert(1)</script> www.evil.example "
    '" onmouseover="alert(1)'
)
OWN_COMMANDS = {"add-mask", "error", "warning", "notice", "group", "endgroup"}
OWN_PROPERTIES = {"title", "file", "line"}
RAW_CONTROLS = ("\x0b", "\x0c", "\x1b", "\x85", "\x9b", "\u2028", "\u2029")


def runner_lines(text: str) -> list[str]:
    """The lines as the runner's `StreamReader.ReadLine` splits them."""
    return re.split(r"\r\n|\r|\n", text)


def assert_no_forged_command(out: str) -> None:
    """Every `::` line is one of the job's own commands, with only its own properties."""
    for line in runner_lines(out):
        trimmed = line.lstrip()
        if trimmed.startswith("::"):
            name, _, properties = trimmed.split("::", 2)[1].partition(" ")
            assert name in OWN_COMMANDS, line
            keys = {p.partition("=")[0] for p in properties.split(",") if p}
            assert keys <= OWN_PROPERTIES, line
        assert "##[" not in line, line
    for char in RAW_CONTROLS:
        assert char not in out, repr(char)


def hostile_result(path: Path, text: str = HOSTILE, *, status: str = "failed") -> dict[str, Any]:
    """The failed-run fixture with `text` in every field the job logs, annotates or reports
    (and `status` as the failed task's status)."""
    document: dict[str, Any] = yaml.safe_load((FIXTURES / "failed-run.yaml").read_text())
    result = document["result"]
    result["insights"]["versionNames"] = [f"v1{text}", f"v2{text}"]
    result["failureReason"] = f"task 1 (http) failed: {text}"
    result["tasks"][1]["task"] = f"http{text}"
    result["tasks"][1]["status"] = status
    result["tasks"][1]["error"] = text
    result["startTime"] = text
    result["iter8Version"] = text
    document["metadata"]["name"] = text
    document["spec"][0]["with"]["headers"] = {text: text}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return document


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def html_elements(page: str) -> tuple[list[tuple[str, dict[str, str | None]]], list[str]]:
    """Every start tag with its attributes, and every comment, as html.parser reads them."""
    parser = _Elements()
    parser.feed(page)
    parser.close()
    return parser.elements, parser.comments


MARKDOWN_OWN_TAGS = {"details", "summary", "sub"}
MARKER_COMMENT = re.compile(r"^ iter8-py:comment key=[\w.@+=/-]+ $")


def assert_markdown_is_ours(text: str) -> None:
    """`text` parses (CommonMark + GFM tables) into no HTML, link, image or mention of its own."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    raw_html = [t.content for t in tokens if t.type == "html_block"]
    inline = [c for t in tokens for c in t.children or []]
    raw_html += [c.content for c in inline if c.type == "html_inline"]
    elements, comments = html_elements("".join(raw_html))
    assert {tag for tag, _ in elements} <= MARKDOWN_OWN_TAGS, elements
    assert all(attrs in ({}, {"open": None}) for _, attrs in elements), elements
    assert all(MARKER_COMMENT.match(c) for c in comments), comments
    kinds = {c.type for c in inline}
    assert not kinds & {"image", "link_open"}, kinds
    words = " ".join(c.content for c in inline if c.type == "text")
    assert not re.search(r"@\w", words), words  # a mention needs a word character after `@`
    assert not re.search(r"(?i)://|www\.", words), words  # GFM would autolink these


OWN_ATTRIBUTES = {"class", "id", "title", "lang", "charset", "name", "content", "type"}
OWN_ATTRIBUTES |= {"data-verdict"}
OWN_CLASSES = {"banner", "good", "bad", "warn", "num", "chart", "satisfied", "violated"}
OWN_CLASSES |= {"no-data", "not-applicable", "status-other"}
OWN_CLASSES |= {f"status-{s}" for s in ("completed", "skipped", "failed", "running")}
OWN_CLASSES |= {f"status-{s}" for s in ("pending", "not-run")}


def assert_html_is_ours(elements: list[tuple[str, dict[str, Any]]]) -> None:
    """Only the attributes and classes the renderer writes, and only its two scripts."""
    for tag, attrs in elements:
        assert set(attrs) <= OWN_ATTRIBUTES, (tag, attrs)
        assert set((attrs.get("class") or "").split()) <= OWN_CLASSES, (tag, attrs)
    assert [tag for tag, _ in elements].count("script") <= 2
    assert not [tag for tag, _ in elements if tag in ("img", "a", "iframe", "object")]
