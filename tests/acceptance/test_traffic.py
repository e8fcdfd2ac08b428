"""The traffic task end to end: every strategy x environment, through `iter8 run`.

The command runs in this process (`iter8_action.cli.main.main`, as the console script calls
it), so the many runs pay the start-up once.

Two versions of an app answer on 127.0.0.1; the experiment load-tests them, assesses
the candidate's SLOs and runs the traffic task against a local GitHub or GitLab API
server (driven by PyGithub and python-gitlab). Between runs the test merges the pull or
merge request, as a reviewer and a GitOps agent would, so each run starts where the
last merged step left the release: it advances through every step, promotes, and rolls
back when the candidate fails its SLOs. Every object written is checked against the
real schemas (tests/support/k8s).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from iter8_action.cli.main import main
from iter8_action.core.secrets import SECRETS
from iter8_action.traffic.model import SUPPORTED, Environment, Strategy
from tests.support import k8s
from tests.support.cli import iter8_command, iter8_env
from tests.support.servers.github_repo_api import GitHubRepoServer
from tests.support.servers.gitlab_repo_api import GitLabRepoServer
from tests.support.servers.targets import Target

COMBOS = [
    (env, strategy) for env in Environment for strategy in Strategy if strategy in SUPPORTED[env]
]
STEPS = [20, 100]
FILE = "deploy/traffic.yaml"
INFERENCE_SERVICE = """\
# The model server. iter8-py sets canaryTrafficPercent.
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: checkout
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      storageUri: "gs://models/checkout/v2"   # the candidate
    canaryTrafficPercent: 0
