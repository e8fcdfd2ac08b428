"""Baselines across runs, end to end: the CI job finds the base branch's results through the
platform's API, joins them and gates on them.

The base branch's results are real: `iter8 run` against a target on 127.0.0.1
that answers in 100 ms. They are served as artifact zips by the local GitHub
Actions API (tests/support/servers/github_actions_api.py) and as job artifacts by the
local GitLab API (tests/support/servers/gitlab_pipelines_api.py). The pull request's
run goes through `entrypoint.py` as the runner starts it (GitHub) or
`cli.job.main` with a GitLab job's environment.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from iter8_action.cli.job import main as pipeline_main
from iter8_action.cli.main import main as iter8_main
from iter8_action.core.secrets import SECRETS
from tests.support.action import GITHUB_TOKEN, run_action
from tests.support.servers.artifacts import zip_bomb, zip_of
from tests.support.servers.github_actions_api import FakeGitHubActions
from tests.support.servers.github_api import FakeGitHub
from tests.support.servers.gitlab_api import FakeGitLab
from tests.support.servers.gitlab_pipelines_api import FakeGitLabPipelines
from tests.support.servers.targets import Target

BASELINE_MS = 100
SHAS = [prefix + "0" * 33 for prefix in ("1a2b3c4", "5e6f7a8", "9b0c1d2")]
"""The base branch's commits, oldest first."""

EXPERIMENT = """\
spec:
- task: http
  with:
    url: {url}/slow/{ms}
    numRequests: 40
    qps: 40
    connections: 8
- task: assess
  with:
    baseline: main
    SLOs:
      upper:
      - metric: http/latency-mean
        maxIncreasePercent: 10
      - metric: http/error-rate
        limit: 0
"""
WITH = {"baseline-from": "base-branch", "baseline-count": "5"}


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    with Target() as served:
        yield served


