"""`iter8 k8s job`: an experiment's shards as a Kubernetes Indexed Job, plus a merge Job.

Objects, in the order to apply them:

- a ConfigMap holding the experiment;
- a PersistentVolumeClaim (ReadWriteMany) where every shard writes its result;
- an Indexed Job (`completionMode: Indexed`): N pods at once, pod i runs
  `iter8 run --shard auto` (shard `JOB_COMPLETION_INDEX + 1` of `ITER8_SHARDS`);
- a merge Job that waits until every shard's result is on the volume, then runs
  `iter8 merge` (the deciding tasks run there, once) and writes the reports.

Kubernetes has no dependency between Jobs, so the merge Job waits (`--wait`)
rather than being started later by hand. Pods of an Indexed Job start within
seconds of each other; `--start-at` lines their schedules up exactly.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

DEFAULT_IMAGE = "ghcr.io/iter8-py/action:v1"
RESULTS_MOUNT = "/results"
EXPERIMENT_MOUNT = "/experiment"
MERGE_WAIT = "30m"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def check_name(name: str) -> str:
    """A DNS label (RFC 1123), short enough for the `-shards`/`-merge` suffixes."""
    if len(name) > 40 or not _NAME.match(name):
        raise ValueError(
            f"{name!r} is not a usable name: lower-case letters, digits and '-', "
            "starting and ending with a letter or digit, at most 40 characters"
        )
    return name


def manifests(
    experiment_text: str,
    *,
    name: str,
    shards: int,
    image: str = DEFAULT_IMAGE,
    namespace: str | None = None,
    start_at: str | None = None,
    storage: str = "1Gi",
    storage_class: str | None = None,
) -> list[dict[str, Any]]:
    """The objects that run `experiment_text` as `shards` pods and merge their results."""
    check_name(name)
    if shards < 1:
        raise ValueError(f"--shards {shards}: at least 1")
    labels = {"app.kubernetes.io/name": "iter8", "iter8.tools/experiment": name}

    def meta(suffix: str) -> dict[str, Any]:
        out: dict[str, Any] = {"name": f"{name}{suffix}", "labels": dict(labels)}
        if namespace:
            out["namespace"] = namespace
        return out

    volumes = [
        {"name": "experiment", "configMap": {"name": f"{name}-experiment"}},
        {"name": "results", "persistentVolumeClaim": {"claimName": f"{name}-results"}},
    ]
    mounts = [
        {"name": "experiment", "mountPath": EXPERIMENT_MOUNT, "readOnly": True},
        {"name": "results", "mountPath": RESULTS_MOUNT},
    ]
    run_args = [
        "run",
        "-f",
        f"{EXPERIMENT_MOUNT}/experiment.yaml",
        "--shard",
        "auto",
        "-o",
        f"{RESULTS_MOUNT}/shard-$(JOB_COMPLETION_INDEX).yaml",
    ]
    if start_at:
        run_args += ["--start-at", start_at]
    merge_args = [
        "merge",
        "--from",
        RESULTS_MOUNT,
        "--shards",
        str(shards),
        "--wait",
        MERGE_WAIT,
        "-f",
        f"{EXPERIMENT_MOUNT}/experiment.yaml",
        "-o",
        f"{RESULTS_MOUNT}/merged/result.yaml",
    ]
    claim_spec: dict[str, Any] = {
        "accessModes": ["ReadWriteMany"],
        "resources": {"requests": {"storage": storage}},
    }
    if storage_class:
        claim_spec["storageClassName"] = storage_class

    def pod(args: list[str], env: list[dict[str, str]]) -> dict[str, Any]:
        container: dict[str, Any] = {
            "name": "iter8",
            "image": image,
            "command": ["iter8"],
            "args": args,
            "workingDir": RESULTS_MOUNT,
            "volumeMounts": mounts,
        }
        if env:
            container["env"] = env
        return {
            "metadata": {"labels": dict(labels)},
            "spec": {"restartPolicy": "Never", "containers": [container], "volumes": volumes},
        }

    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": meta("-experiment"),
            "data": {"experiment.yaml": experiment_text},
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": meta("-results"),
            "spec": claim_spec,
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": meta("-shards"),
            "spec": {
                "completionMode": "Indexed",
                "completions": shards,
                "parallelism": shards,
                # a failed shard is reported by the merge, not retried: a retry
                # would send its share again, later than the others
                "backoffLimit": 0,
                "template": pod(run_args, [{"name": "ITER8_SHARDS", "value": str(shards)}]),
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": meta("-merge"),
            "spec": {"backoffLimit": 0, "template": pod(merge_args, [])},
        },
    ]


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the experiment in the ConfigMap) as literal blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(objects: list[dict[str, Any]]) -> str:
    """The objects as one YAML stream, for `kubectl apply -f -`."""
    text: str = yaml.dump_all(objects, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    return text
