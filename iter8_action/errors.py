"""The exceptions of iter8-py.

One root, a short tree; each carries the context needed to point at the spot::

    Iter8Error                  root: str(e) is a complete, user-facing message
    ├── InputError              bad input; exit code 2
    │   └── ExperimentInvalid   an experiment file with one or more Problems
    │                           (file, line, JSON path, message)
    ├── TaskFailed              a task failed at run time; exit code 3
    │                           (task index and name, the reason)
    └── Interrupted             SIGINT/SIGTERM arrived; exit code 130

An SLO verdict is a result, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass

from iter8_action.exitcodes import ExitCode


class Iter8Error(Exception):
    """Root of every error that iter8-py raises on purpose."""

    exit_code: ExitCode = ExitCode.TASK_FAILED


class InputError(Iter8Error):
    """The user's input (file, flag, action input) is invalid."""

    exit_code = ExitCode.INVALID_INPUT


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as we can."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ExperimentInvalid(InputError):
    """An experiment (or another input file) failed to load or validate."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))


class TaskFailed(Iter8Error):
    """A task could not do its job; `reason` says why in the user's terms."""

    exit_code = ExitCode.TASK_FAILED

    def __init__(self, reason: str, *, index: int | None = None, task: str | None = None) -> None:
        self.reason = reason
        self.index = index
        self.task = task
        super().__init__(self._message())

    def _message(self) -> str:
        if self.index is None:
            return self.reason
        return f"task {self.index} ({self.task}) failed: {self.reason}"

    def at(self, index: int, task: str) -> TaskFailed:
        """The same failure, located at a task of the experiment."""
        return TaskFailed(self.reason, index=index, task=task)


class Interrupted(Iter8Error):
    """The run was stopped by a signal."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self, signal_name: str | None = None) -> None:
        self.signal_name = signal_name
        super().__init__(f"interrupted by {signal_name}" if signal_name else "interrupted")
