"""Run streams of requests in one process or one per core, and merge what they recorded.

Worker processes are started with `python -m iter8_action.load.http.worker`
rather than `multiprocessing`, so that nothing of the parent (its `__main__`,
its threads) is re-run or copied. Each connects first and says `ready`; then all
get the same start time, so their open-loop schedules line up to the nanosecond.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter_ns
from typing import IO, Any

from iter8_action.core.errors import ExchangeFailed
from iter8_action.load.http.plan import (
    CommonStart,
    Stream,
    available_cores,
    process_count,
    split,
    with_phases,
)
from iter8_action.load.http.stats import StreamOutcome, StreamStats, combine
from iter8_action.load.http.worker import run_shares
from iter8_action.load.progress import LoadProgress

START_MARGIN_S = 0.05
READY_TIMEOUT_S = 60.0
POLL_S = 0.2


class WorkerFailed(ExchangeFailed, RuntimeError):
    """A worker process ended without a result."""


@dataclass(frozen=True)
class StreamResult:
    stats: StreamStats
    ignored_initial_errors: int


def run_streams(
    streams: list[Stream],
    *,
    stop: threading.Event,
    on_progress: Callable[[LoadProgress], None] | None = None,
    processes: int | None = None,
    start: CommonStart | None = None,
    env: Mapping[str, str] | None = None,
) -> list[StreamResult]:
    """Send every stream's requests at once and return each one's merged statistics;
    `start` is an instant shared with other machines (otherwise: as soon as ready).

    `env` is the job's environment, which worker processes inherit (default: none but
    the path to this package)."""
    streams = with_phases(streams)
    workers = processes or process_count(streams, cores=available_cores())
    shares = split(streams, workers)
    if workers == 1:
        per_worker = [_run_here(shares[0], stop, on_progress, start)]
    else:
        per_worker = _run_processes(shares, stop, on_progress, start, env or {})
    return [
        StreamResult(*combine([outcomes[i] for outcomes in per_worker]))
        for i in range(len(streams))
    ]


def _progress_of(outcomes: list[StreamOutcome]) -> LoadProgress:
    return LoadProgress(sum(o.sent for o in outcomes), sum(o.counted.errors for o in outcomes))


def _start_ns(start: CommonStart | None) -> int:
    earliest = perf_counter_ns() + int(START_MARGIN_S * 1e9)
    return earliest if start is None else start.resolve(earliest)


def _run_here(
    shares: list[Any],
    stop: threading.Event,
    on_progress: Callable[[LoadProgress], None] | None,
    start: CommonStart | None,
) -> list[StreamOutcome]:
    def report(outcomes: list[StreamOutcome]) -> None:
        if on_progress is not None:
            on_progress(_progress_of(outcomes))

    return run_shares(
        shares,
        wait_start=lambda: _start_ns(start),
        stop=stop,
        on_progress=report,
    )


def _worker_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment, with this very package first on the path: a worker must run the
    same code as its parent, whatever the working directory or other installs."""
    root = str(Path(__file__).resolve().parents[3])
    path = env.get("PYTHONPATH")
    return {**env, "PYTHONPATH": root if not path else f"{root}{os.pathsep}{path}"}


