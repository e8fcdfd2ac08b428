from __future__ import annotations

from iter8_action.events.summary import summarize
from iter8_action.rollout.description import MARKER, body, markdown
from tests.support.results import assessed_result


def test_the_description_carries_verdict_winner_slos_rewards_and_the_run() -> None:
    summary = summarize(assessed_result().to_dict(), experiment_name="checkout")
    summary["run"] = {"url": "https://github.com/acme/app/actions/runs/7", "platform": "github"}
    assert markdown(summary) == (
        "## Iter8 experiment checkout: pass\n"
        "\n"
        "**Verdict:** pass: every version meets all 2 SLO(s)\n"
        "**Winner:** v2 (v2 meets every SLO and is best on every reward)\n"
        "\n"
        "| SLO | v1 | v2 |\n"
        "| --- | --- | --- |\n"
        "| `http/latency-p95` ≤ 100 | 87.25 ✅ | 92.5 ✅ |\n"
        "| `http/error-rate` ≤ 0.01 | 0 ✅ | 0.005 ✅ |\n"
        "\n"
        "| Reward | Best |\n"
        "| --- | --- |\n"
        "| `http/latency-mean` (min) | v2 |\n"
        "\n"
        "[The run that produced this result](https://github.com/acme/app/actions/runs/7)\n"
        "\n"
        f"{MARKER}\n"
    )


def test_cells_are_escaped_and_missing_data_is_marked() -> None:
    summary = summarize({"insights": {}}, experiment_name=None)
    summary["versions"] = [{"name": "a|b"}]
    summary["slos"] = [
        {
            "metric": "m",
            "kind": "lower",
            "limit": None,
            "versions": [{"name": "a|b", "value": None, "status": "no-data"}],
        }
    ]
    summary["rewards"] = [{"metric": "r", "direction": "max", "verdict": "tie", "winnerName": None}]
    text = markdown(summary)
    assert text.startswith("## Iter8 experiment: no-slos\n")
    assert "| SLO | a\\|b |\n| --- | --- |\n| `m` relative | ❔ no data |\n" in text
    assert "| `r` (max) | tie |\n" in text


def test_the_body_is_the_markdown_report_with_the_run_and_the_marker() -> None:
    result = assessed_result()
    document = {"metadata": {"name": "checkout"}, "spec": [], "result": result.to_dict()}
    summary = summarize(result.to_dict(), experiment_name="checkout")
    summary["run"] = {"url": "https://ci.example/run/1", "platform": "gitlab"}
    text = body(document, summary)
    assert "| http/latency-p95 ≤ 100 msec | ✅ 87.25 msec | ✅ 92.50 msec |" in text
    assert "**Winner: v2**" in text
    assert text.endswith(
        "\n\n[The run that produced this result](https://ci.example/run/1)\n\n" + MARKER + "\n"
    )


def test_a_document_the_report_cannot_read_gets_the_short_summary() -> None:
    summary = summarize(assessed_result().to_dict(), experiment_name="checkout")
    assert body({"result": "not a result"}, summary) == markdown(summary)
