"""GitHub's workflow commands, escaped exactly as @actions/core does.

See https://docs.github.com/actions/reference/workflow-commands-for-github-actions
and the toolkit's `command.ts` / `file-command.ts`: data escapes `%`, CR and
LF; property values also escape `:` and `,`. Every other control character,
line separator and `##[` in data is made inert (`core.logtext.inert`): the runner
decodes only the toolkit's escapes, so a U+2028 or an ANSI sequence never
reaches the log raw. Outputs go to the `$GITHUB_OUTPUT` file as
`name<<delimiter` blocks with a random delimiter.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from iter8_action.core.logtext import inert


def escape_data(text: str) -> str:
    return inert(toolkit_escape(text))


def toolkit_escape(text: str) -> str:
    """The toolkit's own escaping only: what `::add-mask::` needs to mask the exact value."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, properties: Mapping[str, object] | None = None) -> str:
    """One `::name key=value,...::message` line (properties with a None value are left out).

    The line starts with this job's own `::`; nothing in it can end it early.
    """
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in (properties or {}).items()
        if value is not None and value != ""
    )
    head = f"::{name} {props}" if props else f"::{name}"
    if name == "add-mask":  # the runner must see the secret as it will appear
        return f"{head}::{toolkit_escape(message)}"
    return f"{head}::{escape_data(message)}"


def output_block(name: str, value: str, *, delimiter: str | None = None) -> str:
    """A `$GITHUB_OUTPUT` entry that carries any value, multi-line included."""
    delimiter = delimiter or f"ghadelimiter_{uuid.uuid4()}"
    # The toolkit refuses a delimiter that occurs in the name or value: it
    # would end the block early and let the value inject other outputs.
    if delimiter in name or delimiter in value:
        raise ValueError(f"the output delimiter {delimiter!r} occurs in the output {name!r}")
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"
