from __future__ import annotations

import io
import logging

from iter8_action.core.logs import get_logger, setup_logging
from iter8_action.core.secrets import SecretRegistry
from iter8_action.load.progress import ProgressLine


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_registry_masks_longest_first_and_tells_listeners_once() -> None:
    registry = SecretRegistry()
    heard: list[str] = []
    registry.add("abc")
    registry.on_new(heard.append)
    registry.add("abcdef")
    registry.add("abcdef")
    registry.add("ab")
    registry.add(None)
    assert heard == ["abc", "abcdef"]
    assert registry.redact("x abcdef y abc z ab") == "x *** y *** z ab"


def test_plain_log_lines_are_timestamped_and_redacted() -> None:
    from iter8_action.core.secrets import SECRETS

    stream = io.StringIO()
    setup_logging("debug", stream)
    SECRETS.add("hunter22")
    try:
        get_logger("x").debug("password is %s", "hunter22")
    finally:
        SECRETS.clear()
    line = stream.getvalue()
    assert line.endswith(" DEBUG   password is ***\n")
    assert line[:4].isdigit() and line[19] == "Z"


def test_terminal_log_lines_are_short() -> None:
    stream = _TTY()
    setup_logging("info", stream)
    get_logger().info("hello")
    get_logger().warning("careful")
    get_logger().debug("hidden")
    assert stream.getvalue() == "hello\nwarning: careful\n"
    setup_logging("info", io.StringIO())


def test_progress_on_a_terminal_and_in_ci() -> None:
    tty = _TTY()
    progress = ProgressLine("load", stream=tty)
    progress.update("10 sent", force=True)
    progress.update("11 sent")  # rate-limited
    progress.close()
    assert tty.getvalue() == "\r\x1b[2Kload: 10 sent\r\x1b[2K"
    stream = io.StringIO()
    setup_logging("info", stream)
    plain = ProgressLine("load", stream=io.StringIO())
    plain.update("5 sent", force=True)
    plain.close()
    assert stream.getvalue().endswith("INFO    load: 5 sent\n")
    assert logging.getLogger("iter8").propagate is False
