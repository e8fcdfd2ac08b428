"""The HTML report: one self-contained file with the verdict, the tables and the charts.

The charts are drawn by plotly.js, embedded whole in the page, so the file opens
with no network (a CI artifact, an air-gapped laptop). Figures are built with
plotly's Python API and serialised to JSON; every string from the experiment
or the result is escaped by one helper, `_e`, for every text node and every
attribute value (class names from data are first mapped onto the known ones),
and in the JSON with `<` written as `\\u003c` so nothing can close a `<script>`
element. Control characters and lone surrogates, which a page cannot carry,
are written as escapes (`core.logtext.inert`).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from iter8_action.core.logtext import inert
from iter8_action.metrics.names import percentile_suffix
from iter8_action.report import figures as go
from iter8_action.report import fmt
from iter8_action.report.model import (
    Bucket,
    Histogram,
    PercentileCurve,
    Report,
    ReportVerdict,
    SloStatus,
    SloVersion,
    TaskStatus,
    TimeSeries,
)

CHART_HEIGHT_PX = 360
LOG_WIDTH_RATIO = 4.0
# plotly's own qualitative palette, fixed so a version keeps its colour in every chart.
COLOURS = (
    "#636efa",
    "#ef553b",
    "#00cc96",
    "#ab63fa",
    "#ffa15a",
    "#19d3f3",
    "#ff6692",
    "#b6e880",
    "#ff97ff",
    "#fecb52",
)
# Plain symbols rather than emoji: they render with the fonts every system has.
_BANNER = {
    ReportVerdict.WINNER: ("good", "★"),
    ReportVerdict.PASSED: ("good", "✔"),
    ReportVerdict.NO_ASSESSMENT: ("good", "✔"),
    ReportVerdict.FAILED: ("bad", "✘"),
    ReportVerdict.ERROR: ("bad", "✘"),
    ReportVerdict.NO_DATA: ("warn", "⚠"),
    ReportVerdict.NO_WINNER_YET: ("warn", "…"),
    ReportVerdict.INCOMPLETE: ("warn", "…"),
}
_SLO_MARK = {
    SloStatus.SATISFIED: "✔",
    SloStatus.VIOLATED: "✘",
    SloStatus.NO_DATA: "?",
    SloStatus.NOT_APPLICABLE: "–",
}
_TASK_STATUSES = tuple(str(status) for status in TaskStatus)

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2937;
background:#f9fafb}
main{max-width:1100px;margin:0 auto;padding:0 1.5rem 3rem}
.banner{padding:1.5rem;margin:0 0 1.5rem;color:#fff}
.banner h1{margin:0 auto .4rem;max-width:1100px;font-size:1.6rem}
.banner p{margin:.2rem auto;max-width:1100px}
.banner.good{background:#15803d}.banner.bad{background:#b91c1c}.banner.warn{background:#b45309}
h2{font-size:1.2rem;margin:2rem 0 .6rem;border-bottom:1px solid #e5e7eb;padding-bottom:.3rem}
table{border-collapse:collapse;background:#fff;font-size:.92rem;margin:.3rem 0}
th,td{border:1px solid #e5e7eb;padding:.35rem .7rem;text-align:left;vertical-align:top}
th{background:#f3f4f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
.satisfied{color:#15803d}.violated{color:#b91c1c;font-weight:600}
.no-data{color:#b45309}.not-applicable{color:#6b7280}
.status-failed{color:#b91c1c}.status-not-run{color:#6b7280}
.chart{background:#fff;border:1px solid #e5e7eb;margin:.8rem 0;min-height:CHART_HEIGHT}
details{margin:1rem 0;background:#fff;border:1px solid #e5e7eb;padding:.5rem 1rem}
summary{cursor:pointer;font-weight:600}pre{overflow:auto;font-size:.85rem}
footer{color:#6b7280;font-size:.8rem;text-align:center;padding:1rem}
""".replace("CHART_HEIGHT", f"{CHART_HEIGHT_PX}px")


def render(report: Report, *, plotly_js: str | None = None) -> str:
    """The page; `plotly_js` replaces the embedded plotly.js bundle (tests keep goldens small)."""
    if plotly_js is None:
        plotly_js = go.plotly_js()
    charts = _charts(report)
    title = f"iter8 report: {report.run.name or 'experiment'}"
    body = [
        _banner(report),
        "<main>",
        _slos(report),
        _rewards(report),
        _chart_section(charts),
        _metrics(report),
        _tasks(report),
        _summaries(report),
        _experiment(report),
        "</main>",
        f"<footer>{_e(report.run.iter8_version or 'iter8-py')}</footer>",
        _chart_scripts(charts),
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title>",
            f"<style>{_STYLE}</style>",
            f'<script type="text/javascript">{plotly_js}</script>',
            "</head>",
            "<body>",
            *(part for part in body if part),
            "</body>",
            "</html>",
            "",
        ]
    )


