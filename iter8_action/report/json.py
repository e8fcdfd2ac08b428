"""The JSON report: the report model itself, as described by `schemas/report.schema.json`."""

from __future__ import annotations

import json
import re

from iter8_action.logtext import LEGACY_COMMAND
from iter8_action.report.model import Report

# A lone surrogate (from a `\ud800` escape in a result file) cannot be written as UTF-8; in
# JSON it only occurs inside a string, where its `\uXXXX` escape is valid (RFC 8259, 7).
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def render(report: Report) -> str:
    text = json.dumps(report.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
    # Printed in CI, `##[` anywhere in a line is a runner command; it can only be inside a
    # string, where `\u0023` is the same `#`.
    text = text.replace(LEGACY_COMMAND, "#\\u0023[")
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"
