"""Bounds on what a run fetches, sends and renders: `iter8 run` against servers on 127.0.0.1.

Issue 12 items 4 (deadlines and size caps), 5 (templates that never end) and 8
(backend faults), and issue 11 item 7 (credentials across origins). The fault
matrix over every kind of call is in test_fault_matrix.py.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.cli import Iter8, iter8_command, iter8_env, peak_rss_mib, run_measured
from tests.support.servers.base import RecordingServer, Reply
from tests.support.servers.faults import Fault, FaultServer
from tests.support.servers.webhooks import WebhookReceiver


def _write(tmp_path: Path, tasks: list[dict[str, Any]]) -> None:
    experiment = {"metadata": {"name": "bounds"}, "spec": tasks}
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(experiment, sort_keys=False))


def _tasks(tmp_path: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load((tmp_path / "result.yaml").read_text())["result"]["tasks"])


# -- 12.4: an overall deadline, not a per-read one ---------------------------------------------


def test_ready_against_a_trickling_app_ends_at_its_timeout(iter8: Iter8, tmp_path: Path) -> None:
    with FaultServer(Fault.TRICKLE) as app:
        _write(tmp_path, [{"task": "ready", "with": {"url": app.url + "/", "timeout": "2s"}}])
        started = time.monotonic()
        done = iter8("run", "-f", "experiment.yaml")
        elapsed = time.monotonic() - started
    assert done.returncode == 3, done.stderr
    [task] = _tasks(tmp_path)
    assert task["durationSeconds"] <= 2 * 1.2
    assert elapsed < 10  # 99 s before: one byte a second of a 100-byte answer
    assert task["error"].startswith(f"{app.url}/ was not ready within 2s (")
    assert task["error"].endswith("; last attempt: no answer within 2s")


def test_a_huge_backend_answer_is_cut_at_the_cap(iter8: Iter8, tmp_path: Path) -> None:
    (tmp_path / "backend.yaml.j2").write_text(
        "url: {{ url }}/api\nmethod: GET\nmetrics:\n"
        "- name: up\n  type: gauge\n  jqExpression: .data.result[0].value\n"
    )
    with FaultServer(Fault.HUGE_BODY) as backend:
        task = {
            "task": "custommetrics",
            "with": {
                "templates": {"backend": "backend.yaml.j2"},
                "values": {"url": backend.url},
                "maxBodySize": "1MiB",
                "retries": 0,
                "required": ["backend/up"],
            },
        }
        _write(tmp_path, [task])
        done = run_measured(tmp_path)
    assert done.returncode == 3, done.stderr
    [record] = _tasks(tmp_path)
    assert record["error"] == (
        "required metric(s) without data:\n  backend/up (v1): the answer from "
        f"{backend.url}/api is larger than 1 MiB (the cap set by maxBodySize)"
    )
    assert backend.sent_bytes < 64 * 1024**2  # it stopped reading: far from the 1 GiB
    assert peak_rss_mib(done) < 300  # 3.3 GB before


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ("1 lot", "'1 lot' is not a size above 0; write it like 10MiB, 512KiB or 1048576"),
        ("0MiB", "'0MiB' is not a size above 0; write it like 10MiB, 512KiB or 1048576"),
        (0, "0 is less than the minimum of 1"),
    ],
)
def test_a_bad_size_is_an_input_error(
    iter8: Iter8, tmp_path: Path, size: str | int, message: str
) -> None:
    task = {"task": "notify", "with": {"url": "http://x.invalid/", "maxBodySize": size}}
    _write(tmp_path, [task])
    done = iter8("validate", "-f", "experiment.yaml")
    assert done.returncode == 2
    assert f"experiment.yaml:7: $.spec[0].with.maxBodySize: {message}" in done.stderr


# -- 12.5: templates that never end --------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ 9**(9**10) }}", "9 ** 3486784401 is too large a number (more than 65536 bits)"),
        ("{{ 'a'*200000000 }}", "repeating 1 items 200000000 times would make more than 4194304"),
        (
            "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(1) }}",
            "nested too deep (a macro or include that calls itself without end?)",
        ),
    ],
    ids=["power", "repeat", "recursion"],
)
def test_a_payload_template_past_the_bounds_fails_the_task(
    iter8: Iter8, tmp_path: Path, template: str, reason: str
) -> None:
    with WebhookReceiver() as hooks:
        _write(
            tmp_path,
            [{"task": "notify", "with": {"url": hooks.url + "/", "payloadTemplate": template}}],
        )
        started = time.monotonic()
        done = iter8("run", "-f", "experiment.yaml", timeout=30)
    assert time.monotonic() - started < 10
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    [task] = _tasks(tmp_path)
    assert task["status"] == "failed"
    assert task["error"].startswith("notify: payload template payloadTemplate: ")
    assert reason in task["error"]
    assert hooks.requests == []


def test_a_template_that_loops_for_ever_stops_at_the_time_bound_and_on_sigterm(
    tmp_path: Path,
) -> None:
    loop = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    _write(
        tmp_path,
        [{"task": "notify", "with": {"url": "http://x.invalid/", "payloadTemplate": loop}}],
    )
    done = subprocess.run(
        iter8_command("run", "-f", "experiment.yaml"),
        cwd=tmp_path,
        env=iter8_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3, done.stderr
    [task] = _tasks(tmp_path)
    assert task["durationSeconds"] <= 5 * 1.2
    assert task["error"] == (
        "notify: payload template payloadTemplate: rendering took longer than 5s, the most a "
        "template may take (a loop that never ends, or one too long?)"
    )

    process = subprocess.Popen(
        iter8_command("run", "-f", "experiment.yaml", "--log-level", "debug"),
        cwd=tmp_path,
        env=iter8_env(),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "task 0 (notify)" in line:
            break
    time.sleep(0.5)
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=10)
    assert time.monotonic() - sent < 1.5
    assert code == 130
    assert yaml.safe_load((tmp_path / "result.yaml").read_text())["result"]["interrupted"] is True


# -- 12.8: backend faults are task failures ------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault.REDIRECT_FILE, "redirected to file:///etc/passwd, which is not an http(s) URL"),
        (Fault.REDIRECT_LOOP, "redirected more than 10 times (a redirect loop?)"),
    ],
    ids=["file", "loop"],
)
def test_a_misdirecting_backend_fails_the_task(
    iter8: Iter8, tmp_path: Path, fault: Fault, reason: str
) -> None:
    with FaultServer(fault) as backend:
        _write(
            tmp_path,
            [
                {
                    "task": "custommetrics",
                    "with": {
                        "templates": {"prometheus": "prometheus"},
                        "values": {"url": backend.url},
                    },
                }
            ],
        )
        done = iter8("run", "-f", "experiment.yaml")
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    [task] = _tasks(tmp_path)
    assert task["error"].startswith(f"provider prometheus: {backend.url}/api/v1/query")
    assert reason in task["error"]
    assert task["error"].endswith("; give the backend's final URL in the template")


# -- 11.7: credentials do not cross origins -------------------------------------------------------

_CREDENTIALS = {
    "Authorization": "Bearer tok-authorization-1",
    "API-Key": "tok-newrelic-key-2",
    "X-Query-Key": "tok-insights-key-3",
    "X-Custom-Key": "tok-custom-key-4",
    "Cookie": "session=tok-cookie-5",
}


def test_a_cross_origin_redirect_drops_every_credential(
    iter8: Iter8, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """custommetrics (an apikey with its own header name) and notify (headersEnv)."""
    monkeypatch.setenv("CUSTOM_KEY", "tok-custom-key-4")
    monkeypatch.setenv("HOOK_KEY", "tok-hook-key-6")
    (tmp_path / "backend.yaml.j2").write_text(
        "url: {{ url }}/query\nmethod: GET\n"
        "headers: {API-Key: tok-newrelic-key-2, X-Query-Key: tok-insights-key-3, "
        "Cookie: 'session=tok-cookie-5', X-Team: shop}\n"
        "metrics:\n- name: up\n  type: gauge\n  jqExpression: .value\n"
    )
    with RecordingServer() as other, RecordingServer() as origin:
        other.route("GET", "/.*", lambda r: Reply(200, {"value": 1}))
        other.route("POST", "/.*", lambda r: Reply(200, {"ok": True}))
        origin.route("GET", "/query", lambda r: Reply(302, headers={"Location": other.url + "/q"}))
        origin.route("POST", "/hook", lambda r: Reply(307, headers={"Location": other.url + "/h"}))
        _write(
            tmp_path,
            [
                {
                    "task": "custommetrics",
                    "with": {
                        "templates": {"backend": "backend.yaml.j2"},
                        "values": {"url": origin.url},
                        "auth": {
                            "backend": {
                                "type": "apikey",
                                "header": "X-Custom-Key",
                                "keyEnv": "CUSTOM_KEY",
                            }
                        },
                    },
                },
                {
                    "task": "notify",
                    "with": {
                        "url": origin.url + "/hook",
                        "headersEnv": {"X-Hook-Key": "HOOK_KEY"},
                        "headers": {"Authorization": "Bearer tok-authorization-1"},
                        "payloadTemplate": "{}",
                    },
                },
            ],
        )
        done = iter8("run", "-f", "experiment.yaml", "--log-level", "debug")
    assert done.returncode == 0, done.stderr
    sent = {r.path: r for r in origin.requests}
    assert sent["/query"].header("X-Custom-Key") == "tok-custom-key-4"
    assert sent["/query"].header("API-Key") == "tok-newrelic-key-2"
    assert sent["/hook"].header("X-Hook-Key") == "tok-hook-key-6"
    forwarded = {r.path: r for r in other.requests}
    assert set(forwarded) == {"/q", "/h"}
    for request in forwarded.values():
        leaked = [v for v in request.headers.values() if "tok-" in v]
        assert leaked == [], request.path
    assert forwarded["/q"].header("X-Team") == "shop"
    assert forwarded["/h"].json() == {}
    # requests itself removes an explicit Cookie header on every redirect: not in the list
    assert (
        f"redirect from {origin.url}/query to {other.url}/q, another origin: credential header(s) "
        "API-Key, X-Query-Key, X-Custom-Key dropped"
    ) in done.stderr
    assert (
        f"redirect from {origin.url}/hook to {other.url}/h, another origin: credential header(s) "
        "Authorization, X-Hook-Key dropped"
    ) in done.stderr
    assert "tok-" not in done.stderr


def test_a_same_origin_redirect_keeps_the_credentials(
    iter8: Iter8, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_KEY", "tok-hook-key-6")
    with RecordingServer() as origin:
        origin.route("POST", "/hook", lambda r: Reply(307, headers={"Location": "/moved"}))
        origin.route("POST", "/moved", lambda r: Reply(200, {"ok": True}))
        _write(
            tmp_path,
            [
                {
                    "task": "notify",
                    "with": {
                        "url": origin.url + "/hook",
                        "headersEnv": {"X-Hook-Key": "HOOK_KEY"},
                        "payloadTemplate": "{}",
                    },
                }
            ],
        )
        done = iter8("run", "-f", "experiment.yaml", "--log-level", "debug")
    assert done.returncode == 0, done.stderr
    assert [r.path for r in origin.requests] == ["/hook", "/moved"]
    assert origin.requests[1].header("X-Hook-Key") == "tok-hook-key-6"
    assert "dropped" not in done.stderr
