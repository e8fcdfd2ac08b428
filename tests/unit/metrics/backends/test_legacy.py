"""Iter8 v0.9-v0.10 `collect-metrics-database` inputs in today's terms."""

from __future__ import annotations

from iter8_action.metrics.backends.legacy import translate_legacy


def test_providers_and_version_info() -> None:
    old = {
        "providers": ["ce", "prom"],
        "versionInfo": [
            {"ibm_codeengine_revision_name": "app-00001", "StartingTime": 1714564800},
            {"ibm_codeengine_revision_name": "app-00002"},
        ],
    }
    assert translate_legacy(old) == {
        "templates": {"ce": "ce.metrics.yaml", "prom": "prom.metrics.yaml"},
        "versionValues": [
            {"ibm_codeengine_revision_name": "app-00001", "StartingTime": 1714564800},
            {"ibm_codeengine_revision_name": "app-00002"},
        ],
    }
    assert old["providers"] == ["ce", "prom"]


def test_current_fields_pass_through_and_win() -> None:
    old = {
        "providers": ["prom"],
        "templates": {"prom": "https://example.com/prom.tpl"},
        "values": {"a": 1},
        "versionInfo": [{"b": 2}],
        "versionValues": [{"c": 3}],
    }
    assert translate_legacy(old) == {
        "templates": {"prom": "https://example.com/prom.tpl"},
        "values": {"a": 1},
        "versionValues": [{"c": 3}],
    }


def test_a_version_without_values() -> None:
    assert translate_legacy({"providers": ["p"], "versionInfo": [None, {}]}) == {
        "templates": {"p": "p.metrics.yaml"},
        "versionValues": [{}, {}],
    }


def test_current_inputs_are_unchanged() -> None:
    current = {"templates": {"p": "prometheus"}, "versionValues": [{}]}
    assert translate_legacy(current) == current
