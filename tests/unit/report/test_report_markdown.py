"""The markdown report, checked by parsing it (markdown-it-py, CommonMark plus GFM tables)."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token

from iter8_action.report import markdown, render
from iter8_action.report.model import build_report
from tests.support.results import load, make_document

HOSTILE_VERSION = "v1|</td><script>alert(1)</script>"
HOSTILE_METRIC = "evil/x|y <img src=x onerror=alert(1)> **bold** [link](http://e.vil.invalid)"


def _parse(text: str) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(text)


def _tables(tokens: list[Token]) -> list[list[list[str]]]:
    """Each table as rows of cell texts (header row first)."""
    tables: list[list[list[str]]] = []
    row: list[str] = []
    for i, token in enumerate(tokens):
        if token.type == "table_open":
            tables.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type in ("th_open", "td_open"):
            inline = tokens[i + 1]
            row.append(_plain(inline))
        elif token.type == "tr_close":
            tables[-1].append(row)
    return tables


def _plain(inline: Token) -> str:
    kinds = ("text", "text_special", "code_inline")
    return "".join(c.content for c in inline.children or [] if c.type in kinds)


def _html(tokens: list[Token]) -> list[str]:
    html = [t.content for t in tokens if t.type == "html_block"]
    for t in tokens:
        html += [c.content for c in t.children or [] if c.type == "html_inline"]
    return html


def test_three_versions_comment_structure() -> None:
    tokens = _parse(render(load("three-versions"), "markdown"))
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings == [
        "❌ SLOs failed: v3 · three-versions",
        "SLOs",
        "Rewards",
        "Metrics",
    ]
    slos, rewards, metrics, tasks, kinds, codes = _tables(tokens)
    assert slos[0] == ["SLO", "v1", "v2", "v3"]
    assert slos[2] == [
        "http/latency-p95 ≤ 100 msec",
        "✅ 36.88 msec",
        "✅ 29.29 msec",
        "❌ 112.8 msec",
    ]
    assert slos[3] == [
        "http/latency-mean ≤ v1 +50%",
        "➖ n/a",
        "✅ 18.45 msec",
        "❌ 53.80 msec",
    ]
    assert rewards[1] == [
        "http/latency-mean (lower is better)",
        "v2",
        "v2 vs v1",
        "-15.3%",
        "[-21.0%, -8.0%]",
        "0.00042 (Mann-Whitney U)",
        "yes",
    ]
    assert len(metrics) == 16 and all(len(r) == 4 for r in metrics)
    assert [r[2] for r in tasks] == ["Status", "✅ completed", "✅ completed", "✅ completed"]
    assert kinds[1:] == [["http-status", "2", "1", "9"]]
    assert codes[1:] == [["200", "298", "299", "291"], ["503", "2", "1", "9"]]
    blocks = _html(tokens)
    assert [b.split("\n")[0] for b in blocks if b.startswith("<details>")] == ["<details>"] * 4
    assert all(b.startswith(("<details>", "</details>", "<sub>", "</sub>")) for b in blocks)
    fence = next(t for t in tokens if t.type == "fence")
    assert fence.info == "yaml"
    assert fence.content.startswith("metadata:\n  name: three-versions\nspec:\n")


def test_every_fixture_parses_into_regular_tables() -> None:
    for name in ("one-version", "failed-run", "no-data", "winner", "no-winner", "in-progress"):
        for table in _tables(_parse(render(load(name), "markdown"))):
            assert len({len(row) for row in table}) == 1, name


def test_a_hostile_name_cannot_break_a_table_or_inject_html() -> None:
    document = make_document(
        [HOSTILE_VERSION, "# v2"], [HOSTILE_METRIC], slos=(HOSTILE_METRIC,), reason="- no\n# w"
    )
    document["result"]["tasks"][0]["error"] = "line one\n| --- |\n<b>x</b>"
    document["result"]["tasks"][0]["status"] = "failed"
    text = render(document, "markdown")
    tokens = _parse(text)
    for table in _tables(tokens):
        assert len({len(row) for row in table}) == 1
    slos = _tables(tokens)[0]
    assert slos[0] == ["SLO", HOSTILE_VERSION, "# v2"]
    # (a word joiner inside `://` keeps GFM from making a link of the URL)
    assert (
        slos[1][0] == f"{HOSTILE_METRIC.replace('://', ':' + markdown.WORD_JOINER + '//')} ≤ 100 ms"
    )
    rendered = MarkdownIt("commonmark").enable("table").render(text)
    assert "<script>" not in rendered
    assert "<img" not in rendered
    assert "<strong>bold" not in rendered
    assert 'href="http://e.vil.invalid"' not in rendered
    assert [t.type for t in tokens if t.type.startswith(("bullet", "heading"))] == [
        "heading_open",
        "heading_close",
        "heading_open",
        "heading_close",
        "heading_open",
        "heading_close",
    ]


def test_escape_and_escape_line() -> None:
    assert markdown.escape("a|b") == "a\\|b"
    assert markdown.escape("<b> & `x` *y* _z_ [l] ~s~ \\") == (
        "&lt;b&gt; &amp; \\`x\\` \\*y\\* \\_z\\_ \\[l\\] \\~s\\~ \\\\"
    )
    assert markdown.escape("two\nlines\t here") == "two lines here"
    assert markdown.escape("@octocat") == "@\u2060octocat"
    assert markdown.escape_line("# title") == "\\# title"
    assert markdown.escape_line("- item") == "\\- item"
    assert markdown.escape_line("12. item") == "12\\. item"
    assert markdown.escape_line("v1 is fine") == "v1 is fine"


def test_a_backtick_fence_in_the_experiment_gets_a_longer_fence() -> None:
    document = load("one-version")
    document["spec"].append({"run": "echo ```` done"})
    text = render(document, "markdown")
    fence = next(t for t in _parse(text) if t.type == "fence")
    assert fence.markup == "`````"
    assert "echo ```` done" in fence.content


def test_many_versions_and_metrics_stay_under_the_comment_limit() -> None:
    versions = [f"version-{i:02d}" for i in range(40)]
    metrics = [f"backend/metric-number-{i:03d}" for i in range(300)]
    report = build_report(make_document(versions, metrics, slos=tuple(metrics[:30])))
    full = markdown.render(report, limit=10_000_000)
    assert len(full) > markdown.GITHUB_COMMENT_LIMIT_CHARS
    text = markdown.render(report)
    assert len(text) <= markdown.DEFAULT_LIMIT_CHARS
    assert "<details>" not in text
    assert (
        "_Shortened to fit a 65,536-character comment: some metrics were left out. "
        "The HTML and JSON reports have everything._"
    ) in text
    tables = _tables(_parse(text))
    assert len(tables[0]) == 31  # every SLO still there
    shown = len(tables[1]) - 1
    assert 0 < shown < 300
    assert f"_… and {300 - shown} more metrics (left out to fit the comment)._" in text


def test_details_go_first_when_that_is_enough() -> None:
    report = build_report(load("three-versions"))
    full = markdown.render(report, limit=100_000)
    without = full[: full.index("<details>")]
    text = markdown.render(report, limit=len(without) + 300)
    assert "<details>" not in text
    assert "the collapsed sections were left out" in text
    assert len(_tables(_parse(text))[2]) == 16  # all metrics


def test_the_last_resort_cuts_whole_lines() -> None:
    versions = [f"a-rather-long-version-name-{i:04d}" for i in range(3000)]
    report = build_report(make_document(versions, ["x/m"], slos=("x/m",)))
    text = markdown.render(report)
    assert len(text) <= markdown.DEFAULT_LIMIT_CHARS
    assert text.endswith(
        "_Shortened to fit a 65,536-character comment: the report was cut here. "
        "The HTML and JSON reports have everything._\n"
    )
    assert text.startswith("### ✅ SLOs passed: a-rather-long-version-name-0000")
