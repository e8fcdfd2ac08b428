"""`iter8 report` end to end: read a result file, write every format."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from iter8_action.cli.main import main
from tests.support.paths import RESULTS


def test_text_report_of_a_result_file(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["report", "-f", str(RESULTS / "three-versions.yaml")])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[:2] == ["Experiment three-versions", "✗ SLOs failed: v3"]
    assert "\x1b[" not in out  # not a terminal: no colour


def test_colour_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--color", "-f", str(RESULTS / "winner.yaml")]) == 0
    assert "\x1b[1;32m★ Winner: v2\x1b[0m" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["markdown", "html", "json", "junit"])
def test_every_format_to_a_file(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out" / f"report.{fmt}"
    result = tmp_path / "result.yaml"
    shutil.copy(RESULTS / "failed-run.yaml", result)
    assert main(["report", "-o", fmt, "-f", str(result), "--output", str(output)]) == 0
    assert capsys.readouterr().err == f"{fmt} report written to {output}\n"
    text = output.read_text(encoding="utf-8")
    if fmt == "json":
        assert json.loads(text)["verdict"]["status"] == "error"
    elif fmt == "junit":
        assert ET.fromstring(text).get("errors") == "1"
    elif fmt == "html":
        assert 'data-verdict="error"' in text
    else:
        assert text.startswith("### 💥 Experiment failed · failed-half-way\n")


def test_a_json_result_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    result = tmp_path / "result.json"
    document = yaml.safe_load((RESULTS / "winner.yaml").read_text(encoding="utf-8"))
    result.write_text(json.dumps(document), encoding="utf-8")
    assert main(["report", "-o", "json", "-f", str(result)]) == 0
    assert json.loads(capsys.readouterr().out)["winner"]["name"] == "v2"


def test_missing_and_malformed_results_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.yaml"
    assert main(["report", "-f", str(missing)]) == 2
    assert capsys.readouterr().err == (
        f"error: {missing}: no such result file; run an experiment first "
        "(iter8 run -f experiment.yaml) or name the file with -f\n"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("result:\n  tasks:\n  - {index: first, task: http}\n", encoding="utf-8")
    assert main(["report", "-f", str(bad)]) == 2
    assert capsys.readouterr().err == (
        f"error: {bad}:3: $.result.tasks[0].index: expected an integer, found 'first' (a string)\n"
    )


def test_an_unwritable_output_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    output = blocker / "report.html"
    code = main(["report", "-f", str(RESULTS / "winner.yaml"), "--output", str(output)])
    assert code == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: {output}: cannot write the report there: {blocker} is a file, not a directory. "
        "Fix: name another file with --output.\n"
    )


def test_as_a_user_runs_it(iter8: Any, tmp_path: Path) -> None:
    """Through `python -m iter8_action`, in a directory holding result.yaml (the default -f)."""
    shutil.copy(RESULTS / "no-winner.yaml", tmp_path / "result.yaml")
    done = iter8("report", "-o", "markdown")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("### ⏳ No winner yet: v1, v2 · ab-test\n")
