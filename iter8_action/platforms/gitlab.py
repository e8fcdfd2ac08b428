"""GitLab CI: log sections, a dotenv report for outputs, sticky merge-request notes."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import gitlab
import requests
from gitlab.exceptions import GitlabAuthenticationError, GitlabError

from iter8_action.core.logs import get_logger
from iter8_action.core.logtext import encodable, log_line, log_text
from iter8_action.core.secrets import SECRETS
from iter8_action.platforms import sticky
from iter8_action.platforms.base import (
    Annotation,
    AnnotationLevel,
    CommentAction,
    CommentFailed,
    CommentOutcome,
    Platform,
    located,
)

API_TIMEOUT_S = 15
API_RETRIES = 4
RETRY_AFTER_MAX_S = 30
"""python-gitlab sleeps whatever `Retry-After` says; we cap it so a run stays bounded."""
DOTENV_DEFAULT = "iter8.env"
TOKEN_FIX = (
    "Fix: create a project access token with the `api` scope and the Reporter role "
    "(Settings > Access tokens), store it as a masked CI/CD variable such as "
    "ITER8_GITLAB_TOKEN, and pass it to the component: `token: $ITER8_GITLAB_TOKEN`."
)

log = get_logger("gitlab")

_COLOURS = {
    AnnotationLevel.ERROR: "\x1b[31;1m",
    AnnotationLevel.WARNING: "\x1b[33;1m",
    AnnotationLevel.NOTICE: "\x1b[36;1m",
}
_RESET = "\x1b[0m"


class GitLabPlatform(Platform):
    name = "gitlab"

    def __init__(self, environ: Mapping[str, str], *, out: TextIO | None = None) -> None:
        super().__init__(out=out)
        self._env = dict(environ)
        self._sections = 0

    def run_url(self) -> str | None:
        return self._env.get("CI_JOB_URL") or None

    # -- the job log ---------------------------------------------------------

    def _report(self, note: Annotation) -> None:
        colour = _COLOURS[note.level]
        text = log_text(SECRETS.redact(located(note)))
        self.out.write(f"{colour}{note.level.upper()}:{_RESET} {text}\n")
        self.out.flush()

    def mask(self, secret: str) -> None:
        # GitLab masks only variables declared as masked before the job starts;
        # a job cannot add masks. Our own log handlers redact every registered
        # secret (iter8_action.core.secrets), which is all that can be done here.
        return None

    def set_output(self, name: str, value: str) -> None:
        # A `reports: dotenv:` artifact passes these to later jobs; the format
        # is one KEY=value per line, so a multi-line value is folded.
        key = "ITER8_" + name.upper().replace("-", "_")
        flat = encodable(" ".join(value.splitlines()))
        with self._dotenv_path().open("a", encoding="utf-8") as f:
            f.write(f"{key}={flat}\n")

    def _dotenv_path(self) -> Path:
        # Relative to the job's directory, as the `artifacts:` paths are.
        return Path(self._env.get("ITER8_DOTENV") or DOTENV_DEFAULT)

    def write_summary(self, markdown: str) -> None:
        # GitLab has no step summary: the markdown goes to a folded log section
        # (the merge-request note and the HTML artifact carry the full report).
        with self.group("iter8 summary", collapsed=True):
            self.out.write(log_text(SECRETS.redact(markdown.rstrip("\n"))) + "\n")

    @contextmanager
    def group(self, title: str, *, collapsed: bool = False) -> Iterator[None]:
        # https://docs.gitlab.com/ci/jobs/job_logs/#custom-collapsible-sections
        # The markers need CR and ESC, which `log_line` escapes in the title: data
        # can neither close this section nor open another.
        title = log_line(SECRETS.redact(title))
        self._sections += 1
        name = f"iter8_{self._sections}"
        flag = "[collapsed=true]" if collapsed else ""
        self.out.write(f"\x1b[0Ksection_start:{int(time.time())}:{name}{flag}\r\x1b[0K{title}\n")
        self.out.flush()
        try:
            yield
        finally:
            self.out.write(f"\x1b[0Ksection_end:{int(time.time())}:{name}\r\x1b[0K\n")
            self.out.flush()

    # -- the sticky merge-request note ----------------------------------------

    def post_comment(self, *, key: str, body: str, create: bool = True) -> CommentOutcome:
        iid = self._env.get("CI_MERGE_REQUEST_IID")
        if not iid:
            source = self._env.get("CI_PIPELINE_SOURCE") or "an unknown source"
            return CommentOutcome(
                CommentAction.SKIPPED,
                f"no merge request to comment on: this is a {source} pipeline, not a "
                "merge-request pipeline (add `rules: - if: $CI_PIPELINE_SOURCE == "
                '"merge_request_event"` to run on merge requests)',
            )
        job_token = self._env.get("CI_JOB_TOKEN")
        if not self._token or self._token == job_token:
            only = "only CI_JOB_TOKEN is available" if job_token else "no token is available"
            raise CommentFailed(
                f"cannot post the merge-request note: {only}, and GitLab does not accept "
                f"the job token on the notes API.\n{TOKEN_FIX}"
            )
        try:
            return self._post(int(iid), key=key, body=body, create=create)
        except GitlabAuthenticationError as e:
            raise CommentFailed(
                f"GitLab rejected the token ({e.response_code} {e.error_message}).\n{TOKEN_FIX}"
            ) from e
        except GitlabError as e:
            raise CommentFailed(self._explain(e)) from e
        except requests.RequestException as e:
            raise CommentFailed(
                f"could not reach the GitLab API at {self._server_url()} "
                f"({type(e).__name__}: {e}); the note was not posted"
            ) from e

    def _post(self, iid: int, *, key: str, body: str, create: bool) -> CommentOutcome:
        gl = self._client()
        me = _own_user_id(gl)
        project = gl.projects.get(self._env.get("CI_PROJECT_ID", ""), lazy=True)
        mr = project.mergerequests.get(iid, lazy=True)
        notes = (n for n in mr.notes.list(iterator=True) if not getattr(n, "system", False))
        existing: Any = sticky.find_marked(
            notes, key, mine=lambda n: me is not None and _author_id(n) == me
        )
        text = sticky.with_marker(body, key)
        if existing is not None:
            existing.body = text
            existing.save()
            return CommentOutcome(
                CommentAction.UPDATED, f"updated the note on merge request !{iid}"
            )
        if not create:
            return CommentOutcome(
                CommentAction.SKIPPED,
                f"no note on merge request !{iid}: the experiment passed and none exists yet",
            )
        mr.notes.create({"body": text})
        return CommentOutcome(CommentAction.CREATED, f"added a note to merge request !{iid}")

    def _client(self) -> gitlab.Gitlab:
        session = requests.Session()
        session.hooks["response"].append(_cap_retry_after)
        return _BoundedGitlab(
            url=self._server_url(),
            private_token=self._token,
            timeout=API_TIMEOUT_S,
            retry_transient_errors=True,
            session=session,
        )

    def _server_url(self) -> str:
        return self._env.get("CI_SERVER_URL") or "https://gitlab.com"

    def _explain(self, e: GitlabError) -> str:
        said = f"{e.response_code} {e.error_message}".strip()
        if e.response_code in (403, 404):
            return (
                f"GitLab refused the merge-request note ({said}): the token may not write "
                f"notes on this project.\n{TOKEN_FIX}"
            )
        return f"GitLab answered {said}; the note was not posted"


def _own_user_id(gl: gitlab.Gitlab) -> int | None:
    """The id of the token's user (`GET /user`: a project access token has a bot user),
    or None when it cannot be known: then no note is taken for this token's own."""
    try:
        gl.auth()
    except GitlabAuthenticationError:
        raise  # a bad token: explained like any refusal
    except GitlabError as e:
        log.info(
            "note: cannot tell whose token this is (GET /user answered %s); "
            "adding a new note rather than editing one that may be someone else's",
            e.response_code,
        )
        return None
    user_id = getattr(gl.user, "id", None)
    return user_id if isinstance(user_id, int) else None


def _author_id(note: Any) -> int | None:
    author = getattr(note, "author", None)
    user_id = author.get("id") if isinstance(author, dict) else None
    return user_id if isinstance(user_id, int) else None


class _BoundedGitlab(gitlab.Gitlab):
    """python-gitlab with fewer retries than its default ten, so a run stays bounded."""

    def http_request(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("max_retries", API_RETRIES)
        return super().http_request(*args, **kwargs)


def _cap_retry_after(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    value = response.headers.get("Retry-After")
    if value is not None and (not value.isdigit() or int(value) > RETRY_AFTER_MAX_S):
        response.headers["Retry-After"] = str(RETRY_AFTER_MAX_S)
