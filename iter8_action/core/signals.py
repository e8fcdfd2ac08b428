"""SIGINT and SIGTERM, handled one way for a whole command or CI job.

`handling()` is entered once, around a whole `iter8` command (`cli.main.main`) or
CI job (`cli.job.main`); the engine enters it too, for callers that run an
experiment directly, and nested entries share the first. While it is active:

- the first signal sets the stop event (`StopEvent`, which remembers the
  signal's name) and raises `Interrupted(name)` in the main thread, which
  cuts a blocking call short (a sleep, a script's wait, an HTTP request);
- except while an asyncio loop runs in the main thread (the load
  generators): an exception raised there would surface inside one of the
  loop's callbacks, which asyncio logs as "Exception in callback ..." and
  swallows. The loops poll the stop event instead, return what they
  recorded, and the task raises `Interrupted(name)` itself (`check_stop`);
- later signals only set the event again: the first one's cleanup (the
  result file, the reports, the job's outputs) is not cut short, and the
  runner's SIGKILL remains the last word.

Both signals exit 130 (`ExitCode.INTERRUPTED`). A shell would report a
process killed by SIGTERM as 143, but the process is not killed: it stops
cleanly, writes what finished, and says which signal stopped it.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

from iter8_action.core.errors import Interrupted

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopEvent(threading.Event):
    """A stop request; `signal_name` says which signal made it, if one did."""

    signal_name: str | None = None

    def stop(self, signal_name: str | None = None) -> None:
        if self.signal_name is None:
            self.signal_name = signal_name
        self.set()


class _Handler:
    def __init__(self) -> None:
        self.event = StopEvent()
        self.watched: list[threading.Event] = []

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        stopping = self.event.is_set()
        self.event.stop(name)
        for event in self.watched:
            if isinstance(event, StopEvent):
                event.stop(name)
            else:
                event.set()
        if stopping or _loop_running():
            return
        raise Interrupted(name)


_active: _Handler | None = None


@contextlib.contextmanager
def handling(*, watch: threading.Event | None = None) -> Iterator[StopEvent]:
    """Handle SIGINT and SIGTERM as above until the block ends; yields the stop event.

    `watch` is an event of the caller's that a signal sets too. Outside the
    main thread (where Python delivers no signals) only the event is given.
    """
    global _active
    if _active is not None:
        outer = _active
        if watch is not None:
            outer.watched.append(watch)
        try:
            yield outer.event
        finally:
            if watch is not None:
                outer.watched.remove(watch)
        return
    if threading.current_thread() is not threading.main_thread():
        yield StopEvent()
        return
    handler = _Handler()
    if watch is not None:
        handler.watched.append(watch)
    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    _active = handler
    try:
        yield handler.event
    finally:
        _active = None
        for sig, old in previous.items():
            signal.signal(sig, old)


def _loop_running() -> bool:
    # asyncio is imported by what runs a loop; a command that never does need not load it
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
