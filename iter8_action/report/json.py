"""The JSON report: the report model itself, as described by `schemas/report.schema.json`."""

from __future__ import annotations

import re

from iter8_action.core.logtext import LEGACY_COMMAND
from iter8_action.documents import finite
from iter8_action.report.model import Report

# Written as `\uXXXX` escapes, valid inside strings, the only place they occur (RFC 8259,
# section 7): a lone surrogate (from a `\ud800` escape in a result file), which UTF-8 cannot
# carry, and the characters that json.dumps leaves raw but a log would read as a line break
# or a control sequence (DEL, C1 controls such as NEL and CSI, U+2028, U+2029).
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def render(report: Report) -> str:
    text = finite.dumps(report.to_dict(), what="the JSON report", indent=2, ensure_ascii=False)
    # Printed in CI, `##[` anywhere in a line is a runner command; it can only be inside a
    # string, where `\u0023` is the same `#`.
    text = text.replace(LEGACY_COMMAND, "#\\u0023[")
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"
