"""report/figures.py writes the JSON plotly writes, and embeds plotly.js of the same version.

plotly (the Python package) is a test dependency only: the reference here.
"""

from __future__ import annotations

import json
import math
import re
from types import ModuleType
from typing import Any

import plotly.graph_objects as plotly_go
import plotly.io as pio
import pytest
from plotly.offline import get_plotlyjs

from iter8_action.report import figures


def layout(**extra: Any) -> dict[str, Any]:
    axis = {"gridcolor": "#e5e7eb", "zerolinecolor": "#d1d5db", "automargin": True}
    return {
        "title": {"text": "http/latency by version"},
        "height": 360,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": "system-ui, sans-serif", "size": 12},
        "template": "none",
        "legend": {"orientation": "h", "y": -0.2},
        "xaxis": {**axis, "title": {"text": "x &lt;b&gt;"}},
        "yaxis": {**axis, "title": {"text": "requests"}},
        **extra,
    }


def histogram(go: ModuleType) -> Any:
    fig = go.Figure(layout=layout(xaxis={"type": "log", "title": {"text": "ms"}}))
    for version, colour in enumerate(("#636efa", "#ef553b")):
        fig.add_trace(
            go.Scatter(
                name=f"v{version + 1}",
                x=[0.5, 1.0, 2.5, 10.0],
                y=[3, 0, 7, 0],
                mode="lines",
                line={"color": colour, "shape": "hv", "width": 1.5},
                fill="tozeroy",
                opacity=0.5,
                hovertemplate="from %{x}: %{y}<extra>%{fullData.name}</extra>",
            )
        )
    return fig


def percentiles(go: ModuleType) -> Any:
    lay = layout()
    lay["xaxis"]["type"] = "category"
    fig = go.Figure(layout=lay)
    fig.add_trace(
        go.Scatter(
            name="v1",
            x=["p50", "p99.9"],
            y=[1.25, math.nan],
            mode="lines+markers",
            line={"color": "#00cc96"},
        )
    )
    fig.add_trace(go.Scatter(name="ünï 🚀", x=["p50", "p99.9"], y=[None, math.inf], mode="lines"))
    return fig


def error_rate(go: ModuleType) -> Any:
    fig = go.Figure(layout=layout())
    fig.add_trace(
        go.Bar(
            x=["v1", "v2", "v3"],
            y=[0.25, None, 0.0],
            marker={"color": ["#636efa", "#ef553b", "#00cc96"]},
            hovertemplate="%{x}: %{y:.3g}%<extra></extra>",
            showlegend=False,
        )
    )
    fig.add_hline(y=1.0, line={"dash": "dash", "color": "#b91c1c"}, annotation_text="SLO 1%")
    fig.add_hline(y=2, line={"dash": "dot", "color": "#b91c1c"})
    fig.add_hline(y=0.5, line={"color": "#111111"}, annotation_text="second")
    fig.update_yaxes(rangemode="tozero")
    return fig


def timeseries(go: ModuleType) -> Any:
    fig = go.Figure(layout=layout())
    fig.add_trace(
        go.Scatter(
            name="v1",
            x=[0.0, 0.5, 1.0],
            y=[10, 12, 11],
            mode="lines",
            line={"color": "#636efa", "shape": "hv"},
        )
    )
    fig.update_yaxes(rangemode="tozero")
    return fig


@pytest.mark.parametrize("build", [histogram, percentiles, error_rate, timeseries])
def test_the_json_is_plotlys(build: Any) -> None:
    expected = json.loads(pio.to_json(build(plotly_go), validate=True))
    ours = build(figures).to_dict()
    assert json.dumps(ours) == json.dumps(expected)  # the same values in the same key order


def test_only_the_none_template_is_supported() -> None:
    with pytest.raises(ValueError, match="only plotly's 'none' template"):
        figures.Figure(layout={"template": "plotly_dark"})
    assert figures.Figure(layout={}).to_dict() == {"data": [], "layout": {}}


def test_the_bundle_is_plotly_js_basic_of_the_plotly_version_tested_against() -> None:
    bundle = figures.plotly_js()
    header = re.search(r"plotly\.js \(basic - minified\) v(\d+\.\d+\.\d+)", bundle[:200])
    full = re.search(r"plotly\.js v(\d+\.\d+\.\d+)", get_plotlyjs()[:200])
    assert header is not None and full is not None
    assert header[1] == full[1], f"update the vendored bundle to plotly.js {full[1]}"
    assert len(bundle) < len(get_plotlyjs()) / 3
    assert "window.Plotly = Plotly" in bundle
