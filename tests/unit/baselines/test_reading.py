from __future__ import annotations

import math

import pytest
import yaml

from iter8_action.baselines.archive import MAX_ENTRIES, read_artifact, result_from_zip
from iter8_action.baselines.model import BaselineInvalid
from iter8_action.baselines.reading import MAX_NODES, MAX_RESULT_BYTES, read_store
from tests.support.baselines import http_store, result_bytes
from tests.support.servers.artifacts import zip_bomb, zip_of


def test_a_result_reads_back_with_its_own_baseline_version() -> None:
    store = http_store([50.0, 60.0])
    read, own = read_store(result_bytes(store, baseline=1), "main.yaml")
    assert read.version_names == ["v1", "v2"]
    assert own == 1
    assert read.value("http/latency-mean", 1) == store.value("http/latency-mean", 1)
    assert read.histogram("http/latency", 0) == store.histogram("http/latency", 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"a: [", "main.yaml: the baseline does not parse (while parsing a flow node)."),
        (b"spec: []\n", "main.yaml: not a result file (no result.insights section)."),
        (
            b"result: {insights: {versionNames: []}}",
            "main.yaml: result.insights.versionNames: missing or not a list of names.",
        ),
        (
            b"result: {insights: {versionNames: [v1], numVersions: 2}}",
            "main.yaml: result.insights.numVersions: 2 but 1 version names",
        ),
        (
            b"result: {insights: {versionNames: [v1], nonHistMetricValues: [{m: [.nan]}]}}",
            "main.yaml: result.insights.nonHistMetricValues[0].m: not a list of finite numbers",
        ),
        (
            b"result: {insights: {versionNames: [v1], histMetricValues: [{h: [{lower: 1}]}]}}",
            "main.yaml: result.insights.histMetricValues[0].h: not a list of buckets",
        ),
        (
            b"result: {insights: {versionNames: [v1], summaryMetricValues: "
            b"[{s: {values: [1, 2], counts: [1]}}]}}",
            "main.yaml: result.insights.summaryMetricValues[0].s: values and counts must be "
            "equal-length number lists",
        ),
        (b"\xff\xfe", "main.yaml: the baseline is not UTF-8 text"),
    ],
)
def test_bad_data_is_refused_with_where_and_why(text: bytes, message: str) -> None:
    with pytest.raises(BaselineInvalid) as raised:
        read_store(text, "main.yaml")
    assert str(raised.value).startswith(message)


def test_a_yaml_alias_bomb_stops_at_the_node_budget() -> None:
    levels = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for i in range(1, 8):
        levels.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    bomb = ("\n".join(levels) + "\nresult: {insights: {versionNames: [v1]}}\n").encode()
    assert len(bomb) < 1000 and MAX_NODES < 10**8
    with pytest.raises(BaselineInvalid, match=f"more than {MAX_NODES} values"):
        read_store(bomb, "bomb.yaml")


def test_an_oversized_result_is_not_parsed() -> None:
    with pytest.raises(BaselineInvalid, match=r"above the 32 MiB limit"):
        read_store(b" " * (MAX_RESULT_BYTES + 1), "big.yaml")


def test_the_shallowest_result_in_an_artifact_is_read() -> None:
    good = result_bytes(http_store([50.0]))
    data = zip_of({"deep/er/result.yaml": b"not: this", "report.md": b"#", "result.yaml": good})
    assert result_from_zip(data, "artifact") == ("result.yaml", good)
    store, own = read_artifact(data, "artifact")
    assert (store.version_names, own) == (["v1"], 0)
    assert math.isclose(
        store.value("http/latency-mean", 0) or 0, 50.0 * math.exp(0.125), rel_tol=0.01
    )


def test_a_zip_bomb_stops_at_the_result_limit() -> None:
    bomb = zip_bomb(MAX_RESULT_BYTES + 2 * 1024 * 1024)
    assert len(bomb) < 200_000
    with pytest.raises(BaselineInvalid) as raised:
        read_artifact(bomb, "artifact")
    assert (
        str(raised.value)
        == "artifact: result.yaml decompresses to more than 32 MiB; it is not read"
    )


def test_too_many_entries_and_no_result_are_refused() -> None:
    many = zip_of({f"f{i}.txt": b"" for i in range(MAX_ENTRIES + 1)})
    with pytest.raises(
        BaselineInvalid, match=f"has {MAX_ENTRIES + 1} entries, above {MAX_ENTRIES}"
    ):
        read_artifact(many, "artifact")
    with pytest.raises(
        BaselineInvalid, match=r"the artifact holds no result\.yaml or result\.json"
    ):
        read_artifact(zip_of({"report.md": b"#"}), "artifact")
    with pytest.raises(BaselineInvalid, match="the artifact is not a zip archive"):
        read_artifact(yaml.safe_dump({"a": 1}).encode(), "artifact")


def test_the_result_schema_is_checked_too() -> None:
    """What the result file reader refuses (here a count that is not a whole number) is
    refused in a baseline, named after where the baseline came from."""
    bad = (
        b"result:\n  insights:\n    versionNames: [v1]\n"
        b"    metricsInfo: {m: {type: gauge, description: 3}}\n"
    )
    with pytest.raises(BaselineInvalid) as raised:
        read_store(bad, "https://ci.example/run/1 (artifact iter8-reports)")
    message = str(raised.value)
    assert message.startswith(
        "https://ci.example/run/1 (artifact iter8-reports): not a valid result file:\n"
        "https://ci.example/run/1 (artifact iter8-reports):"
    )
    assert "description" in message
