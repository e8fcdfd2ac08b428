"""Hostile and broken result files: `iter8 assert` and `iter8 report` exit 2 with the file,
the line and the path of each problem, checked against schemas/result.schema.json before
anything reads the file (the `from-result` input reads files that another workflow wrote).

Each example in tests/examples/invalid/results/ ends with its expectations as comments,
as the experiment examples do: `# expect-exit: N` and one `# expect: ...` per error line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iter8_action.cli.main import main
from tests.support.examples import error_lines, expectations
from tests.support.paths import EXAMPLES, SCHEMAS, TEST_DATA

INVALID_RESULTS = EXAMPLES / "invalid" / "results"
INVALID = sorted(INVALID_RESULTS.glob("*.yaml"))
COMMANDS = {
    "assert": ["assert", "-c", "completed", "-c", "nofailure", "-c", "slos", "-c", "winner"],
    "report": ["report", "-o", "html"],
}


def test_the_hostile_files_of_the_issue_are_examples() -> None:
    names = {p.stem for p in INVALID}
    assert {
        "num-versions-huge",
        "version-name-lone-surrogate",
        "version-names-not-a-list",
        "bucket-lower-not-a-number",
        "metric-type-unknown",
    } <= names


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_result_fails_with_its_message(
    path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, expected = expectations(path)
    assert main([*COMMANDS[command], "-f", str(path)]) == code
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.out == ""
    assert error_lines(captured.err) == expected


def _json_result(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "result.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_lone_surrogate_in_a_json_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = {"result": {"insights": {"numVersions": 1, "versionNames": ["v1\ud800"]}}}
    path = _json_result(tmp_path, json.dumps(document))
    assert main(["report", "-f", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {path}:1: $.result.insights.versionNames[0]: the text holds a lone "
        "surrogate (\\ud800), which is not a character\n"
    )


def test_nan_in_a_json_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        '{\n "result": {\n  "insights": {\n   "nonHistMetricValues": [{"a/b": [NaN]}]\n  }\n }\n}'
    )
    path = _json_result(tmp_path, text)
    assert main(["assert", "-c", "slos", "-f", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {path}:4: $.result.insights.nonHistMetricValues[0].a/b[0]: "
        "nan is not a finite number\n"
    )


def test_json_nested_without_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _json_result(tmp_path, '{"result": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert main(["report", "-f", str(path)]) == 2
    assert (
        capsys.readouterr().err == f"error: {path}: not a result file (it is nested too deeply)\n"
    )


def test_an_alias_that_contains_itself(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "result.yaml"
    path.write_text("result: &r\n  insights: *r\n", encoding="utf-8")
    assert main(["report", "-f", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {path}:2: $.result.insights: an alias refers to its own anchor\n"
    )


def test_a_result_over_the_size_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "result.yaml"
    with path.open("w", encoding="utf-8") as f:
        f.write("result:\n  insights:\n    nonHistMetricValues:\n    - a/b:\n")
        f.write("      - 1.5\n" * 1_000_000)
    assert main(["report", "-f", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {path}: the result file is 12.0 MB, more than the 10 MiB a result file may "
        "have; is this the right file?\n"
    )


def test_an_slo_judged_for_fewer_versions_than_the_result_has(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "result.yaml"
    path.write_text(
        "result:\n"
        "  insights:\n"
        "    numVersions: 2\n"
        "    assessment:\n"
        "      slos:\n"
        "      - {metric: a/b, kind: upper, limit: 1, versions: [{value: 0, status: satisfied}]}\n",
        encoding="utf-8",
    )
    assert main(["assert", "-c", "slos", "-f", str(path)]) == 1
    assert capsys.readouterr().out == "✗ slos: SLOs missed: v2: upper SLO on a/b no-data\n"
    assert main(["report", "-o", "junit", "-f", str(path)]) == 0


@pytest.mark.parametrize("name", ["num-versions-huge", "metric-type-unknown"])
def test_the_ci_job_annotates_a_from_result_file_at_its_line(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from iter8_action.cli.job import main as ci

    monkeypatch.chdir(tmp_path)
    source = INVALID_RESULTS / f"{name}.yaml"
    (tmp_path / "downloaded.yaml").write_bytes(source.read_bytes())
    env = {
        "GITHUB_ACTIONS": "true",
        "INPUT_FROM-RESULT": "downloaded.yaml",
        "INPUT_COMMENT": "never",
    }
    assert ci(env) == 2
    out = capsys.readouterr().out
    _, expected = expectations(source)
    file, line, message = expected[0].replace(str(source), "downloaded.yaml").split(":", 2)
    assert f"::error title=Invalid result file,file={file},line={line}::{message.strip()}" in out


def test_long_lists_of_numbers_are_checked_item_by_item(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values: list[object] = [1.5] * 100_000
    values[70_000] = "x"
    counts: list[object] = [1] * 100_000
    counts[90_000] = -1
    counts[90_001] = 2.5
    summary = {"values": [1.0] * 100_000, "counts": counts}
    document = {
        "result": {
            "insights": {
                "numVersions": 1,
                "nonHistMetricValues": [{"a/b": values}],
                "summaryMetricValues": [{"a/c": summary}],
            }
        }
    }
    path = _json_result(tmp_path, json.dumps(document))
    assert main(["report", "-f", str(path)]) == 2
    assert error_lines(capsys.readouterr().err) == [
        f"{path}:1: $.result.insights.nonHistMetricValues[0].a/b[70000]: "
        "expected a number, found 'x' (a string)",
        f"{path}:1: $.result.insights.summaryMetricValues[0].a/c.counts[90000]: "
        "-1 is less than the minimum of 0",
        f"{path}:1: $.result.insights.summaryMetricValues[0].a/c.counts[90001]: "
        "expected an integer, found 2.5 (a number)",
    ]


def test_the_result_schema_is_a_valid_schema_and_every_fixture_meets_it() -> None:
    import jsonschema

    from iter8_action.experiment.file import read_result_document

    schema = json.loads((SCHEMAS / "result.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    fixtures = sorted(TEST_DATA.glob("*/*.yaml"))
    results = [p for p in fixtures if p.parent.name in ("results", "iter8")]
    assert len(results) >= 13
    for path in results:
        read_result_document(path)
