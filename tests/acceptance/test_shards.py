"""Sharded load, as users run it: `iter8 run --shard I/3` in three processes at once,
`iter8 merge`, and one process running the whole load to compare with."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from iter8_action.load.http.histogram import RELATIVE_ERROR
from iter8_action.metrics.store import weighted_quantile
from tests.support.cli import iter8_command, iter8_env
from tests.support.servers.targets import Target
from tests.support.shards import JITTER_MS, result_section, start_in

SHARDS = 3
LATENCY_MS = 25
EXPERIMENT = """\
metadata:
  name: sharded
spec:
- task: http
  with:
    numRequests: 301
    connections: 6
    qps: 0
    versions:
    - name: stable
      url: {url}/slow/{ms}
    - name: broken
      url: {url}/status/503
- task: assess
  with:
    SLOs:
      upper:
      - metric: http/error-rate
        limit: 0
"""


@dataclass
class Runs:
    directory: Path
    single: dict[str, Any]
    shards: list[Path]
    merged: dict[str, Any]
    merge_log: str


def run_shards(
    directory: Path,
    experiment: str,
    *,
    start_at: str,
    count: int = SHARDS,
    only: list[int] | None = None,
    alongside: str | None = None,
) -> list[subprocess.CompletedProcess[str]]:
    """`iter8 run --shard I/N` for every shard at once, as N machines would; `alongside`
    names the result of one more process running the whole load (`--shard 1/1`) from the
    same instant, so that it meets the same stalls of this shared machine as the shards."""
    runs = [(f"{i}/{count}", f"shard-{i}.yaml") for i in (only or range(1, count + 1))]
    if alongside:
        runs.append(("1/1", alongside))
    running = [
        subprocess.Popen(
            iter8_command(
                "run", "-f", experiment, "--shard", spec, "--start-at", start_at, "-o", output
            ),
            cwd=directory,
            env=iter8_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for spec, output in runs
    ]
    done = []
    for process in running:
        out, err = process.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return done


def iter8(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        iter8_command(*args),
        cwd=directory,
        env=iter8_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    directory = tmp_path_factory.mktemp("shards")
    with Target() as target:
        text = EXPERIMENT.format(url=target.url, ms=LATENCY_MS)
        (directory / "experiment.yaml").write_text(text)
        done = run_shards(
            directory, "experiment.yaml", start_at=start_in(6), alongside="single.yaml"
        )
        for shard in done:
            assert shard.returncode == 0, shard.stderr
    paths = [directory / f"shard-{i}.yaml" for i in range(1, SHARDS + 1)]
    merge = iter8(directory, "merge", *map(str, paths), "-o", "merged.yaml")
    assert merge.returncode == 0, merge.stderr
    yield Runs(
        directory,
        result_section(directory / "single.yaml"),
        paths,
        result_section(directory / "merged.yaml"),
        merge.stderr,
    )


def _values(res: dict[str, Any], version: int) -> dict[str, list[float]]:
    values: dict[str, list[float]] = res["insights"]["nonHistMetricValues"][version]
    return values


def _summary(res: dict[str, Any], version: int, name: str) -> Any:
    return res["insights"]["summaryMetricValues"][version][name]


def test_each_shard_sent_its_share_and_left_the_assessment_to_the_merge(runs: Runs) -> None:
    counts = []
    for i, path in enumerate(runs.shards, start=1):
        shard = result_section(path)
        assert shard["shard"]["index"] == i and shard["shard"]["total"] == SHARDS
        assert shard["shard"]["experimentHash"].startswith("sha256:")
        assert [t["status"] for t in shard["tasks"]] == ["completed", "skipped"]
        counts.append(_values(shard, 0)["http/request-count"][-1])
    assert counts == [101, 100, 100]


def test_the_merge_counts_exactly_what_one_process_counts(runs: Runs) -> None:
    for version in (0, 1):
        single, merged = _values(runs.single, version), _values(runs.merged, version)
        for name in ("http/request-count", "http/error-count", "http/error-rate"):
            assert merged[name] == single[name], name
        for name in ("http/status-codes", "http/errors-by-kind"):
            assert _summary(runs.merged, version, name) == _summary(runs.single, version, name)
        rate = _summary(runs.merged, version, "http/request-rate")
        assert sum(rate["values"]) == 301
    assert _values(runs.merged, 0)["http/request-count"] == [301.0]
    assert _values(runs.merged, 1)["http/error-count"] == [301.0]


def test_merged_percentiles_are_those_of_the_pooled_shards_within_the_histograms_error(
    runs: Runs,
) -> None:
    values: list[float] = []
    counts: list[int] = []
    for path in runs.shards:
        fine = _summary(result_section(path), 0, "http/latency-hdr")
        values += fine["values"]
        counts += fine["counts"]
    merged = _values(runs.merged, 0)
    for p in (50, 99):
        pooled = weighted_quantile(values, counts, p)
        assert pooled is not None
        assert merged[f"http/latency-p{p}"][-1] == pytest.approx(pooled, rel=RELATIVE_ERROR)
    hdr = _summary(runs.merged, 0, "http/latency-hdr")
    assert sum(hdr["counts"]) == 301
    assert (
        sum(b["count"] for b in runs.merged["insights"]["histMetricValues"][0]["http/latency"])
        == 301
    )


def test_merged_percentiles_match_one_process_within_error_and_stalls(runs: Runs) -> None:
    single, merged = _values(runs.single, 0), _values(runs.merged, 0)
    for p in (50, 99):
        one, many = single[f"http/latency-p{p}"][-1], merged[f"http/latency-p{p}"][-1]
        assert one >= LATENCY_MS and many >= LATENCY_MS
        assert abs(one - many) <= one * RELATIVE_ERROR + JITTER_MS[p], (p, one, many)


def test_the_remaining_tasks_ran_once_on_the_merged_metrics(runs: Runs) -> None:
    merged = runs.merged
    assert [t["status"] for t in merged["tasks"]] == ["completed", "completed"]
    assert merged["insights"]["SLOsSatisfied"]["upper"] == [[True, False]]
    assert merged["shards"]["merged"] == [1, 2, 3] and merged["shards"]["missing"] == []
    assert "http stable: 301 requests, 0 errors from 3 shard(s), p50 " in runs.merge_log
    report = iter8(runs.directory, "report", "-f", "merged.yaml")
    assert report.returncode == 0 and "stable" in report.stdout


def test_a_missing_shard_is_refused_and_named_unless_allowed(runs: Runs) -> None:
    two = [str(p) for p in runs.shards[:2]]
    refused = iter8(runs.directory, "merge", *two, "-o", "partial.yaml")
    assert refused.returncode == 2
    assert (
        "error: shard 3/3 is missing (have 2 of 3); download every shard's result, "
        "or pass --allow-missing" in refused.stderr
    )
    allowed = iter8(runs.directory, "merge", *two, "--allow-missing", "-o", "partial.yaml")
    assert allowed.returncode == 0, allowed.stderr
    assert "shard 3/3 missing: the metrics are of 2 of 3 shards" in allowed.stderr
    partial = result_section(runs.directory / "partial.yaml")
    assert _values(partial, 0)["http/request-count"] == [201.0]
    assert partial["shards"]["missing"] == [3]


def test_a_shard_given_twice_or_not_a_shard_is_refused(runs: Runs) -> None:
    twice = iter8(runs.directory, "merge", *map(str, runs.shards), str(runs.shards[0]))
    assert twice.returncode == 2
    assert "shard 1/3 is given twice" in twice.stderr
    merged = iter8(runs.directory, "merge", "merged.yaml")
    assert merged.returncode == 2
    assert "merged.yaml: not a shard's result (it has no result.shard)" in merged.stderr


def test_shards_of_another_experiment_are_refused_by_the_hash(runs: Runs, tmp_path: Path) -> None:
    other = yaml.safe_load(runs.shards[2].read_text())
    other["spec"][0]["with"]["numRequests"] = 300
    from iter8_action.shards.spec import experiment_hash

    other["result"]["shard"]["experimentHash"] = experiment_hash(
        {k: v for k, v in other.items() if k != "result"}
    )
    (tmp_path / "shard-3.yaml").write_text(yaml.safe_dump(other))
    done = iter8(
        runs.directory, "merge", *map(str, runs.shards[:2]), str(tmp_path / "shard-3.yaml")
    )
    assert done.returncode == 2
    assert "these are shards of another experiment than " in done.stderr
    edited = (runs.directory / "experiment.yaml").read_text().replace("301", "302")
    (tmp_path / "experiment.yaml").write_text(edited)
    wrong = iter8(
        runs.directory, "merge", *map(str, runs.shards), "-f", str(tmp_path / "experiment.yaml")
    )
    assert wrong.returncode == 2
    assert "is not the experiment the shards ran" in wrong.stderr


READY = """\
spec:
- task: ready
  with:
    url: {url}/
    timeout: 1s
