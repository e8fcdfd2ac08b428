"""A task's `with:` parsed once, at load, into a frozen, typed object (docs/development.md)."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

from iter8_action.assessment.spec import AssessRules, SloRule
from iter8_action.core.errors import ExperimentInvalid, InputsInvalid, Problem
from iter8_action.engine.loader import load_text
from iter8_action.events.delivery import Delivery
from iter8_action.load.grpc.inputs import CallInputs, LoadInputs
from iter8_action.metrics.backends.spec import AuthSpec
from iter8_action.net.httpclient import Limits
from iter8_action.platforms import CIHost
from iter8_action.rollout.provider import CodeHost, RequestOptions
from iter8_action.tasks import registry
from iter8_action.tasks._change import ChangeInputs
from iter8_action.tasks._event import DeliveryInputs, Destination, PayloadTemplate
from iter8_action.tasks._fields import HttpLimits
from iter8_action.tasks.assess import AssessInputs
from iter8_action.tasks.cloudevent import CloudEventInputs
from iter8_action.tasks.custommetrics import CustomMetricsInputs
from iter8_action.tasks.github import GitHubInputs
from iter8_action.tasks.gitlab import GitLabInputs
from iter8_action.tasks.grpc import GrpcInputs
from iter8_action.tasks.http import HttpInputs, StreamInputs
from iter8_action.tasks.notify import NotifyInputs
from iter8_action.tasks.ready import ReadyInputs
from iter8_action.tasks.rollout import FileEdit, ReplaceEdit, RolloutInputs, SetEdit
from iter8_action.tasks.run import RunInputs
from iter8_action.tasks.slack import SlackInputs
from iter8_action.tasks.traffic import TrafficInputs

STABLE = {"name": "v1", "service": "checkout-v1", "port": 8080}
CANDIDATE = {"name": "v2", "service": "checkout-v2", "port": 8080}
MINIMAL: dict[str, dict[str, Any]] = {
    "assess": {},
    "cloudevent": {"url": "http://127.0.0.1:1/"},
    "custommetrics": {"templates": {"prom": "prometheus"}},
    "github": {},
    "gitlab": {"project": "a/b", "ref": "main"},
    "grpc": {"host": "127.0.0.1:1", "call": "a.B.C"},
    "http": {"url": "http://127.0.0.1:1/"},
    "notify": {"url": "http://127.0.0.1:1/"},
    "ready": {"url": "http://127.0.0.1:1/"},
    "rollout": {"edits": [{"file": "a.yaml", "set": [{"path": "x", "value": 1}]}]},
    "run": {"script": "true"},
    "slack": {"urlEnv": "HOOK"},
    "traffic": {
        "app": "checkout",
        "environment": "istio",
        "strategy": "canary",
        "stable": STABLE,
        "candidate": CANDIDATE,
    },
}
"""The least `with:` each task takes (the schema admits each)."""


def _load(tasks: list[dict[str, Any]], tmp_path: Path) -> Any:
    text = yaml.safe_dump({"spec": tasks}, sort_keys=False)
    return load_text(text, name="e.yaml", base_dir=tmp_path, env={})


def _experiment(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"run": inputs["script"]} if name == "run" else {"task": name, "with": inputs}


# -- the protocol ---------------------------------------------------------------------------


def test_every_registered_task_has_a_minimal_example_here() -> None:
    assert set(MINIMAL) == set(registry())


@pytest.mark.parametrize("name", sorted(MINIMAL))
def test_every_task_declares_a_parser_whose_object_its_run_receives(name: str) -> None:
    task = registry()[name]
    parsed = task.parse(MINIMAL[name])
    assert dataclasses.is_dataclass(parsed) and not isinstance(parsed, type)
    field = dataclasses.fields(parsed)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(parsed, field, None)
    first = next(iter(typing.get_type_hints(task.run).values()))
    assert first is type(parsed), f"{name}'s run takes {first}, its parse returns {type(parsed)}"
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(parsed, dataclasses.fields(parsed)[0].name, None)


def test_the_loader_parses_every_task_at_load(tmp_path: Path) -> None:
    experiment = _load([_experiment(n, i) for n, i in sorted(MINIMAL.items())], tmp_path)
    for spec in experiment.tasks:
        assert spec.parsed == registry()[spec.name].parse(spec.inputs)
    assert isinstance(experiment.tasks[0].parsed, AssessInputs)


def test_a_value_the_parser_refuses_is_an_invalid_experiment_at_its_line(tmp_path: Path) -> None:
    traffic = {**MINIMAL["traffic"], "environment": "kserve", "strategy": "mirror"}
    with pytest.raises(ExperimentInvalid) as caught:
        _load([_experiment("ready", MINIMAL["ready"]), _experiment("traffic", traffic)], tmp_path)
    assert caught.value.problems == [
        Problem(
            "e.yaml",
            6,
            "$.spec[1].with",
            "the kserve environment cannot do mirror; it can do blue-green, canary "
            "(see the docs' table of strategies and environments)",
        )
    ]
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("name", "inputs", "field", "message"),
    [
        ("ready", {"url": "http://x.invalid/", "timeout": "soon"}, ("timeout",), "'soon' is not"),
        (
            "notify",
            {"url": "http://x.invalid/", "maxBodySize": "lots"},
            ("maxBodySize",),
            "'lots' is not",
        ),
        (
            "http",
            {
                "versions": [
                    {"url": "http://a.invalid/"},
                    {"url": "http://b.invalid/", "duration": "1 day"},
                ]
            },
            ("versions", 1, "duration"),
            "'1 day' is not",
        ),
        (
            "http",
            {"url": "http://a.invalid/", "endpoints": {"e": {"url": "/e", "timeout": "x"}}},
            ("endpoints", "e", "timeout"),
            "'x' is not",
        ),
        (
            "http",
            {"url": "http://a.invalid/", "fetchTimeout": "x"},
            ("fetchTimeout",),
            "'x' is not",
        ),
        (
            "http",
            {"url": "http://a.invalid/", "endpoints": {"e": {"duration": "0s"}}},
            ("endpoints", "e", "duration"),
            "endpoint e has duration 0",
        ),
        ("http", {"versions": [{"name": "a"}]}, ("versions", 0), "version a has no url"),
        (
            "grpc",
            {"host": "h:1", "call": "a.B.C", "duration": "0s"},
            ("duration",),
            "the task has duration 0",
        ),
        (
            "grpc",
            {"host": "h:1", "call": "a.B.C", "max-recv-message-size": "huge"},
            ("max-recv-message-size",),
            "'huge' is not a size",
        ),
        ("grpc", {"host": "h:1", "call": "a.B.C", "keepalive": "x"}, ("keepalive",), "'x' is not"),
        (
            "traffic",
            {**MINIMAL["traffic"], "strategy": "segment"},
            (),
            "the segment strategy needs `segment`",
        ),
        (
            "assess",
            {"SLOs": {"upper": [{"metric": "latency-p95", "limit": 100}]}},
            ("SLOs", "upper", 0, "metric"),
            "'latency-p95' is not a metric name",
        ),
        (
            "assess",
            {"rewards": {"max": ["app/revenue"], "min": ["app/revenue"]}},
            ("rewards", "min", 0),
            "app/revenue is a max reward too",
        ),
    ],
)
def test_a_parser_refuses_what_it_cannot_take_at_its_field(
    name: str, inputs: dict[str, Any], field: tuple[str | int, ...], message: str
) -> None:
    with pytest.raises(InputsInvalid) as caught:
        registry()[name].parse(inputs)
    assert caught.value.field == field
    assert caught.value.message.startswith(message)


# -- each task's inputs: defaults, and every field read ---------------------------------------


def test_ready_inputs_take_their_defaults() -> None:
    assert ReadyInputs.parse({"url": "http://127.0.0.1:1/health"}) == ReadyInputs(
        timeout_s=60.0,
        interval_s=1.0,
        url="http://127.0.0.1:1/health",
        method="GET",
        headers={},
        wanted=None,
        verify=True,
        host="",
        port=0,
    )


def test_ready_inputs_read_every_field() -> None:
    spec = ReadyInputs.parse(
        {
            "host": "127.0.0.1",
            "port": 8080,
            "timeout": "2m",
            "interval": "500ms",
            "status": [200, 204],
            "insecureSkipVerify": True,
        }
    )
    assert (spec.target, spec.timeout_s, spec.interval_s) == ("127.0.0.1:8080", 120.0, 0.5)
    assert (spec.wanted, spec.verify) == (frozenset({200, 204}), False)
    assert ReadyInputs.parse({"url": "http://x.invalid/", "status": 503}).wanted == frozenset({503})
    spec = ReadyInputs.parse({"url": "http://x.invalid/", "method": "HEAD", "headers": {"A": "b"}})
    assert (spec.method, spec.headers) == ("HEAD", {"A": "b"})


def test_run_inputs_hold_the_script() -> None:
    assert RunInputs.parse({"script": "echo hi"}) == RunInputs(script="echo hi")


def test_assess_inputs_hold_the_rules_parsed_at_load() -> None:
    """Every field's reading is `AssessRules`' (tests/unit/assessment/test_spec.py)."""
    raw = {"SLOs": {"upper": [{"metric": "built-in/mean-latency", "limit": 50}]}}
    parsed = AssessInputs.parse(raw)
    assert parsed.rules == AssessRules.parse(raw)
    assert parsed.rules.slos == (
        SloRule("http/latency-mean", "upper", 50.0, (), None, "SLOs.upper[0]"),
    )
    assert AssessInputs.parse({}).rules == AssessRules()


def test_http_stream_inputs_take_iter8s_defaults() -> None:
    spec = StreamInputs.parse({"url": "http://127.0.0.1:1/"})
    assert (spec.connections, spec.max_connections, spec.timeout_s) == (4, None, 10.0)
    assert (spec.qps, spec.num_requests, spec.duration_s) == (8.0, None, None)
    assert spec.error_ranges == ((400, None),)
    assert (spec.method, spec.content_type, spec.payload_str) == (None, None, None)


def test_http_stream_inputs_read_every_field() -> None:
    spec = StreamInputs.parse(
        {
            "url": "https://127.0.0.1:1/",
            "qps": "max",
            "duration": "1m",
            "connections": 8,
            "maxConnections": 16,
            "timeout": "2s",
            "headers": {"X-Trace": 1},
            "errorRanges": [{"lower": 500}],
            "percentiles": [99.9],
            "payloadStr": "{}",
            "caFile": "ca.pem",
            "insecureSkipVerify": True,
            "method": "PUT",
            "contentType": "text/plain",
            "numRequests": 7,
            "allowInitialErrors": True,
        }
    )
    assert (spec.qps, spec.duration_s, spec.connections, spec.max_connections) == (
        None,
        60.0,
        8,
        16,
    )
    assert (spec.timeout_s, spec.headers, spec.error_ranges) == (
        2.0,
        {"X-Trace": "1"},
        ((500, None),),
    )
    assert (spec.percentiles, spec.payload_str, spec.ca_file) == ((99.9,), "{}", "ca.pem")
    assert (spec.method, spec.content_type, spec.num_requests) == ("PUT", "text/plain", 7)
    assert spec.insecure_skip_verify and spec.allow_initial_errors
    other = StreamInputs.parse(
        {"payloadFile": "a.bin", "payloadURL": "http://x.invalid/p", "qps": 5}
    )
    assert (other.payload_file, other.payload_url, other.qps) == (
        "a.bin",
        "http://x.invalid/p",
        5.0,
    )


def test_http_inputs_plan_one_stream_per_version_and_endpoint() -> None:
    parsed = HttpInputs.parse(
        {
            "qps": 2,
            "warmup": True,
            "fetchTimeout": "5s",
            "fetchMaxBodySize": "1MiB",
            "versions": [
                {"name": "blue", "url": "http://a.invalid/"},
                {"url": "http://b.invalid/", "qps": 3},
            ],
            "endpoints": {"login": {"url": "/login"}, "home": {"timeout": "1s"}},
        }
    )
    assert parsed.load.version_names == ("blue", "v2")
    assert parsed.load.warmup
    assert parsed.load.fetch == HttpLimits(5.0, 1024 * 1024, "fetchTimeout", "fetchMaxBodySize")
    rows = [
        (s.version, s.prefix, s.where, s.endpoint_fields, s.inputs.url, s.inputs.qps)
        for s in parsed.streams
    ]
    assert rows == [
        (
            0,
            "http-home",
            "endpoint home of version blue",
            frozenset({"timeout"}),
            "http://a.invalid/",
            2.0,
        ),
        (0, "http-login", "endpoint login of version blue", {"url"}, "http://a.invalid/login", 2.0),
        (1, "http-home", "endpoint home of version v2", {"timeout"}, "http://b.invalid/", 3.0),
        (1, "http-login", "endpoint login of version v2", {"url"}, "http://b.invalid/login", 3.0),
    ]
    assert parsed.streams[0].inputs.timeout_s == 1.0
    single = HttpInputs.parse({"url": "http://a.invalid/"})
    assert [(s.prefix, s.where, s.endpoint) for s in single.streams] == [("http", "the task", None)]
    assert single.load.fetch == HttpLimits(
        30.0, 64 * 1024 * 1024, "fetchTimeout", "fetchMaxBodySize"
    )
    assert not single.load.warmup


def test_grpc_load_inputs_take_ghzs_defaults() -> None:
    spec = LoadInputs.parse({"host": "127.0.0.1:1", "call": "a.B.C"})
    assert spec == LoadInputs(
        concurrency=50,
        connections=1,
        timeout_s=20.0,
        skip_first=0,
        connect_timeout_s=None,
        max_duration_s=None,
        keepalive_s=None,
        count_errors=True,
        percentiles=(),
        rps=None,
        total=200,
        duration_s=None,
    )


def test_grpc_load_inputs_read_every_field() -> None:
    spec = LoadInputs.parse(
        {
            "rps": 50,
            "duration": "10s",
            "keepalive": "30s",
            "max-duration": "1m",
            "connect-timeout": "2s",
            "concurrency": 4,
            "connections": 2,
            "timeout": "3s",
            "skipFirst": 5,
            "count-errors": False,
            "percentiles": [99],
            "total": 9,
        }
    )
    assert (spec.rps, spec.duration_s, spec.keepalive_s, spec.max_duration_s) == (
        50.0,
        10.0,
        30.0,
        60.0,
    )
    assert (spec.connect_timeout_s, spec.concurrency, spec.connections, spec.timeout_s) == (
        2.0,
        4,
        2,
        3.0,
    )
    assert (spec.skip_first, spec.count_errors, spec.percentiles, spec.total) == (
        5,
        False,
        (99.0,),
        9,
    )


def test_grpc_call_inputs_take_their_defaults_and_read_every_field() -> None:
    call = CallInputs.parse({"host": "h:1", "call": "a.B.C"})
    assert (call.host, call.call, call.type_source, call.request_source) == (
        "h:1",
        "a.B.C",
        None,
        None,
    )
    assert (call.insecure, call.cacert, call.cname, call.channel_options) == (True, None, None, ())
    assert (call.data, call.metadata, call.metadata_sources, call.import_paths) == ({}, {}, (), ())
    call = CallInputs.parse(
        {
            "host": "h:1",
            "call": "a.B.C",
            "protoURL": "http://x.invalid/a.proto",
            "protoset": "a.protoset",
            "import-paths": ["inc"],
            "dataURL": "http://x.invalid/d.json",
            "binary-file": "req.bin",
            "data": {"a": 1},
            "metadataURL": "http://x.invalid/m.json",
            "metadata-file": "m.json",
            "metadata": {"k": "v"},
            "insecure": False,
            "cacert": "ca.pem",
            "cname": "example.com",
            "max-recv-message-size": "4MiB",
            "max-send-message-size": 1000,
        }
    )
    assert call.type_source == ("protoURL", "http://x.invalid/a.proto")
    assert call.request_source == ("binary-file", "req.bin")
    assert (call.data, call.metadata, call.import_paths) == ({"a": 1}, {"k": "v"}, ("inc",))
    assert call.metadata_sources == (
        ("metadata-file", "m.json"),
        ("metadataURL", "http://x.invalid/m.json"),
    )
    assert (call.insecure, call.cacert, call.cname) == (False, "ca.pem", "example.com")
    assert call.channel_options == (
        ("grpc.max_receive_message_length", 4 * 1024 * 1024),
        ("grpc.max_send_message_length", 1000),
    )


def test_grpc_inputs_merge_metadata_key_by_key() -> None:
    parsed = GrpcInputs.parse(
        {
            "call": "a.B.C",
            "name": "smoke",
            "metadata": {"a": "1", "b": "1"},
            "versions": [{"host": "h:1", "metadata": {"b": "2"}}],
            "endpoints": {"e": {"host": "h:2", "metadata": {"c": "3"}}},
        }
    )
    assert parsed.name == "smoke"
    (plan,) = parsed.streams
    assert (plan.prefix, plan.where, plan.endpoint, plan.endpoint_fields) == (
        "grpc-e",
        "endpoint e",
        "e",
        frozenset({"host", "metadata"}),
    )
    assert plan.inputs.metadata == {"a": "1", "b": "2", "c": "3"}
    assert plan.inputs.host == "h:2"
    assert GrpcInputs.parse(MINIMAL["grpc"]).name is None


def test_event_inputs_take_their_defaults() -> None:
    assert DeliveryInputs.parse({}).delivery() == Delivery(
        Limits(10.0, 10 * 1024 * 1024), retries=3
    )
    assert Destination.parse({"url": "http://x.invalid/"}) == Destination(
        "http://x.invalid/", None, {}, {}
    )
    assert PayloadTemplate.parse({}) == PayloadTemplate(None, None, None)
    notify = NotifyInputs.parse(MINIMAL["notify"])
    assert (notify.method, notify.params, notify.content_type) == (None, None, None)
    event = CloudEventInputs.parse(MINIMAL["cloudevent"])
    assert (event.mode, event.event_type, event.source, event.extensions) == (
        "binary",
        None,
        None,
        None,
    )
    assert SlackInputs.parse(MINIMAL["slack"]).title is None


def test_event_inputs_read_every_field() -> None:
    options = DeliveryInputs.parse({"timeout": "1m30s", "maxBodySize": "1MiB", "retries": 0})
    delivery = options.delivery(secret_headers=["X-Key"])
    assert delivery == Delivery(
        Limits(90.0, 1024 * 1024), retries=0, secret_headers=frozenset({"X-Key"})
    )
    assert delivery.policy.attempts == 1
    notify = NotifyInputs.parse(
        {
            "urlEnv": "HOOK",
            "headers": {"A": 1},
            "headersEnv": {"X-Key": "KEY"},
            "method": "PUT",
            "params": {"p": "1"},
            "contentType": "text/csv",
            "payloadTemplateFile": "t.json",
        }
    )
    assert notify.destination == Destination(None, "HOOK", {"A": "1"}, {"X-Key": "KEY"})
    assert (notify.method, notify.params, notify.content_type) == ("PUT", {"p": "1"}, "text/csv")
    assert notify.payload == PayloadTemplate(None, "t.json", None)
    event = CloudEventInputs.parse(
        {
            "url": "http://x.invalid/",
            "mode": "structured",
            "type": "t",
            "source": "s",
            "extensions": {"team": "a"},
        }
    )
    assert (event.mode, event.event_type, event.source, event.extensions) == (
        "structured",
        "t",
        "s",
        {"team": "a"},
    )
    assert SlackInputs.parse({"url": "http://x.invalid/", "title": "Release"}).title == "Release"


def test_github_inputs_take_their_defaults_and_read_every_field() -> None:
    default = GitHubInputs.parse({})
    assert (default.owner, default.repo, default.token_env, default.api_url) == (
        None,
        None,
        "GITHUB_TOKEN",
        None,
    )
    assert (default.workflow, default.ref, default.workflow_inputs, default.event_type) == (
        None,
        None,
        {},
        "iter8",
    )
    full = GitHubInputs.parse(
        {
            "owner": "acme",
            "repo": "app",
            "tokenEnv": "T",
            "apiURL": "http://x.invalid",
            "workflow": "deploy.yaml",
            "ref": "main",
            "inputs": {"tag": "{{ winner.name }}"},
            "eventType": "e",
            "payloadTemplateURL": "http://x.invalid/t",
        }
    )
    assert (full.owner, full.repo, full.token_env, full.api_url) == (
        "acme",
        "app",
        "T",
        "http://x.invalid",
    )
    assert (full.workflow, full.ref, full.event_type) == ("deploy.yaml", "main", "e")
    assert full.workflow_inputs == {"tag": "{{ winner.name }}"}
    assert full.payload == PayloadTemplate(None, None, "http://x.invalid/t")


def test_gitlab_inputs_take_their_defaults_and_read_every_field() -> None:
    default = GitLabInputs.parse(MINIMAL["gitlab"])
    assert (default.project, default.ref, default.token_env, default.api_url) == (
        "a/b",
        "main",
        "GITLAB_TRIGGER_TOKEN",
        None,
    )
    assert default.variables == {}
    full = GitLabInputs.parse(
        {**MINIMAL["gitlab"], "tokenEnv": "T", "apiURL": "http://x.invalid", "variables": {"V": 1}}
    )
    assert (full.token_env, full.api_url, full.variables) == ("T", "http://x.invalid", {"V": "1"})


def test_custommetrics_inputs_take_their_defaults_and_read_every_field() -> None:
    default = CustomMetricsInputs.parse(MINIMAL["custommetrics"])
    assert (default.templates, default.auth, default.required, default.values) == (
        {"prom": "prometheus"},
        {},
        frozenset(),
        {},
    )
    assert (default.version_values, default.limits, default.retries) == (
        ({},),
        HttpLimits(10.0, None),
        3,
    )
    assert (default.insecure_skip_verify, default.ca_file) == (False, None)
    full = CustomMetricsInputs.parse(
        {
            "templates": {"prom": "prometheus"},
            "auth": {"prom": {"type": "bearer", "tokenEnv": "TOKEN"}},
            "required": ["prom/latency"],
            "values": {"namespace": "shop"},
            "versionValues": [{"app": "a"}, {"app": "b"}],
            "timeout": "3s",
            "maxBodySize": "1MiB",
            "retries": 0,
            "insecureSkipVerify": True,
            "caFile": "ca.pem",
        }
    )
    assert full.auth == {"prom": AuthSpec(type="bearer", token_env="TOKEN")}
    assert full.required == frozenset({"prom/latency"})
    assert (full.values, full.version_values) == (
        {"namespace": "shop"},
        ({"app": "a"}, {"app": "b"}),
    )
    assert (full.limits, full.retries) == (HttpLimits(3.0, 1024 * 1024), 0)
    assert (full.insecure_skip_verify, full.ca_file) == (True, "ca.pem")


def test_rollout_inputs_take_their_defaults_and_read_every_field() -> None:
    default = RolloutInputs.parse(MINIMAL["rollout"])
    assert default.branch.startswith("iter8/rollout-{{")
    assert default.title.startswith("{% if winner %}")
    assert default.commit_message is None
    assert default.edits == (FileEdit("a.yaml", (SetEdit("x", 1, 0),), ()),)
    assert default.change == ChangeInputs(CodeHost(), RequestOptions())
    full = RolloutInputs.parse(
        {
            "platform": "gitlab",
            "targetBranch": "release",
            "draft": True,
            "branch": "b",
            "title": "t",
            "commitMessage": "m",
            "labels": ["x"],
            "edits": [
                {
                    "file": "a.yaml",
                    "set": [{"path": "x", "value": "{{ v }}", "document": 1}],
                    "replace": [{"pattern": "a", "with": "b", "count": 2}],
                }
            ],
        }
    )
    assert (full.branch, full.title, full.commit_message) == ("b", "t", "m")
    assert full.edits == (
        FileEdit("a.yaml", (SetEdit("x", "{{ v }}", 1),), (ReplaceEdit("a", "b", 2),)),
    )
    assert full.change.request == RequestOptions("release", draft=True, labels=("x",))
    assert full.change.host == CodeHost(CIHost.GITLAB)


def test_change_inputs_take_their_defaults_and_read_every_field() -> None:
    assert CodeHost() == CodeHost(None, None, None, None)
    assert RequestOptions() == RequestOptions(None, False, (), (), False)
    full = ChangeInputs.parse(
        {
            "platform": "github",
            "repository": "acme/shop",
            "apiURL": "http://127.0.0.1:1/api",
            "tokenEnv": "ROLLOUT_TOKEN",
            "targetBranch": "release",
            "draft": True,
            "labels": ["iter8", "canary"],
            "reviewers": ["alice"],
            "autoMerge": True,
        }
    )
    assert full.host == CodeHost(
        CIHost.GITHUB, "acme/shop", "http://127.0.0.1:1/api", "ROLLOUT_TOKEN"
    )
    assert full.request == RequestOptions(
        "release", draft=True, labels=("iter8", "canary"), reviewers=("alice",), auto_merge=True
    )
    for platform, repository in [("gitlab", "acme/shop/web"), ("gitlab", "1234"), (None, "1234")]:
        inputs = {"repository": repository, **({"platform": platform} if platform else {})}
        assert ChangeInputs.parse(inputs).host.repository == repository


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            {"platform": "github", "repository": "shop"},
            "'shop' is not a GitHub repository: name it owner/name (acme/shop)",
        ),
        ({"platform": "github", "repository": "acme/shop/web"}, "'acme/shop/web' is not a GitHub"),
        ({"platform": "github", "repository": "1234"}, "'1234' is not a GitHub repository"),
        (
            {"platform": "gitlab", "repository": "shop"},
            "'shop' is not a GitLab project: name it group/project (acme/shop) or by its "
            "numeric ID",
        ),
        ({"platform": "gitlab", "repository": "acme//shop"}, "'acme//shop' is not a GitLab"),
        (
            {"repository": "shop"},
            "'shop' names no repository: owner/name on GitHub, group/project or the project's "
            "numeric ID on GitLab (acme/shop)",
        ),
        ({"repository": "acme/"}, "'acme/' names no repository"),
    ],
)
def test_change_inputs_refuse_a_repository_no_host_could_name(
    inputs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InputsInvalid) as caught:
        ChangeInputs.parse(inputs)
    assert caught.value.field == ("repository",)
    assert caught.value.message.startswith(message)


def test_traffic_inputs_parse_the_routing() -> None:
    default = TrafficInputs.parse(MINIMAL["traffic"])
    assert (default.routing.app, default.routing.candidate.name) == ("checkout", "v2")
    assert (default.record_only, default.branch) == (False, None)
    assert default.change == ChangeInputs.parse(MINIMAL["traffic"])
    full = TrafficInputs.parse({**MINIMAL["traffic"], "platform": "none", "branch": "b"})
    assert (full.record_only, full.branch) == (True, "b")
    assert full.change.host.platform is None  # `none` names no code host
    gitlab = TrafficInputs.parse({**MINIMAL["traffic"], "platform": "gitlab", "labels": ["a"]})
    assert (gitlab.record_only, gitlab.change.host.platform) == (False, CIHost.GITLAB)
    assert gitlab.change.request.labels == ("a",)
