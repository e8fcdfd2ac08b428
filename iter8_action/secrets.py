"""Secrets: registered once, masked everywhere.

Every secret value (a token, an auth header read from the environment) is
registered here before anything can print it. The log handlers redact them, the
result and reports never contain them, and the CI platform is told to mask them
(GitHub's `::add-mask::`) through a listener.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

MASK = "***"
_MIN_SECRET_LEN = 3  # masking "a" or "" would shred every log line


class SecretRegistry:
    def __init__(self) -> None:
        self._values: set[str] = set()
        self._listeners: list[Callable[[str], None]] = []
        self._lock = threading.Lock()

    def add(self, value: str | None) -> None:
        """Register a secret; each listener hears of it once."""
        if value is None or len(value) < _MIN_SECRET_LEN:
            return
        with self._lock:
            if value in self._values:
                return
            self._values.add(value)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(value)

    def on_new(self, listener: Callable[[str], None]) -> None:
        """Call `listener` for each secret registered from now on, and for those already known."""
        with self._lock:
            self._listeners.append(listener)
            known = sorted(self._values)
        for value in known:
            listener(value)

    def redact(self, text: str) -> str:
        # Longest first, so a secret that contains another is masked whole.
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, MASK)
        return text

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._listeners.clear()


SECRETS = SecretRegistry()
"""The process-wide registry (it holds no secret until one is added)."""
