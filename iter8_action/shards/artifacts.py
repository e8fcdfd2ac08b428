"""Shard results in a directory of downloaded artifacts, and waiting for them to arrive."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from iter8_action.core.errors import InputError
from iter8_action.experiment.file import read_result_document
from iter8_action.shards.merge import read_shard

RESULT_SUFFIXES = (".yaml", ".yml", ".json")
WAIT_POLL_S = 5.0


def collect(directory: Path) -> list[Path]:
    """The shard results under `directory` (one folder per job's artifact, or all in
    one), in name order. Files that are not shards' results (reports, a merged result)
    are passed over; a shard's result that is damaged is an error, not passed over."""
    if not directory.is_dir():
        raise InputError(
            f"{directory}: no such directory; download the shards' results (artifacts) there"
        )
    found: list[Path] = []
    for path in sorted(directory.rglob("*")):
        if path.suffix.lower() not in RESULT_SUFFIXES or not path.is_file():
            continue
        try:
            document = read_result_document(path)
        except InputError:
            continue  # not a result at all
        if "shard" not in document["result"]:
            continue  # a result, but not a shard's (a merged one)
        read_shard(path)
        found.append(path)
    return found


def wait_for(
    directory: Path, *, total: int | None, timeout_s: float, log: logging.Logger
) -> list[Path]:
    """`collect`, again every few seconds until `total` distinct shards have finished (the
    total the shards carry when not given) or `timeout_s` passes. A shard's result is
    written after each of its tasks, so one that exists may still be running (a pod
    on the same volume): only a result with an end counts."""
    deadline = time.monotonic() + timeout_s
    while True:
        paths = collect(directory) if directory.is_dir() else []
        shards = [read_shard(p) for p in paths]
        want = total or (shards[0].spec.total if shards else None)
        have = len({s.spec.index for s in shards if s.result.end_time is not None})
        if (want is not None and have >= want) or time.monotonic() >= deadline:
            return paths
        log.info("waiting for shard results in %s: %d of %s finished", directory, have, want or "?")
        time.sleep(min(WAIT_POLL_S, max(0.0, deadline - time.monotonic())))
