"""Sticky comments: one per experiment, found again by a hidden marker and its author.

The marker is an HTML comment, invisible in rendered markdown on GitHub and
GitLab alike, that carries the comment key; a run finds its own comment by it
and edits it in place instead of adding a new one per push. Anyone who may
comment can copy the marker, so a comment counts only when the token's own
identity wrote it: a planted marker can neither have the report written under
someone else's name nor block its updates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9._/@+=-]")
T = TypeVar("T")


def normalize_key(key: str) -> str:
    """A key safe inside an HTML comment (no `--`, no `>`), still readable."""
    cleaned = _KEY_UNSAFE.sub("_", key.strip()) or "default"
    while "--" in cleaned:
        cleaned = cleaned.replace("--", "-")
    return cleaned


def marker(key: str) -> str:
    return f"<!-- iter8-py:comment key={normalize_key(key)} -->"


def with_marker(body: str, key: str) -> str:
    """The comment body as posted: the marker on its own first line, then the report."""
    return f"{marker(key)}\n{body}"


def find_marked(comments: Iterable[T], key: str, *, mine: Callable[[T], bool]) -> T | None:
    """The first comment (anything with a `body`) that carries the marker of `key` and
    that `mine` says this token wrote."""
    wanted = marker(key)
    for comment in comments:
        if wanted in str(getattr(comment, "body", "") or "") and mine(comment):
            return comment
    return None
