"""`iter8 launch` as a user runs it: the built-in chart, a chart directory, a Helm repository."""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.cli import Iter8, iter8_command, iter8_env
from tests.support.servers.base import Reply
from tests.support.servers.helmrepo import HelmRepo, package
from tests.support.servers.targets import Target

# A chart in Iter8's format: `experiment` defined in _experiment.tpl, helpers included,
# values copied and edited with mustDeepCopy/set/unset, `range $k, $v`, `toYaml | indent`.
CHART = {
    "values.yaml": "numRequests: 10\nslos: {}\nextra: {drop: me}\n",
    "templates/_helpers.tpl": """\
{{- define "my.load" -}}
{{- $with := mustDeepCopy .Values.load }}
{{- $_ := set $with "numRequests" .Values.numRequests }}
{{- $_ := unset $with "note" }}
- task: http
  with:
{{ toYaml $with | indent 4 }}
{{- end }}
""",
    "templates/_experiment.tpl": """\
{{- define "experiment" }}
metadata:
  name: {{ .Chart.Name }}-{{ .Release.Name }}
spec:
{{ include "my.load" . }}
{{- if .Values.slos }}
- task: assess
  with:
    SLOs:
      upper:
      {{- range $metric, $limit := .Values.slos }}
      - metric: {{ $metric }}
        limit: {{ $limit }}
      {{- end }}
{{- end }}
{{- end }}
""",
}


