"""The CI job's two sharded forms: a shard's job (input `shard`) and the merge job
(input `merge-from`). The pipeline calls these; everything else of the job (reports,
summary, comment, gate) is the pipeline's as usual, for the merge job only."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iter8_action.core.exitcodes import ExitCode
from iter8_action.engine.runner import exit_code_for, run_experiment
from iter8_action.experiment.model import Experiment
from iter8_action.platforms import Platform
from iter8_action.platforms.inputs import Inputs
from iter8_action.report import markdown
from iter8_action.shards import artifacts
from iter8_action.shards import merge as merging
from iter8_action.shards import run as shard_run
from iter8_action.shards.partial import ShardRun
from iter8_action.shards.spec import experiment_hash


def shard_result_path(inputs: Inputs) -> Path:
    """`<report-dir>/result-shard-I-of-N.yaml`: one name per shard, so that the artifacts
    of every shard's job can be downloaded into one directory."""
    assert inputs.shard is not None
    spec = inputs.shard
    return inputs.report_path / f"result-shard-{spec.index}-of-{spec.total}.yaml"


def run_shard(
    platform: Platform,
    inputs: Inputs,
    experiment: Experiment,
    log: logging.Logger,
    *,
    env: Mapping[str, str],
) -> ExitCode:
    """Run this job's shard; no report, summary or comment (the merge job makes them)."""
    assert inputs.shard is not None
    path = shard_result_path(inputs)
    plan = ShardRun(inputs.shard, experiment_hash(experiment.to_document()), inputs.start_at)
    when = f"starting at {plan.start_at:%Y-%m-%dT%H:%M:%SZ}" if plan.start_at else "starting now"
    with platform.group(f"Run shard {plan.spec} of {inputs.experiment} ({when})"):
        result = run_experiment(
            experiment,
            result_path=path,
            env=env,
            log=log,
            shard=plan,
            stand_ins=shard_run.stand_ins(experiment),
        )
    platform.set_output("result-file", str(path))
    code = exit_code_for(result)
    if code is ExitCode.OK:
        log.info("shard %s done: %s; merge the shards with merge-from", plan.spec, path)
    elif "task-failure" not in inputs.fail_on and code is ExitCode.TASK_FAILED:
        code = ExitCode.OK
    return code


def merge_into(
    path: Path,
    inputs: Inputs,
    experiment: Experiment,
    log: logging.Logger,
    *,
    env: Mapping[str, str],
) -> list[str]:
    """Merge the shard results under `merge-from` into `path`, finishing the experiment;
    returns the merge's warnings (missing shards, late starts, clock steps)."""
    assert inputs.merge_from is not None
    directory = inputs.working_directory / inputs.merge_from
    paths = artifacts.collect(directory)
    result = merging.merge(paths, output=path, experiment=experiment, env=env, log=log)
    return [str(w) for w in (result.shards or {}).get("warnings") or []]


def merge_note(document: Mapping[str, Any]) -> str:
    """A few markdown lines under the report: which shards were merged, and the warnings."""
    result = document.get("result")
    info = result.get("shards") if isinstance(result, Mapping) else None
    if not isinstance(info, Mapping):
        return ""
    merged = info.get("merged") or []
    total = markdown.escape(str(info.get("total")))
    lines = [f"\n<sub>Merged from {len(merged)} of {total} shards.</sub>\n"]
    lines += [f"> ⚠️ {markdown.escape(str(w))}\n" for w in info.get("warnings") or []]
    return "\n".join(lines)
