"""The Go text/template engine: cases from Go's documentation and Sprig's examples."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from iter8_action.templates.gotemplate import (
    Limits,
    Struct,
    TemplateError,
    TemplateSet,
    gofmt,
    render,
)


def r(text: str, dot: Any = None) -> str:
    return render(text, dot, name="t.tpl")


# pkg.go.dev/text/template, "Text and spaces" and "Examples": every line prints "output"
GO_DOC_OUTPUT = [
    '{{"\\"output\\""}}',
    '{{`"output"`}}',
    '{{printf "%q" "output"}}',
    '{{"output" | printf "%q"}}',
    '{{printf "%q" (print "out" "put")}}',
    '{{"put" | printf "%s%s" "out" | printf "%q"}}',
    '{{"output" | printf "%s" | printf "%q"}}',
    '{{with "output"}}{{printf "%q" .}}{{end}}',
    '{{with $x := "output" | printf "%q"}}{{$x}}{{end}}',
    '{{with $x := "output"}}{{printf "%q" $x}}{{end}}',
    '{{with $x := "output"}}{{$x | printf "%q"}}{{end}}',
]


@pytest.mark.parametrize("text", GO_DOC_OUTPUT)
def test_go_documentation_examples_print_output(text: str) -> None:
    assert r(text) == '"output"'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{23 -}} < {{- 45}}", "23<45"),  # Go's documented trimming example
        ("a  \n\t{{- 1 }}  \n b", "a1  \n b"),
        ("a {{ 1 -}} \n\r\t b", "a 1b"),
        ("{{-3}}", "-3"),  # no space after `-`: a negative number, not a trim marker
        ("x {{- /* a comment */ -}} \n y", "xy"),
        ("x {{/* a\nmultiline comment */}} y", "x  y"),
        ("{{- 1 }}\n\n{{- 2 -}}\n\n", "12"),
    ],
)
def test_whitespace_trimming_and_comments_as_go(text: str, expected: str) -> None:
    assert r(text) == expected


GO_CASES: list[tuple[str, Any, str]] = [
    ("{{if .a}}A{{else if .b}}B{{else}}C{{end}}", {"b": 1}, "B"),
    ("{{if .a}}A{{else if .b}}B{{else}}C{{end}}", {}, "C"),
    ("{{with .a}}{{.}}{{else with .b}}b{{.}}{{else}}none{{end}}", {"b": 2}, "b2"),
    ("{{range .}}[{{.}}]{{else}}empty{{end}}", [], "empty"),
    ("{{range .}}[{{.}}]{{end}}", ["x", "y"], "[x][y]"),
    ("{{range $i, $e := .}}{{$i}}:{{$e}} {{end}}", ["x", "y"], "0:x 1:y "),
    ("{{range $k, $v := .}}{{$k}}={{$v}} {{end}}", {"b": 2, "a": 1}, "a=1 b=2 "),
    ("{{range $v := .}}{{$v}}{{end}}", {"b": 2, "a": 1}, "12"),
    ("{{range 3}}{{.}}{{end}}", None, "012"),
    (
        "{{range .}}{{if eq . 2}}{{continue}}{{end}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}",
        [1, 2, 3, 4, 5],
        "13",
    ),
    ("{{range .xs}}{{$.name}}{{.}} {{end}}", {"xs": [1, 2], "name": "n"}, "n1 n2 "),
    ("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", None, "2"),
    ("{{$x := 1}}{{if true}}{{$x := 2}}{{end}}{{$x}}", None, "1"),
    ("{{ .missing }}|{{ .a.b }}", {"a": {}}, "|"),
    ("{{ (index . 1).name }}", [{}, {"name": "n"}], "n"),
    ('{{ index .m "k" 1 }}', {"m": {"k": [5, 6]}}, "6"),
    ("{{ len . }} {{ slice . 1 2 }}", [1, 2, 3], "3 [2]"),
    ('{{ and 1 0 2 }} {{ or 0 "" 3 }} {{ and 1 2 }} {{ not 0 }}', None, "0 3 2 true"),
    ("{{ or .c .a.b }}", {"c": "lazy"}, "lazy"),  # Go 1.18: `or` stops early
    (
        '{{ eq 1 2 3 1 }} {{ ne "a" "b" }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt 1.5 1 }}',
        None,
        "true true true true true",
    ),
    ('{{ ge "b" "a" }} {{ eq .x nil }} {{ eq .n 3.0 }}', {"n": 3}, "true true true"),
    ('{{ print 1 2 "a" 3 }} {{ println "x" 1 }}', None, "1 2a3 x 1\n"),
    ("{{ . }}", {"b": [1, None], "a": 1.5}, "map[a:1.5 b:[1 <nil>]]"),
    ("{{ . }}", 1000000.0, "1e+06"),
    (
        '{{ printf "%s=%d %v %.2f %5s|%-3d|%03d %x %t %q" '
        '"k" 7 true 3.14159 "ab" 4 5 255 false \'a\' }}',
        None,
        "k=7 true 3.14    ab|4  |005 ff false 'a'",
    ),
    (
        '{{ printf "%d" "x" }} {{ printf "%s" }} {{ printf "x" 1 }}',
        None,
        "%!d(string=x) %!s(MISSING) x%!(EXTRA int=1)",
    ),
    ('{{ define "t" }}<{{ . }}>{{ end }}{{ template "t" 1 }}{{ template "t" }}', None, "<1><>"),
    ('{{ block "b" .x }}[{{ . }}]{{ end }}', {"x": 9}, "[9]"),
    (
        '{{ html "<a&b>" }} {{ urlquery "a b&c" }} {{ js "it\'s" }}',
        None,
        "&lt;a&amp;b&gt; a+b%26c it\\'s",
    ),
    ('{{ "\\x41\\u00e9\\t" | printf "%q" }}', None, '"Aé\\t"'),
    ("{{ 0x1F }} {{ 1_000 }} {{ 1e3 }} {{ 'a' }} {{ 0o17 }}", None, "31 1000 1000 97 15"),
]


@pytest.mark.parametrize(("text", "dot", "expected"), GO_CASES)
def test_go_semantics(text: str, dot: Any, expected: str) -> None:
    assert r(text, dot) == expected


# masterminds.github.io/sprig examples (and Helm's template function list)
SPRIG = [
    ('{{ default "foo" .Bar }}', {"Bar": ""}, "foo"),
    ('{{ default "foo" .Bar }}', {"Bar": "bar"}, "bar"),
    ('{{ .x | default "foo" }}', {"x": False}, "foo"),  # Sprig: false is empty
    ("{{ .x | default 5 }}", {"x": 0}, "5"),
    ('{{ .x | default "d" }}', {"x": []}, "d"),
    (
        "{{ empty .a }} {{ empty .b }} {{ empty 0 }} {{ empty dict }} {{ empty 1 }}",
        {"a": "", "b": [1]},
        "true false true true false",
    ),
    ('{{ coalesce 0 1 2 }} {{ coalesce .x .y "z" }}', {}, "1 z"),
    ('{{ trim "   hello    " }}', None, "hello"),
    ('{{ trimSuffix "-" "hello-" }} {{ trimPrefix "-" "-hello" }}', None, "hello hello"),
    ('{{ upper "hello" }} {{ lower "HELLO" }}', None, "HELLO hello"),
    ('{{ quote "a" 1 }} {{ squote "b" }} {{ quote "x\\"y" }}', None, '"a" "1" \'b\' "x\\"y"'),
    ('{{ replace " " "-" "I Am Henry VIII" }}', None, "I-Am-Henry-VIII"),
    ('{{ contains "cat" "catch" }}', None, "true"),
    ('{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}', None, "-W-xxW-"),
    ('{{ regexReplaceAll "[^a-z]" "a1b2" "" }}', None, "ab"),
    ('{{ indent 4 "a\\nb" }}', None, "    a\n    b"),
    ('x:{{ nindent 2 "a\\nb" }}', None, "x:\n  a\n  b"),
    ("{{ list 1 2 3 }} {{ append (list 1 2) 3 }}", None, "[1 2 3] [1 2 3]"),
    (
        '{{ $d := dict "name1" "value1" "name2" "value2" }}{{ hasKey $d "name1" }} '
        '{{ set $d "name3" "value3" | keys | sortAlpha }} '
        '{{ unset $d "name1" | keys | sortAlpha }}',
        None,
        "true [name1 name2 name3] [name2 name3]",
    ),
    (
        '{{ $old := dict "a" (dict "b" 1) }}{{ $new := mustDeepCopy $old }}'
        '{{ $_ := set $new.a "b" 2 }}{{ $old.a.b }}{{ $new.a.b }} {{ deepCopy (list 1) }}',
        None,
        "12 [1]",
    ),
    ("{{ toJson . }}", {"b": [1, 2.0], "a": "x"}, '{"a":"x","b":[1,2]}'),
    ("{{ toPrettyJson . }}", {"a": [1], "b": {}}, '{\n  "a": [\n    1\n  ],\n  "b": {}\n}'),
    ("{{ toYaml . }}", {"b": [1, 2], "a": {"c": "d"}}, "a:\n  c: d\nb:\n- 1\n- 2"),
    ("{{ toYaml . }}", "text", "text"),
    ("{{ toYaml . }}", {"run": "set -e\necho hi"}, "run: |-\n  set -e\n  echo hi"),
    (
        '{{ (fromYaml "a: [1, 2]").a }} {{ (fromYaml "- x").Error }}',
        None,
        "[1 2] the YAML is not a map",
    ),
    ('{{ required "x is required" .x }}', {"x": "ok"}, "ok"),
    ('{{ ternary "yes" "no" true }} {{ "a,b" | splitList "," | join "+" }}', None, "yes a+b"),
    (
        "{{ until 3 }} {{ add 1 2 }} {{ sub 5 2 }} {{ mul 2 3 }} {{ div 7 2 }} {{ mod 7 2 }}",
        None,
        "[0 1 2] 3 3 6 3 1",
    ),
    (
        '{{ max 1 5 2 }} {{ min 3 1 }} {{ int "12" }} {{ float64 "1.5" }} {{ toString 5 }}',
        None,
        "5 1 12 1.5 5",
    ),
    (
        "{{ first . }} {{ last . }} {{ rest . }} {{ has 2 . }} {{ uniq (list 1 1 2) }}",
        [1, 2, 3],
        "1 3 [2 3] true [1 2]",
    ),
    (
        '{{ get . "a" }}|{{ get . "zz" }}|{{ dig "a" "b" "def" (dict "a" (dict "b" 7)) }}',
        {"a": 1},
        "1||7",
    ),
    ('{{ kindOf . }} {{ typeOf . }} {{ kindIs "map" . }}', {}, "map map[string]interface {} true"),
    (
        '{{ b64enc "hi" }} {{ b64dec "aGk=" }} {{ title "hello world" }} {{ substr 0 3 "hello" }}',
        None,
        "aGk= hi Hello World hel",
    ),
    (
        '{{ merge (dict "a" 1) (dict "a" 2 "b" 3) }} '
        '{{ mergeOverwrite (dict "a" 1) (dict "a" 2) }}',
        None,
        "map[a:1 b:3] map[a:2]",
    ),
    (
        '{{ now | date "2006" | len }} '
        '{{ now | toYaml | regexMatch "[0-9]{4}-[0-9]{2}-[0-9]{2}T" }}',
        None,
        "4 true",
    ),
    (
        '{{ define "x" }}{{ .a }}{{ end }}{{ include "x" . | quote }} {{ tpl "{{ .a }}+" . }}',
        {"a": 1},
        '"1" 1+',
    ),
]


@pytest.mark.parametrize(("text", "dot", "expected"), SPRIG)
def test_sprig_functions(text: str, dot: Any, expected: str) -> None:
    assert r(text, dot) == expected


@pytest.mark.parametrize(
    ("dot", "names"),
    [
        (None, "invalid|<nil>"),
        (True, "bool|bool"),
        (3, "int|int"),
        (1.5, "float64|float64"),
        ("s", "string|string"),
        ({}, "map|map[string]interface {}"),
        ([1], "slice|[]interface {}"),
        (datetime(2020, 1, 1), "struct|time.Time"),
    ],
)
def test_kind_and_type_of_every_value_are_gos_names(dot: Any, names: str) -> None:
    assert r("{{ kindOf . }}|{{ typeOf . }}", dot) == names


def test_name_by_type_takes_the_first_type_the_value_is_an_instance_of() -> None:
    names = ((bool, "bool"), (int, "int"))
    assert gofmt.name_by_type(True, names) == "bool"
    assert gofmt.name_by_type(True, tuple(reversed(names))) == "int"
    assert gofmt.name_by_type("s", names) is None


@pytest.mark.parametrize(
    ("text", "dot", "message"),
    [
        (
            "a\n  {{ .x.y.z }}",
            {"x": {}},
            't.tpl:2:6: executing "t.tpl" at <.x.y.z>: nil pointer evaluating interface {}.z',
        ),
        (
            'x\n{{ fail "stop here" }}',
            None,
            't.tpl:2:4: executing "t.tpl" at <fail "stop here">: error calling fail: stop here',
        ),
        (
            '{{ required "http.url is required" .x }}',
            {},
            "error calling required: http.url is required",
        ),
        ('{{ eq 1 "a" }}', None, "incompatible types for comparison: int and string"),
        ("{{ .Nope }}", Struct("chart", {"Values": {}}), "can't evaluate field Nope in type chart"),
        ("{{ 1 2 }}", None, "can't give argument to non-function 1"),
        ("{{ range 1.5 }}{{ end }}", None, "range can't iterate over 1.5"),
        ('{{ template "nope" }}', None, "no such template 'nope'"),
        ('{{ include "nope" . }}', None, "error calling include: no template 'nope'"),
    ],
)
def test_execution_errors_name_file_line_and_column(text: str, dot: Any, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        r(text, dot)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("line1\n{{ if .x }}", "t.tpl:2:"),
        ("{{ nosuchfn 1 }}", 't.tpl:1:4: function "nosuchfn" not defined'),
        ("{{ $y }}", 't.tpl:1:4: undefined variable "$y"'),
        ("{{ end }}", "t.tpl:1:4: unexpected {{end}}"),
        ("{{ break }}", "{{break}} outside {{range}}"),
        ("{{ .x", "unclosed action"),
        ("{{ /* x */ }}", "t.tpl:1:4: unrecognized character in action: '/'"),
        ('{{ "abc }}', "unterminated quoted string"),
        ("{{ 3x }}", "bad number syntax"),
        ("{{ $a, $b := 1 }}", "too many declarations in command"),
        ("{{ (1 }}", "unclosed left paren"),
    ],
)
def test_parse_errors_name_file_line_and_column(text: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        r(text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "dot", "expected"),
    [
        ("{{range $i, $x := .}}{{if $i}}, {{end}}{{$x}}{{end}}", ["a", "b", "c"], "a, b, c"),
        ('{{ $x := "none" }}{{ range . }}{{ $x = . }}{{ end }}{{ $x }}', [1, 2], "2"),
        (
            '{{ define "row" }}{{ .k }}={{ index $ "v" }};{{ end }}'
            '{{ range . }}{{ template "row" . }}{{ end }}',
            [{"k": "a", "v": 1}],
            "a=1;",
        ),
        ("{{ with $v := .a }}{{ $v }}{{ . }}{{ end }}", {"a": "x"}, "xx"),
        ("{{ if and .a (not .b) }}yes{{ end }}", {"a": 1, "b": 0}, "yes"),
        ("{{ (list 1 2) | len }} {{ list | len }}", None, "2 0"),
        ('{{ print nil }} {{ printf "%v %d" nil nil }}', None, "<nil> <nil> %!d(<nil>)"),
    ],
)
def test_more_go_cases(text: str, dot: Any, expected: str) -> None:
    assert r(text, dot) == expected


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_text_without_actions_is_unchanged(text: str) -> None:
    assume("{{" not in text)
    assert r(text) == text


def test_defines_are_shared_across_files_as_in_a_chart() -> None:
    ts = TemplateSet()
    ts.add("templates/_helpers.tpl", '{{- define "name" -}}\n{{ .Values.n | upper }}\n{{- end }}')
    ts.add("templates/x.yaml", 'name: {{ include "name" . }}\n')
    dot = Struct("chart", {"Values": {"n": "app"}})
    assert ts.render_file("templates/x.yaml", dot) == "name: APP\n"
    assert ts.render_named("name", dot) == "APP"


def test_errors_inside_an_included_template_name_its_own_file() -> None:
    ts = TemplateSet()
    ts.add("templates/_a.tpl", '{{ define "a" }}\n\n  {{ fail "inner" }}{{ end }}')
    ts.add("templates/b.yaml", '{{ include "a" . }}')
    with pytest.raises(TemplateError) as info:
        ts.render_file("templates/b.yaml", None)
    assert str(info.value).startswith("templates/_a.tpl:3:6:")


@pytest.mark.parametrize(
    ("text", "limits", "message"),
    [
        (
            '{{ define "r" }}{{ include "r" . }}{{ end }}{{ include "r" . }}',
            Limits(max_depth=20),
            "templates nest deeper than 20",
        ),
        (
            "{{ range until 1000 }}{{ range until 1000 }}{{ end }}{{ end }}",
            Limits(max_iterations=5000),
            "more than 5000 range iterations",
        ),
        (
            '{{ range until 100 }}{{ repeat 100 "x" }}{{ end }}',
            Limits(max_output_chars=1000),
            "output exceeds 1000 characters",
        ),
        (
            "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}",
            Limits(max_seconds=0.2),
            "rendering took longer than 0.2s",
        ),
        ("{{ until 10000000 }}", Limits(), "more than 100000 items"),
        (
            '{{ define "r" }}{{ include "r" . }}{{ end }}{{ include "r" . }}',
            Limits(),
            "templates nest deeper than 50",
        ),
        (
            '{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}',
            Limits(),
            "templates nest deeper than 50",
        ),
        ("{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}", Limits(), "nest too deeply"),
    ],
)
def test_execution_is_bounded(text: str, limits: Limits, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        render(text, None, name="t.tpl", limits=limits)
    assert message in str(info.value)


# The functions issue 16 names: each is defined and called in a template of this file.
NAMED = [
    *("not", "and", "or", "eq", "ne", "lt", "le", "gt", "ge", "fail", "required", "default"),
    *("coalesce", "empty", "quote", "squote", "print", "printf", "toYaml", "toJson"),
    *("toPrettyJson", "fromYaml", "indent", "nindent", "trim", "trimSuffix", "trimPrefix"),
    *("lower", "upper", "replace", "regexReplaceAll", "contains", "hasKey", "dict", "list"),
    *("append", "keys", "set", "unset", "mustDeepCopy", "deepCopy", "now", "tpl", "include"),
]


def test_every_named_function_exists_and_is_tested() -> None:
    from iter8_action.templates.gotemplate.funcs import FUNCS

    actions = " ".join(re.findall(r"\{\{.*?\}\}", Path(__file__).read_text(), re.DOTALL))
    for name in NAMED:
        assert name in FUNCS, name
        assert re.search(rf"[{{(|\s]{name}[\s)]", actions), name
