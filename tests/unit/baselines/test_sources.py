from __future__ import annotations

from pathlib import Path

import pytest

from iter8_action.baselines.model import BaselineInvalid
from iter8_action.baselines.sources import from_locations, resolve
from iter8_action.baselines.spec import Source, parse_count, parse_source
from iter8_action.cli.main import main as iter8_main
from iter8_action.core.errors import InputError
from iter8_action.platforms.inputs import read_inputs
from tests.support.baselines import http_store, result_bytes


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("", None),
        ("base-branch", Source("base-branch")),
        ("artifact:perf-results", Source("artifact", "perf-results")),
        ("results/main.yaml", Source("location", "results/main.yaml")),
        ("https://ci.example/main.yaml", Source("location", "https://ci.example/main.yaml")),
    ],
)
def test_baseline_from_forms(text: str, source: Source | None) -> None:
    assert parse_source(text) == source


def test_bad_inputs_are_listed_together() -> None:
    with pytest.raises(InputError) as raised:
        read_inputs({"INPUT_BASELINE-FROM": "artifact:", "INPUT_BASELINE-COUNT": "0"})
    assert str(raised.value) == (
        "invalid inputs:\n"
        "  baseline-count: '0' is not valid; use a whole number from 1 to 20 (default 5)\n"
        "  baseline-from: 'artifact:' names no artifact; use e.g. artifact:iter8-reports"
    )
    assert parse_count("") == 5


def test_files_are_named_by_branch_and_content_hash(tmp_path: Path) -> None:
    (tmp_path / "main.yaml").write_bytes(result_bytes(http_store([50.0])))
    baselines = from_locations(["main.yaml"], base_dir=tmp_path)
    [run] = baselines.runs
    assert run.label.startswith("baseline@") and len(run.label) == len("baseline@") + 7
    on_pr = resolve(
        Source("location", "main.yaml"),
        count=5,
        platform="github",
        environ={"GITHUB_BASE_REF": "main"},
        token="",
        base_dir=tmp_path,
    )
    assert on_pr.runs[0].label.startswith("main@")


def test_a_missing_file_or_another_scheme_is_exit_2(tmp_path: Path) -> None:
    with pytest.raises(BaselineInvalid, match=r"baseline gone\.yaml: no such file\. Fix: "):
        from_locations(["gone.yaml"], base_dir=tmp_path)
    with pytest.raises(BaselineInvalid, match="only http\\(s\\) URLs and file paths are read"):
        from_locations(["ftp://ci.example/r.yaml"], base_dir=tmp_path)


def test_base_branch_outside_ci_is_a_note(tmp_path: Path) -> None:
    got = resolve(
        Source("base-branch"), count=5, platform="terminal", environ={}, token="", base_dir=tmp_path
    )
    assert got.runs == ()
    assert got.notes == (
        "baseline-from: base-branch needs GitHub Actions or GitLab CI; give a result file "
        "instead (iter8 run --baseline result.yaml)",
    )


def test_iter8_run_refuses_a_baseline_that_is_not_a_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "experiment.yaml").write_text("spec:\n- run: echo hi\n")
    (tmp_path / "bad.yaml").write_text("spec: []\n")
    code = iter8_main(
        [
            "run",
            "-f",
            str(tmp_path / "experiment.yaml"),
            "-o",
            str(tmp_path / "r.yaml"),
            "--baseline",
            str(tmp_path / "bad.yaml"),
        ]
    )
    assert code == 2
    assert f"error: {tmp_path / 'bad.yaml'}: not a result file (no result.insights section)" in (
        capsys.readouterr().err
    )


def test_baseline_main_without_a_baseline_says_how_to_get_one(tmp_path: Path) -> None:
    from iter8_action.core.errors import TaskFailed
    from iter8_action.results.model import Result
    from iter8_action.tasks.assess import TASK
    from tests.support.contexts import task_context

    ctx = task_context("assess", tmp_path, result=Result(store=http_store([50.0])))
    with pytest.raises(TaskFailed) as raised:
        TASK.execute({"baseline": "main", "rewards": {"min": ["http/latency-mean"]}}, ctx)
    assert raised.value.reason == (
        "baseline: there is no version named 'main' (versions are 0: v1); to compare with "
        "another run's result, set the baseline-from input or pass iter8 run --baseline RESULT"
    )


def test_a_url_is_downloaded_within_bounds(tmp_path: Path) -> None:
    from tests.support.servers.base import RecordingServer, Reply

    good = result_bytes(http_store([50.0]))
    with RecordingServer() as server:
        server.route("GET", "/main.yaml", lambda request: Reply(200, good))
        server.route("GET", "/huge.yaml", lambda request: Reply(200, b" " * (33 * 1024 * 1024)))
        server.route("GET", "/gone.yaml", lambda request: Reply(404, {"message": "gone"}))
        [run] = from_locations([f"{server.url}/main.yaml?token=abc"], base_dir=tmp_path).runs
        assert run.store.version_names == ["v1"]
        with pytest.raises(BaselineInvalid) as raised:
            from_locations([f"{server.url}/huge.yaml"], base_dir=tmp_path)
        assert str(raised.value) == (
            f"baseline {server.url}/huge.yaml: 34603008 bytes, above 33554432"
        )
        with pytest.raises(BaselineInvalid) as raised:
            from_locations([f"{server.url}/gone.yaml?sig=secret"], base_dir=tmp_path)
        assert str(raised.value) == f"baseline {server.url}/gone.yaml answered 404 Not Found"
