"""Result and report paths that cannot be written are invalid input (exit 2, naming the
path), found before the experiment runs: never an internal error after it ran."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from iter8_action.cli.job import main as ci
from iter8_action.cli.main import main
from tests.support.paths import RESULTS

EXPERIMENT = "spec:\n- run: echo the task ran\n"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "experiment.yaml").write_text(EXPERIMENT, encoding="utf-8")
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    (tmp_path / "a-directory").mkdir()
    return tmp_path


def test_run_result_path_is_a_directory(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "-f", "experiment.yaml", "-o", "a-directory"]) == 2
    err = capsys.readouterr().err
    assert "Error: Invalid value for '-o' / '--output': File 'a-directory' is a directory." in err


def test_run_result_path_under_a_file(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "-f", "experiment.yaml", "-o", "a-file/result.yaml"]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        "error: a-file/result.yaml: cannot write the result there: a-file is a file, "
        "not a directory. Fix: name another file with -o.\n"
    )
    assert "the task ran" not in captured.out + captured.err


def test_report_output_is_a_directory(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = str(RESULTS / "winner.yaml")
    assert main(["report", "-f", result, "--output", "a-directory"]) == 2
    assert "'--output': File 'a-directory' is a directory." in capsys.readouterr().err


def test_report_output_under_a_file(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = str(RESULTS / "winner.yaml")
    assert main(["report", "-o", "html", "-f", result, "--output", "a-file/r.html"]) == 2
    assert capsys.readouterr().err == (
        "error: a-file/r.html: cannot write the report there: a-file is a file, "
        "not a directory. Fix: name another file with --output.\n"
    )


def _ci_env(**inputs: str) -> dict[str, str]:
    env = {"INPUT_EXPERIMENT": "experiment.yaml", "INPUT_COMMENT": "never"}
    env.update({f"INPUT_{k.upper().replace('_', '-')}": v for k, v in inputs.items()})
    return env


@pytest.mark.parametrize(
    ("existing", "what"),
    [("result.yaml", "the result"), ("report.md", "the report"), ("report.html", "the report")],
)
def test_ci_job_file_is_a_directory(
    workspace: Path, existing: str, what: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (workspace / "reports" / existing).mkdir(parents=True)
    assert ci(_ci_env(report_dir="reports", report_formats="markdown,html")) == 2
    captured = capsys.readouterr()
    assert (
        f"reports/{existing}: cannot write {what} there: it is a directory. "
        "Fix: remove it, or point `report-dir` at another directory." in captured.err
    )
    assert "the task ran" not in captured.out + captured.err
    assert "internal error" not in captured.out + captured.err


def test_ci_job_from_result_with_a_report_file_that_is_a_directory(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(RESULTS / "winner.yaml", workspace / "downloaded.yaml")
    (workspace / "reports" / "report.txt").mkdir(parents=True)
    env = _ci_env(report_dir="reports", report_formats="text", from_result="downloaded.yaml")
    assert ci(env) == 2
    err = capsys.readouterr().err
    assert "reports/report.txt: cannot write the report there: it is a directory." in err
