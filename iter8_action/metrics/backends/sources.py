"""Where a template's text comes from: a built-in name, a URL, or a file.

A bare name (`prometheus`) is a built-in template shipped in this package's
`templates/` folder; `http://` and `https://` locations are fetched (Iter8
fetched every template from a URL); anything else is a file, relative to the
experiment's directory.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from iter8_action.core.errors import InvalidValue
from iter8_action.metrics.backends.query import Transport
from iter8_action.net import httpclient

TEMPLATE_SUFFIX = ".yaml.j2"
PARTIAL_PREFIX = "_"
_BARE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class SourceError(InvalidValue):
    """A template that cannot be found or fetched."""


@dataclass(frozen=True)
class TemplateSource:
    text: str
    origin: str
    """Where it came from, for messages: `built-in prometheus`, a path or a URL."""
    remote: bool = False
    """Fetched from a URL: it may not choose which secrets to send (see the task's `auth`)."""


def _templates_dir() -> resources.abc.Traversable:
    return resources.files("iter8_action.metrics.backends").joinpath("templates")


def builtin_names() -> list[str]:
    """The built-in templates, by name."""
    return sorted(
        entry.name.removesuffix(TEMPLATE_SUFFIX)
        for entry in _templates_dir().iterdir()
        if entry.name.endswith(TEMPLATE_SUFFIX) and not entry.name.startswith(PARTIAL_PREFIX)
    )


def builtin_partials() -> dict[str, str]:
    """Partial templates the built-ins `{% include %}` (files starting with `_`), by file name."""
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in _templates_dir().iterdir()
        if entry.name.startswith(PARTIAL_PREFIX) and entry.name.endswith(TEMPLATE_SUFFIX)
    }


def load_template(
    location: str, *, provider: str, resolve: Callable[[str], Path], transport: Transport
) -> TemplateSource:
    """The text of the template at `location` (a built-in name, a URL or a file path)."""
    if location.startswith(("http://", "https://")):
        return _fetch(location, provider=provider, transport=transport)
    if _BARE_NAME.match(location) and location in builtin_names():
        entry = _templates_dir().joinpath(location + TEMPLATE_SUFFIX)
        return TemplateSource(entry.read_text(encoding="utf-8"), f"built-in template {location}")
    path = resolve(location)
    if not path.is_file():
        raise SourceError(
            f"provider {provider}: template {location!r} is not a built-in template "
            f"({', '.join(builtin_names())}), a URL, or an existing file (looked for {path})"
        )
    try:
        return TemplateSource(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"provider {provider}: cannot read template {path}: {exc}") from exc


def _fetch(url: str, *, provider: str, transport: Transport) -> TemplateSource:
    problem = f"provider {provider}: cannot fetch template {url}"
    try:
        text = httpclient.get_text(
            url, limits=transport.limits, verify=transport.verify, retry=transport.retry
        )
    except httpclient.UnexpectedStatus as exc:
        raise SourceError(f"{problem}: it answered {exc.answer}") from exc
    except httpclient.HTTPFailure as exc:
        raise SourceError(f"{problem}: {exc}") from exc
    return TemplateSource(text, url, remote=True)
