from __future__ import annotations

import json

from cloudevents.core.bindings.http import HTTPMessage, from_http_event

from iter8_action.events.cloudevent import DEFAULT_TYPE, default_source, encode
from iter8_action.events.summary import summarize
from tests.support.results import assessed_result


def test_binary_mode_puts_attributes_in_headers_and_the_summary_in_the_body() -> None:
    summary = summarize(assessed_result().to_dict(), experiment_name="checkout")
    headers, body = encode(summary)
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-type"] == "dev.iter8-py.experiment.result" == DEFAULT_TYPE
    assert headers["ce-source"] == "iter8-py/checkout"
    assert headers["ce-subject"] == "checkout"
    assert headers["ce-iter8verdict"] == "pass"
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == summary
    event = from_http_event(HTTPMessage(headers, body))
    assert event.get_data() == summary


def test_structured_mode_sends_one_cloudevents_document() -> None:
    summary = summarize(assessed_result(v2_p95=150).to_dict())
    headers, body = encode(
        summary,
        mode="structured",
        event_type="com.example.release",
        source="/pipelines/7",
        extensions={"team": "payments"},
    )
    assert headers == {"content-type": "application/cloudevents+json"}
    document = json.loads(body)
    assert {k: document[k] for k in ("specversion", "type", "source", "iter8verdict", "team")} == {
        "specversion": "1.0",
        "type": "com.example.release",
        "source": "/pipelines/7",
        "iter8verdict": "fail",
        "team": "payments",
    }
    assert "subject" not in document
    assert document["data"] == summary


def test_the_source_is_the_run_when_there_is_one() -> None:
    assert (
        default_source({"run": {"url": "https://ci.invalid/run/1"}}) == "https://ci.invalid/run/1"
    )
    assert default_source({"experiment": {"name": None}}) == "iter8-py/experiment"
