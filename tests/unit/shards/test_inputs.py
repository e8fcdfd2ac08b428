"""The CI inputs of sharding: `shard`, `start-at`, `merge-from`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from iter8_action.core.errors import InputError
from iter8_action.platforms.inputs import read_inputs
from iter8_action.shards.spec import ShardSpec


def test_gitlab_parallel_gives_the_shard_and_the_pipeline_the_start() -> None:
    inputs = read_inputs(
        {
            "INPUT_SHARD": "auto",
            "CI_NODE_INDEX": "2",
            "CI_NODE_TOTAL": "3",
            "CI_PIPELINE_CREATED_AT": "2026-11-30T12:00:00Z",
        }
    )
    assert inputs.shard == ShardSpec(2, 3)
    assert inputs.start_at == datetime(2026, 11, 30, 12, 0, 30, tzinfo=UTC)
    assert inputs.merge_from is None


def test_an_explicit_start_wins_and_merge_from_is_a_path() -> None:
    inputs = read_inputs({"INPUT_SHARD": "1/2", "INPUT_START-AT": "2026-11-30T12:05:00Z"})
    assert inputs.start_at == datetime(2026, 11, 30, 12, 5, tzinfo=UTC)
    assert read_inputs({"INPUT_MERGE-FROM": "shards"}).merge_from == Path("shards")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"INPUT_SHARD": "3/2"}, "shard: '3/2' is out of range"),
        ({"INPUT_SHARD": "auto"}, "shard auto: no shard in the environment"),
        ({"INPUT_START_AT": "2026-11-30T12:00:00Z"}, "start-at: only with shard"),
        ({"INPUT_SHARD": "1/2", "INPUT_START_AT": "soon"}, "start-at: 'soon' is not an RFC 3339"),
        ({"INPUT_SHARD": "1/2", "INPUT_MERGE_FROM": "d"}, "a job either runs a shard or merges"),
    ],
)
def test_bad_shard_inputs_say_what_is_wrong(env: dict[str, str], message: str) -> None:
    with pytest.raises(InputError) as caught:
        read_inputs(env)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start-at", "2026-11-30T12:00:00Z"], "--start-at: only with --shard"),
        (["--shard", "auto"], "shard auto: no shard in the environment"),
        (["--shard", "4/3"], "--shard: '4/3' is out of range"),
    ],
)
def test_iter8_run_refuses_bad_shard_options(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    from iter8_action.cli.main import main

    for name in ("CI_NODE_INDEX", "CI_NODE_TOTAL", "JOB_COMPLETION_INDEX"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "e.yaml").write_text("spec:\n- run: echo hi\n")
    assert main(["run", "-f", str(tmp_path / "e.yaml"), "-o", str(tmp_path / "r.yaml"), *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.yaml").exists()
