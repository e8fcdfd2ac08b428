"""Logging: human lines on a terminal, timestamped plain lines elsewhere, secrets redacted.

A CI runner reads the log for commands, so every record is made inert here, at
the handler: its arguments (the data) are redacted and escaped onto one line
each before they are formatted in, and every line of the formatted record
(tracebacks included) goes through `logtext.log_text`.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

from iter8_action.core.logtext import inert, log_text
from iter8_action.core.secrets import SECRETS

LOGGER_NAME = "iter8"
LEVELS = ("debug", "info", "warning", "error")


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        args = record.args
        if args:
            record = logging.makeLogRecord(record.__dict__)
            record.args = _inert_args(args)
        return log_text(SECRETS.redact(super().format(record)))


def _inert_args(args: tuple[object, ...] | Mapping[str, object]) -> Any:
    """Arguments with every value but a number redacted and escaped (a number may meet `%d`)."""
    if isinstance(args, Mapping):
        return {key: _inert_arg(value) for key, value in args.items()}
    return tuple(_inert_arg(value) for value in args)


def _inert_arg(value: object) -> object:
    if isinstance(value, int | float):
        return value
    return inert(SECRETS.redact(str(value)))


class _UTCFormatter(_RedactingFormatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return time.strftime(datefmt or "%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))


def get_logger(name: str | None = None) -> logging.Logger:
    return logging.getLogger(LOGGER_NAME if name is None else f"{LOGGER_NAME}.{name}")


def setup_logging(level: str = "info", stream: TextIO | None = None) -> logging.Logger:
    """Configure the `iter8` logger for a command-line run (idempotent)."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    if stream.isatty():
        handler.setFormatter(_RedactingFormatter("%(levelname_short)s%(message)s"))
        handler.addFilter(_short_level)
    else:
        handler.setFormatter(
            _UTCFormatter("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%dT%H:%M:%SZ")
        )
    logger = get_logger()
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
    return logger


def _short_level(record: logging.LogRecord) -> bool:
    record.levelname_short = (
        "" if record.levelno == logging.INFO else f"{record.levelname.lower()}: "
    )
    return True
