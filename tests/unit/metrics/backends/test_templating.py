"""Jinja2 in the sandbox, Iter8's Go references, and the errors for Go constructs."""

from __future__ import annotations

import pytest

from iter8_action.templates.render import TemplateError, from_go, render


def test_go_references_render_as_jinja2() -> None:
    text = "window: {{ .elapsedTimeSeconds }}s, app: {{- .labels.app -}} !"
    assert render(text, {"elapsedTimeSeconds": 30, "labels": {"app": "shop"}}) == (
        "window: 30s, app:shop!"
    )


def test_jinja2_filters_are_not_taken_for_go() -> None:
    text = '{{ port | default(9090) }} {{ "a\nb" | indent(2) }} {{ not (x or y) }}'
    assert render(text, {"x": False, "y": False}) == "9090 a\n  b True"
    assert render("{{ range(3) | list }} {{ end_time }}", {"end_time": 5}) == "[0, 1, 2] 5"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{- range .latencyPercentiles }} p{{ . }}{{ end }}", "url: x p50 p99\n"),
        ("{{ if eq .a 1 }}one{{ else }}other{{ end }}", "url: x\none\n"),
        ("{{ with .labels }}{{ .app }}{{ end }}", "url: x\nshop\n"),
        (
            '{{- define "labels" }}app="{{ .app }}"{{ end }}{{ template "labels" .labels }}',
            'url: xapp="shop"\n',  # `{{-` trims the newline before it, as in Go
        ),
        ("{{ range $key, $v := .labels }}{{ $key }}={{ $v }}{{ end }}", "url: x\napp=shop\n"),
        ("{{ .labels | toYaml }}", "url: x\napp: shop\n"),
        ('{{ default "http://p.invalid:9090" .istioPromURL }}', "url: x\nhttp://p.invalid:9090\n"),
        ('{{ printf "%s-%d" .labels.app .a }}', "url: x\nshop-1\n"),
        ("{{ not .x }}", "url: x\ntrue\n"),
    ],
)
def test_go_templates_render_with_the_go_engine(source: str, expected: str) -> None:
    values = {"latencyPercentiles": [50, 99], "a": 1, "labels": {"app": "shop"}, "x": None}
    assert render(f"url: x\n{source}\n", values, name="istio.tpl") == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ with .x }}", "istio.tpl:3:1: unexpected EOF: the {{with}} at 2:4 has no {{end}}"),
        ("{{ $key }}", 'istio.tpl:2:4: undefined variable "$key"'),
        (
            "{{ .nope }}",
            'istio.tpl:2:4: executing "istio.tpl" at <.nope>: no value to print '
            "(missing or null) (values available: a)",
        ),
        (
            '{{ template "labels" . }}',
            "istio.tpl:2:4: executing \"istio.tpl\": no such template 'labels'",
        ),
    ],
)
def test_go_template_errors_name_line_and_column(source: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        render(f"url: x\n{source}\n", {"a": 1}, name="istio.tpl")
    assert str(caught.value) == message


def test_go_templates_cannot_change_the_callers_values() -> None:
    values = {"labels": {"app": "shop"}}
    assert render('{{ $_ := set .labels "app" "x" }}{{ .labels.app }}', values) == "x"
    assert values == {"labels": {"app": "shop"}}


def test_from_go_leaves_jinja2_untouched() -> None:
    text = "{% for p in ps %}{{ p }}{% endfor %}"
    assert from_go(text, name="t") == text


def test_sandbox_keeps_python_internals_out_of_reach() -> None:
    with pytest.raises(TemplateError) as caught:
        render("{{ x.__class__.__mro__ }}", {"x": 1}, name="evil.yaml")
    assert str(caught.value) == (
        "evil.yaml: not allowed in a template: access to attribute '__class__' of 'int' "
        "object is unsafe."
    )


def test_sandbox_refuses_to_mutate_values() -> None:
    with pytest.raises(TemplateError) as caught:
        render("{{ xs.append(1) }}", {"xs": []}, name="t.yaml")
    assert str(caught.value).startswith("t.yaml: not allowed in a template: ")


def test_an_undefined_value_lists_the_known_ones() -> None:
    with pytest.raises(TemplateError) as caught:
        render("{{ accountId }}", {"where": "x", "elapsedTimeSeconds": 1}, name="nr.yaml")
    assert str(caught.value) == (
        "nr.yaml: 'accountId' is undefined (values available: elapsedTimeSeconds, where)"
    )


def test_syntax_errors_name_the_line() -> None:
    with pytest.raises(TemplateError) as caught:
        render("a: 1\nb: {% if %}\n", {}, name="t.yaml")
    assert str(caught.value) == "t.yaml:2: Expected an expression, got 'end of statement block'"


def test_fail_stops_with_the_templates_message() -> None:
    with pytest.raises(TemplateError) as caught:
        render('{{ fail("labels should not contain response_code") }}', {}, name="t.yaml")
    assert str(caught.value) == "t.yaml: labels should not contain response_code"


def test_includes_come_from_the_caller() -> None:
    assert render('{% include "part" %}!', {"a": 1}, includes={"part": "a={{ a }}"}) == "a=1!"
    with pytest.raises(TemplateError) as caught:
        render('{% include "missing" %}', {}, name="t.yaml", includes={"part": ""})
    assert str(caught.value) == "t.yaml: no template 'missing' to include (known: part)"


def test_python_errors_during_rendering_are_template_errors() -> None:
    with pytest.raises(TemplateError) as caught:
        render("{{ 1 / n }}", {"n": 0}, name="t.yaml")
    assert str(caught.value) == "t.yaml: ZeroDivisionError: division by zero"


ITER8_STYLE = """\
url: {{ .url }}/api/v1/query
metrics:
{{- range $i, $p := .percentiles }}
- name: latency-p{{ $p }}
  params:
  - name: query
    value: histogram_quantile({{ $p }}, x{
      {{- if $.revision }}revision="{{ $.revision }}"{{ else if not $.labels.app }}all="1"{{ end -}}
    }[{{ $.elapsedTimeSeconds }}s])
  index: {{ $i }}
{{- end }}
{{ range $l := $.lists }}{{ $l.n }},{{ end }}
"""


def test_iter8_style_go_templates_render() -> None:
    values = {
        "url": "http://p.invalid",
        "percentiles": [50, 99],
        "elapsedTimeSeconds": 30,
        "lists": [],
    }
    assert render(ITER8_STYLE, {**values, "revision": "r1"}, name="t") == (
        "url: http://p.invalid/api/v1/query\n"
        "metrics:\n"
        "- name: latency-p50\n  params:\n  - name: query\n"
        '    value: histogram_quantile(50, x{revision="r1"}[30s])\n  index: 0\n'
        "- name: latency-p99\n  params:\n  - name: query\n"
        '    value: histogram_quantile(99, x{revision="r1"}[30s])\n  index: 1\n\n'
    )
    rendered = render(ITER8_STYLE, {**values, "labels": {}, "lists": [{"n": 1}, {"n": 2}]})
    assert 'value: histogram_quantile(50, x{all="1"}[30s])' in rendered
    assert rendered.endswith("1,2,\n")


def test_the_translation_is_plain_jinja2() -> None:
    assert from_go("{{- if not .a.b }}x{{ else }}{{ $.c }}{{ end -}}", name="t") == (
        "{%- if not (a is defined and a.b is defined and a.b) %}x{% else %}{{ c }}{% endif -%}"
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("a\n{{ end }}", "t:2: '{{ end }}' has no {{ if }} or {{ range }} to belong to"),
        ("{{ else }}", "t:1: '{{ else }}' has no {{ if }} or {{ range }} to belong to"),
        (
            "{{ range $p := .x }}{{ else if .y }}{{ end }}",
            "t:1: '{{ else if .y }}' has no {{ if }} to belong to",
        ),
        (
            "x\n{{ if .a }}\n{{ range $p := .b }}{{ end }}",
            "t:2: this if has no {{ end }}; close it ({% endif %} in Jinja2)",
        ),
        (
            "{{ range $p := .b }}",
            "t:1: this range has no {{ end }}; close it ({% endfor %} in Jinja2)",
        ),
    ],
)
def test_unbalanced_go_blocks(source: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        from_go(source, name="t")
    assert str(caught.value) == message