- task: http
  with:
    url: {url}/
    numRequests: 6
"""


def test_a_failed_shard_is_named_with_its_reason_and_a_late_start_is_warned(tmp_path: Path) -> None:
    with Target() as target:
        (tmp_path / "experiment.yaml").write_text(READY.format(url=target.url))
        late = start_in(-5)  # already past: the shards start at once, 5 s late
        ok = run_shards(tmp_path, "experiment.yaml", start_at=late, only=[1, 3])
    for shard in ok:
        assert shard.returncode == 0, shard.stderr
    [down] = run_shards(tmp_path, "experiment.yaml", start_at=late, only=[2])
    assert down.returncode == 3
    done = iter8(tmp_path, "merge", "shard-1.yaml", "shard-2.yaml", "shard-3.yaml", "-o", "m.yaml")
    assert done.returncode == 3, done.stderr
    assert "task 0 (ready) failed: shard 2/3 (shard-2.yaml) failed: " in done.stderr
    merged = result_section(tmp_path / "m.yaml")
    assert merged["failure"] is True and "shard 2/3" in merged["failureReason"]
    only_ok = iter8(
        tmp_path, "merge", "shard-1.yaml", "shard-3.yaml", "--allow-missing", "-o", "m2.yaml"
    )
    assert only_ok.returncode == 0, only_ok.stderr
    delay = re.search(
        r"shard 1/3 started its load (\d+\.\d+) s after the common start", only_ok.stderr
    )
    assert delay and float(delay[1]) >= 5, only_ok.stderr
    assert "(bound 1 s): its load overlapped the others' less" in only_ok.stderr
    merged = result_section(tmp_path / "m2.yaml")
    assert any("started its load" in w for w in merged["shards"]["warnings"])
    assert _values(merged, 0)["http/request-count"] == [4.0]


GRPC = """\
spec:
- task: grpc
  with:
    call: {call}
    proto: {proto}
    total: 31
    rps: 150
    concurrency: 4
    data: {{name: frodo}}
    versions:
    - name: stable
      host: {host}
    - name: canary
      host: {host}
      metadata: {{x-fail-with: INTERNAL}}