class _Worker:
    def __init__(
        self,
        shares: list[Any],
        messages: queue.Queue[tuple[int, Any]],
        index: int,
        env: Mapping[str, str],
    ):
        self.index = index
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        read_end, write_end = os.pipe()
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "iter8_action.load.http.worker",
                    "--messages-fd",
                    f"{write_end}",
                ],
                env=_worker_env(env),
                stdin=subprocess.PIPE,
                stdout=self.stderr,
                stderr=self.stderr,
                pass_fds=(write_end,),
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        assert self.process.stdin is not None
        self.stdin: IO[bytes] = self.process.stdin
        channel = os.fdopen(read_end, "rb")
        self.send(shares)
        self.progress: tuple[int, int] = (0, 0)
        self.result: list[StreamOutcome] | None = None
        self.unreadable: str | None = None
        """Why its messages could not be read, when that, not its end, stopped them."""
        threading.Thread(target=self._read, args=(channel, messages), daemon=True).start()

    def send(self, message: object) -> None:
        try:
            pickle.dump(message, self.stdin)
            self.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it has ended; its exit is reported when we collect it

    def _read(self, channel: IO[bytes], messages: queue.Queue[tuple[int, Any]]) -> None:
        with channel:
            try:
                while True:
                    messages.put((self.index, pickle.load(channel)))
            except EOFError:
                pass
            except Exception as exc:  # any failure to read ends this worker
                self.unreadable = f"{type(exc).__name__}: {exc}"
        messages.put((self.index, ("exit",)))

    def failure(self) -> str:
        self.process.wait()
        if self.unreadable is not None:
            return (
                f"the messages of load generator process {self.index} could not be read "
                f"({self.unreadable}); it exited with code {self.process.returncode}"
            )
        self.stderr.seek(0)
        text = self.stderr.read().decode(errors="replace").strip()
        tail = text.splitlines()[-1] if text else "no message"
        code = self.process.returncode
        return f"load generator process {self.index} exited with code {code}: {tail}"

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.stderr.close()


def _run_processes(
    shares: list[list[Any]],
    stop: threading.Event,
    on_progress: Callable[[LoadProgress], None] | None,
    start: CommonStart | None,
    env: Mapping[str, str],
) -> list[list[StreamOutcome]]:
    messages: queue.Queue[tuple[int, Any]] = queue.Queue()
    workers = [_Worker(s, messages, i, env) for i, s in enumerate(shares)]
    try:
        if _wait_ready(workers, messages, stop):
            start_ns = _start_ns(start)
            for worker in workers:
                worker.send(("go", start_ns))
        return _collect(workers, messages, stop, on_progress)
    finally:
        for worker in workers:
            worker.close()


def _wait_ready(
    workers: list[_Worker], messages: queue.Queue[tuple[int, Any]], stop: threading.Event
) -> bool:
    """Wait until every worker is connected; False if told to stop first (the workers
    were told too, and each answers with an empty result)."""
    ready: set[int] = set()
    deadline = perf_counter_ns() + int(READY_TIMEOUT_S * 1e9)
    while len(ready) < len(workers):
        if stop.is_set():
            for worker in workers:
                worker.send(("stop",))
            return False
        if perf_counter_ns() > deadline:
            for worker in workers:
                worker.send(("stop",))
            raise WorkerFailed("the load generator processes did not start in time")
        try:
            index, message = messages.get(timeout=POLL_S)
        except queue.Empty:
            continue
        if message[0] == "exit":
            raise WorkerFailed(workers[index].failure())
        ready.add(index)
    return True


def _collect(
    workers: list[_Worker],
    messages: queue.Queue[tuple[int, Any]],
    stop: threading.Event,
    on_progress: Callable[[LoadProgress], None] | None,
) -> list[list[StreamOutcome]]:
    stopping = False
    while any(w.result is None for w in workers):
        if stop.is_set() and not stopping:
            stopping = True
            for worker in workers:
                worker.send(("stop",))
        try:
            index, message = messages.get(timeout=POLL_S)
        except queue.Empty:
            continue
        worker = workers[index]
        kind = message[0]
        if kind == "progress":
            worker.progress = (sum(s for s, _ in message[1]), sum(e for _, e in message[1]))
            if on_progress is not None:
                sent = sum(w.progress[0] for w in workers)
                on_progress(LoadProgress(sent, sum(w.progress[1] for w in workers)))
        elif kind == "result":
            worker.result = message[1]
        elif kind == "exit" and worker.result is None:
            raise WorkerFailed(worker.failure())
    return [w.result for w in workers if w.result is not None]
