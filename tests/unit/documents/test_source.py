from __future__ import annotations

import os
import string

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iter8_action.core.errors import ExperimentInvalid
from iter8_action.documents.source import format_path, iter_paths, parse
from iter8_action.engine.loader import load_text


def test_lines_of_keys_and_items() -> None:
    document = parse("spec:\n- task: http\n  with:\n    url: x\n", name="e.yaml")
    assert document.lines == {
        (): 1,
        ("spec",): 1,
        ("spec", 0): 2,
        ("spec", 0, "task"): 2,
        ("spec", 0, "with"): 3,
        ("spec", 0, "with", "url"): 4,
    }
    assert document.line_of(("spec", 0, "with", "url", "deeper")) == 4


def test_format_path() -> None:
    assert format_path(("spec", 2, "with", "url")) == "$.spec[2].with.url"
    assert format_path(()) == "$"


def test_keys_are_taken_as_written() -> None:
    assert parse("on: 1\n1: yes\nnull: x\n", name="k").data == {"on": 1, "1": True, "null": "x"}


def test_timestamps_stay_text() -> None:
    assert parse("when: 2024-01-02T03:04:05Z\nday: 2024-01-02\n", name="t").data == {
        "when": "2024-01-02T03:04:05Z",
        "day": "2024-01-02",
    }


def test_merge_keys() -> None:
    text = "base: &b {a: 1, b: 2}\nmore:\n  <<: *b\n  b: 3\n"
    assert parse(text, name="m").data["more"] == {"a": 1, "b": 3}
    text = "x: &x {a: 1}\ny: &y {a: 2, c: 3}\nz:\n  <<: [*x, *y]\n"
    assert parse(text, name="m").data["z"] == {"a": 1, "c": 3}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!binary aGVsbG8=\n", "m:1: $.a: !!binary values are not allowed"),
        ("a:\n  <<: [1]\n", "m:2: $.a: '<<' merges only maps"),
        ("a: !!int x\n", "m:1: $.a: invalid value 'x': invalid literal"),
        ("[" * 150 + "]" * 150, "the YAML is nested too deeply (over 100 levels)"),
        ("[" * 5000 + "]" * 5000, "the YAML is nested too deeply"),
    ],
)
def test_refusals(text: str, message: str) -> None:
    with pytest.raises(ExperimentInvalid) as info:
        parse(text, name="m")
    assert message in str(info.value)


def test_iter_paths() -> None:
    assert list(iter_paths({"a": [1]})) == [((), {"a": [1]}), (("a",), [1]), (("a", 0), 1)]


# -- property-based: nothing but our own error, whatever the input ----------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["http", "run", "task", "with", "spec", "SLOs()", "10s", "built-in/p95"]),
)
_keys = st.one_of(
    st.sampled_from(["spec", "task", "with", "run", "if", "url", "metadata", "SLOs", "upper"]),
    st.text(string.ascii_letters, min_size=1, max_size=8),
)
_documents = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_keys, children, max_size=4)
    ),
    max_leaves=25,
)


def _load(text: str | bytes) -> None:
    try:
        load_text(text, name="fuzz.yaml", base_dir=__import__("pathlib").Path("."), env=os.environ)
    except ExperimentInvalid as exc:
        assert exc.problems
        assert all(str(p).startswith("fuzz.yaml") for p in exc.problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents)
def test_random_documents_raise_only_our_error(document: object) -> None:
    _load(yaml.safe_dump(document))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.printable + "é-:[]{}&*!|>'\"%@`#", max_size=200))
def test_random_text_raises_only_our_error(text: str) -> None:
    _load(text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_our_error(raw: bytes) -> None:
    _load(raw)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {"task": st.sampled_from(["http", "assess", "ready", "htp"])},
            optional={"with": _documents, "if": st.text(max_size=15), "softFailure": _scalars},
        ),
        min_size=1,
        max_size=3,
    )
)
def test_random_task_lists_raise_only_our_error(tasks: list[dict[str, object]]) -> None:
    _load(yaml.safe_dump({"spec": tasks}))
    _load(yaml.safe_dump(tasks))
