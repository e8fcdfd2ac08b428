"""`run:` — a bash script, as in Iter8 (`bash -c`); a non-zero exit fails the task.

The script runs in the experiment's directory. Its environment is the job's,
without the action's inputs (`INPUT_*`, the comment token among them) and the
CI platform's credentials (`TOKEN_VARIABLES`), plus `ITER8_RESULT` (the result
file, as written after the previous task), `ITER8_TMPDIR` (a scratch directory
for this run) and `ITER8_TASK_INDEX`. A script that needs a token is given one
under a name of its own in the step's `env:`. Its output (stdout and stderr,
interleaved) goes to the log line by line and into the result.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from iter8_action.core.errors import TaskFailed
from iter8_action.core.secrets import REDACTED, SECRETS
from iter8_action.tasks.base import TaskContext, TaskType

TOKEN_VARIABLES = frozenset(
    {
        # GitHub: the workflow token as workflows and the gh CLI pass it, and the
        # runtime's own tokens (artifacts and cache, OIDC), which a Docker action receives.
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GH_ENTERPRISE_TOKEN",
        "GITHUB_ENTERPRISE_TOKEN",
        "ACTIONS_RUNTIME_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        # GitLab: the job's token and credentials, and the token the README has the
        # component read the comment token from.
        "CI_JOB_TOKEN",
        "CI_JOB_JWT",
        "CI_JOB_JWT_V1",
        "CI_JOB_JWT_V2",
        "CI_REGISTRY_PASSWORD",
        "CI_DEPENDENCY_PROXY_PASSWORD",
        "CI_DEPLOY_PASSWORD",
        "GITLAB_TOKEN",
        "ITER8_GITLAB_TOKEN",
    }
)
"""Credentials of the job that a `run:` script does not inherit."""
MAX_OUTPUT_CHARS = 64 * 1024
"""The result keeps the last this-many characters of a script's output."""
KILL_GRACE_S = 0.5


def script_environment(inherited: Mapping[str, str], ctx: TaskContext) -> dict[str, str]:
    """The job's environment less its inputs and credentials, plus the ITER8_* variables."""
    env = {
        name: value
        for name, value in inherited.items()
        if not name.upper().startswith("INPUT_") and name.upper() not in TOKEN_VARIABLES
    }
    env.update(
        ITER8_RESULT=str(ctx.result_path.resolve()),
        ITER8_TMPDIR=str(ctx.tempdir),
        ITER8_TASK_INDEX=str(ctx.index),
    )
    return env


@dataclass(frozen=True)
class RunInputs:
    """`run:`'s script (the loader puts it under `script`)."""

    script: str

    @classmethod
    def parse(cls, inputs: Mapping[str, Any]) -> RunInputs:
        return cls(script=str(inputs["script"]))


def run(inputs: RunInputs, ctx: TaskContext) -> None:
    env = script_environment(ctx.env, ctx)
    try:
        process = subprocess.Popen(
            ["bash", "-c", inputs.script],
            cwd=ctx.base_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # so that an interrupt can stop the script's children too
        )
    except FileNotFoundError as exc:
        raise TaskFailed("bash is not installed; the run task needs it") from exc
    output: list[str] = []
    reader = threading.Thread(target=_read_lines, args=(process, ctx, output), daemon=True)
    try:
        # started inside the try: a signal may arrive while the thread starts
        reader.start()
        while process.poll() is None:
            try:
                process.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                ctx.check_stop()
    except BaseException:
        _stop(process)
        raise
    finally:
        if reader.ident is not None:
            reader.join(timeout=2)
        # Redacted as it enters the result: an event payload template may quote it.
        text = SECRETS.redact("".join(output), REDACTED)
        ctx.result.tasks[ctx.index].output = text[-MAX_OUTPUT_CHARS:]
    if process.returncode != 0:
        last = text.strip().splitlines()[-1:] if text.strip() else []
        detail = f"; last line: {last[0]}" if last else ""
        raise TaskFailed(f"the script exited with status {process.returncode}{detail}")


def _read_lines(process: subprocess.Popen[bytes], ctx: TaskContext, output: list[str]) -> None:
    assert process.stdout is not None
    for raw in process.stdout:
        line = raw.decode("utf-8", "replace")
        output.append(line)
        ctx.log.info("| %s", line.rstrip("\n"))


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=KILL_GRACE_S)
            return
        except subprocess.TimeoutExpired:
            continue


TASK = TaskType(name="run", summary="run a bash script", run=run, parse=RunInputs.parse)
