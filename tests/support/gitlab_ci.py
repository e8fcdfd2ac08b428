"""A GitLab project that includes the component, run for real by gitlab-ci-local.

The project includes the template with `include: local:` and inputs, as a
user's `.gitlab-ci.yml` would; gitlab-ci-local expands the inputs, runs the job
in shell mode (the component's image is the action's, which cannot be pulled
here) and collects the artifacts and the dotenv report. A second job reads the
verdict from the dotenv report, as a deploy job would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT
from tests.support.servers.gitlab_api import FakeGitLab

TEMPLATE = ROOT / "gitlab" / "templates" / "iter8.yml"
GITLAB_CI = """\
stages: [test, deploy]
include:
  - local: templates/iter8.yml
    inputs:
      token: $ITER8_GITLAB_TOKEN
      comment-key: {comment_key}
{extra}
deploy:
  stage: deploy
{image}  needs: [iter8-experiment]
  script:
    - echo "deploying after verdict=$ITER8_VERDICT slos-met=$ITER8_SLOS_MET"
"""


def project(
    root: Path,
    experiment: str,
    *,
    extra_inputs: str = "",
    comment_key: str = "smoke",
    deploy_image: str | None = None,
    remote: str = "https://gitlab.example.com/iter8/demo.git",
) -> Path:
    """A git repository whose `.gitlab-ci.yml` includes the component (a copy of
    `gitlab/templates/iter8.yml`) and runs a deploy job after it; `deploy_image` for the
    docker executor."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "templates").mkdir(exist_ok=True)
    shutil.copy(TEMPLATE, root / "templates" / "iter8.yml")
    image = f"  image: {deploy_image}\n" if deploy_image else ""
    (root / ".gitlab-ci.yml").write_text(
        GITLAB_CI.format(extra=extra_inputs, comment_key=comment_key, image=image)
    )
    (root / "experiment.yaml").write_text(experiment)
    if not (root / ".git").exists():
        git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "remote", "add", "origin", remote], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    return root


def gitlab_ci_local(
    root: Path, server: FakeGitLab, *variables: str
) -> subprocess.CompletedProcess[str]:
    """Run the project's pipeline in shell mode, its merge request's variables pointing at
    `server`, plus `variables` (`NAME=value`); a test that calls it is marked
    `requires("gitlab-ci-local")`."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    merge_request = [
        f"CI_SERVER_URL={server.url}",
        f"CI_PROJECT_ID={server.project_id}",
        "CI_MERGE_REQUEST_IID=3",
        "CI_PIPELINE_SOURCE=merge_request_event",
        "CI_JOB_TOKEN=job-token-not-for-notes",
        f"PYTHONPATH={ROOT}",
    ]
    args = [
        "gitlab-ci-local",
        "--force-shell-executor",
        "--no-color",
        "--home",
        str(root.parent / "home"),
    ]
    # The template is linted by check-jsonschema (scripts/lint-ci-files); this
    # run checks behaviour, and its own schema pass costs seconds per run.
    args.append("--no-json-schema-validation")
    for variable in [*merge_request, *variables]:
        args += ["--variable", variable]
    return subprocess.run(
        args, cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
    )
