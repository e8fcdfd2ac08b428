"""The built-in `iter8` chart: Iter8 v0.14's values render into experiments we accept."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from iter8_action.charts.chart import ChartError
from iter8_action.charts.launch import ChartRequest, render
from iter8_action.engine.loader import load_experiment


def rendered(tmp_path: Path, *sets: str, files: tuple[str, ...] = ()) -> dict[str, Any]:
    out = render(ChartRequest(sets=sets, values_files=files, base=tmp_path))
    path = tmp_path / "experiment.yaml"
    path.write_text(out.text)
    load_experiment(path, env=os.environ)  # the experiment is valid for our loader
    data: dict[str, Any] = yaml.safe_load(out.text)
    return data


def test_iter8s_readme_example(tmp_path: Path) -> None:
    doc = rendered(
        tmp_path,
        "tasks={http,assess}",
        "http.url=http://127.0.0.1:8080/get",
        "assess.SLOs.upper.http/latency-mean=50",
        "assess.SLOs.upper.http/error-rate=0",
    )
    assert doc == {
        "spec": [
            {"task": "http", "with": {"url": "http://127.0.0.1:8080/get"}},
            {
                "task": "assess",
                "with": {
                    "SLOs": {
                        "upper": [
                            {"metric": "http/error-rate", "limit": 0},
                            {"metric": "http/latency-mean", "limit": 50},
                        ]
                    }
                },
            },
        ]
    }


def test_warmup_adds_a_task_and_float_values_become_numbers(tmp_path: Path) -> None:
    doc = rendered(
        tmp_path,
        "tasks={ready,http,assess}",
        "ready.url=http://127.0.0.1:8080/health",
        "http.url=http://127.0.0.1:8080/get,http.qps=2.5,http.numRequests=40",
        "http.warmupNumRequests=5",
        "assess.SLOs.lower.http/request-count=1",
        "assess.SLOs.upper.http/latency-p97\\.5=12.5",
        "assess.SLOs.upper.http/latency-mean.maxIncreasePercent=10.5",
        "assess.rewards.min={http/latency-mean}",
    )
    spec = doc["spec"]
    assert [t["task"] for t in spec] == ["ready", "http", "http", "assess"]
    assert spec[1]["with"] == {
        "url": "http://127.0.0.1:8080/get",
        "qps": 2.5,
        "numRequests": 5,
        "warmup": True,
    }
    assert spec[2]["with"] == {"url": "http://127.0.0.1:8080/get", "qps": 2.5, "numRequests": 40}
    assert spec[3]["with"] == {
        "SLOs": {
            "lower": [{"metric": "http/request-count", "limit": 1}],
            "upper": [
                {"metric": "http/latency-mean", "maxIncreasePercent": 10.5},
                {"metric": "http/latency-p97.5", "limit": 12.5},
            ],
        },
        "rewards": {"min": ["http/latency-mean"]},
    }


def test_grpc_warmup_duration_and_notifications(tmp_path: Path) -> None:
    doc = rendered(
        tmp_path,
        "tasks={grpc,assess,slack,github,run}",
        "grpc.host=127.0.0.1:50051,grpc.call=helloworld.Greeter.SayHello,grpc.total=20",
        "grpc.warmupDuration=2s",
        "assess.SLOs.upper.grpc/error-rate=0",
        "slack.urlEnv=SLACK_URL,slack.if=not SLOs()",
        "github.owner=o,github.repo=r,github.tokenEnv=GH",
        "run=echo done",
    )
    tasks = doc["spec"]
    assert tasks[0]["with"]["warmup"] is True and tasks[0]["with"]["duration"] == "2s"
    assert "total" not in tasks[0]["with"] and tasks[1]["with"]["total"] == 20
    assert tasks[3] == {"task": "slack", "if": "not SLOs()", "with": {"urlEnv": "SLACK_URL"}}
    assert tasks[4] == {"task": "github", "with": {"owner": "o", "repo": "r", "tokenEnv": "GH"}}
    assert tasks[5] == {"run": "echo done"}


def test_values_file_for_our_own_tasks(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(
        """\
