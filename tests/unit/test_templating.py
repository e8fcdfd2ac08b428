from __future__ import annotations

import pytest

from iter8_action.templating import TemplateError, from_go, render


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
