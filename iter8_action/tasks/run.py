"""`run:` — a bash script, as in Iter8 (`bash -c`); a non-zero exit fails the task.

The script runs in the experiment's directory with `ITER8_RESULT` (the result
file, as written after the previous task) and `ITER8_TMPDIR` (a scratch
directory for this run) in its environment. Its output (stdout and stderr,
interleaved) goes to the log line by line and into the result.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Mapping
from typing import Any

from iter8_action.errors import TaskFailed
from iter8_action.tasks.base import TaskContext, TaskType

MAX_OUTPUT_CHARS = 64 * 1024
"""The result keeps the last this-many characters of a script's output."""
KILL_GRACE_S = 0.5


def run(inputs: Mapping[str, Any], ctx: TaskContext) -> None:
    env = {
        **os.environ,
        "ITER8_RESULT": str(ctx.result_path.resolve()),
        "ITER8_TMPDIR": str(ctx.tempdir),
        "ITER8_TASK_INDEX": str(ctx.index),
    }
    try:
        process = subprocess.Popen(
            ["bash", "-c", inputs["script"]],
            cwd=ctx.base_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # so that an interrupt can stop the script's children too
        )
    except FileNotFoundError:
        raise TaskFailed("bash is not installed; the run task needs it") from None
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
        text = "".join(output)
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


TASK = TaskType(name="run", summary="run a bash script", run=run)
