"""The "vs main" parts of the markdown report, from a result's `baselines` insight."""

from __future__ import annotations

from typing import Any

from iter8_action.baselines.view import read_view
from iter8_action.report.baselines import column_cell, section

ROW = {
    "metric": "http/latency-p95",
    "version": "v1",
    "value": 124.5,
    "baselineValue": 100.0,
    "change": 0.245,
    "changeLabel": "+24.5%",
    "pValue": 1e-9,
    "significant": True,
    "noise": 0.061,
    "worseWhen": "higher",
    "regression": True,
}


def _insight(**over: Any) -> dict[str, Any]:
    info = {
        "branch": "main",
        "runs": [{"name": "main@1a2b3c4"}, {"name": "main@5e6f7a8"}],
        "notes": [],
        "dropped": [],
        "headline": "http/latency-p95 +24.5% vs main (significant, p<0.001)",
        "comparisons": [
            ROW,
            {
                **ROW,
                "metric": "http/error-rate",
                "change": -0.5,
                "changeLabel": "-0.50 points",
                "regression": False,
            },
        ],
    }
    return {"baselines": {**info, **over}}


def test_the_section_and_the_column() -> None:
    view = read_view(_insight())
    assert view is not None
    assert section(view).splitlines()[:5] == [
        "#### vs main",
        "",
        "**http/latency-p95 +24.5% vs main (significant, p&lt;0.001)**",
        "",
        "Compared with main@\u20601a2b3c4 (the newest of 2 results of main). A regression is "
        "significant and outside the run-to-run noise (the prediction bound of the baseline runs).",
    ]
    assert (
        "| http/latency-p95 | v1 | 124.5 | 100 | +24.5% | &lt;0.001 | 6.1% | ❌ regression |"
        in (section(view))
    )
    assert (
        "| http/error-rate | v1 | 124.5 | 100 | -0.50 points | &lt;0.001 | 6.1% | ✅ better |"
        in (section(view))
    )
    assert column_cell(view, "http/latency-p95") == "+24.5%, p&lt;0.001, ❌ regression"
    assert column_cell(view, "http/latency-mean") == "—"


def test_no_baseline_says_why_and_what_was_not_judged() -> None:
    view = read_view(
        _insight(
            runs=[],
            comparisons=[],
            notes=["3 runs of main had an expired artifact"],
            dropped=["http/latency-p95 (maxIncreasePercent)"],
            headline=None,
        )
    )
    assert view is not None
    assert section(view) == (
        "#### vs main\n\nℹ️ **No baseline**: this run is not compared with main.\n"
        "- 3 runs of main had an expired artifact\n"
        "- not judged without a baseline: http/latency-p95 (maxIncreasePercent); "
        "the other SLOs decide"
    )


def test_hostile_strings_stay_data() -> None:
    view = read_view(
        _insight(
            branch="<img src=x> @team",
            runs=[{"name": "x|y`z"}],
            notes=["::error::pwned", "# heading"],
            comparisons=[{**ROW, "metric": "a|b", "version": "[link](https://evil.example)"}],
            headline="**bold** @everyone",
        )
    )
    assert view is not None
    text = section(view)
    assert "<img" not in text and "&lt;img src=x&gt; @\u2060team" in text
    assert "Compared with x\\|y\\`z (the newest" in text
    assert "- \\::error::pwned" in text and "- \\# heading" in text
    assert "\\[link\\](https:\u2060//evil.example)" in text
    assert "**\\*\\*bold\\*\\* @\u2060everyone**" in text


def test_malformed_insights_are_read_as_far_as_they_go() -> None:
    assert read_view({}) is None
    assert read_view({"baselines": "text"}) is None
    view = read_view(
        {
            "baselines": {
                "runs": "x",
                "comparisons": [1, {"pValue": "nan"}],
                "notes": [3, "ok"],
                "branch": None,
            }
        }
    )
    assert view is not None
    assert (view.branch, view.runs, view.notes) == ("baseline", (), ("ok",))
    assert view.rows[0].p_value is None and view.rows[0].regression is False
