"""The interface every CI platform implements, and what a comment attempt returns."""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TextIO, TypedDict, Unpack

from iter8_action.core.errors import Iter8Error


class CommentAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class CommentOutcome:
    """What happened to the sticky comment; `detail` is a sentence for the log."""

    action: CommentAction
    detail: str
    url: str | None = None


class AnnotationLevel(StrEnum):
    """How a message about the run is shown (GitHub's workflow commands have these three)."""

    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"


@dataclass(frozen=True)
class Annotation:
    """A message about the run, located in a file where possible."""

    level: AnnotationLevel
    message: str
    title: str | None = None
    file: str | None = None
    line: int | None = None


class Where(TypedDict, total=False):
    """Where a message points, as keyword arguments of `Platform.error` and its siblings."""

    title: str | None
    file: str | None
    line: int | None


def located(note: Annotation) -> str:
    """`file:line: title: message`, leaving out the parts `note` does not have."""
    file, line = note.file, note.line
    where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
    head = f"{note.title}: " if note.title else ""
    return f"{where}{head}{note.message}"


class CommentFailed(Iter8Error):
    """The comment could not be posted; the run's verdict does not depend on it."""


class Platform(ABC):
    """One CI platform (or none: a plain terminal)."""

    name: str = "terminal"

    def __init__(self, *, out: TextIO | None = None) -> None:
        self._out = out
        self._token = ""

    def set_token(self, token: str) -> None:
        """The API token for comments (read from the inputs, after the platform is known)."""
        self._token = token

    @property
    def out(self) -> TextIO:
        """Where workflow commands and logs go (looked up late, so tests can swap stdout)."""
        return self._out or sys.stdout

    @property
    def log_stream(self) -> TextIO:
        """Where the run's log lines go."""
        return self.out

    def error(self, message: str, **where: Unpack[Where]) -> None:
        """Report an error (an annotation where the platform has them)."""
        self._report(Annotation(AnnotationLevel.ERROR, message, **where))

    def warning(self, message: str, **where: Unpack[Where]) -> None:
        """Report a warning."""
        self._report(Annotation(AnnotationLevel.WARNING, message, **where))

    def notice(self, message: str, **where: Unpack[Where]) -> None:
        """Report something worth seeing that is not a problem."""
        self._report(Annotation(AnnotationLevel.NOTICE, message, **where))

    def annotate(self, note: Annotation) -> None:
        """Report `note` at its level."""
        self._report(note)

    @abstractmethod
    def _report(self, note: Annotation) -> None:
        """Show `note` the platform's way."""

    def run_url(self) -> str | None:
        """The page of this CI run (where the artifacts are), for the comment's footer."""
        return None

    @abstractmethod
    def mask(self, secret: str) -> None:
        """Ask the platform to hide `secret` from its logs from now on."""

    @abstractmethod
    def set_output(self, name: str, value: str) -> None:
        """Make `value` available to later steps or jobs under `name`."""

    @abstractmethod
    def write_summary(self, markdown: str) -> None:
        """Show a markdown summary of the run where the platform shows one."""

    @abstractmethod
    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """Fold the log lines written inside the block under `title`."""
        yield

    @abstractmethod
    def post_comment(self, *, key: str, body: str, create: bool = True) -> CommentOutcome:
        """Create or update the sticky comment for `key` on the pull or merge request.

        With `create=False` an existing comment is updated but none is created
        (a comment "on failure" must not keep showing an old failure once the
        experiment passes). Raises `CommentFailed` with a user-facing message.
        """
