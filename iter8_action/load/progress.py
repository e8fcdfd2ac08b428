"""Progress of long tasks: the load generators' running totals, and the line that shows them
(live on a terminal, every few seconds in CI)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TextIO

from iter8_action.core.logs import get_logger


@dataclass(frozen=True)
class LoadProgress:
    """Totals so far over every stream of a load test, as both load generators (HTTP and
    gRPC) report them while they run: requests or calls sent, and errors."""

    sent: int
    errors: int


CI_INTERVAL_S = 5.0
TTY_INTERVAL_S = 0.2


class ProgressLine:
    """Rate-limited progress reporting; `update` is cheap enough to call per batch."""

    def __init__(self, label: str, *, stream: TextIO | None = None) -> None:
        self._label = label
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty()
        self._interval = TTY_INTERVAL_S if self._tty else CI_INTERVAL_S
        self._last = time.monotonic()
        self._shown = False

    def update(self, text: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self._interval:
            return
        self._last = now
        if self._tty:
            self._stream.write(f"\r\x1b[2K{self._label}: {text}")
            self._stream.flush()
            self._shown = True
        else:
            get_logger().info("%s: %s", self._label, text)

    def close(self) -> None:
        if self._tty and self._shown:
            self._stream.write("\r\x1b[2K")
            self._stream.flush()