"""


@dataclass
class Repo:
    """A repository on a local API server, and the merge a reviewer would make."""

    server: GitHubRepoServer | GitLabRepoServer | None
    platform: str

    def _served(self) -> GitHubRepoServer | GitLabRepoServer:
        assert self.server is not None, "no repository: the experiment renders files only"
        return self.server

    def files_at(self, branch: str) -> dict[str, str]:
        return self._served().files_at(branch)

    def merge(self, branch: str) -> None:
        server = self._served()
        if isinstance(server, GitHubRepoServer):
            server.push("main", server.files_at(branch), "merge")
            for pull in server.pulls:
                pull["state"] = "closed"
        else:
            server.branches["main"] = server.files_at(branch)
            for mr in server.merge_requests:
                mr["state"] = "merged"

    def requests(self) -> list[tuple[str, str]]:
        """(title, body) of every PR/MR opened so far."""
        server = self._served()
        if isinstance(server, GitHubRepoServer):
            return [(p["title"], p["body"]) for p in server.pulls]
        return [(m["title"], m["description"]) for m in server.merge_requests]

    def inputs(self) -> dict[str, Any]:
        if self.server is None:
            return {}
        return {"platform": self.platform, "repository": "acme/app", "apiURL": self.server.url}


@contextmanager
def repository(
    platform: str, files: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Repo]:
    if platform == "github":
        with GitHubRepoServer(files=files) as gh:
            monkeypatch.setenv("GITHUB_TOKEN", gh.token)
            yield Repo(gh, "github")
    else:
        with GitLabRepoServer(files=files) as gl:
            monkeypatch.setenv("GITLAB_TOKEN", gl.token)
            yield Repo(gl, "gitlab")


def _traffic(env: Environment, strategy: Strategy, repo: Repo) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "app": "checkout",
        "namespace": "shop",
        "environment": env.value,
        "strategy": strategy.value,
        "stable": {
            "name": "v1",
            "service": "checkout-v1",
            "port": 8080,
            "selector": {"app": "checkout", "version": "v1"},
        },
        "candidate": {
            "name": "v2",
            "service": "checkout-v2",
            "port": 8080,
            "selector": {"app": "checkout", "version": "v2"},
        },
        "file": FILE,
        **repo.inputs(),
    }
    if strategy in (Strategy.CANARY, Strategy.AFFINITY, Strategy.MIRROR):
        inputs["steps"] = STEPS
    if strategy is Strategy.SEGMENT:
        inputs["segment"] = {"headers": {"x-beta": "true"}, "cookies": {"beta": "1"}}
    if env in (Environment.GATEWAY_API, Environment.ISTIO):
        inputs["gateway"] = "shop-gateway"
        inputs["hosts"] = ["checkout.example.com"]
    return inputs


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_ACTIONS", "GITLAB_CI", "GITHUB_REPOSITORY", "CI_PROJECT_PATH"):
        monkeypatch.delenv(name, raising=False)
    yield
    SECRETS.clear()


def _run(
    capsys: pytest.CaptureFixture[str], stable: str, candidate: str, traffic: dict[str, Any]
) -> str:
    experiment = {
        "metadata": {"name": "checkout"},
        "spec": [
            {
                "task": "http",
                "with": {
                    "numRequests": 10,
                    "qps": 100,
                    "versions": [{"name": "v1", "url": stable}, {"name": "v2", "url": candidate}],
                },
            },
            {
                "task": "assess",
                "with": {"SLOs": {"upper": [{"metric": "http/error-rate", "limit": 0}]}},
            },
            {"task": "traffic", "with": traffic},
        ],
    }
    Path("experiment.yaml").write_text(yaml.safe_dump(experiment, sort_keys=False))
    code = main(["run", "-f", "experiment.yaml"])
    log = capsys.readouterr().err
    assert code == 0, log
    return log


def _objects(text: str) -> list[dict[str, Any]]:
    objects = [d for d in yaml.safe_load_all(text) if d]
    assert k8s.problems(objects) == []
    return objects


def _state(obj: dict[str, Any]) -> tuple[str, str]:
    annotations = obj["metadata"]["annotations"]
    return annotations["iter8-py/phase"], annotations["iter8-py/step"]


def _candidate_weight(env: Environment, obj: dict[str, Any]) -> int:
    """The share of requests the default route sends to the candidate."""
    if env is Environment.GATEWAY_API:
        refs = obj["spec"]["rules"][-1]["backendRefs"]
        return int(next(r["weight"] for r in refs if r["name"] == "checkout-v2"))
    if env is Environment.ISTIO:
        route = next(r for r in obj["spec"]["http"] if r["name"] == "primary")["route"]
        return int(route[1]["weight"])
    if env is Environment.KSERVE:
        return int(obj["spec"]["predictor"]["canaryTrafficPercent"])
    return 100 if obj["spec"]["selector"]["version"] == "v2" else 0


def _expected(strategy: Strategy) -> list[tuple[str, str, int]]:
    """(phase, step, candidate weight) after each passing run, promotion last."""
    if strategy in (Strategy.CANARY, Strategy.AFFINITY):
        return [("progressing", "0", 20), ("progressing", "1", 100), ("promoted", "1", 100)]
    if strategy is Strategy.MIRROR:
        return [("progressing", "0", 0), ("progressing", "1", 0), ("promoted", "1", 100)]
    if strategy is Strategy.BLUE_GREEN:
        return [("progressing", "0", 100), ("promoted", "0", 100)]
    return [("progressing", "0", 0), ("promoted", "0", 100)]  # segment: on, then everyone


def _initial_files(env: Environment) -> dict[str, str]:
    files = {"README.md": "# checkout\n"}
    if env is Environment.KSERVE:
        files[FILE] = INFERENCE_SERVICE
    return files


@pytest.mark.slow
@pytest.mark.parametrize(("env", "strategy"), COMBOS, ids=lambda v: str(v))
def test_a_release_advances_through_every_step_and_is_promoted(
    env: Environment,
    strategy: Strategy,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    platform = "gitlab" if COMBOS.index((env, strategy)) % 2 else "github"
    branch = "iter8/traffic-checkout"
    with (
        Target() as stable,
        Target() as candidate,
        repository(platform, _initial_files(env), monkeypatch) as repo,
    ):
        traffic = _traffic(env, strategy, repo)
        for phase, step, weight in _expected(strategy):
            _run(capsys, stable.url, candidate.url, traffic)
            objects = _objects(repo.files_at(branch)[FILE])
            assert (_state(objects[0]), _candidate_weight(env, objects[0])) == (
                (phase, step),
                weight,
            )
            title, body = repo.requests()[-1]
            assert title.startswith("Traffic for checkout: ")
            assert "checkout: " in body and "because v2 met all" in body
            repo.merge(branch)
        opened = len(repo.requests())
        log = _run(capsys, stable.url, candidate.url, traffic)
        assert "checkout stays at v2 promoted (100%): v2 is already promoted" in log, log
        assert len(repo.requests()) == opened
    if env is Environment.KSERVE:  # the user's file: only the managed fields changed
        final = repo.files_at("main")[FILE]
        assert "# The model server. iter8-py sets canaryTrafficPercent." in final
        assert 'storageUri: "gs://models/checkout/v2"   # the candidate' in final


@pytest.mark.slow
@pytest.mark.parametrize(("env", "strategy"), COMBOS, ids=lambda v: str(v))
def test_a_candidate_that_fails_its_slos_is_rolled_back(
    env: Environment,
    strategy: Strategy,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    platform = "github" if COMBOS.index((env, strategy)) % 2 else "gitlab"
    branch = "iter8/traffic-checkout"
    with (
        Target() as stable,
        Target() as candidate,
        repository(platform, _initial_files(env), monkeypatch) as repo,
    ):
        traffic = _traffic(env, strategy, repo)
        _run(capsys, stable.url, candidate.url, traffic)
        repo.merge(branch)
        log = _run(capsys, stable.url, f"{candidate.url}/status/500", traffic)
        assert "roll-back" in log and "v2 violated its SLOs on http/error-rate" in log
        objects = _objects(repo.files_at(branch)[FILE])
        route = objects[0]
        assert (_state(route), _candidate_weight(env, route)) == (("rolled-back", "0"), 0)
        if env is Environment.GATEWAY_API and strategy is Strategy.MIRROR:
            assert route["spec"]["rules"][0]["filters"][0]["requestMirror"]["percent"] == 0
        if env is Environment.ISTIO and strategy is Strategy.MIRROR:
            assert route["spec"]["http"][-1]["mirrorPercentage"] == {"value": 0}
        if strategy is Strategy.SEGMENT and env is Environment.GATEWAY_API:
            segment = route["spec"]["rules"][0]["backendRefs"]
            assert [r["weight"] for r in segment] == [100, 0]
        if strategy is Strategy.SEGMENT and env is Environment.ISTIO:
            segment = route["spec"]["http"][0]["route"]
            assert [r["weight"] for r in segment] == [100, 0]


@pytest.mark.requires("k8s-models")
def test_traffic_render_writes_the_next_manifests_without_any_api_call(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`platform: none` decides in the run; `iter8 traffic render` writes the files."""
    checkout = tmp_path / "checkout"
    with Target() as stable, Target() as candidate:
        traffic = {
            **_traffic(Environment.ISTIO, Strategy.CANARY, Repo(None, "none")),
            "platform": "none",
        }
        log = _run(capsys, stable.url, candidate.url, traffic)
    assert "checkout: advance: not started (0%) -> step 1 of 2 (20%)" in log
    assert "platform: none" in log
    for step, expected in ((0, "step 1 of 2 (20%)"), (1, "step 2 of 2 (100%)")):
        done = subprocess.run(
            iter8_command(
                "traffic",
                "render",
                "-f",
                "result.yaml",
                "--manifests",
                str(checkout),
                "--out",
                str(checkout),
            ),
            cwd=tmp_path,
            env=iter8_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert (
            f"-> {expected}, because v2 met all 1 of its SLOs; wrote {checkout / FILE}"
            in done.stdout
        )
        route = _objects((checkout / FILE).read_text())[0]
        assert _state(route) == ("progressing", str(step))
