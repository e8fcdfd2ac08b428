"""NaN and the infinities: found wherever they hide, and never written as JSON."""

from __future__ import annotations

import json
import math

import pytest

from iter8_action.documents import finite
from iter8_action.documents.validation import edit_distance, nearest


def test_non_finite_finds_every_one_with_its_path() -> None:
    document = {"a": [1.0, math.nan, {"b": math.inf}], "c": -math.inf, "d": 1e308, "e": "nan"}
    found = list(finite.non_finite(document))
    assert [path for path, _ in found] == [("a", 1), ("a", 2, "b"), ("c",)]


def test_dumps_refuses_nan_and_names_where() -> None:
    with pytest.raises(finite.NonFiniteOutput) as info:
        finite.dumps({"result": {"insights": {"x": [0.5, math.nan]}}}, what="result.json")
    assert str(info.value) == (
        "result.json: $.result.insights.x[1] is .nan (not a number), which JSON cannot "
        "represent; nothing was written. This is a bug in iter8-py: please report it"
    )
    assert info.value.exit_code == 4


def test_dumps_writes_finite_documents_as_json_does() -> None:
    document = {"a": [1, 2.5, None, "x"]}
    assert finite.dumps(document, what="x", indent=2) == json.dumps(document, indent=2)


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("", "abc", 3),
        ("kitten", "sitting", 3),
        ("connect-timeeout", "connect-timeout", 1),
        ("tiemout", "timeout", 1),
        ("same", "same", 0),
    ],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance


def test_nearest_ranks_by_edit_distance() -> None:
    known = ["connections", "connect-timeout", "concurrency", "call"]
    assert nearest("connect-timeeout", known) == "connect-timeout"
    assert nearest("conections", known) == "connections"
    assert nearest("zzzzzzzz", known) is None
