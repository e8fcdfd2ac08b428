"""`baseline-from`: where the baselines of a run come from, resolved into `Baselines`.

    base-branch      the latest successful runs of this workflow (GitHub: artifact
                     `iter8-reports`; GitLab: this job's artifacts) on the pull
                     request's base branch
    artifact:NAME    the same, from the artifact (GitHub) or job (GitLab) named NAME
    PATH or URL      a result file (http(s) URLs are downloaded, bounded)

A path or URL is the user's own input: a bad one is exit 2. Runs found through
the CI platform are untrusted data from other runs: a bad or expired one is a
note in the comment and is skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from iter8_action.baselines.download import DownloadFailed, fetch
from iter8_action.baselines.model import (
    BaselineInvalid,
    BaselineRun,
    Baselines,
)
from iter8_action.baselines.reading import MAX_RESULT_BYTES, read_store
from iter8_action.baselines.spec import (
    DEFAULT_ARTIFACT,
    FILE_BRANCH,
    Source,
)


def resolve(
    source: Source,
    *,
    count: int,
    platform: str,
    environ: Mapping[str, str],
    token: str,
    base_dir: Path,
) -> Baselines:
    """The baselines named by `source` on this CI platform ("github", "gitlab", "terminal")."""
    described = source.kind if source.kind != "artifact" else f"artifact:{source.value}"
    if source.kind == "location":
        branch = environ.get("GITHUB_BASE_REF") or environ.get(
            "CI_MERGE_REQUEST_TARGET_BRANCH_NAME", ""
        )
        return from_locations([source.value], base_dir=base_dir, branch=branch or FILE_BRANCH)
    if platform == "github":
        from iter8_action.baselines.github import GitHubRunContext, from_github

        artifact = source.value or DEFAULT_ARTIFACT
        ctx = GitHubRunContext.from_environ(environ, token)
        return from_github(ctx, artifact=artifact, count=count, source=described)
    if platform == "gitlab":
        from iter8_action.baselines.gitlab import GitLabPipelineContext, from_gitlab

        lab = GitLabPipelineContext.from_environ(environ, token)
        return from_gitlab(lab, job=source.value, count=count, source=described)
    return Baselines(
        described,
        notes=(
            f"baseline-from: {described} needs GitHub Actions or GitLab CI; "
            "give a result file instead (iter8 run --baseline result.yaml)",
        ),
    )


def from_locations(
    locations: Sequence[str], *, base_dir: Path, branch: str = FILE_BRANCH
) -> Baselines:
    """Result files given by path or URL, newest first; exit 2 when one is not a result."""
    runs = []
    for location in locations:
        data = _read_location(location, base_dir)
        store, own = read_store(data, location)
        sha = hashlib.sha256(data).hexdigest()
        runs.append(BaselineRun(branch, sha, location, store, own))
    return Baselines(", ".join(locations), tuple(runs), branch=branch)


def _read_location(location: str, base_dir: Path) -> bytes:
    if location.startswith(("http://", "https://")):
        try:
            return fetch(location, max_bytes=MAX_RESULT_BYTES)
        except DownloadFailed as e:
            raise BaselineInvalid(f"baseline {e}") from e
    if "://" in location:
        raise BaselineInvalid(f"baseline {location}: only http(s) URLs and file paths are read")
    path = Path(location).expanduser()
    path = path if path.is_absolute() else base_dir / path
    try:
        if path.stat().st_size > MAX_RESULT_BYTES:
            raise BaselineInvalid(
                f"baseline {location}: above the {MAX_RESULT_BYTES // (1024 * 1024)} MiB limit"
            )
        return path.read_bytes()
    except FileNotFoundError as e:
        raise BaselineInvalid(
            f"baseline {location}: no such file. Fix: download the base branch's result "
            "first, or use baseline-from: base-branch in CI"
        ) from e
    except OSError as e:
        raise BaselineInvalid(f"baseline {location}: cannot read it ({e.strerror})") from e
