"""Which shard a job is, when shards start, and the experiment's hash."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from iter8_action.core.errors import InputError
from iter8_action.shards.spec import (
    ShardSpec,
    default_start,
    experiment_hash,
    parse_instant,
    parse_shard,
    resolve_shard,
    unix_ns,
)


def test_a_shard_is_one_based_i_of_n() -> None:
    assert parse_shard("2/3") == ShardSpec(2, 3)
    assert parse_shard(" 1 / 1 ") == ShardSpec(1, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0/3", "'0/3' is out of range; the index counts from 1 to the total, e.g. 1/3"),
        ("4/3", "'4/3' is out of range"),
        ("two", "'two' is not a shard; write I/N, e.g. 2/3 (1-based)"),
        ("1/0", "out of range"),
    ],
)
def test_a_bad_shard_says_how_to_write_one(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_shard(text)
    assert str(caught.value).startswith("--shard: ")
    assert message in str(caught.value)


def test_auto_reads_gitlab_parallel_and_kubernetes_indexed_jobs() -> None:
    assert resolve_shard("auto", {"CI_NODE_INDEX": "3", "CI_NODE_TOTAL": "3"}) == ShardSpec(3, 3)
    k8s = {"JOB_COMPLETION_INDEX": "0", "ITER8_SHARDS": "4"}
    assert resolve_shard("auto", k8s) == ShardSpec(1, 4)
    with pytest.raises(InputError, match="ITER8_SHARDS"):
        resolve_shard("auto", {"JOB_COMPLETION_INDEX": "0"})
    with pytest.raises(InputError, match="CI_NODE_INDEX and CI_NODE_TOTAL"):
        resolve_shard("auto", {})


def test_the_default_start_is_the_pipelines_creation_plus_a_margin_rounded_up() -> None:
    start = default_start({"CI_PIPELINE_CREATED_AT": "2026-11-30T12:00:03Z"})
    assert start == datetime(2026, 11, 30, 12, 0, 40, tzinfo=UTC)
    assert default_start({}) is None


def test_an_instant_needs_a_time_zone() -> None:
    assert parse_instant("2026-11-30T13:00:00+01:00") == datetime(2026, 11, 30, 12, tzinfo=UTC)
    with pytest.raises(InputError, match="RFC 3339 instant with a time zone"):
        parse_instant("2026-11-30T12:00:00")
    assert unix_ns(parse_instant("1970-01-01T00:00:01.5Z")) == 1_500_000_000


def test_the_hash_is_of_the_canonical_document_whatever_the_key_order() -> None:
    one = {"spec": [{"task": "http", "with": {"url": "http://a.example", "qps": 5}}]}
    two = {"spec": [{"with": {"qps": 5, "url": "http://a.example"}, "task": "http"}]}
    assert experiment_hash(one) == experiment_hash(two)
    assert experiment_hash(one).startswith("sha256:")
    three = {"spec": [{"task": "http", "with": {"url": "http://a.example", "qps": 6}}]}
    assert experiment_hash(three) != experiment_hash(one)
