"""The one escaping function for CI logs, and the log handler that applies it."""

from __future__ import annotations

import io

import pytest

from iter8_action.core.logs import get_logger, setup_logging
from iter8_action.core.logtext import encodable, inert, log_line, log_text, starts_a_command
from iter8_action.core.secrets import SECRETS


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ("a\r\nb", r"a\r\nb"),
        ("ls\u2028ps\u2029nel\x85", r"ls\u2028ps\u2029nel\x85"),
        ("vt\x0bff\x0cnul\x00del\x7f", r"vt\x0bff\x0cnul\x00del\x7f"),
        ("\x1b[31mred\x9b0m", r"\x1b[31mred\x9b0m"),
        ("lone \ud800 surrogate", r"lone \ud800 surrogate"),
        ("x ##[add-mask]y", r"x ##\[add-mask]y"),
        ("tab\tand é ✓ stay", "tab\tand é ✓ stay"),
    ],
)
def test_inert_escapes_every_control_separator_and_legacy_command(data: str, shown: str) -> None:
    assert inert(data) == shown


@pytest.mark.parametrize(
    "line",
    [
        "::warning::x",
        "  ::set-output name=a::b",
        "\u00a0\u3000::error::x",
        "\ufeff::stop-commands::t",
    ],
)
def test_a_line_that_the_runner_reads_as_a_command_gets_a_backslash(line: str) -> None:
    assert starts_a_command(line)
    assert log_line(line) == "\\" + line
    assert not starts_a_command(log_line(line))


def test_text_keeps_its_lines_but_none_starts_a_command() -> None:
    assert log_text("Fix:\n::warning::x\r\n  ok") == "Fix:\n\\::warning::x\\r\n  ok"
    assert log_text("a: ::b") == "a: ::b"  # `::` later in a line is no command


def test_log_arguments_are_escaped_and_redacted_before_they_are_formatted() -> None:
    stream = io.StringIO()
    setup_logging("debug", stream)
    SECRETS.add("multi\nline-secret")
    try:
        get_logger("x").info("version %s: %d requests", "v2\n::set-output name=a::b", 3)
        get_logger("x").info("token %s", "multi\nline-secret")
        get_logger("x").warning("from an f-string: %s\n::warning::%s", "a", "b")
    finally:
        SECRETS.clear()
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith(r" INFO    version v2\n::set-output name=a::b: 3 requests")
    assert lines[1].endswith(" INFO    token ***")
    assert lines[2].endswith(" WARNING from an f-string: a")
    assert lines[3] == "\\::warning::b"


def test_a_terminal_line_that_starts_with_data_cannot_be_a_command() -> None:
    stream = _TTY()
    setup_logging("info", stream)
    get_logger("x").info("%s", "::error::x\x1b[2J")
    assert stream.getvalue() == "\\::error::x\\x1b[2J\n"


def test_encodable_escapes_only_lone_surrogates() -> None:
    assert encodable("v2\ud800 \x1b ✓\n") == "v2\\ud800 \x1b ✓\n"
