"""Which shard this is (`--shard I/N`, or what the CI system says) and when shards start."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from iter8_action.core.errors import InputError

DEFAULT_START_MARGIN_S = 30
"""A start derived from the pipeline's creation time lies this far after it..."""
START_ROUNDING_S = 10
"""...rounded up to a multiple of this, so that every job derives the same instant."""
MAX_SHARDS = 1000
"""More shards than this is a typo (GitLab's `parallel:` stops at 200)."""
MAX_START_WAIT_S = 3600
"""A start further ahead than this is refused: a wrong date or time zone, not a plan."""
_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class ShardSpec:
    """Shard `index` (1-based) of `total`."""

    index: int
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"

    @property
    def zero_based(self) -> int:
        return self.index - 1


def parse_shard(text: str, *, where: str = "--shard") -> ShardSpec:
    """`I/N` with 1 <= I <= N, e.g. `2/3`."""
    match = _SHARD.match(text)
    if not match:
        raise InputError(f"{where}: {text!r} is not a shard; write I/N, e.g. 2/3 (1-based)")
    index, total = int(match[1]), int(match[2])
    if total > MAX_SHARDS:
        raise InputError(f"{where}: {text!r}: at most {MAX_SHARDS} shards")
    if total < 1 or not 1 <= index <= total:
        raise InputError(
            f"{where}: {text!r} is out of range; "
            f"the index counts from 1 to the total, e.g. 1/{max(total, 1)}"
        )
    return ShardSpec(index, total)


def shard_from_env(env: Mapping[str, str]) -> ShardSpec:
    """The shard the CI system assigned: GitLab `parallel:` (`CI_NODE_INDEX`,
    `CI_NODE_TOTAL`, 1-based) or a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`,
    0-based, with the total in `ITER8_SHARDS`, as `iter8 k8s job` sets it)."""
    if env.get("CI_NODE_INDEX") and env.get("CI_NODE_TOTAL"):
        return parse_shard(f"{env['CI_NODE_INDEX']}/{env['CI_NODE_TOTAL']}", where="CI_NODE_INDEX")
    if env.get("JOB_COMPLETION_INDEX"):
        total = env.get("ITER8_SHARDS", "")
        if not total.strip().isdigit():
            raise InputError(
                "JOB_COMPLETION_INDEX is set but ITER8_SHARDS (the number of shards) is not; "
                "set ITER8_SHARDS to the Job's completions"
            )
        index = env["JOB_COMPLETION_INDEX"].strip()
        if not index.isdigit():
            raise InputError(f"JOB_COMPLETION_INDEX: {index!r} is not a number")
        return parse_shard(f"{int(index) + 1}/{total.strip()}", where="JOB_COMPLETION_INDEX")
    raise InputError(
        "shard auto: no shard in the environment; GitLab's parallel: sets CI_NODE_INDEX and "
        "CI_NODE_TOTAL, a Kubernetes Indexed Job JOB_COMPLETION_INDEX (with ITER8_SHARDS); "
        "elsewhere give the shard as I/N"
    )


def resolve_shard(text: str, env: Mapping[str, str], *, where: str = "--shard") -> ShardSpec:
    """`I/N`, or `auto`: the shard the CI system assigned (`shard_from_env`)."""
    if text.strip().lower() == "auto":
        return shard_from_env(env)
    return parse_shard(text, where=where)


def parse_instant(text: str, *, where: str = "--start-at") -> datetime:
    """An RFC 3339 instant with its offset (`2026-11-30T12:00:00Z`)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InputError(
            f"{where}: {text!r} is not an RFC 3339 instant with a time zone; "
            "write e.g. 2026-11-30T12:00:00Z"
        )
    return moment.astimezone(UTC)


def default_start(env: Mapping[str, str]) -> datetime | None:
    """The start every job of a pipeline derives alike: GitLab's `CI_PIPELINE_CREATED_AT`
    plus `DEFAULT_START_MARGIN_S`, rounded up to `START_ROUNDING_S`. None elsewhere
    (GitHub gives the jobs of a run no common time): the shard starts when ready."""
    created = env.get("CI_PIPELINE_CREATED_AT", "").strip()
    if not created:
        return None
    base = parse_instant(created, where="CI_PIPELINE_CREATED_AT")
    seconds = base.timestamp() + DEFAULT_START_MARGIN_S
    rounded = math.ceil(seconds / START_ROUNDING_S) * START_ROUNDING_S
    return datetime.fromtimestamp(rounded, UTC)


def check_wait(start: datetime | None, *, now: datetime | None = None) -> None:
    """Refuse a start so far ahead that the shard would idle for hours."""
    if start is None:
        return
    ahead = (start - (now or datetime.now(UTC))).total_seconds()
    if ahead > MAX_START_WAIT_S:
        raise InputError(
            f"start-at {format_instant(start)} is {ahead / 3600:.1f} h away (more than "
            f"{MAX_START_WAIT_S // 60} min): the shard would wait that long; check its date "
            "and time zone (RFC 3339: Z or +hh:mm)"
        )


def format_instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def unix_ns(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta // timedelta(microseconds=1)) * 1000


def experiment_hash(document: Mapping[str, Any]) -> str:
    """The SHA-256 of the canonical experiment (`iter8 validate --print-canonical`),
    as sorted, compact JSON: shards of one experiment carry the same hash."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
