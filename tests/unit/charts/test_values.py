"""Helm's --set rules (helm.sh "The Format and Limitations of --set") and values merging."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iter8_action.charts.values import SetError, build_values, merge, parse_set


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name=value", {"name": "value"}),
        ("a=b,c=d", {"a": "b", "c": "d"}),
        ("outer.inner=value", {"outer": {"inner": "value"}}),
        ("name={a, b, c}", {"name": ["a", " b", " c"]}),
        ("tasks={http,assess}", {"tasks": ["http", "assess"]}),
        ("name={}", {"name": []}),
        ("servers[0].port=80", {"servers": [{"port": 80}]}),
        (
            "servers[0].port=80,servers[0].host=example",
            {"servers": [{"port": 80, "host": "example"}]},
        ),
        ("name[1]=b,name[0]=a", {"name": ["a", "b"]}),
        ("grid[0][1]=x", {"grid": [[None, "x"]]}),
        (r"name=value1\,value2", {"name": "value1,value2"}),
        (
            r"nodeSelector.kubernetes\.io/role=master",
            {"nodeSelector": {"kubernetes.io/role": "master"}},
        ),
        (
            "assess.SLOs.upper.http/latency-mean=50",
            {"assess": {"SLOs": {"upper": {"http/latency-mean": 50}}}},
        ),
        (
            "a=true,b=FALSE,c=null,d=0,e=-3,f=1.5,g=0123,h=",
            {"a": True, "b": False, "c": None, "d": 0, "e": -3, "f": "1.5", "g": "0123", "h": ""},
        ),
        ("url=http://x.invalid:8080/get?a=b", {"url": "http://x.invalid:8080/get?a=b"}),
    ],
)
def test_set_follows_helm(text: str, expected: dict[str, Any]) -> None:
    parsed: dict[str, Any] = {}
    parse_set(text, parsed)
    assert parsed == expected


def test_set_string_keeps_strings() -> None:
    parsed: dict[str, Any] = {}
    parse_set("a=5,b=true,c={1,2}", parsed, strings=True)
    assert parsed == {"a": "5", "b": "true", "c": ["1", "2"]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name", "key 'name' has no value"),
        ("a=b,c", "key 'c' has no value"),
        ("a[x]=1", "bad list index [x"),
        ("a[70000]=1", "larger than 65536"),
        ("a={x,y", "missing its closing }"),
        ("=v", "a key is empty"),
    ],
)
def test_set_errors_quote_the_flag(text: str, message: str) -> None:
    with pytest.raises(SetError) as info:
        parse_set(text, {})
    assert str(info.value).startswith(f"--set {text!r}: ")
    assert message in str(info.value)


def test_later_sources_win_and_merge_deeply(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "http: {url: http://a.invalid, qps: 5}\nassess: {SLOs: {upper: {x: 1}}}\n"
    )
    (tmp_path / "b.yaml").write_text("http: {qps: 6, numRequests: 10}\n")
    (tmp_path / "script.sh").write_text("echo hi\n")
    defaults = {"http": {"connections": 4, "duration": "5s"}, "runner": "none"}
    values = build_values(
        defaults,
        files=[tmp_path / "a.yaml", tmp_path / "b.yaml"],
        sets=["http.qps=7", "http.duration=null", "assess.SLOs.upper.y=2"],
        set_strings=["http.numRequests=11"],
        set_files=["run=script.sh"],
        base=tmp_path,
    )
    assert values == {
        "http": {"connections": 4, "url": "http://a.invalid", "qps": 7, "numRequests": "11"},
        "assess": {"SLOs": {"upper": {"x": 1, "y": 2}}},
        "runner": "none",
        "run": "echo hi\n",
    }
    assert defaults["http"] == {"connections": 4, "duration": "5s"}  # not changed in place


def test_merge_replaces_lists_and_scalars() -> None:
    assert merge({"a": [1, 2], "b": {"c": 1}}, {"a": [3], "b": 5}) == {"a": [3], "b": 5}


def test_values_file_errors_name_file_and_line(tmp_path: Path) -> None:
    from iter8_action.core.errors import InputError

    (tmp_path / "bad.yaml").write_text("a: 1\nb: [\n")
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(InputError, match=r"bad.yaml:3: the values file is not YAML"):
        build_values({}, files=[tmp_path / "bad.yaml"])
    with pytest.raises(InputError, match=r"list.yaml: a values file holds a map of keys"):
        build_values({}, files=[tmp_path / "list.yaml"])
    with pytest.raises(InputError, match=r"--set-file 'x=nope.txt': cannot read"):
        build_values({}, set_files=["x=nope.txt"], base=tmp_path)


def test_set_file_nests_and_indexes_like_set(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text('{"a": 1}')
    values = build_values(
        {}, set_files=["notify.payloadTemplate=p.json", "list[1]=p.json"], base=tmp_path
    )
    assert values == {"notify": {"payloadTemplate": '{"a": 1}'}, "list": [None, '{"a": 1}']}


_KEYS = st.from_regex(r"[a-z][a-zA-Z0-9_/-]{0,8}", fullmatch=True)
_SCALARS = st.one_of(
    st.integers(min_value=1, max_value=10**12),
    st.booleans(),
    st.from_regex(r"[a-zA-Z][a-zA-Z0-9 :/._-]{0,12}", fullmatch=True).filter(
        lambda s: s.lower() not in ("true", "false", "null")
    ),
)


def _escaped(value: object) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return text.replace("\\", "\\\\").replace(",", "\\,")


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(_KEYS, st.dictionaries(_KEYS, _SCALARS, min_size=1), min_size=1))
def test_set_reads_back_what_was_written(values: dict[str, dict[str, Any]]) -> None:
    text = ",".join(
        f"{outer}.{inner}={_escaped(value)}"
        for outer, inner_values in values.items()
        for inner, value in inner_values.items()
    )
    parsed: dict[str, Any] = {}
    parse_set(text, parsed)
    assert parsed == values
