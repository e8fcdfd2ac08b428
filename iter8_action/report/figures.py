"""The HTML report's figures as plotly.js reads them, without the plotly Python package.

The report needs plotly.js and the JSON of a few figures; the plotly package
(64 MB with narwhals) generates that JSON from validators for every trace type.
This module has the small part of its API that report/html.py uses (`Figure`,
`Scatter`, `Bar`, `add_trace`, `add_hline`, `update_yaxes`) and produces the same
JSON as `plotly.io.to_json(fig, validate=True)`, key order included:
tests/unit/report/test_figures.py compares the two.

`plotly_js()` is plotly.js's "basic" bundle (scatter, bar and pie traces, shapes,
annotations, log and category axes: all the report draws), 1.2 MB instead of
the full bundle's 4.8 MB, vendored from the npm package plotly.js-basic-dist-min
(MIT licence, next to it) at the version the plotly package of the lock embeds.
"""

from __future__ import annotations

import math
from functools import cache
from importlib.resources import files
from typing import Any

PLOTLY_JS = "plotly-basic.min.js"
# plotly's "none" template, as plotly.io.to_json writes it.
_NONE_TEMPLATE = {"data": {"scatter": [{"type": "scatter"}]}}


@cache
def plotly_js() -> str:
    """The plotly.js bundle the page embeds (read once)."""
    return (files("iter8_action.report") / "vendor" / PLOTLY_JS).read_text(encoding="utf-8")


def _plain(value: Any) -> Any:
    """A JSON value as plotly writes it: dict keys sorted, non-finite numbers as null."""
    if isinstance(value, dict):
        return {key: _plain(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _trace(kind: str, props: dict[str, Any]) -> dict[str, Any]:
    return {**_plain({k: v for k, v in props.items() if v is not None}), "type": kind}


def Scatter(
    *,
    x: list[Any],
    y: list[Any],
    name: str | None = None,
    mode: str | None = None,
    line: dict[str, Any] | None = None,
    fill: str | None = None,
    opacity: float | None = None,
    hovertemplate: str | None = None,
) -> dict[str, Any]:
    props = {"x": x, "y": y, "name": name, "mode": mode, "line": line, "fill": fill}
    return _trace("scatter", {**props, "opacity": opacity, "hovertemplate": hovertemplate})


def Bar(
    *,
    x: list[Any],
    y: list[Any],
    marker: dict[str, Any] | None = None,
    hovertemplate: str | None = None,
    showlegend: bool | None = None,
) -> dict[str, Any]:
    props = {"x": x, "y": y, "marker": marker, "hovertemplate": hovertemplate}
    return _trace("bar", {**props, "showlegend": showlegend})


class Figure:
    """A figure: traces and a layout, built in the order plotly keeps them."""

    def __init__(self, layout: dict[str, Any]) -> None:
        template = layout.get("template")
        if template not in (None, "none"):
            raise ValueError(f"only plotly's 'none' template is supported, not {template!r}")
        self.data: list[dict[str, Any]] = []
        self.layout: dict[str, Any] = _plain(
            {**layout, "template": _NONE_TEMPLATE} if template else layout
        )

    def add_trace(self, trace: dict[str, Any]) -> None:
        self.data.append(trace)

    def add_hline(
        self, *, y: float, line: dict[str, Any], annotation_text: str | None = None
    ) -> None:
        """A horizontal line across the plot at `y`, labelled at its right end."""
        self.layout.setdefault("shapes", []).append(
            {"line": _plain(line), "type": "line", "x0": 0, "x1": 1, "xref": "x domain"}
            | {"y0": y, "y1": y, "yref": "y"}
        )
        if annotation_text is not None:
            self.layout.setdefault("annotations", []).append(
                {"showarrow": False, "text": annotation_text, "x": 1, "xanchor": "right"}
                | {"xref": "x domain", "y": y, "yanchor": "bottom", "yref": "y"}
            )

    def update_yaxes(self, **props: Any) -> None:
        self.layout.setdefault("yaxis", {}).update(_plain(props))

    def to_dict(self) -> dict[str, Any]:
        """The figure as `json.loads(plotly.io.to_json(fig, validate=True))` gives it."""
        return {"data": [dict(trace) for trace in self.data], "layout": dict(self.layout)}
