"""Work on untrusted data in a forked child process, bounded in time and memory.

Some work on data from an experiment or a chart cannot be interrupted from inside:
a regular expression that backtracks without end, or `9**(9**10)`, is one C call
that no signal handler and no cooperative clock reaches in time. Such work runs in
a forked child with a cap on how far its address space may grow; the parent waits
at most `timeout_s` for its answer and kills it past that, so the run, and SIGTERM,
are never held up. The answer travels as JSON on a pipe: data, never code.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn


@dataclass(frozen=True)
class Finished:
    """The work returned `value` (what JSON carries of it)."""

    value: Any


@dataclass(frozen=True)
class Refused:
    """The work raised one of the exceptions it was allowed to raise; its message."""

    kind: type[Exception]
    message: str


@dataclass(frozen=True)
class TooSlow:
    """No answer within the time allowed; the child was killed."""

    timeout_s: float


@dataclass(frozen=True)
class Died:
    """The child ended without an answer (`how`: a signal, e.g. out of memory)."""

    how: str


Outcome = Finished | Refused | TooSlow | Died


def run_bounded(
    work: Callable[[], Any],
    *,
    timeout_s: float,
    memory_bytes: int,
    refusals: tuple[type[Exception], ...],
) -> Outcome:
    """`work()` in a forked child: at most `timeout_s` seconds and `memory_bytes` more
    address space. An exception of `refusals` is the answer `Refused`; any other is a
    bug, raised here as a RuntimeError. Without `fork` (not Linux or macOS) the work
    runs in this process, bounded only by its own limits."""
    if not hasattr(os, "fork"):
        return _in_process(work, refusals)
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: we exec nothing
        pid = os.fork()
    if pid == 0:
        _child(work, refusals, read_fd, write_fd, memory_bytes)
    os.close(write_fd)
    try:
        data = _read_all(read_fd, deadline=time.monotonic() + timeout_s)
    finally:
        os.close(read_fd)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if data is None:
        return TooSlow(timeout_s)
    if not data:
        return Died(f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else "no answer")
    answer = json.loads(data)
    if "value" in answer:
        return Finished(answer["value"])
    if "refused" in answer:
        return Refused(refusals[answer["refused"]], answer["message"])
    raise RuntimeError(f"work in a child process failed: {answer['bug']}")


def value_or_raise(
    outcome: Outcome,
    error: Callable[[str], Exception],
    *,
    too_slow: str,
    died: Callable[[str], str],
) -> Any:
    """The finished work's value; otherwise `error(message)` with the refusal's own message,
    `too_slow`, or `died(how)` (how the child ended). The messages hold data (a pattern, a
    name), so they are made by the caller, never by formatting a template here."""
    match outcome:
        case Finished(value):
            return value
        case Refused(_, message):
            raise error(message)
        case TooSlow():
            raise error(too_slow)
        case Died(how):
            raise error(died(how))


def _in_process(work: Callable[[], Any], refusals: tuple[type[Exception], ...]) -> Outcome:
    try:
        return Finished(work())
    except refusals as exc:
        return Refused(type(exc), str(exc))


def _child(
    work: Callable[[], Any],
    refusals: tuple[type[Exception], ...],
    read_fd: int,
    write_fd: int,
    memory_bytes: int,
) -> NoReturn:
    """Do the work, write the answer as JSON to `write_fd`, and exit without any cleanup."""
    try:
        os.close(read_fd)
        for sig in (signal.SIGINT, signal.SIGTERM):  # the parent's handlers are for the parent
            with contextlib.suppress(ValueError):  # not the main thread: nothing to reset
                signal.signal(sig, signal.SIG_DFL)
        _limit_memory(memory_bytes)
        answer: dict[str, Any]
        try:
            answer = {"value": work()}
        except refusals as exc:
            kind = next(i for i, refusal in enumerate(refusals) if isinstance(exc, refusal))
            answer = {"refused": kind, "message": str(exc)}
        except BaseException as exc:  # a bug: the parent raises it as one
            answer = {"bug": f"{type(exc).__name__}: {exc}"}
        data = json.dumps(answer).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view) :]
    finally:
        os._exit(0)


def _limit_memory(memory_bytes: int) -> None:
    """Let the child's address space grow by `memory_bytes` at most."""
    try:
        import resource

        pages = Path("/proc/self/statm").read_text(encoding="ascii").split()[0]
        size = int(pages) * os.sysconf("SC_PAGE_SIZE")
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = size + memory_bytes
        if hard == resource.RLIM_INFINITY or limit <= hard:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError, ImportError):
        pass  # no /proc (macOS): time stays bounded


def _read_all(fd: int, *, deadline: float) -> bytes | None:
    """Everything written to the pipe `fd` until it closes, or None past `deadline`."""
    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
