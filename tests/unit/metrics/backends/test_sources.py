"""Templates from the package, from files beside the experiment, and from URLs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from iter8_action.metrics.backends.query import Transport
from iter8_action.metrics.backends.sources import (
    SourceError,
    TemplateSource,
    builtin_names,
    builtin_partials,
    load_template,
)
from iter8_action.net import httpclient
from tests.support.servers.base import RecordingServer, Reply

FAST = Transport(httpclient.Limits(1.0), retry=httpclient.RetryPolicy(attempts=1))


@pytest.fixture(scope="module")
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as running:
        running.route("GET", "/prom.tpl", lambda r: Reply(200, "url: {{ url }}\n"))
        running.route("GET", "/gone.tpl", lambda r: Reply(404, "not here"))
        yield running


def _load(location: str, tmp_path: Path) -> TemplateSource:
    return load_template(location, provider="p", resolve=lambda p: tmp_path / p, transport=FAST)


def test_the_built_in_templates() -> None:
    assert builtin_names() == ["elastic", "istio-prom", "newrelic", "prometheus", "sysdig"]
    assert sorted(builtin_partials()) == ["_promql.yaml.j2"]


def test_a_built_in_by_name(tmp_path: Path) -> None:
    source = _load("prometheus", tmp_path)
    assert source.origin == "built-in template prometheus"
    assert source.text.startswith("{#- Built-in template `prometheus`")


def test_a_file_beside_the_experiment(tmp_path: Path) -> None:
    (tmp_path / "my.tpl").write_text("url: x\n")
    assert _load("my.tpl", tmp_path) == TemplateSource("url: x\n", str(tmp_path / "my.tpl"))


def test_a_url(server: RecordingServer, tmp_path: Path) -> None:
    url = server.url + "/prom.tpl"
    assert _load(url, tmp_path) == TemplateSource("url: {{ url }}\n", url, remote=True)


def test_a_url_that_is_not_there(server: RecordingServer, tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        _load(server.url + "/gone.tpl", tmp_path)
    assert str(caught.value) == (
        f"provider p: cannot fetch template {server.url}/gone.tpl: it answered 404 Not Found"
    )


def test_a_url_that_does_not_answer(tmp_path: Path) -> None:
    with RecordingServer() as closed:
        url = closed.url + "/t.tpl"
    with pytest.raises(SourceError) as caught:
        _load(url, tmp_path)
    assert str(caught.value).startswith(f"provider p: cannot fetch template {url}: cannot connect")


def test_neither_built_in_nor_file_nor_url(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        _load("promethues", tmp_path)
    assert str(caught.value) == (
        "provider p: template 'promethues' is not a built-in template (elastic, istio-prom, "
        f"newrelic, prometheus, sysdig), a URL, or an existing file "
        f"(looked for {tmp_path / 'promethues'})"
    )


def test_an_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "bin.tpl").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SourceError) as caught:
        _load("bin.tpl", tmp_path)
    assert str(caught.value).startswith(
        f"provider p: cannot read template {tmp_path / 'bin.tpl'}: "
    )
