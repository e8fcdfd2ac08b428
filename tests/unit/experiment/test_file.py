from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from iter8_action.core.errors import InputError
from iter8_action.core.secrets import SECRETS
from iter8_action.engine.loader import load_text
from iter8_action.experiment.file import read_result, read_result_document, write_result
from iter8_action.metrics.store import HistBucket
from iter8_action.results.model import Result, TaskRecord, TaskStatus


@pytest.fixture
def experiment() -> object:
    return load_text("spec:\n- run: echo hi\n", name="e.yaml", base_dir=Path(), env=os.environ)


def _result() -> Result:
    result = Result(
        tasks=[TaskRecord(0, "run", TaskStatus.COMPLETED, output="a\nb\n")],
        start_time="2026-01-01T00:00:00.000Z",
    )
    result.store.ensure_versions(1, ["v1"])
    result.store.set_histogram("http/latency", 0, [HistBucket(0.0, 1.0, 4)])
    result.assessment["SLOs"] = {"upper": [{"metric": "http/error-rate", "limit": 0}]}
    result.end_time = "2026-01-01T00:00:00.000Z"
    return result


@pytest.mark.parametrize("name", ["result.yaml", "result.json", "nested/dir/r.yml"])
def test_round_trip(tmp_path: Path, experiment: object, name: str) -> None:
    path = tmp_path / name
    write_result(path, experiment, _result())  # type: ignore[arg-type]
    document = read_result_document(path)
    assert document["spec"] == [{"run": "echo hi"}]
    again = read_result(path)
    assert again.to_dict() == _result().to_dict()
    assert again.tasks[0].output == "a\nb\n"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_yaml_keeps_script_output_readable(tmp_path: Path, experiment: object) -> None:
    path = tmp_path / "r.yaml"
    write_result(path, experiment, _result())  # type: ignore[arg-type]
    assert "    output: |\n      a\n      b\n" in path.read_text()


def test_secrets_never_reach_the_file(tmp_path: Path, experiment: object) -> None:
    SECRETS.add("s3cr3t-token-value")
    try:
        result = _result()
        result.tasks[0].output = "token is s3cr3t-token-value\n"
        path = tmp_path / "r.json"
        write_result(path, experiment, result)  # type: ignore[arg-type]
        assert "s3cr3t" not in path.read_text()
        assert read_result(path).tasks[0].output == "token is (redacted)\n"
    finally:
        SECRETS.clear()


@pytest.mark.parametrize("name", ["r.yaml", "r.json"])
def test_a_redacted_file_still_parses_and_says_the_same(tmp_path: Path, name: str) -> None:
    """A secret that is a whole value, a key, or part of a string: the placeholder goes
    into the data, and the file means what it meant with the secret replaced."""
    experiment = load_text(
        "spec:\n"
        "- task: http\n"
        "  with:\n"
        "    url: http://TOKEN-in-userinfo@127.0.0.1:1/\n"
        "    headers: {Authorization: Bearer abc123456, X-Api-Key: key-0123456}\n"
        "- task: slack\n"
        "  with: {url: 'https://hooks.slack.invalid/services/T1/B2/x'}\n",
        name="e.yaml",
        base_dir=Path(),
        env={},
    )
    result = _result()
    result.tasks[0].output = "Bearer abc123456"
    path = tmp_path / name
    try:
        write_result(path, experiment, result)
    finally:
        SECRETS.clear()
    text = path.read_text()
    for secret in ("abc123456", "key-0123456", "TOKEN-in-userinfo", "hooks.slack"):
        assert secret not in text
    document = read_result_document(path)
    assert document["spec"] == [
        {
            "task": "http",
            "with": {
                "url": "http://(redacted)@127.0.0.1:1/",
                "headers": {"Authorization": "(redacted)", "X-Api-Key": "(redacted)"},
            },
        },
        {"task": "slack", "with": {"url": "(redacted)"}},
    ]
    assert read_result(path).tasks[0].output == "(redacted)"


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_the_file_gets_the_mode_the_umask_gives(tmp_path: Path, umask: int) -> None:
    """Not mkstemp's 0600: a later step, as another user, reads the file of a Docker action."""
    path = tmp_path / "result.yaml"
    path.write_text("old")
    path.chmod(0o600)
    old = os.umask(umask)
    try:
        write_result(
            path, load_text("- run: echo\n", name="e", base_dir=Path(), env=os.environ), _result()
        )
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["result.yaml"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such result file"),
        ("{", "not a result file (it does not parse"),
        ("- a\n", "not a result file (no 'result:' section)"),
        (b"\xff\xfe", "the result file is not UTF-8 text (byte 0xff)"),
    ],
)
def test_bad_result_files(tmp_path: Path, content: str | bytes | None, message: str) -> None:
    path = tmp_path / "r.yaml"
    if isinstance(content, str):
        path.write_text(content)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(InputError, match=re.escape(message)):
        read_result_document(path)
