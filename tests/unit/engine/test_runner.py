from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from iter8_action.core.errors import Interrupted, TaskFailed
from iter8_action.core.exitcodes import ExitCode
from iter8_action.engine.loader import load_text
from iter8_action.engine.runner import exit_code_for, run_experiment
from iter8_action.experiment.file import read_result, read_result_document
from iter8_action.experiment.model import Experiment, TaskSpec
from iter8_action.results.model import TaskStatus
from iter8_action.tasks import registry
from iter8_action.tasks.base import TaskContext, TaskType
from tests.support.servers.base import RecordingServer, Reply


def run(text: str, tmp_path: Path, **kwargs: Any) -> tuple[Any, Path]:
    experiment = load_text(text, name="e.yaml", base_dir=tmp_path, env=os.environ)
    path = tmp_path / "result.yaml"
    return run_experiment(experiment, result_path=path, **kwargs, env=os.environ), path


def test_tasks_run_in_order_and_the_result_is_written(tmp_path: Path) -> None:
    result, path = run("spec:\n- run: echo one\n- run: echo two >&2\n", tmp_path)
    assert exit_code_for(result) is ExitCode.OK
    assert [t.status for t in result.tasks] == [TaskStatus.COMPLETED] * 2
    assert [t.output for t in result.tasks] == ["one\n", "two\n"]
    document = read_result_document(path)
    assert document["spec"] == [{"run": "echo one"}, {"run": "echo two >&2"}]
    assert document["result"]["numCompletedTasks"] == 2
    assert document["result"]["failure"] is False
    assert document["result"]["iter8Version"].startswith("iter8-py ")
    assert list(tmp_path.iterdir()) == [path]


def test_the_result_is_written_after_every_task(tmp_path: Path) -> None:
    text = """
spec:
- run: echo first
- run: |
    grep -q 'numCompletedTasks: 1' "$ITER8_RESULT"
    grep -q 'status: running' "$ITER8_RESULT"
    test -d "$ITER8_TMPDIR"
    echo "$ITER8_TASK_INDEX"
"""
    result, _ = run(text, tmp_path)
    assert result.tasks[1].status is TaskStatus.COMPLETED, result.tasks[1].output
    assert result.tasks[1].output == "1\n"


def test_a_failing_task_stops_the_experiment(tmp_path: Path) -> None:
    result, path = run("spec:\n- run: echo bad; exit 3\n- run: echo never\n", tmp_path)
    assert exit_code_for(result) is ExitCode.TASK_FAILED
    assert result.failure is True
    assert result.failed_task == 0
    assert (
        result.failure_reason
        == "task 0 (run) failed: the script exited with status 3; last line: bad"
    )
    assert [t.status for t in result.tasks] == [TaskStatus.FAILED, TaskStatus.PENDING]
    saved = read_result(path)
    assert saved.failure_reason == result.failure_reason
    assert saved.num_completed_tasks == 0


def test_a_soft_failure_goes_on(tmp_path: Path) -> None:
    text = "spec:\n- run: exit 1\n  softFailure: true\n- run: echo after\n"
    result, _ = run(text, tmp_path)
    assert exit_code_for(result) is ExitCode.OK
    assert result.tasks[0].status is TaskStatus.FAILED
    assert result.tasks[0].error == "the script exited with status 1"
    assert result.num_completed_tasks == 2
    assert result.completed


def test_conditions_skip_tasks_and_skipped_counts_completed(tmp_path: Path) -> None:
    text = """
spec:
- run: exit 1
  softFailure: true
- if: NoFailure()
  run: echo ran
- if: not SLOs()
  run: echo skipped
- if: result.tasks[1].status == 'completed'
  run: echo fourth
"""
    result, _ = run(text, tmp_path)
    assert [t.status for t in result.tasks] == [
        TaskStatus.FAILED,
        TaskStatus.COMPLETED,
        TaskStatus.SKIPPED,
        TaskStatus.COMPLETED,
    ]
    assert result.num_completed_tasks == 4


def test_a_condition_that_cannot_be_evaluated_fails_the_task(tmp_path: Path) -> None:
    result, _ = run("spec:\n- if: result.startTime > 5\n  run: echo x\n", tmp_path)
    assert result.failure_reason == (
        "task 0 (run) failed: condition 'result.startTime > 5': cannot compare str "
        f"{result.start_time!r} > int 5 (column 18)"
    )


def test_a_task_the_installation_lacks_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The schema knows grpc, but its module is missing (a broken install).
    monkeypatch.delitem(registry(), "grpc")
    result, _ = run("spec:\n- task: grpc\n  with: {host: 'localhost:50051'}\n", tmp_path)
    assert result.failure_reason == (
        "task 0 (grpc) failed: task 'grpc' is not available in this installation of "
        f"iter8-py; available tasks: {', '.join(registry())}"
    )


def _plugin(monkeypatch: pytest.MonkeyPatch, run: Any) -> Experiment:
    monkeypatch.setitem(registry(), "plugin", TaskType("plugin", "a test plugin", run, parse=dict))
    return Experiment(tasks=(TaskSpec(0, "plugin", {}, parsed={}),), source="t", base_dir=Path())