@pytest.fixture
def iter8(tmp_path: Path) -> Iter8:
    """`iter8 ARGS` in tmp_path, with a chart cache of its own (XDG_CACHE_HOME)."""

    def call(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            iter8_command(*args),
            cwd=tmp_path,
            env=iter8_env(XDG_CACHE_HOME=str(tmp_path / "cache")),
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    return call


@pytest.fixture
def target() -> Iterator[Target]:
    with Target() as server:
        yield server


def _insights(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())["result"]["insights"]
    return data


def test_the_iter8_readme_example_runs(iter8: Iter8, tmp_path: Path, target: Target) -> None:
    done = iter8(
        "launch",
        "--set",
        "tasks={http,assess}",
        "--set",
        f"http.url={target.url}/get",
        "--set",
        "http.numRequests=8",
        "--set",
        "assess.SLOs.upper.http/latency-mean=5000",
    )
    assert done.returncode == 0, done.stderr
    experiment = yaml.safe_load((tmp_path / "experiment.yaml").read_text())
    assert [t["task"] for t in experiment["spec"]] == ["http", "assess"]
    insights = _insights(tmp_path / "result.yaml")
    assert insights["nonHistMetricValues"][0]["http/request-count"] == [8.0]
    assert insights["SLOsSatisfied"]["upper"] == [[True]]


def test_dry_only_writes_the_experiment(iter8: Iter8, tmp_path: Path) -> None:
    done = iter8(
        "launch", "--set", "tasks={http}", "--set", "http.url=http://127.0.0.1:9/", "--dry"
    )
    assert done.returncode == 0, done.stderr
    assert "experiment written to experiment.yaml" in done.stderr
    assert (tmp_path / "experiment.yaml").is_file() and not (tmp_path / "result.yaml").exists()


def test_bad_values_exit_2_with_the_key_path(iter8: Iter8, tmp_path: Path) -> None:
    done = iter8("launch", "--set", "tasks={http}", "--set", "http.url=u", "--set", "http.qps=x")
    assert done.returncode == 2
    assert "values: http.qps: 'x' is not of type 'number'" in done.stderr
    assert not (tmp_path / "experiment.yaml").exists()


def test_a_chart_directory_with_values_files(iter8: Iter8, tmp_path: Path, target: Target) -> None:
    chart = tmp_path / "my-chart"
    for path, text in {
        "Chart.yaml": "apiVersion: v2\nname: my-chart\nversion: 0.1.0\n",
        **CHART,
    }.items():
        (chart / path).parent.mkdir(parents=True, exist_ok=True)
        (chart / path).write_text(text)
    (tmp_path / "values.yaml").write_text(
        f"load: {{url: '{target.url}/', qps: 200, note: dropped}}\nslos: {{http/error-rate: 0}}\n"
    )
    done = iter8(
        "launch",
        "-c",
        "my-chart",
        "--localChart",
        "-f",
        "values.yaml",
        "--set",
        "numRequests=6",
        "--set",
        "slos.http/latency-max=60000",
        "-o",
        "out/result.yaml",
    )
    assert done.returncode == 0, done.stderr
    experiment = yaml.safe_load((tmp_path / "experiment.yaml").read_text())
    assert experiment["metadata"] == {"name": "my-chart-default"}
    assert experiment["spec"][0]["with"] == {"url": f"{target.url}/", "qps": 200, "numRequests": 6}
    assert experiment["spec"][1]["with"]["SLOs"]["upper"] == [
        {"metric": "http/error-rate", "limit": 0},
        {"metric": "http/latency-max", "limit": 60000},
    ]
    insights = _insights(tmp_path / "out" / "result.yaml")
    assert insights["nonHistMetricValues"][0]["http/request-count"] == [6.0]


def test_a_template_error_names_the_chart_file_line_and_column(
    iter8: Iter8, tmp_path: Path
) -> None:
    chart = tmp_path / "broken"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: broken\nversion: 1.0.0\n")
    (chart / "templates" / "experiment.yaml").write_text(
        "spec:\n- task: http\n  with: {{ .Values.a.b }}\n"
    )
    done = iter8("launch", "-c", "./broken", "--dry")
    assert done.returncode == 2
    assert (
        "chart 'broken': broken/templates/experiment.yaml:3:12: executing "
        '"broken/templates/experiment.yaml" at <.Values.a.b>: nil pointer evaluating interface {}.b'
    ) in done.stderr


@pytest.fixture
def repo() -> Iterator[HelmRepo]:
    with HelmRepo() as served:
        served.add_chart("my-chart", "1.0.0", CHART)
        served.add_chart(
            "my-chart", "1.4.0", {**CHART, "values.yaml": "numRequests: 14\nslos: {}\n"}
        )
        served.add_chart(
            "my-chart", "2.0.0", {**CHART, "values.yaml": "numRequests: 20\nslos: {}\n"}
        )
        served.add_chart("my-chart", "2.1.0-rc.1", CHART)
        yield served


@pytest.mark.parametrize(("version", "requests"), [(None, 20), ("^1.0", 14), ("~1.0.0", 10)])
def test_a_chart_from_a_helm_repository(
    iter8: Iter8, tmp_path: Path, repo: HelmRepo, version: str | None, requests: int
) -> None:
    args = [
        "launch",
        "-c",
        "my-chart",
        "--repoURL",
        repo.url,
        "--set",
        "load.url=http://127.0.0.1:9/",
        "--dry",
    ]
    if version:
        args += ["--version", version]
    done = iter8(*args)
    assert done.returncode == 0, done.stderr
    experiment = yaml.safe_load((tmp_path / "experiment.yaml").read_text())
    assert experiment["spec"][0]["with"]["numRequests"] == requests


def test_repository_charts_are_cached_and_checked(
    iter8: Iter8, tmp_path: Path, repo: HelmRepo
) -> None:
    base = [
        "launch",
        "-c",
        "my-chart",
        "--repoURL",
        repo.url,
        "--set",
        "load.url=http://x.invalid/",
        "--dry",
    ]
    assert iter8(*base).returncode == 0
    assert iter8(*base).returncode == 0
    assert repo.downloads() == ["/charts/my-chart-2.0.0.tgz"]
    offline = iter8(*base, "--noDownload", "--version", "1.0.0")
    assert offline.returncode == 2 and "is not in the cache" in offline.stderr
    repo.tamper("my-chart", "1.4.0")
    tampered = iter8(*base, "--version", "1.4.0")
    assert tampered.returncode == 2
    assert "the archive's SHA-256 is" in tampered.stderr and "not using it" in tampered.stderr
    missing = iter8(*base, "--version", ">=3")
    assert missing.returncode == 2
    assert (
        "no version of chart 'my-chart' in range '>=3' (versions: 1.0.0, 1.4.0, 2.0.0, 2.1.0-rc.1)"
        in missing.stderr
    )


def _hostile(member: tarfile.TarInfo, data: bytes = b"x") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        ok = tarfile.TarInfo("evil/Chart.yaml")
        ok.size = len(b"name: evil\nversion: 1.0.0\n")
        tar.addfile(ok, io.BytesIO(b"name: evil\nversion: 1.0.0\n"))
        member.size = len(data) if member.isfile() else 0
        tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return buffer.getvalue()


def _link(name: str, kind: bytes, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (tarfile.TarInfo("/etc/evil"), "unsafe path '/etc/evil'"),
        (tarfile.TarInfo("evil/../../escape"), "unsafe path 'evil/../../escape'"),
        (_link("evil/templates/x", tarfile.SYMTYPE, "/etc/passwd"), "is a link or device"),
        (_link("evil/templates/y", tarfile.LNKTYPE, "evil/Chart.yaml"), "is a link or device"),
    ],
)
def test_unsafe_archives_are_refused(
    iter8: Iter8, tmp_path: Path, member: tarfile.TarInfo, message: str
) -> None:
    with HelmRepo() as served:
        served.add_archive("evil", "1.0.0", _hostile(member))
        done = iter8("launch", "-c", "evil", "--repoURL", served.url, "--dry")
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tmp_path.parent / "escape").exists()