def _e(text: object, *, lines: bool = False) -> str:
    """The one escape for every text node and attribute value of the page: on one line,
    or with `lines` (a `<pre>` block of our own YAML) keeping its line breaks, so that no
    line of the page starts with data (it may be printed where a CI runner reads)."""
    if lines:
        return "\n".join(_e(line) for line in str(text).split("\n"))
    return html.escape(inert(str(text)), quote=True)


def _known(value: str, known: Sequence[str], fallback: str) -> str:
    """`value` if it is one of `known` (a class name the stylesheet has), else `fallback`."""
    return value if value in known else fallback


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table of plain-text `headers` (escaped here) and rows of `<td>` cells."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "\n".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _section(section_id: str, title: str, body: str) -> str:
    """A report section: its anchor, its heading and `body` (HTML) on lines of their own."""
    return f'<section id="{section_id}"><h2>{title}</h2>\n{body}\n</section>'


def _td(text: str, css: str = "") -> str:
    return f'<td class="{_e(css)}">{_e(text)}</td>' if css else f"<td>{_e(text)}</td>"


def _banner(report: Report) -> str:
    tone, icon = _BANNER.get(report.verdict.status, ("warn", "ℹ️"))
    run = report.run
    name = f" · {_e(run.name)}" if run.name else ""
    facts = (
        f"Run {run.state}, started {fmt.timestamp(run.start_time)}, took "
        f"{fmt.duration(run.duration_s)}; {run.num_completed_tasks} of {run.num_tasks} tasks "
        "completed."
    )
    return (
        f'<header class="banner {tone}" id="verdict" data-verdict="{_e(report.verdict.status)}">'
        f"<h1>{icon} {_e(report.verdict.title)}{name}</h1>"
        f"<p>{_e(report.verdict.detail)}</p><p>{_e(facts)}</p></header>"
    )


def _slo_cell(result: SloVersion, units: str | None) -> str:
    mark = _SLO_MARK.get(result.status, "?")
    if result.status is SloStatus.NOT_APPLICABLE:
        text = f"{mark} n/a"
    elif result.status is SloStatus.NO_DATA:
        text = f"{mark} no data"
    else:
        text = f"{mark} {fmt.quantity(result.value, units)}"
    hints = [] if result.limit is None else [f"limit {fmt.quantity(result.limit, units)}"]
    hints += [result.note] if result.note else []
    title = f' title="{_e("; ".join(hints))}"' if hints else ""
    css = _known(result.status, tuple(_SLO_MARK), "no-data")
    return f'<td class="{_e(css)}"{title}>{_e(text)}</td>'


def _slos(report: Report) -> str:
    if not report.slos:
        return ""
    rows = [
        [_td(fmt.slo_label(s, report)), *(_slo_cell(v, s.units) for v in s.versions)]
        for s in report.slos
    ]
    return _section("slos", "SLOs", _table(["SLO", *report.versions], rows))


def _rewards(report: Report) -> str:
    if not report.rewards:
        return ""
    parts = []
    winner = report.winner
    if winner is not None and winner.version is not None:
        name = winner.name or report.version_name(winner.version) or "?"
        parts.append(f"<p><strong>Winner: {_e(name)}</strong>. {_e(winner.reason or '')}</p>")
    elif (
        winner is not None
        and winner.reason
        and report.verdict.status is not ReportVerdict.NO_WINNER_YET
    ):
        parts.append(f"<p><strong>No winner.</strong> {_e(winner.reason)}</p>")
    rows = []
    for reward in report.rewards:
        label, best = fmt.reward_label(reward), fmt.reward_best(reward, report)
        if not reward.comparisons:
            rows.append([_td(label), _td(best), *[_td(fmt.MISSING)] * 5])
        for c in reward.comparisons:
            versus = f"{report.version_name(c.version)} vs {report.version_name(c.baseline)}"
            rows.append(
                [
                    _td(label),
                    _td(best),
                    _td(versus),
                    _td(fmt.effect(c), "num"),
                    _td(fmt.interval(c), "num"),
                    _td(f"{fmt.p_value(c.adjusted_p_value)} ({fmt.test_name(c.test)})"),
                    _td(fmt.significance(c)),
                ]
            )
    headers = ["Reward", "Best", "Compared", "Effect", f"{fmt.confidence(report)} CI"]
    parts.append(_table([*headers, "p (adjusted)", "Significant"], rows))
    reasons = "".join(
        f"<li>{_e(r.metric)}: {_e(r.reason)}</li>" for r in report.rewards if r.reason
    )
    if reasons:
        parts.append(f"<ul>{reasons}</ul>")
    return _section("rewards", "Rewards", "\n".join(parts))