"""


def test_grpc_shards_merge_to_what_one_process_counts(tmp_path: Path) -> None:
    from tests.support.servers.grpc_target import CALL, PROTO, GrpcTarget

    with GrpcTarget() as target:
        text = GRPC.format(call=CALL, proto=PROTO, host=target.host)
        (tmp_path / "experiment.yaml").write_text(text)
        single = iter8(tmp_path, "run", "-f", "experiment.yaml", "-o", "single.yaml")
        assert single.returncode == 0, single.stderr
        for shard in run_shards(tmp_path, "experiment.yaml", start_at=start_in(4)):
            assert shard.returncode == 0, shard.stderr
        assert target.count() == 4 * 31
    shards = [f"shard-{i}.yaml" for i in range(1, SHARDS + 1)]
    assert [_values(result_section(tmp_path / s), 0)["grpc/request-count"] for s in shards] == [
        [11.0],
        [10.0],
        [10.0],
    ]
    merge = iter8(tmp_path, "merge", *shards, "-o", "merged.yaml")
    assert merge.returncode == 0, merge.stderr
    one, merged = result_section(tmp_path / "single.yaml"), result_section(tmp_path / "merged.yaml")
    for version in (0, 1):
        for name in ("grpc/request-count", "grpc/error-count"):
            assert _values(merged, version)[name] == _values(one, version)[name], name
        codes = _summary(merged, version, "grpc/status-codes")
        assert codes == _summary(one, version, "grpc/status-codes")
    assert "grpc/latency/p99" in _values(merged, 0)
    assert _values(merged, 0)["grpc/rps-achieved"][-1] > 0


def test_merge_from_a_directory_of_artifacts_waits_for_every_shard(
    runs: Runs, tmp_path: Path
) -> None:
    artifacts = tmp_path / "artifacts"
    for i, path in enumerate(runs.shards[:2], start=1):
        (artifacts / f"iter8-shard-{i}").mkdir(parents=True)
        (artifacts / f"iter8-shard-{i}" / path.name).write_bytes(path.read_bytes())
    (artifacts / "merged.yaml").write_bytes((runs.directory / "merged.yaml").read_bytes())
    (artifacts / "notes.yaml").write_text("not: a result\n")
    experiment = str(runs.directory / "experiment.yaml")
    args: tuple[str, ...] = (
        "merge",
        "--from",
        str(artifacts),
        "--shards",
        "3",
        "--wait",
        "1s",
        "-f",
        experiment,
    )
    args += ("-o", "m.yaml")
    waited = iter8(tmp_path, *args)
    assert waited.returncode == 2
    assert ": 2 of 3 finished" in waited.stderr
    assert "shard 3/3 is missing (have 2 of 3)" in waited.stderr
    # shard 3 is still running: its result is there, written after its first task
    running = yaml.safe_load(runs.shards[2].read_text())
    del running["result"]["endTime"]
    running["result"]["tasks"][0]["status"] = "running"
    (artifacts / "iter8-shard-3").mkdir()
    (artifacts / "iter8-shard-3" / "shard-3.yaml").write_text(yaml.safe_dump(running))
    early = iter8(tmp_path, *args)
    assert ": 2 of 3 finished" in early.stderr
    assert early.returncode == 3
    assert "shard 3/3 (" in early.stderr and "did not run it: its run did not finish" in (
        early.stderr
    )
    (artifacts / "iter8-shard-3" / "shard-3.yaml").write_bytes(runs.shards[2].read_bytes())
    done = iter8(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    merged = result_section(tmp_path / "m.yaml")
    assert _values(merged, 0)["http/request-count"] == [301.0]


def test_damaged_statistics_are_bad_input_before_anything_runs(runs: Runs, tmp_path: Path) -> None:
    damaged = yaml.safe_load(runs.shards[1].read_text())
    damaged["result"]["shard"]["loads"]["0"]["streams"][0]["stats"]["histogram"]["total"] = 7
    (tmp_path / "shard-2.yaml").write_text(yaml.safe_dump(damaged))
    paths = [str(runs.shards[0]), str(tmp_path / "shard-2.yaml"), str(runs.shards[2])]
    done = iter8(runs.directory, "merge", *paths, "-o", str(tmp_path / "m.yaml"))
    assert done.returncode == 2
    assert "shard-2.yaml: result.shard.loads.0: damaged statistics (the histogram's counts" in (
        done.stderr
    )
    assert not (tmp_path / "m.yaml").exists()


def test_a_start_hours_ahead_is_refused(runs: Runs) -> None:
    done = iter8(
        runs.directory, "run", "--shard", "1/3", "--start-at", start_in(5 * 3600), "-o", "x.yaml"
    )
    assert done.returncode == 2
    assert "h away (more than 60 min): the shard would wait that long; check its date" in (
        done.stderr
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda r: r["shard"].update(total=10**9), "at most 1000 shards"),
        (lambda r: r["shard"].update(index="two"), "result is damaged"),
        # the result schema reads every shard file first: the field and its line
        (lambda r: r.update(tasks=[{"status": "done"}]), "$.result.tasks[0].status: 'done'"),
        (
            lambda r: r["shard"]["loads"]["0"].update(startedAt="2027-11-30T12:00:00Z"),
            "h after shard ",
        ),
    ],
)
def test_a_hostile_shard_file_is_bad_input(
    runs: Runs, tmp_path: Path, edit: Any, message: str
) -> None:
    document = yaml.safe_load(runs.shards[2].read_text())
    edit(document["result"])
    (tmp_path / "shard-3.yaml").write_text(yaml.safe_dump(document))
    paths = [*map(str, runs.shards[:2]), str(tmp_path / "shard-3.yaml")]
    done = iter8(runs.directory, "merge", *paths, "-o", str(tmp_path / "m.yaml"))
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    if "h after" in message:
        assert "these are not shards of one run" in done.stderr


OPEN = """\
spec:
- task: http
  with:
    url: {url}/
    qps: 10
    numRequests: 20
