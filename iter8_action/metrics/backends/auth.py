"""Authentication to a metrics backend: headers built from secrets kept out of the experiment.

A secret is read from an environment variable or a file that the experiment
names, registered with `SECRETS` before anything can print it (so logs and CI
output mask it), and only ever placed in the outgoing request's headers.
Schemes: `bearer` (RFC 6750 `Authorization: Bearer <token>`), `basic`
(RFC 7617), `apikey` (a key in a header, `Authorization: ApiKey <key>` by
default as Elasticsearch expects; `API-Key: <key>` for New Relic's NerdGraph).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from iter8_action.core.errors import InvalidValue
from iter8_action.core.secrets import SECRETS
from iter8_action.metrics.backends.spec import AuthSpec

# Header names whose values are credentials when written directly in a template.
SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "api-key", "x-api-key", "x-query-key", "cookie"}
)
_MIN_TOKEN_LEN = 8  # shorter words of a header value ("Bearer", "Basic") are not secret


class AuthError(InvalidValue):
    """A secret that cannot be read; the message says where we looked and how to fix it."""


@dataclass(frozen=True)
class _SecretReader:
    provider: str
    env: Mapping[str, str]
    resolve: Callable[[str], Path]

    def from_env(self, name: str, *, what: str) -> str:
        value = self.env.get(name, "").strip()
        if not value:
            state = "is empty" if name in self.env else "is not set"
            raise AuthError(
                f"provider {self.provider}: the {what} is read from the environment variable "
                f"{name}, which {state}; set it (in a GitHub workflow: "
                f"`env: {{{name}: ${{{{ secrets.{name} }}}}}}`)"
            )
        return value

    def from_file(self, name: str, *, what: str) -> str:
        path = self.resolve(name)
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise AuthError(
                f"provider {self.provider}: cannot read the {what} from {path}: {reason}"
            ) from exc
        if not value:
            raise AuthError(f"provider {self.provider}: the {what} file {path} is empty")
        return value

    def secret(self, env_name: str | None, file_name: str | None, *, what: str) -> str:
        if env_name is not None:
            value = self.from_env(env_name, what=what)
        elif file_name is not None:
            value = self.from_file(file_name, what=what)
        else:  # the schema requires one of the two
            raise AuthError(f"provider {self.provider}: auth names no source for the {what}")
        SECRETS.add(value)
        return value


def auth_headers(
    auth: AuthSpec | None,
    *,
    provider: str,
    resolve: Callable[[str], Path],
    env: Mapping[str, str],
) -> dict[str, str]:
    """The headers that carry `auth`'s credentials; every secret in them is registered first."""
    if auth is None or auth.type == "none":
        return {}
    reader = _SecretReader(provider, env, resolve)
    if auth.type == "bearer":
        token = reader.secret(auth.token_env, auth.token_file, what="bearer token")
        return {"Authorization": f"Bearer {token}"}
    if auth.type == "basic":
        if auth.username_env is not None:
            user = reader.from_env(auth.username_env, what="user name")
        else:
            user = auth.username or ""
        password = reader.secret(auth.password_env, auth.password_file, what="password")
        encoded = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        SECRETS.add(encoded)
        return {"Authorization": f"Basic {encoded}"}
    if auth.type == "apikey":
        key = reader.secret(auth.key_env, auth.key_file, what="API key")
        header = auth.header or "Authorization"
        scheme = auth.scheme
        if scheme is None and header.lower() == "authorization":
            scheme = "ApiKey"
        return {header: f"{scheme} {key}" if scheme else key}
    raise AuthError(f"provider {provider}: unknown auth type {auth.type!r}")


def mask_literal_credentials(headers: Mapping[str, str]) -> list[str]:
    """Register credentials written directly in `headers` as secrets; return those header names."""
    found = []
    for name, value in headers.items():
        if name.lower() not in SENSITIVE_HEADERS:
            continue
        found.append(name)
        SECRETS.add(value)
        for word in value.split():
            if len(word) >= _MIN_TOKEN_LEN:
                SECRETS.add(word)
    return found
