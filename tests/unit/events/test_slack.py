from __future__ import annotations

import json
from typing import Any

from iter8_action.events import slack
from iter8_action.events.summary import summarize
from iter8_action.results.model import ITER8_VERSION
from tests.support.results import assessed_result
from tests.support.servers.webhooks import slack_problem


def _summary(**kwargs: Any) -> dict[str, Any]:
    return summarize(assessed_result(**kwargs).to_dict(), experiment_name="checkout")


def test_message_of_a_passing_experiment() -> None:
    summary = _summary()
    summary["run"] = {"url": "https://github.com/acme/app/actions/runs/7", "platform": "github"}
    assert slack.message(summary) == {
        "text": "Iter8 checkout passed: every version meets all 2 SLO(s)",
        "blocks": [
            {
                "type": "header",
                "text": {
                    "type": "plain_text",
                    "text": ":white_check_mark: Iter8 checkout passed",
                    "emoji": True,
                },
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*Verdict:* pass: every version meets all 2 SLO(s)\n"
                    "*Winner:* v2 (v2 meets every SLO and is best on every reward)",
                },
            },
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*v1*\nmeets every SLO"},
                    {"type": "mrkdwn", "text": "*v2*\nmeets every SLO\nbest on http/latency-mean"},
                ],
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "```\n"
                    "SLO                      v1        v2\n"
                    "http/latency-p95 &lt;= 100  87.25 ok  92.5 ok\n"
                    "http/error-rate &lt;= 0.01  0 ok      0.005 ok\n"
                    "```",
                },
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "<https://github.com/acme/app/actions/runs/7|View the run>",
                    },
                    {"type": "mrkdwn", "text": ITER8_VERSION},  # the running version
                ],
            },
        ],
    }
    assert slack_problem(slack.message(summary)) is None


def test_failed_slos_are_marked_and_the_headline_says_so() -> None:
    message = slack.message(_summary(v2_p95=1234.5))
    assert message["blocks"][0]["text"]["text"] == ":x: Iter8 checkout failed its SLOs"
    assert (
        "http/latency-p95 &lt;= 100  87.25 ok  1,234 FAIL" in message["blocks"][3]["text"]["text"]
    )
    assert (
        message["blocks"][2]["fields"][1]["text"]
        == "*v2*\nmisses an SLO\nbest on http/latency-mean"
    )


def test_markup_characters_are_escaped_everywhere() -> None:
    summary = _summary()
    summary["reason"] = "a <b> & c"
    summary["versions"][0]["name"] = "<!channel>"
    summary["run"] = {"url": "https://ci.example/run?a=1&b=x|y", "platform": "gitlab"}
    message = slack.message(summary, title="Release <now> & then")
    assert message["text"] == "Release &lt;now&gt; &amp; then: a &lt;b&gt; &amp; c"
    assert message["blocks"][0]["text"]["text"] == ":white_check_mark: Release <now> & then"
    assert message["blocks"][1]["text"]["text"].startswith("*Verdict:* pass: a &lt;b&gt; &amp; c")
    assert message["blocks"][2]["fields"][0]["text"] == "*&lt;!channel&gt;*\nmeets every SLO"
    assert message["blocks"][4]["elements"][0]["text"] == (
        "<https://ci.example/run?a=1&amp;b=x%7Cy|View the run>"
    )
    assert slack_problem(message) is None


def test_long_names_and_many_slos_stay_within_slacks_limits() -> None:
    summary = _summary()
    summary["experiment"]["name"] = "x" * 400
    summary["slos"] = [
        {
            "metric": f"custom/metric-number-{i}-with-a-long-name",
            "kind": "lower",
            "limit": i,
            "versions": [
                {"name": "v1", "value": i + 0.5, "limit": i, "status": "satisfied"},
                {"name": "v2", "value": None, "limit": i, "status": "no-data"},
            ],
        }
        for i in range(200)
    ]
    message = slack.message(summary)
    assert len(message["blocks"][0]["text"]["text"]) == slack.HEADER_MAX
    assert message["blocks"][0]["text"]["text"].endswith("x…")
    table = message["blocks"][3]["text"]["text"]
    assert len(table) <= slack.SECTION_MAX
    assert table.endswith("more SLO(s)\n```")
    shown = table.count("custom/metric-number-")
    assert table.splitlines()[-2] == f"... and {200 - shown} more SLO(s)"
    first = table.splitlines()[2]
    assert first.startswith("custom/metric-number-0-with-a-long-name &gt;= 0  ")
    assert first.endswith("  0.5 ok    no data")
    assert slack_problem(message) is None
    assert len(json.dumps(message)) < 8000


def test_an_experiment_with_no_versions_still_makes_a_valid_message() -> None:
    message = slack.message(summarize({"failure": True, "failureReason": "bad"}))
    assert [b["type"] for b in message["blocks"]] == ["header", "section", "context"]
    assert message["text"] == "Iter8 experiment did not complete: the experiment failed: bad"
    assert slack_problem(message) is None


def test_relative_slos_and_large_numbers() -> None:
    table = slack.slo_table(
        [
            {
                "metric": "m",
                "kind": "upper",
                "limit": None,
                "versions": [{"value": 12345.6, "status": "not-applicable"}],
            }
        ],
        ["v1"],
    )
    assert table == "```\nSLO           v1\nm (relative)  12,346 n/a\n```"