def test_package_helper_makes_helm_style_archives() -> None:
    with tarfile.open(fileobj=io.BytesIO(package("c", {"Chart.yaml": "x"}))) as tar:
        assert tar.getnames() == ["c/Chart.yaml"]


def test_a_values_file_from_a_url(iter8: Iter8, tmp_path: Path, repo: HelmRepo) -> None:
    repo.server.route(
        "GET",
        "/values.yaml",
        lambda _r: Reply(200, "tasks: [http]\nhttp: {url: http://x.invalid/}\n"),
    )
    done = iter8("launch", "-f", f"{repo.url}/values.yaml", "--set", "http.qps=3", "--dry")
    assert done.returncode == 0, done.stderr
    experiment = yaml.safe_load((tmp_path / "experiment.yaml").read_text())
    assert experiment["spec"] == [{"task": "http", "with": {"url": "http://x.invalid/", "qps": 3}}]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {
                "values.schema.json": '{"$schema": "http://json-schema.org/draft-07/schema#",'
                ' "properties": {"n": {"type": "integer", "exclusiveMinimum": 0}}}',
                "templates/experiment.yaml": "spec: [{run: 'echo {{ .Values.n }}'}]\n",
            },
            "values: n: 0 is less than or equal to the minimum of 0",
        ),
        (
            {"values.schema.json": '{"type": 5}', "templates/experiment.yaml": "spec: []\n"},
            "values.schema.json: not a valid JSON schema: 5 is not valid under any of the given",
        ),
        (
            {"Chart.yaml": "name: d\nversion: 1.0.0\ndependencies: [{name: x}]\n"},
            "chart dependencies (subcharts) are not supported",
        ),
        (
            {"templates/other.yaml": "x: 1\n"},
            'has no experiment: define a template named "experiment"',
        ),
    ],
)
def test_chart_problems_exit_2(
    iter8: Iter8, tmp_path: Path, files: dict[str, str], message: str
) -> None:
    files = {"Chart.yaml": "apiVersion: v2\nname: d\nversion: 1.0.0\n", **files}
    for path, text in files.items():
        (tmp_path / "d" / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "d" / path).write_text(text)
    done = iter8("launch", "-c", "./d", "--set", "n=0", "--dry")
    assert done.returncode == 2
    assert message in done.stderr


def test_a_chart_from_a_helm_repository_runs(
    iter8: Iter8, tmp_path: Path, repo: HelmRepo, target: Target
) -> None:
    done = iter8(
        "launch", "-c", "my-chart", "--repoURL", repo.url, "--version", "~1.0",
        "--set", f"load.url={target.url}/", "--set", "numRequests=4",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    insights = _insights(tmp_path / "result.yaml")
    assert insights["nonHistMetricValues"][0]["http/request-count"] == [4.0]


def test_set_string_and_set_file_flags(iter8: Iter8, tmp_path: Path) -> None:
    (tmp_path / "check.sh").write_text("set -e\necho checked\n")
    as_int = iter8(
        "launch",
        "--set",
        "tasks={run}",
        "--set",
        "metadata.name=123",
        "--set-file",
        "run=check.sh",
        "--dry",
    )
    assert as_int.returncode == 2
    assert "values: metadata.name: 123 is not of type 'string'" in as_int.stderr
    done = iter8(
        "launch", "--set", "tasks={run}", "--set-string", "metadata.name=123",
        "--set-file", "run=check.sh", "--dry",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load((tmp_path / "experiment.yaml").read_text()) == {
        "metadata": {"name": "123"},
        "spec": [{"run": "set -e\necho checked\n"}],
    }
