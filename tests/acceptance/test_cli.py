from __future__ import annotations

import importlib.metadata
import signal
import subprocess
import time
from pathlib import Path

import yaml

from tests.support.cli import Iter8, iter8_command, iter8_env
from tests.support.paths import EXAMPLES

SEED = EXAMPLES / "valid" / "seed-load-test.yaml"


def test_help_on_every_command(iter8: Iter8) -> None:
    top = iter8("--help")
    assert top.returncode == 0
    for command in ("run", "validate", "assert", "demo", "version"):
        assert command in top.stdout
        sub = iter8(command, "--help")
        assert sub.returncode == 0, command
        assert "Usage: iter8 " + command in sub.stdout
    assert "Examples:" in iter8("run", "--help").stdout


def test_version(iter8: Iter8) -> None:
    out = iter8("version")
    assert out.returncode == 0
    installed = importlib.metadata.version("iter8-py")  # hatch-vcs: from the git tag
    assert out.stdout.startswith(f"iter8-py {installed} (Python 3.")
    assert iter8("--version").stdout == f"iter8-py, version {installed}\n"


def test_bad_flags_exit_2(iter8: Iter8) -> None:
    out = iter8("run", "--no-such-flag")
    assert out.returncode == 2
    assert "No such option '--no-such-flag'" in out.stderr
    assert "Traceback" not in out.stderr
    out = iter8("run", "--log-level", "loud")
    assert out.returncode == 2


def test_validate_prints_the_canonical_form(iter8: Iter8) -> None:
    out = iter8("validate", "-f", str(SEED), "--print-canonical")
    assert out.returncode == 0
    assert yaml.safe_load(out.stdout)["spec"][0] == {
        "task": "http",
        "with": {"versions": [{"name": "v1", "url": "http://127.0.0.1:8080/get"}]},
    }


def test_validate_warns_about_case_variants(iter8: Iter8) -> None:
    path = EXAMPLES / "valid" / "go-case-variants.yaml"
    out = iter8("validate", "-f", str(path))
    assert out.returncode == 0
    assert "accepted 'Upper' as 'upper'" in out.stderr


def test_invalid_experiment_exits_2_without_traceback(iter8: Iter8, tmp_path: Path) -> None:
    (tmp_path / "experiment.yaml").write_text("spec:\n- task: htp\n")
    out = iter8("run")
    assert out.returncode == 2
    assert out.stderr.startswith("error: experiment.yaml:2: $.spec[0].task: unknown task 'htp'")
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "result.yaml").exists()


def test_run_then_assert(iter8: Iter8, tmp_path: Path) -> None:
    (tmp_path / "experiment.yaml").write_text("spec:\n- run: echo hello\n")
    out = iter8("run", "-o", "out/result.json")
    assert out.returncode == 0, out.stderr
    assert "| hello" in out.stderr
    assert (tmp_path / "out" / "result.json").read_text().startswith("{")
    ok = iter8(
        "assert", "-c", "completed", "-c", "nofailure", "-c", "slos", "-f", "out/result.json"
    )
    assert ok.returncode == 0
    assert ok.stdout == (
        "✓ completed: all 1 tasks completed\n"
        "✓ nofailure: no task failed\n"
        "✓ slos: every version meets the SLOs\n"
    )


def test_a_failed_task_exits_3_and_assert_exits_1(iter8: Iter8, tmp_path: Path) -> None:
    (tmp_path / "experiment.yaml").write_text("spec:\n- run: exit 7\n")
    out = iter8("run")
    assert out.returncode == 3
    assert "task 0 (run) failed: the script exited with status 7" in out.stderr
    checked = iter8("assert", "-c", "completed", "-c", "nofailure")
    assert checked.returncode == 1
    assert checked.stdout == (
        "✗ completed: 0 of 1 tasks completed\n"
        "✗ nofailure: task 0 (run) failed: the script exited with status 7\n"
    )


def test_assert_input_errors(iter8: Iter8, tmp_path: Path) -> None:
    missing = iter8("assert", "-c", "completed")
    assert missing.returncode == 2
    assert missing.stderr == (
        "error: result.yaml: no such result file; run an experiment first "
        "(iter8 run -f experiment.yaml) or name the file with -f\n"
    )
    (tmp_path / "result.yaml").write_text("spec: []\n")
    unknown = iter8("assert", "-c", "great")
    assert unknown.returncode == 2
    assert "unknown condition 'great'; known: completed, nofailure, slos" in unknown.stderr
    bad_timeout = iter8("assert", "-c", "completed", "--timeout", "soon")
    assert bad_timeout.returncode == 2
    not_result = iter8("assert", "-c", "completed")
    assert not_result.stderr == (
        "error: result.yaml: not a result file (no 'result:' section); "
        "is this the experiment itself?\n"
    )


def test_assert_waits_for_a_running_experiment(tmp_path: Path) -> None:
    (tmp_path / "experiment.yaml").write_text("spec:\n- run: sleep 1\n")
    env = iter8_env()
    runner = subprocess.Popen(iter8_command("run"), cwd=tmp_path, env=env, stderr=subprocess.PIPE)
    try:
        checked = subprocess.run(
            iter8_command("assert", "-c", "completed", "--timeout", "20s"),
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        runner.wait(timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_sigint_stops_within_a_second_and_keeps_the_result(tmp_path: Path) -> None:
    (tmp_path / "experiment.yaml").write_text(
        "spec:\n- run: echo done\n- run: echo started; sleep 60\n- run: echo never\n"
    )
    process = subprocess.Popen(
        iter8_command("run"), cwd=tmp_path, env=iter8_env(), stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "| started" in line:
            break
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=10)
    elapsed = time.monotonic() - sent
    assert code == 130
    assert elapsed < 1.5
    result = yaml.safe_load((tmp_path / "result.yaml").read_text())["result"]
    assert result["interrupted"] is True
    assert [t["status"] for t in result["tasks"]] == ["completed", "failed", "pending"]
    assert result["tasks"][1]["output"] == "started\n"


def test_sigterm_too(tmp_path: Path) -> None:
    (tmp_path / "experiment.yaml").write_text("spec:\n- run: echo started; sleep 60\n")
    process = subprocess.Popen(
        iter8_command("run"), cwd=tmp_path, env=iter8_env(), stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "| started" in line:
            break
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 130
    rest = process.stderr.read()
    assert "interrupted by SIGTERM" in rest


def test_demo_runs_and_stops_what_it_started(iter8: Iter8, tmp_path: Path) -> None:
    out = iter8("demo", "--output-dir", "demo")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "demo" / "result.yaml").exists()
    assert (tmp_path / "demo" / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert out.stdout.startswith("Experiment demo\n✗ SLOs failed: v2\n")
    assert "Winner: v1: v1 meets every SLO and is best on every reward." in out.stdout
    assert "http/latency-p95 ≤ v1 +10%" in out.stdout
    assert "http/request-count                400    400" in out.stdout
    assert "| v2 misses its SLOs; keep v1" in out.stderr
    assert (tmp_path / "demo" / "experiment.yaml").exists()
    assert "sample app: v1 at http://127.0.0.1:" in out.stderr