metadata: {name: canary-check}
tasks: [http, assess, notify]
http:
  numRequests: 20
  versions:
  - {name: stable, url: "http://127.0.0.1:8080/"}
  - {name: canary, url: "http://127.0.0.1:8081/"}
assess:
  baseline: stable
  SLOs:
    upper:
      http/latency-p95: {maxIncreasePercent: 20, versions: [canary]}
notify:
  url: http://127.0.0.1:9/hook
  if: SLOs()
"""
    )
    doc = rendered(tmp_path, files=("values.yaml",))
    assert doc["metadata"] == {"name": "canary-check"}
    assert doc["spec"][1]["with"]["SLOs"]["upper"] == [
        {"metric": "http/latency-p95", "maxIncreasePercent": 20, "versions": ["canary"]}
    ]
    assert doc["spec"][2] == {
        "task": "notify",
        "if": "SLOs()",
        "with": {"url": "http://127.0.0.1:9/hook"},
    }


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        ((), "values: tasks is empty"),
        (("tasks={http}",), "values: http.url is required"),
        (
            ("tasks={http}", "http.url=u", "http.qps=fast"),
            "values: http.qps: 'fast' is not of type",
        ),
        (
            ("tasks={http}", "http.numRequest=5"),
            "values: http.numRequest: unknown key; did you mean 'numRequests'?",
        ),
        (("tasks={deploy}",), "values: tasks[0]: 'deploy' is not one of"),
        (
            ("tasks={ready}", "ready.deploy=httpbin"),
            "values: ready.deploy: Iter8 waited for Kubernetes objects",
        ),
        (
            ("tasks={http}", "http.url=u", "runner=job"),
            "values: runner: job runs Iter8 inside Kubernetes",
        ),
        (
            ("tasks={github}", "github.token=abc"),
            "values: github.token: a token written into experiment.yaml",
        ),
        (("tasks={abnmetrics}",), "abnmetrics reads Iter8's A/B/n service"),
        (("tasks={assess}",), "values: assess: give SLOs or rewards"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, sets: tuple[str, ...], message: str) -> None:
    with pytest.raises(ChartError) as info:
        render(ChartRequest(sets=sets, base=tmp_path))
    assert message in str(info.value)
    assert info.value.exit_code == 2


def test_kubernetes_only_keys_are_noticed_and_ignored(tmp_path: Path) -> None:
    out = render(
        ChartRequest(
            sets=(
                "tasks={http}",
                "http.url=http://x.invalid/",
                "iter8Image=iter8/iter8:0.14",
                "logLevel=debug",
            ),
            base=tmp_path,
        )
    )
    assert out.notices == [
        "values: iter8Image: the Kubernetes runner image; ignored here",
        "values: logLevel: use --log-level (or the log-level input) instead; ignored here",
    ]


def test_iter8_v0_13_load_test_charts(tmp_path: Path) -> None:
    http = render(
        ChartRequest(
            chart="load-test-http",
            sets=("url=http://127.0.0.1:8080/get,numRequests=20", "SLOs.http/latency-p99=200.5"),
            base=tmp_path,
        )
    )
    assert yaml.safe_load(http.text) == {
        "spec": [
            {"task": "http", "with": {"url": "http://127.0.0.1:8080/get", "numRequests": 20}},
            {
                "task": "assess",
                "with": {"SLOs": {"upper": [{"metric": "http/latency-p99", "limit": 200.5}]}},
            },
        ]
    }
    grpc = render(
        ChartRequest(
            chart="load-test-grpc",
            sets=("host=127.0.0.1:50051,call=helloworld.Greeter.SayHello", "iter8lib.runner=job"),
            base=tmp_path,
        )
    )
    assert yaml.safe_load(grpc.text) == {
        "spec": [
            {
                "task": "grpc",
                "with": {"host": "127.0.0.1:50051", "call": "helloworld.Greeter.SayHello"},
            }
        ]
    }
    assert grpc.notices == ["values: iter8lib: Iter8's Kubernetes runner settings; ignored here"]
    with pytest.raises(ChartError, match="values: url is required"):
        render(ChartRequest(chart="load-test-http", base=tmp_path))
