"""The exit codes of every `iter8` command, defined once (docs/reference/exit-codes.md is
generated from this)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    """Success: the experiment ran and every requested condition holds."""
    CONDITION_FAILED = 1
    """An assertion or SLO failed (`iter8 assert`, or a gating run)."""
    INVALID_INPUT = 2
    """Invalid input: the experiment or result file, the action inputs, the flags, or an
    output path that cannot be written; nothing ran."""
    TASK_FAILED = 3
    """A task failed at run time; the result file says which and why."""
    INTERNAL_ERROR = 4
    """A bug in iter8-py (an unexpected exception); the message asks for a report."""
    INTERRUPTED = 130
    """Stopped by SIGINT or SIGTERM (128 + SIGINT, as shells do); the result holds what finished."""