@pytest.fixture(scope="module")
def main_results(target: Target, tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Three runs of the base branch, as `iter8 run` writes them (oldest first)."""
    root = tmp_path_factory.mktemp("main")
    (root / "experiment.yaml").write_text(
        EXPERIMENT.format(url=target.url, ms=BASELINE_MS).replace("baseline: main", "baseline: 0")
    )
    results = []
    for i in range(3):
        out = root / f"result-{i}.yaml"
        assert iter8_main(["run", "-f", str(root / "experiment.yaml"), "-o", str(out)]) == 0
        results.append(out.read_bytes())
    return results


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, FakeGitHubActions]]:
    comments = FakeGitHub(token=GITHUB_TOKEN)
    actions = FakeGitHubActions(repo=comments.repo, token=GITHUB_TOKEN, server=comments.server)
    with comments:
        yield comments, actions
    SECRETS.clear()


def _store_on_main(actions: FakeGitHubActions, results: list[bytes], **kw: object) -> None:
    for sha, result in zip(SHAS, results, strict=True):
        artifact = zip_of({"result.yaml": result, "report.md": b"# report\n"})
        actions.add_run("main", sha, {"iter8-reports": artifact}, **kw)


def test_a_pull_request_20_percent_slower_than_main_fails_with_vs_main(
    tmp_path: Path,
    target: Target,
    main_results: list[bytes],
    github: tuple[FakeGitHub, FakeGitHubActions],
) -> None:
    comments, actions = github
    _store_on_main(actions, main_results)
    slower = EXPERIMENT.format(url=target.url, ms=BASELINE_MS * 6 // 5)

    run = run_action(tmp_path, comments, slower, WITH)

    assert run.code == 1, run.stdout + run.stderr
    [comment] = comments.comments_on(7)
    body = comment["body"]
    assert "#### vs main" in body
    assert "**http/latency-mean +" in body and "% vs main (significant, p&lt;0.001)**" in body
    assert "| http/latency-mean | v1 |" in body and "❌ regression |" in body
    # the SLO table's "vs main" column: change, p-value, the call
    assert "| SLO | v1 | main@\u2060" in body and " | vs main |\n" in body
    assert "%, p&lt;0.001, ❌ regression |\n| http/error-rate ≤ 0 |" in body
    newest = f"main@\u2060{SHAS[-1][:7]}"
    assert f"Compared with {newest} (the newest of 3 results of main)" in body
    assert "::error title=SLO violated%3A http/latency-mean (v1)%2C" not in run.stdout
    assert "::error title=SLO violated%3A http/latency-mean (v1)," in run.stdout
    requested = [r.path for r in comments.server.requests]
    assert "/repos/iter8-py/demo/actions/workflows/161335/runs" in requested
    # the zip's redirect target is fetched, and no listing ever saw another branch's runs
    assert sum(p.startswith("/blobs/") for p in requested) == 3


def test_an_identical_pull_request_passes(
    tmp_path: Path,
    target: Target,
    main_results: list[bytes],
    github: tuple[FakeGitHub, FakeGitHubActions],
) -> None:
    comments, actions = github
    _store_on_main(actions, main_results)
    same = EXPERIMENT.format(url=target.url, ms=BASELINE_MS)

    run = run_action(tmp_path, comments, same, WITH)

    assert run.code == 0, run.stdout + run.stderr
    [comment] = comments.comments_on(7)
    assert "#### vs main" in comment["body"]
    assert "| http/latency-mean | v1 |" in comment["body"]
    # the table may call a 1% drift a regression when the baselines agree closely; the
    # gate is the SLO: 10% over main, and an unchanged app is not
    assert run.outputs["slos-met"] == "true"
    assert run.outputs["winner"] == "v1"


def test_without_a_baseline_the_comment_says_so_and_the_other_slos_decide(
    tmp_path: Path, target: Target, github: tuple[FakeGitHub, FakeGitHubActions]
) -> None:
    comments, _ = github  # the base branch has no runs yet
    run = run_action(tmp_path, comments, EXPERIMENT.format(url=target.url, ms=120), WITH)

    assert run.code == 0, run.stdout + run.stderr
    body = comments.comments_on(7)[0]["body"]
    assert "ℹ️ **No baseline**: this run is not compared with main." in body
    assert (
        "- no successful run of this workflow on main has a result in an artifact named "
        "'iter8-reports'" in body
    )
    assert "- not judged without a baseline: http/latency-mean (maxIncreasePercent)" in body


def test_expired_artifacts_are_a_note_not_a_failure(
    tmp_path: Path,
    target: Target,
    main_results: list[bytes],
    github: tuple[FakeGitHub, FakeGitHubActions],
) -> None:
    comments, actions = github
    _store_on_main(actions, main_results, expired=True)
    run = run_action(tmp_path, comments, EXPERIMENT.format(url=target.url, ms=120), WITH)

    assert run.code == 0, run.stdout + run.stderr
    body = comments.comments_on(7)[0]["body"]
    assert "**No baseline**" in body
    assert (
        "- 3 runs of main had an expired artifact 'iter8-reports' (raise retention-days "
        "of the upload step)" in body
    )
    assert not any(r.path.startswith("/blobs/") for r in comments.server.requests)


def test_a_token_without_access_is_a_note(
    tmp_path: Path, target: Target, main_results: list[bytes]
) -> None:
    comments = FakeGitHub(token=GITHUB_TOKEN)
    actions = FakeGitHubActions(token="another-token", server=comments.server)
    _store_on_main(actions, main_results)
    with comments:
        run = run_action(tmp_path, comments, EXPERIMENT.format(url=target.url, ms=100), WITH)
    SECRETS.clear()

    assert run.code == 0, run.stdout + run.stderr
    body = comments.comments_on(7)[0]["body"]
    assert (
        "- GitHub refused to list the runs of main (401 Bad credentials); give the job the "
        "permission actions: read" in body
    )


def test_bad_artifacts_are_skipped_with_a_note(
    tmp_path: Path,
    target: Target,
    main_results: list[bytes],
    github: tuple[FakeGitHub, FakeGitHubActions],
) -> None:
    """A result from another run is untrusted: a bomb, a non-result and a good one."""
    comments, actions = github
    actions.add_run("main", SHAS[0], {"iter8-reports": zip_of({"result.yaml": main_results[0]})})
    actions.add_run("main", SHAS[1], {"iter8-reports": zip_bomb(40 * 1024 * 1024)})
    actions.add_run("main", SHAS[2], {"iter8-reports": zip_of({"result.yaml": b"spec: []\n"})})

    run = run_action(tmp_path, comments, EXPERIMENT.format(url=target.url, ms=100), WITH)

    assert run.code == 0, run.stdout + run.stderr
    body = comments.comments_on(7)[0]["body"]
    assert f"main@\u2060{SHAS[0][:7]}" in body
    assert "result.yaml decompresses to more than 32 MiB; it is not read" in body
    assert "not a result file (no result.insights section)" in body


# -- GitLab -------------------------------------------------------------------------------


@pytest.fixture
def gitlab() -> Iterator[tuple[FakeGitLab, FakeGitLabPipelines]]:
    notes = FakeGitLab()
    pipelines = FakeGitLabPipelines(token=notes.token, server=notes.server)
    with notes:
        yield notes, pipelines
    SECRETS.clear()


def _gitlab_job(root: Path, server: FakeGitLab, experiment: str) -> tuple[int, str]:
    (root / "experiment.yaml").write_text(experiment)
    env = {
        "GITLAB_CI": "true",
        "CI_SERVER_URL": server.url,
        "CI_PROJECT_ID": str(server.project_id),
        "CI_JOB_NAME": "iter8-experiment",
        "CI_JOB_TOKEN": "job-token-not-for-the-api",
        "CI_MERGE_REQUEST_IID": "3",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "ITER8_DOTENV": str(root / "iter8.env"),
        "INPUT_EXPERIMENT": "experiment.yaml",
        "INPUT_WORKING_DIRECTORY": str(root),
        "INPUT_TOKEN": server.token,
        "INPUT_BASELINE_FROM": "base-branch",
        "INPUT_BASELINE_COUNT": "5",
        "INPUT_REPORT_FORMATS": "markdown",
    }
    out = io.StringIO()
    with redirect_stdout(out):
        code = pipeline_main(env)
    return code, out.getvalue()


def test_gitlab_a_merge_request_20_percent_slower_fails_with_vs_main(
    tmp_path: Path,
    target: Target,
    main_results: list[bytes],
    gitlab: tuple[FakeGitLab, FakeGitLabPipelines],
) -> None:
    notes, pipelines = gitlab
    for sha, result in zip(SHAS, main_results, strict=True):
        pipelines.add_pipeline(
            "main", sha, {"iter8-experiment": zip_of({"iter8-reports/result.yaml": result})}
        )

    code, log = _gitlab_job(tmp_path, notes, EXPERIMENT.format(url=target.url, ms=120))

    assert code == 1, log
    [note] = notes.notes_on(3)
    assert "#### vs main" in note["body"]
    assert "❌ regression |" in note["body"]
    assert f"main@\u2060{SHAS[-1][:7]}" in note["body"]


def test_gitlab_expired_artifacts_are_a_note(
    tmp_path: Path,
    target: Target,
    main_results: list[bytes],
    gitlab: tuple[FakeGitLab, FakeGitLabPipelines],
) -> None:
    notes, pipelines = gitlab
    pipelines.add_pipeline(
        "main",
        SHAS[0],
        {"iter8-experiment": zip_of({"result.yaml": main_results[0]})},
        expired=True,
    )

    code, log = _gitlab_job(tmp_path, notes, EXPERIMENT.format(url=target.url, ms=100))

    assert code == 0, log
    body = notes.notes_on(3)[0]["body"]
    assert "**No baseline**" in body
    assert "- 1 pipeline of main had expired artifacts for job 'iter8-experiment'" in body


def test_gitlab_an_identical_merge_request_passes(
    tmp_path: Path,
    target: Target,
    main_results: list[bytes],
    gitlab: tuple[FakeGitLab, FakeGitLabPipelines],
) -> None:
    notes, pipelines = gitlab
    for sha, result in zip(SHAS, main_results, strict=True):
        artifacts = zip_of({"iter8-reports/result.yaml": result})
        pipelines.add_pipeline("main", sha, {"iter8-experiment": artifacts, "lint": None})
    pipelines.add_pipeline("feature", "f" * 40, {"iter8-experiment": zip_of({})})

    code, log = _gitlab_job(tmp_path, notes, EXPERIMENT.format(url=target.url, ms=BASELINE_MS))

    assert code == 0, log
    body = notes.notes_on(3)[0]["body"]
    assert f"Compared with main@\u2060{SHAS[-1][:7]} (the newest of 3 results of main)" in body
    listed = [r for r in notes.server.requests if r.path.endswith("/pipelines")]
    assert [r.query["ref"] for r in listed] == [["main"]]
