"""A plain terminal (or an unknown CI): messages on stderr, outputs and summary as text."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from iter8_action.core.logtext import log_line, log_text
from iter8_action.core.secrets import SECRETS
from iter8_action.platforms.base import (
    Annotation,
    CommentAction,
    CommentOutcome,
    Platform,
    located,
)


class TerminalPlatform(Platform):
    name = "terminal"

    @property
    def log_stream(self) -> TextIO:
        return sys.stderr

    def _report(self, note: Annotation) -> None:
        sys.stderr.write(log_text(SECRETS.redact(f"{note.level}: {located(note)}")) + "\n")

    def mask(self, secret: str) -> None:
        # Nothing to tell a terminal: the log handlers already redact every
        # registered secret (iter8_action.core.secrets).
        return None

    def set_output(self, name: str, value: str) -> None:
        self.out.write(f"{name}: {log_line(SECRETS.redact(value))}\n")

    def write_summary(self, markdown: str) -> None:
        self.out.write(log_text(SECRETS.redact(markdown.rstrip("\n"))) + "\n")

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        sys.stderr.write(f"== {log_line(SECRETS.redact(title))}\n")
        yield

    def post_comment(self, *, key: str, body: str, create: bool = True) -> CommentOutcome:
        return CommentOutcome(
            CommentAction.SKIPPED, "no pull or merge request to comment on outside CI"
        )
