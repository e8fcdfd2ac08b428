from __future__ import annotations

import pytest

from iter8_action.platforms.workflow_commands import (
    command,
    escape_data,
    escape_property,
    output_block,
)


def test_data_escapes_percent_cr_lf_as_the_toolkit_does() -> None:
    assert escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"


def test_properties_also_escape_colon_and_comma() -> None:
    assert escape_property("SLO: p95, v2\n") == "SLO%3A p95%2C v2%0A"


def test_command_with_properties_skips_empty_ones() -> None:
    line = command(
        "error", "v2 is slow\nsee summary", {"title": "SLO: p95", "file": None, "line": 7}
    )
    assert line == "::error title=SLO%3A p95,line=7::v2 is slow%0Asee summary"


def test_command_without_properties() -> None:
    assert command("endgroup", "") == "::endgroup::"


def test_output_block_carries_multiline_values() -> None:
    assert output_block("verdict", "a\nb", delimiter="ghadelimiter_x") == (
        "verdict<<ghadelimiter_x\na\nb\nghadelimiter_x\n"
    )


def test_output_block_uses_a_random_delimiter() -> None:
    first, second = output_block("x", "1"), output_block("x", "1")
    assert first.startswith("x<<ghadelimiter_")
    assert first != second


def test_output_block_refuses_a_value_that_contains_the_delimiter() -> None:
    with pytest.raises(ValueError, match="occurs in the output 'x'"):
        output_block("x", "a\nEOF\nb", delimiter="EOF")
