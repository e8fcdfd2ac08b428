"""What the event tasks (`notify`, `cloudevent`, `slack`, `github`, `gitlab`) share: how
an event is delivered, where it goes, and a payload template's source, each parsed from
`with:` at load.

Not a task itself (the registry skips modules whose name starts with `_`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from iter8_action.core.errors import TaskFailed
from iter8_action.core.secrets import env_secrets, header_secrets, url_secrets
from iter8_action.tasks._fields import HttpLimits, strings, text_or_none
from iter8_action.tasks.base import TaskContext

if TYPE_CHECKING:
    from iter8_action.events.delivery import Delivery

TIMEOUT_S = 10.0
"""Each attempt's deadline (a payload template's fetch included) unless `timeout` says."""
RETRIES = 3
"""Extra tries after the first unless `retries` says (see `events.delivery`)."""


@dataclass(frozen=True)
class DeliveryInputs:
    """`timeout`, `maxBodySize` and `retries`, which every event task accepts."""

    limits: HttpLimits
    retries: int

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> DeliveryInputs:
        return cls(
            limits=HttpLimits.parse(inputs, default_timeout_s=TIMEOUT_S),
            retries=int(inputs.get("retries", RETRIES)),
        )

    def delivery(self, secret_headers: Iterable[str] = ()) -> Delivery:
        """The delivery options; `secret_headers` are dropped on a redirect to another origin."""
        from iter8_action.events.delivery import Delivery

        return Delivery(
            limits=self.limits.limits(),
            retries=self.retries,
            secret_headers=frozenset(secret_headers),
        )


@dataclass(frozen=True)
class Destination:
    """Where an event goes: `url`, or the environment variable named in `urlEnv`, with
    `headers` and `headersEnv` (header name to the variable holding its value)."""

    url: str | None
    url_env: str | None
    headers: Mapping[str, str]
    headers_env: Mapping[str, str]

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> Destination:
        return cls(
            url=text_or_none(inputs.get("url")),
            url_env=text_or_none(inputs.get("urlEnv")),
            headers=strings(inputs.get("headers")),
            headers_env=strings(inputs.get("headersEnv")),
        )

    def resolve_url(self, ctx: TaskContext, *, what: str, secret: bool = False) -> str:
        from iter8_action.events.delivery import url_input

        return url_input(self.url, self.url_env, what=what, env=ctx.env, secret=secret)

    def resolve_headers(self, ctx: TaskContext, *, what: str) -> dict[str, str]:
        """`headers`, and each of `headersEnv` read from the environment (as a secret)."""
        from iter8_action.events.delivery import secret_from_env

        headers = dict(self.headers)
        for header, env_name in self.headers_env.items():
            headers[header] = secret_from_env(env_name, what=f"{what} header {header}", env=ctx.env)
        return headers


def destination_secrets(inputs: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[str]:
    """The secrets of a `Destination`'s fields: credentials in `url` and in `headers`, and
    the values of the variables `urlEnv` and `headersEnv` name."""
    yield from url_secrets(inputs.get("url"))
    yield from header_secrets(inputs.get("headers"))
    yield from env_secrets(env, [inputs.get("urlEnv"), *(inputs.get("headersEnv") or {}).values()])


@dataclass(frozen=True)
class PayloadTemplate:
    """A payload template's source: inline (`payloadTemplate`), a file
    (`payloadTemplateFile`, relative to the experiment) or a URL (`payloadTemplateURL`);
    all None without one."""

    text: str | None
    file: str | None
    url: str | None

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> PayloadTemplate:
        def field(name: str) -> str | None:
            return str(inputs[name]) if name in inputs else None

        return cls(
            text=field("payloadTemplate"),
            file=field("payloadTemplateFile"),
            url=field("payloadTemplateURL"),
        )

    def source(self, ctx: TaskContext, delivery: Delivery, *, what: str) -> tuple[str | None, str]:
        """The template's text and its name (for errors); (None, "") without one."""
        from iter8_action.net import httpclient

        if self.text is not None:
            return self.text, "payloadTemplate"
        if self.file is not None:
            path = ctx.path(self.file)
            try:
                return path.read_text(encoding="utf-8"), str(path)
            except OSError as exc:
                raise TaskFailed(
                    f"{what}: cannot read payloadTemplateFile {path}: {exc.strerror}; "
                    "the path is relative to the experiment file"
                ) from exc
        if self.url is not None:
            try:
                text = httpclient.get_text(self.url, limits=delivery.limits, retry=delivery.policy)
            except httpclient.HTTPFailure as exc:
                raise TaskFailed(f"{what}: cannot fetch payloadTemplateURL: {exc}") from exc
            return text, self.url
        return None, ""
