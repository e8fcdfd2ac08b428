"""`iter8 k8s job`: an Indexed Job of shards and a merge Job, valid Kubernetes objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from iter8_action.cli.main import cli
from tests.support import k8s

EXPERIMENT = """\
spec:
- task: http
  with:
    url: http://checkout.shop.svc.cluster.local:8080/
    qps: 300
    duration: 60s
- task: assess
  with:
    SLOs:
      upper:
      - metric: http/latency-p99
        limit: 200
"""


def _objects(tmp_path: Path, *args: str) -> list[dict[str, Any]]:
    (tmp_path / "experiment.yaml").write_text(EXPERIMENT)
    done = CliRunner().invoke(
        cli, ["k8s", "job", "-f", str(tmp_path / "experiment.yaml"), *args], standalone_mode=False
    )
    assert done.exit_code == 0, done.output
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def test_the_objects_are_valid_and_share_one_volume(tmp_path: Path) -> None:
    objects = _objects(tmp_path, "--shards", "4", "--name", "checkout", "--namespace", "shop")
    assert k8s.problems(objects) == []
    kinds = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert kinds == [
        ("ConfigMap", "checkout-experiment"),
        ("PersistentVolumeClaim", "checkout-results"),
        ("Job", "checkout-shards"),
        ("Job", "checkout-merge"),
    ]
    config, _, shards, merge = objects
    assert config["data"] == {"experiment.yaml": EXPERIMENT}
    spec = shards["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 4, 4)
    container = spec["template"]["spec"]["containers"][0]
    assert container["env"] == [{"name": "ITER8_SHARDS", "value": "4"}]
    assert container["command"] == ["iter8"]
    assert container["args"] == [
        "run",
        "-f",
        "/experiment/experiment.yaml",
        "--shard",
        "auto",
        "-o",
        "/results/shard-$(JOB_COMPLETION_INDEX).yaml",
    ]
    merge_args = merge["spec"]["template"]["spec"]["containers"][0]["args"]
    assert merge_args[:5] == ["merge", "--from", "/results", "--shards", "4"]


def test_a_start_instant_reaches_every_shard(tmp_path: Path) -> None:
    objects = _objects(tmp_path, "--shards", "2", "--start-at", "2026-11-30T12:00:00Z")
    args = objects[2]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[-2:] == ["--start-at", "2026-11-30T12:00:00Z"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shards", "2", "--name", "Bad_Name"], "'Bad_Name' is not a usable name"),
        (["--shards", "0"], "0 is not in the range x>=1"),
        (["--shards", "2", "--start-at", "noon"], "'noon' is not an RFC 3339 instant"),
    ],
)
def test_bad_options_say_what_is_wrong(
    tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from iter8_action.cli.main import main

    (tmp_path / "experiment.yaml").write_text(EXPERIMENT)
    code = main(["k8s", "job", "-f", str(tmp_path / "experiment.yaml"), *args])
    assert code == 2
    assert message in capsys.readouterr().err