"""


def test_series_align_on_the_wall_clock_and_different_starts_are_warned(tmp_path: Path) -> None:
    with Target() as target:
        (tmp_path / "experiment.yaml").write_text(OPEN.format(url=target.url))
        # shard 2 starts two seconds after shard 1, as if told another instant
        first = subprocess.Popen(
            iter8_command("run", "--shard", "1/2", "--start-at", start_in(6), "-o", "shard-1.yaml"),
            cwd=tmp_path,
            env=iter8_env(),
            stderr=subprocess.PIPE,
            text=True,
        )
        [second] = run_shards(tmp_path, "experiment.yaml", start_at=start_in(8), count=2, only=[2])
        _, first_log = first.communicate(timeout=60)
        assert first.returncode == 0, first_log
        assert second.returncode == 0, second.stderr
    done = iter8(tmp_path, "merge", "shard-1.yaml", "shard-2.yaml", "-o", "m.yaml")
    assert done.returncode == 0, done.stderr
    assert "the shards were given different start instants (" in done.stderr
    shard_series = [
        _summary(result_section(tmp_path / f"shard-{i}.yaml"), 0, "http/request-rate")["values"]
        for i in (1, 2)
    ]
    assert shard_series == [[5, 5], [5, 5]]
    merged = _summary(result_section(tmp_path / "m.yaml"), 0, "http/request-rate")["values"]
    assert merged == [5, 5, 5, 5]