def test_an_unexpected_exception_is_reported_as_a_bug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(inputs: Mapping[str, Any], ctx: TaskContext) -> None:
        raise KeyError("oops")

    result = run_experiment(
        _plugin(monkeypatch, crash), result_path=tmp_path / "r.json", env=os.environ
    )
    assert result.failure_reason == (
        "task 0 (plugin) failed: internal error (KeyError: 'oops'); please report it"
    )
    assert json.loads((tmp_path / "r.json").read_text())["result"]["failedTask"] == 0


def test_a_plugin_sees_the_store_and_the_experiment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def peek(inputs: Mapping[str, Any], ctx: TaskContext) -> None:
        ctx.store.add_value("p/x", 1, 4.0)
        seen["document"] = ctx.document()
        seen["path"] = ctx.path("data.txt")
        seen["abs"] = ctx.path("/etc/hosts")
        with pytest.raises(TaskFailed):
            raise TaskFailed("inner")

    result = run_experiment(
        _plugin(monkeypatch, peek), result_path=tmp_path / "r.yaml", env=os.environ
    )
    assert result.store.value("p/x", 1) == 4.0
    assert seen["document"]["spec"] == [{"task": "plugin"}]
    assert seen["document"]["result"]["tasks"][0]["status"] == "running"
    assert seen["path"] == Path("data.txt")
    assert seen["abs"] == Path("/etc/hosts")


def test_stop_event_interrupts_and_keeps_the_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stop = threading.Event()

    def halt(inputs: Mapping[str, Any], ctx: TaskContext) -> None:
        stop.set()
        ctx.check_stop()

    experiment = _plugin(monkeypatch, halt)
    with pytest.raises(Interrupted):
        run_experiment(experiment, result_path=tmp_path / "r.yaml", stop=stop, env=os.environ)
    saved = yaml.safe_load((tmp_path / "r.yaml").read_text())["result"]
    assert saved["interrupted"] is True
    assert saved["tasks"][0]["error"] == "interrupted"
    assert "endTime" in saved


def test_ready_waits_for_http_and_tcp(tmp_path: Path) -> None:
    with RecordingServer() as server:
        server.script("GET", "/health", [Reply(503), Reply(503)])
        server.route("GET", "/health", lambda r: Reply(204))
        text = f"""
spec:
- task: ready
  with: {{url: "{server.url}/health", status: [204], interval: 10ms, headers: {{X-Probe: "1"}}}}
- task: ready
  with: {{host: 127.0.0.1, port: {server.port}, timeout: 2s}}
"""
        result, _ = run(text, tmp_path)
    assert exit_code_for(result) is ExitCode.OK, result.failure_reason
    assert [r.path for r in server.requests] == ["/health"] * 3
    assert server.requests[0].header("X-Probe") == "1"


def test_ready_times_out_with_the_last_problem(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with RecordingServer() as server:
        server.route("GET", "/", lambda r: Reply(500))
        text = f"""
spec:
- task: ready
  with: {{url: "{server.url}/", timeout: 300ms, interval: 100ms}}
  softFailure: true
- task: ready
  with: {{host: 127.0.0.1, port: {port}, timeout: 200ms, interval: 50ms}}
  softFailure: true
- task: ready
  with: {{url: "http://127.0.0.1:{port}/", timeout: 100ms, interval: 50ms}}
"""
        result, _ = run(text, tmp_path)
    assert result.tasks[0].error is not None
    assert result.tasks[0].error.startswith(f"{server.url}/ was not ready within 300ms (")
    assert result.tasks[0].error.endswith(
        "attempts); last attempt: status 500, expected a status below 400"
    )
    assert result.tasks[1].error is not None
    assert result.tasks[1].error.endswith("last attempt: Connection refused")
    assert result.failure_reason is not None
    assert result.failure_reason.endswith("last attempt: connection refused or unreachable")


def test_stand_ins_replace_tasks_and_decide_for_their_if(tmp_path: Path) -> None:
    text = "spec:\n- if: Completed()\n  run: exit 9\n- run: exit 8\n- run: echo real\n"
    seen: list[int] = []

    def done(ctx: TaskContext) -> None:
        seen.append(ctx.index)

    def skip(ctx: TaskContext) -> str:
        return "runs once, at the merge"

    def fail(ctx: TaskContext) -> None:
        raise TaskFailed("shard 2/3 failed: no app")

    result, _ = run(text, tmp_path, stand_ins={0: done, 1: skip})
    # task 0's if: is false (the run is not complete), but the stand-in decides
    assert seen == [0]
    statuses = [t.status for t in result.tasks]
    assert statuses == [TaskStatus.COMPLETED, TaskStatus.SKIPPED, TaskStatus.COMPLETED]
    assert result.tasks[2].output == "real\n"
    result, _ = run(text, tmp_path, stand_ins={0: skip, 1: fail})
    assert result.failure_reason == "task 1 (run) failed: shard 2/3 failed: no app"
