"""Secrets: registered once, masked everywhere.

Every secret value (a token, a credential in a URL or a header, a webhook URL)
is registered here before anything can print it: the loader registers those of
the whole experiment before the first task runs (each task module names its
own, see `TaskType.secrets`), and tasks add any they read later. The log
handlers redact them as `***` (as GitHub masks them); the result file and the
reports hold `(redacted)` instead, put into the data before it is serialised,
so every format stays valid. The CI platform is told to mask each secret
(GitHub's `::add-mask::`) through a listener.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

MASK = "***"
"""What a secret becomes in a log line (the runner's own mask)."""
REDACTED = "(redacted)"
"""What a secret becomes in data (result file, reports, comments).

Inert everywhere it lands: a YAML plain scalar may start with it (`***` is an
alias, `[x]` a flow sequence), and markdown, HTML, XML and JSON give none of
its characters a meaning.
"""
_MIN_SECRET_LEN = 3  # masking "a" or "" would shred every log line

SENSITIVE_NAME_WORDS = (
    "authorization",
    "auth",
    "cookie",
    "token",
    "secret",
    "key",
    "password",
    "passwd",
    "session",
    "signature",
    "credential",
)
"""A header, metadata key or query parameter whose name holds one of these carries a secret."""
_SCHEMES = frozenset({"basic", "bearer", "token", "apikey", "api-key", "digest", "negotiate"})
_MIN_WORD_LEN = 8  # shorter words of a credential header ("Bearer", "v1") are not secret


class SecretRegistry:
    def __init__(self) -> None:
        self._values: set[str] = set()
        self._listeners: list[Callable[[str], None]] = []
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str | None) -> None:
        """Register a secret; each listener hears of it once."""
        if value is None or len(value) < _MIN_SECRET_LEN:
            return
        with self._lock:
            if value in self._values:
                return
            self._values.add(value)
            self._pattern = None
            listeners = list(self._listeners)
        for listener in listeners:
            listener(value)

    def add_all(self, values: Iterable[str | None]) -> None:
        for value in values:
            self.add(value)

    def on_new(self, listener: Callable[[str], None]) -> None:
        """Call `listener` for each secret registered from now on, and for those already known."""
        with self._lock:
            self._listeners.append(listener)
            known = sorted(self._values)
        for value in known:
            listener(value)

    def redact(self, text: str, placeholder: str = MASK) -> str:
        """`text` with every registered secret replaced (a log line: `***`)."""
        pattern = self._compiled()
        return text if pattern is None else pattern.sub(placeholder, text)

    def redact_data(self, value: Any) -> Any:
        """A copy of a document (mappings, lists, strings) with every secret in every
        string, key or value, replaced by `REDACTED`; serialise this, never the original."""
        pattern = self._compiled()
        return value if pattern is None else _walk(value, pattern)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._listeners.clear()
            self._pattern = None

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._values:
                # Longest first, so a secret that contains another is replaced whole.
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
            return self._pattern


def _walk(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, Mapping):
        return {_walk(k, pattern): _walk(v, pattern) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(v, pattern) for v in value]
    return value


SECRETS = SecretRegistry()
"""The process-wide registry (it holds no secret until one is added)."""


# -- where secrets hide in a task's inputs (each task module names its fields) --


def is_sensitive_name(name: str) -> bool:
    """A header, metadata key or query parameter named like a credential."""
    lowered = name.lower()
    return any(word in lowered for word in SENSITIVE_NAME_WORDS)


def url_secrets(url: object) -> Iterator[str]:
    """Credentials in a URL: its userinfo (a username alone is a token, as in
    `https://TOKEN@host/`), the Basic credentials made of it (RFC 7617), and the
    values of query parameters named like credentials (`?token=...`; a short value
    such as `?auth=true` is a switch, and masking it would garble every "true")."""
    if not isinstance(url, str):
        return
    try:
        parts = urlsplit(url)
    except ValueError:
        return
    if "@" in parts.netloc:
        userinfo = parts.netloc.rpartition("@")[0]
        user, has_password, password = userinfo.partition(":")
        yield userinfo
        yield unquote(userinfo)
        if has_password:
            yield password
            yield unquote(password)
        else:
            yield user
            yield unquote(user)
        basic = f"{unquote(user)}:{unquote(password)}".encode()
        yield base64.b64encode(basic).decode("ascii")
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if is_sensitive_name(name) and len(value) >= _MIN_WORD_LEN:
            yield value


def header_secrets(headers: object) -> Iterator[str]:
    """Values of headers (or gRPC metadata) named like credentials, and the long
    words in them (the token of `Bearer <token>`)."""
    if not isinstance(headers, Mapping):
        return
    for name, value in headers.items():
        if not is_sensitive_name(str(name)) or value is None:
            continue
        text = str(value)
        yield text
        for word in text.split():
            if len(word) >= _MIN_WORD_LEN and word.lower() not in _SCHEMES:
                yield word


def env_secrets(env: Mapping[str, str], names: Iterable[object]) -> Iterator[str]:
    """The values of the environment variables named (a task's `tokenEnv`, `urlEnv`, ...)."""
    for name in names:
        if isinstance(name, str) and name:
            value = env.get(name, "").strip()
            if value:
                yield value


def load_secrets(
    inputs: Mapping[str, Any], *, url_fields: Iterable[str], header_fields: Iterable[str]
) -> Iterator[str]:
    """Secrets of a load task (`http`, `grpc`): in the task's fields, each version's and
    each endpoint's."""
    versions = inputs.get("versions")
    endpoints = inputs.get("endpoints")
    sections: list[Any] = [inputs]
    sections += versions if isinstance(versions, list) else []
    sections += list(endpoints.values()) if isinstance(endpoints, Mapping) else []
    url_fields, header_fields = tuple(url_fields), tuple(header_fields)
    for section in sections:
        if not isinstance(section, Mapping):
            continue
        for name in url_fields:
            yield from url_secrets(section.get(name))
        for name in header_fields:
            yield from header_secrets(section.get(name))