def _metrics(report: Report) -> str:
    if not report.metrics:
        return (
            '<section id="metrics"><h2>Metrics</h2><p>No metric values were recorded.</p></section>'
        )
    rows = [
        [
            f'<td title="{_e(m.description)}">{_e(fmt.metric_label(m.name, m.units))}</td>',
            *(_td(fmt.number(v), "num") for v in m.values),
        ]
        for m in report.metrics
    ]
    return _section("metrics", "Metrics", _table(["Metric", *report.versions], rows))


def _tasks(report: Report) -> str:
    if not report.tasks:
        return ""
    with_conditions = any(t.condition for t in report.tasks)
    with_errors = any(t.error for t in report.tasks)
    rows = []
    for t in report.tasks:
        row = [
            _td(str(t.index), "num"),
            _td(t.task),
            _td(fmt.task_status(t.status), f"status-{_known(t.status, _TASK_STATUSES, 'other')}"),
            _td(fmt.duration(t.duration_s), "num"),
        ]
        row += [_td(t.condition or "")] if with_conditions else []
        row += [_td(t.error or "")] if with_errors else []
        rows.append(row)
    headers = ["#", "Task", "Status", "Duration"]
    headers += ["If"] if with_conditions else []
    headers += ["Error"] if with_errors else []
    table = _table(headers, rows)
    note = ""
    if any(t.status is TaskStatus.NOT_RUN for t in report.tasks):
        note = "<p>Tasks marked <em>not run</em> never started: the run stopped before them.</p>"
    return f'<section id="tasks"><h2>Tasks</h2>\n{table}\n{note}</section>'


def _summaries(report: Report) -> str:
    blocks = []
    for summary in report.summaries:
        rows = [
            [_td(k), *(_td(v, "num") for v in values)] for k, values in fmt.summary_rows(summary)
        ]
        table = _table([summary.metric, *report.versions], rows)
        title = fmt.summary_title(summary)
        blocks.append(f"<details><summary>{_e(title)}</summary>\n{table}\n</details>")
    return "\n".join(blocks)


def _experiment(report: Report) -> str:
    text = fmt.experiment_yaml(report)
    if text is None:
        return ""
    return f"<details><summary>Experiment</summary>\n<pre>{_e(text, lines=True)}</pre>\n</details>"


# -- charts ------------------------------------------------------------------------------------


def _charts(report: Report) -> list[tuple[str, go.Figure]]:
    charts: list[tuple[str, go.Figure]] = []
    for i, hist in enumerate(report.histograms):
        charts.append((f"chart-histogram-{i}", _histogram_chart(hist, report)))
    for i, curve in enumerate(report.percentiles):
        charts.append((f"chart-percentiles-{i}", _percentile_chart(curve, report)))
    error_rates = [m for m in report.metrics if m.name.endswith("/error-rate")]
    for i, metric in enumerate(error_rates):
        charts.append((f"chart-error-rate-{i}", _error_rate_chart(metric.name, report)))
    for i, series in enumerate(report.timeseries):
        charts.append((f"chart-timeseries-{i}", _timeseries_chart(series, report)))
    return charts


def _colour(version: int) -> str:
    return COLOURS[version % len(COLOURS)]


def _plot_text(text: str) -> str:
    """Text for plotly, which reads a subset of HTML in titles and names (`<b>`, `<a href>`):
    entities keep a name like `<a href=...>` literal (plotly decodes them when drawing)."""
    return html.escape(inert(text), quote=False)


