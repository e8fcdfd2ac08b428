from __future__ import annotations

import time

import pytest

from iter8_action.templates import render as templating
from iter8_action.templates.render import TemplateError, from_go, render


def test_jinja_and_go_references() -> None:
    assert render("{{ a }} and {{ .b }} and {{- .c.d -}} !", {"a": 1, "b": 2, "c": {"d": 3}}) == (
        "1 and 2 and3!"
    )


def test_go_constructs_get_the_jinja_equivalent() -> None:
    with pytest.raises(TemplateError) as info:
        from_go("url: x\n{{ range .versions }}\n", name="prom.tpl")
    assert str(info.value) == (
        "prom.tpl:2: Go template construct '{{ range .versions }}' is not supported; "
        "templates are Jinja2: write {% for item in items %} ... {% endfor %}"
    )
    with pytest.raises(TemplateError, match=r"write \{\{ value \| tojson \}\}"):
        from_go("{{ .x | toYaml }}", name="t")


def test_undefined_values_name_what_is_available() -> None:
    with pytest.raises(TemplateError) as info:
        render("{{ missing }}", {"a": 1, "b": 2}, name="t")
    assert str(info.value) == "t: 'missing' is undefined (values available: a, b)"


def test_syntax_errors_name_the_line() -> None:
    with pytest.raises(TemplateError, match=r"^t:2: "):
        render("ok\n{% if %}", {}, name="t")


def test_the_sandbox_keeps_python_internals_out() -> None:
    with pytest.raises(TemplateError, match="not allowed in a template"):
        render("{{ x.__class__.__mro__[1].__subclasses__() }}", {"x": ""}, name="t")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "{{ 9**(9**10) }}",
            "t: 9 ** 3486784401 is too large a number (more than 65536 bits), "
            "past what a template may compute",
        ),
        (
            "{{ 'a'*200000000 }}",
            "t: repeating 1 items 200000000 times would make more than 4194304 of them, "
            "past what a template may compute",
        ),
        (
            "{% set ns = namespace(x=3) %}{% for i in range(20) %}{% set ns.x = ns.x * ns.x %}"
            "{% endfor %}{{ ns.x }}",
            "t: a product of more than 65536 bits, past what a template may compute",
        ),
        (
            "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(1) }}",
            "t: nested too deep (a macro or include that calls itself without end?)",
        ),
        (
            "{% if 1 %}" * 200 + "{% endif %}" * 200,
            "t: blocks nested too deep (too many levels of indentation)",
        ),
        (
            "{% include 't' %}",
            "t: nested too deep (a macro or include that calls itself without end?)",
        ),
        ("{{ '%1000000000d' % 1 }}", "t: rendering needs more than 512 MiB of memory"),
        (
            "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}",
            "t: the output is longer than 4194304 characters, the most a template may render",
        ),
        (
            "{% set ns = namespace(s='a') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
            "{% endfor %}{{ ns.s | length }}",
            "t: rendering needs more than 512 MiB of memory",
        ),
    ],
    ids=[
        "power",
        "repeat",
        "product",
        "recursion",
        "blocks",
        "include",
        "format",
        "output",
        "memory",
    ],
)
def test_rendering_is_bounded(source: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        render(source, {}, name="t", includes={"t": source})
    assert str(info.value) == message


def test_rendering_is_bounded_in_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # 2 s: the 20% allowance must cover forking the renderer on a busy 2-core CI machine
    monkeypatch.setattr(templating, "RENDER_TIMEOUT_S", 2.0)
    started = time.monotonic()
    with pytest.raises(TemplateError) as info:
        render(
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            {},
            name="t",
        )
    assert time.monotonic() - started < 2.0 * 1.2
    assert str(info.value) == (
        "t: rendering took longer than 2s, the most a template may take "
        "(a loop that never ends, or one too long?)"
    )


def test_numbers_and_strings_below_the_bounds_render() -> None:
    assert render("{{ 2 ** 100 }} {{ 'ab' * 3 }} {{ [1] + [2] }}", {}) == (
        "1267650600228229401496703205376 ababab [1, 2]"
    )