def _layout(title: str, x_title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    axis = {"gridcolor": "#e5e7eb", "zerolinecolor": "#d1d5db", "automargin": True}
    return {
        "title": {"text": _plot_text(title)},
        "height": CHART_HEIGHT_PX,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": "system-ui, sans-serif", "size": 12},
        "template": "none",
        "legend": {"orientation": "h", "y": -0.2},
        "xaxis": {**axis, "title": {"text": _plot_text(x_title)}},
        "yaxis": {**axis, "title": {"text": _plot_text(y_title)}},
        **extra,
    }


def _histogram_chart(hist: Histogram, report: Report) -> go.Figure:
    """Overlaid step outlines, one per version: they read on a linear or a log axis alike."""
    x_title = f"{hist.metric} ({hist.units})" if hist.units else hist.metric
    layout = _layout(f"{hist.metric} by version", x_title, "requests")
    if _log_scale(hist):
        layout["xaxis"]["type"] = "log"
    fig = go.Figure(layout=layout)
    for version, buckets in enumerate(hist.versions):
        if not buckets:
            continue
        xs, ys = _steps(buckets, positive=layout["xaxis"].get("type") == "log")
        fig.add_trace(
            go.Scatter(
                name=_plot_text(report.versions[version]),
                x=xs,
                y=ys,
                mode="lines",
                line={"color": _colour(version), "shape": "hv", "width": 1.5},
                fill="tozeroy",
                opacity=0.5,
                hovertemplate="from %{x}: %{y}<extra>%{fullData.name}</extra>",
            )
        )
    return fig


def _log_scale(hist: Histogram) -> bool:
    """A log axis for log-spaced buckets (the load task's: ten per decade), where a linear
    axis would make the wide buckets of the slow tail look like most of the requests."""
    widths = [b.upper - b.lower for bs in hist.versions if bs for b in bs]
    return bool(widths) and min(widths) > 0 and max(widths) / min(widths) >= LOG_WIDTH_RATIO


def _steps(buckets: Sequence[Bucket], *, positive: bool) -> tuple[list[float], list[int]]:
    """Points for an `hv` step line: each bucket's count from its lower bound, zero in gaps."""
    xs: list[float] = []
    ys: list[int] = []
    end: float | None = None
    for b in buckets:
        if end is not None and b.lower > end:
            xs.append(end)
            ys.append(0)
        xs.append(b.lower)
        ys.append(b.count)
        end = b.upper
    if end is not None:
        xs.append(end)
        ys.append(0)
    if positive:  # a log axis cannot show 0: start the first step at the next bound
        smallest = min((x for x in xs if x > 0), default=1.0)
        xs = [x if x > 0 else smallest for x in xs]
    return xs, ys


def _percentile_chart(curve: PercentileCurve, report: Report) -> go.Figure:
    labels = [f"p{percentile_suffix(p)}" for p in curve.percentiles]
    y_title = f"{curve.metric} ({curve.units})" if curve.units else curve.metric
    layout = _layout(f"{curve.metric} percentiles by version", "percentile", y_title)
    layout["xaxis"]["type"] = "category"
    fig = go.Figure(layout=layout)
    for version, values in enumerate(curve.versions):
        if all(v is None for v in values):
            continue
        fig.add_trace(
            go.Scatter(
                name=_plot_text(report.versions[version]),
                x=labels,
                y=list(values),
                mode="lines+markers",
                line={"color": _colour(version)},
            )
        )
    return fig


def _error_rate_chart(metric: str, report: Report) -> go.Figure:
    values = next(m.values for m in report.metrics if m.name == metric)
    fig = go.Figure(layout=_layout(f"{metric} by version", "version", "errors (%)"))
    fig.add_trace(
        go.Bar(
            x=[_plot_text(v) for v in report.versions],
            y=[None if v is None else round(v * 100, 6) for v in values],
            marker={"color": [_colour(i) for i in range(len(values))]},
            hovertemplate="%{x}: %{y:.3g}%<extra></extra>",
            showlegend=False,
        )
    )
    for slo in report.slos:
        if slo.metric == metric and slo.kind == "upper" and slo.limit is not None:
            fig.add_hline(
                y=slo.limit * 100,
                line={"dash": "dash", "color": "#b91c1c"},
                annotation_text=f"SLO limit {fmt.number(slo.limit * 100)}%",
            )
    fig.update_yaxes(rangemode="tozero")  # a rate is never negative, also when all are 0
    return fig


def _timeseries_chart(series: TimeSeries, report: Report) -> go.Figure:
    y_title = f"{series.metric} ({series.units})" if series.units else series.metric
    fig = go.Figure(layout=_layout(f"{series.metric} over time", "seconds since start", y_title))
    for version, values in enumerate(series.versions):
        if not values:
            continue
        fig.add_trace(
            go.Scatter(
                name=_plot_text(report.versions[version]),
                x=[i * series.interval_s for i in range(len(values))],
                y=list(values),
                mode="lines",
                line={"color": _colour(version), "shape": "hv"},
            )
        )
    fig.update_yaxes(rangemode="tozero")  # a steady rate reads as steady, not as noise
    return fig


def _chart_section(charts: list[tuple[str, go.Figure]]) -> str:
    if not charts:
        return '<section id="charts"><h2>Charts</h2><p>No chart data was recorded.</p></section>'
    divs = "\n".join(f'<div class="chart" id="{div_id}"></div>' for div_id, _ in charts)
    return _section("charts", "Charts", divs)


def _chart_scripts(charts: list[tuple[str, go.Figure]]) -> str:
    if not charts:
        return ""
    calls = []
    for div_id, fig in charts:
        figure = fig.to_dict()
        figure["config"] = {"responsive": True, "displaylogo": False}
        # `<` never appears in JSON outside strings, so this keeps `</script>` out of the
        # page; U+2028 and U+2029 end a line in older JavaScript, so they are escaped too.
        text = json.dumps(figure, ensure_ascii=False, separators=(",", ":"))
        for char in ("<", "\u2028", "\u2029"):
            text = text.replace(char, f"\\u{ord(char):04x}")
        calls.append(f'Plotly.newPlot("{div_id}", {text});')
    return '<script type="text/javascript">\n' + "\n".join(calls) + "\n</script>"
